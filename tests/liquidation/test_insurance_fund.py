"""InsuranceFund: ERC-4626 staking with an exit cool-down, payouts capped by its balance, sweeps."""

from __future__ import annotations

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from liquidation_support import COOLDOWN, FUND_SEED, USDC, WINDOW

from solvent.model import insurance
from solvent.testing import deploy_reverts

OFFSET = 10**6  # decimals offset of the share token


@pytest.fixture(scope="module")
def fund(system):
    s = system
    for role in (s.fund.COVER_ROLE(), s.fund.REWARD_ROLE()):
        s.fund.grantRole(role, s.deployer, sender=s.deployer)
    return s.fund


def _warp(chain, seconds):
    chain.pending_timestamp += seconds
    chain.mine()


def _assets_of(fund, shares):
    """OpenZeppelin ERC-4626 conversion with the virtual offset, rounded down."""
    return shares * (fund.totalAssets() + 1) // (fund.totalSupply() + OFFSET)


def test_deposit_mints_offset_shares_and_income_raises_price(system, fund):
    s = system
    shares = fund.balanceOf(s.staker)
    assert shares == FUND_SEED * OFFSET
    assert fund.convertToAssets(shares) == FUND_SEED
    s.quote.mint(fund, 10_000 * USDC, sender=s.deployer)  # penalties/fees arrive by transfer
    assert fund.totalAssets() == 110_000 * USDC
    assert fund.convertToAssets(shares) == _assets_of(fund, shares) > FUND_SEED


def test_exit_needs_request_and_cooldown(system, fund, chain):
    s = system
    shares = fund.balanceOf(s.staker)
    with ape.reverts(fund.NoWithdrawalRequest):
        fund.redeem(shares, s.staker, s.staker, sender=s.staker)
    tx = fund.requestWithdrawal(shares // 2, sender=s.staker)
    [event] = tx.events.filter(fund.WithdrawalRequested)
    assert event.unlockTime == chain.blocks[-1].timestamp + COOLDOWN
    assert event.expiry == event.unlockTime + WINDOW
    assert fund.maxRedeem(s.staker) == 0 and fund.maxWithdraw(s.staker) == 0
    with ape.reverts(fund.WithdrawalNotReady):
        fund.redeem(shares // 2, s.staker, s.staker, sender=s.staker)
    with ape.reverts(fund.WithdrawalNotReady):
        fund.withdraw(USDC, s.staker, s.staker, sender=s.staker)

    _warp(chain, COOLDOWN)
    assert fund.maxRedeem(s.staker) == shares // 2
    assert fund.maxWithdraw(s.staker) == _assets_of(fund, shares // 2)
    with ape.reverts(fund.ERC4626ExceededMaxRedeem):
        fund.redeem(shares // 2 + 1, s.staker, s.staker, sender=s.staker)
    expected = _assets_of(fund, shares // 4)
    fund.redeem(shares // 4, s.staker, s.staker, sender=s.staker)
    assert s.quote.balanceOf(s.staker) == expected == FUND_SEED // 4
    # Redeemed shares take their pro-rata part of the principal with them (rounded down).
    assert fund.principal() == insurance.principal_after_redeem(FUND_SEED, shares // 4, shares)
    assert fund.withdrawalRequests(s.staker).shares == shares // 4  # the request is consumed
    fund.withdraw(FUND_SEED // 4, s.staker, s.staker, sender=s.staker)
    assert s.quote.balanceOf(s.staker) == FUND_SEED // 2
    assert fund.maxRedeem(s.staker) == 0
    assert fund.balanceOf(s.staker) == shares // 2


def test_request_expires(system, fund, chain):
    s = system
    shares = fund.balanceOf(s.staker)
    fund.requestWithdrawal(shares, sender=s.staker)
    assert fund.lockedShares(s.staker) == shares
    _warp(chain, COOLDOWN + WINDOW + 1)
    assert fund.maxRedeem(s.staker) == 0 and fund.lockedShares(s.staker) == 0
    with ape.reverts(fund.WithdrawalExpired):
        fund.redeem(shares, s.staker, s.staker, sender=s.staker)
    fund.transfer(s.taker, 1, sender=s.staker)  # an expired request locks nothing


def test_request_rejects_and_cancel(system, fund):
    s = system
    shares = fund.balanceOf(s.staker)
    with ape.reverts(fund.ZeroAmount):
        fund.requestWithdrawal(0, sender=s.staker)
    with ape.reverts(fund.InsufficientShares):
        fund.requestWithdrawal(shares + 1, sender=s.staker)
    with ape.reverts(fund.NoWithdrawalRequest):
        fund.cancelWithdrawal(sender=s.staker)
    fund.requestWithdrawal(shares, sender=s.staker)
    with ape.reverts(fund.SharesLocked):
        fund.transfer(s.taker, 1, sender=s.staker)
    tx = fund.cancelWithdrawal(sender=s.staker)
    assert tx.events.filter(fund.WithdrawalCancelled)[0].owner == s.staker.address
    fund.transfer(s.taker, 1, sender=s.staker)
    assert fund.balanceOf(s.taker) == 1


def test_loss_during_cooldown_hits_the_leaver(system, fund, chain):
    s = system
    shares = fund.balanceOf(s.staker)
    fund.requestWithdrawal(shares, sender=s.staker)
    fund.coverShortfall(40_000 * USDC, sender=s.deployer)  # a loss before the exit matures
    _warp(chain, COOLDOWN)
    expected = _assets_of(fund, shares)
    assert expected == 60_000 * USDC
    fund.redeem(shares, s.staker, s.staker, sender=s.staker)
    assert s.quote.balanceOf(s.staker) == expected


def test_cover_shortfall_partial_when_exhausted(system, fund):
    s = system
    before = s.quote.balanceOf(s.deployer)
    tx = fund.coverShortfall(30_000 * USDC, sender=s.deployer)
    assert tx.return_value == 30_000 * USDC
    tx = fund.coverShortfall(FUND_SEED, sender=s.deployer)
    [event] = tx.events.filter(fund.ShortfallCovered)
    assert (event.requested, event.covered) == (FUND_SEED, 70_000 * USDC)
    assert s.quote.balanceOf(s.deployer) - before == FUND_SEED
    assert fund.totalAssets() == 0
    assert fund.coverShortfall(1, sender=s.deployer).return_value == 0


def test_keeper_reward_capped_and_checked(system, fund):
    s = system
    tx = fund.payKeeperReward(s.keeper, 7 * USDC, sender=s.deployer)
    assert s.quote.balanceOf(s.keeper) == 7 * USDC
    assert tx.events.filter(fund.KeeperRewardPaid)[0].paid == 7 * USDC
    with ape.reverts(fund.ZeroAddress):
        fund.payKeeperReward(ape.utils.ZERO_ADDRESS, 1, sender=s.deployer)
    fund.payKeeperReward(s.keeper, 2 * FUND_SEED, sender=s.deployer)
    assert s.quote.balanceOf(s.keeper) == FUND_SEED and fund.totalAssets() == 0


def test_payouts_need_roles(system):
    s = system
    with ape.reverts(s.fund.AccessControlUnauthorizedAccount):
        s.fund.coverShortfall(1, sender=s.taker)
    with ape.reverts(s.fund.AccessControlUnauthorizedAccount):
        s.fund.payKeeperReward(s.taker, 1, sender=s.taker)
    assert not s.fund.hasRole(s.fund.REWARD_ROLE(), s.engine)  # the engine only covers
    with ape.reverts(s.fund.AccessControlUnauthorizedAccount):
        s.fund.sweepSurplus(1, sender=s.taker)
    with ape.reverts(s.fund.AccessControlUnauthorizedAccount):
        s.fund.setTarget(1, sender=s.taker)


def test_surplus_sweep_above_target(system, fund):
    """Surplus is the balance above both the target and the stakers' principal (100,000 staked
    by the conftest): 20,000 of income over a 110,000 target leaves 10,000 to sweep."""
    s = system
    assert fund.principal() == FUND_SEED
    s.quote.mint(fund, 20_000 * USDC, sender=s.deployer)  # income (swept fees, auction surplus)
    tx = fund.setTarget(110_000 * USDC, sender=s.deployer)
    assert tx.events.filter(fund.TargetSet)[0].target == 110_000 * USDC
    assert fund.surplus() == 10_000 * USDC
    with ape.reverts(fund.ZeroAmount):
        fund.sweepSurplus(0, sender=s.deployer)
    with ape.reverts(fund.SurplusExceeded):
        fund.sweepSurplus(10_000 * USDC + 1, sender=s.deployer)
    fund.sweepSurplus(10_000 * USDC, sender=s.deployer)
    assert s.quote.balanceOf(s.treasury) == 10_000 * USDC
    assert fund.totalAssets() == 110_000 * USDC
    fund.coverShortfall(5_000 * USDC, sender=s.deployer)  # below target: nothing to sweep
    with ape.reverts(fund.SurplusExceeded):
        fund.sweepSurplus(1, sender=s.deployer)


def test_zero_target_sweeps_income_never_principal(system, fund):
    """Issue 16: `setTarget(0)` then `sweepSurplus` swept the stakers' principal (before the fix
    all 100,000 of it left for the treasury and the shares were worth 0). Now only income above
    the principal's high-water mark is surplus: after a 30,000 payout, 40,000 of income first
    restores the principal and only the 10,000 above it can be swept."""
    s = system
    fund.setTarget(0, sender=s.deployer)
    assert fund.surplus() == 0
    with ape.reverts(fund.SurplusExceeded, amount=FUND_SEED, surplus=0):
        fund.sweepSurplus(FUND_SEED, sender=s.deployer)
    fund.coverShortfall(30_000 * USDC, sender=s.deployer)
    s.quote.mint(fund, 40_000 * USDC, sender=s.deployer)
    assert (
        fund.surplus()
        == 10_000 * USDC
        == insurance.surplus(fund.totalAssets(), 0, fund.principal())
    )
    with ape.reverts(fund.SurplusExceeded):
        fund.sweepSurplus(10_000 * USDC + 1, sender=s.deployer)
    fund.sweepSurplus(10_000 * USDC, sender=s.deployer)
    assert fund.totalAssets() == FUND_SEED == fund.principal()
    assert fund.convertToAssets(fund.balanceOf(s.staker)) >= FUND_SEED - 1


def test_governance_setters(system, fund, project, chain):
    s = system
    with ape.reverts(fund.ParameterOutOfRange):
        fund.setCooldown(86_400 - 1, WINDOW, sender=s.deployer)
    with ape.reverts(fund.ParameterOutOfRange):
        fund.setCooldown(31 * 86_400, WINDOW, sender=s.deployer)
    with ape.reverts(fund.ParameterOutOfRange):
        fund.setCooldown(COOLDOWN, 3_599, sender=s.deployer)
    with ape.reverts(fund.ParameterOutOfRange):
        fund.setCooldown(COOLDOWN, 15 * 86_400, sender=s.deployer)
    with ape.reverts(fund.ZeroAddress):
        fund.setTreasury(ape.utils.ZERO_ADDRESS, sender=s.deployer)
    with ape.reverts(fund.AccessControlUnauthorizedAccount):
        fund.setCooldown(COOLDOWN, WINDOW, sender=s.taker)
    tx = fund.setCooldown(2 * 86_400, 3_600, sender=s.deployer)
    assert (tx.events.filter(fund.CooldownSet)[0].cooldown, fund.window()) == (2 * 86_400, 3_600)
    tx = fund.setTreasury(s.taker, sender=s.deployer)
    assert fund.treasury() == s.taker.address
    fund_type = project.InsuranceFund
    deploy_reverts(
        chain,
        s.deployer,
        fund_type.ZeroAddress,
        fund_type,
        s.quote,
        ape.utils.ZERO_ADDRESS,
        s.treasury,
        86_400,
        3_600,
    )
    deploy_reverts(
        chain,
        s.deployer,
        fund_type.ParameterOutOfRange,
        fund_type,
        s.quote,
        s.deployer,
        s.treasury,
        0,
        3_600,
    )


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 60_000 * USDC)), min_size=1, max_size=6))
def test_payouts_never_exceed_balance(system, fund, chain, calls):
    s = system
    with chain.isolate():
        balance = fund.totalAssets()
        for is_cover, amount in calls:
            if is_cover:
                paid = fund.coverShortfall(amount, sender=s.deployer).return_value
            else:
                paid = fund.payKeeperReward(s.keeper, amount, sender=s.deployer).return_value
            assert paid == min(amount, balance)
            balance -= paid
            assert fund.totalAssets() == balance == s.quote.balanceOf(fund) >= 0


def test_target_is_bounded(system, fund):
    """A target above a trillion whole quote tokens is a typo (an amount in WAD, say): refused
    with a named error, the old target kept."""
    s = system
    assert fund.maxTarget() == 10**12 * USDC
    fund.setTarget(fund.maxTarget(), sender=s.deployer)
    before = fund.target()
    for absurd in (10**12 * USDC + 1, 90_000 * 10**18, 2**256 - 1):
        with ape.reverts(fund.ParameterOutOfRange):
            fund.setTarget(absurd, sender=s.deployer)
    assert fund.target() == before


def test_an_absurd_withdrawal_request_is_refused(system, fund):
    s = system
    with ape.reverts(fund.InsufficientShares):
        fund.requestWithdrawal(2**256 - 1, sender=s.staker)


def test_requested_shares_stop_earning(system, fund, chain):
    """Issue 15: a request fixes the payout at most at the value then; income arriving during the
    cool-down stays with the stakers who remain (solvent.model.pool.insurance_payout)."""
    from solvent.model import pool as model

    s = system
    shares = fund.balanceOf(s.staker)
    fund.requestWithdrawal(shares // 2, sender=s.staker)
    fixed = fund.withdrawalRequests(s.staker).assets
    assert fixed == _assets_of(fund, shares // 2)
    s.quote.mint(fund, 30_000 * USDC, sender=s.deployer)  # income during the cool-down
    _warp(chain, COOLDOWN)
    for part in (shares // 8, shares // 2):
        assert fund.payoutOf(s.staker, part) == model.insurance_payout(
            part, fund.totalAssets(), fund.totalSupply(), fixed, shares // 2
        )
    assert fund.maxWithdraw(s.staker) == fixed
    fund.redeem(shares // 8, s.staker, s.staker, sender=s.staker)
    assert s.quote.balanceOf(s.staker) == fixed // 4
    fund.withdraw(fixed // 4, s.staker, s.staker, sender=s.staker)
    assert s.quote.balanceOf(s.staker) == fixed // 2
    assert fund.withdrawalRequests(s.staker).assets == fixed - fixed // 4 - fixed // 4
    with ape.reverts(fund.ERC4626ExceededMaxWithdraw):
        fund.withdraw(fixed, s.staker, s.staker, sender=s.staker)
    # The remaining stakers hold the whole income.
    assert fund.totalAssets() == FUND_SEED + 30_000 * USDC - fixed // 2


def test_exit_ready_share_and_engine_setters(system, fund, project, chain):
    """window * 9 <= cooldown (at most 10% of a stake exit-ready); the engine is the governor's."""
    s = system
    with ape.reverts(fund.ExitReadyShareTooHigh):
        fund.setCooldown(COOLDOWN, COOLDOWN // 9 + 1, sender=s.deployer)
    fund.setCooldown(COOLDOWN, COOLDOWN // 9, sender=s.deployer)
    deploy_reverts(
        chain,
        s.deployer,
        project.InsuranceFund.ExitReadyShareTooHigh,
        project.InsuranceFund,
        s.quote,
        s.deployer,
        s.treasury,
        86_400,
        2 * 3_600 + 86_400 // 9,
    )
    with ape.reverts(fund.ZeroAddress):
        fund.setEngine(ape.utils.ZERO_ADDRESS, sender=s.deployer)
    with ape.reverts(fund.AccessControlUnauthorizedAccount):
        fund.setEngine(s.taker, sender=s.taker)
    assert fund.engine() == ape.utils.ZERO_ADDRESS  # unset: no sweep, no loss gate
