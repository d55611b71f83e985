"""Accounts, deposits, withdrawals, trades and governance: happy paths, every reject path, gas."""

from __future__ import annotations

import ape
import pytest
from engine_helpers import (
    ETH_MARKET,
    ETH_PRICE,
    FEE_RATE,
    LIQ,
    USDC,
    WAD,
    ledger_sum,
    liquidation_tuple,
    market_tuple,
    settlement,
)

from solvent.model import margin as model

MAX = 2**256 - 1


@pytest.fixture(scope="module")
def fot(project, deployer, admin, configured, trader, engine):
    token = deployer.deploy(project.MockFeeOnTransferToken)
    admin.listCollateral(token, WAD // 2, WAD // 2, 10**30, sender=deployer)
    token.mint(trader, 10**24, sender=deployer)
    token.approve(engine, MAX, sender=trader)
    return token


def test_accounts_are_sequential_and_unique(engine, configured, trader, other):
    engine.openAccount(7, sender=trader)
    engine.openAccount(0, sender=other)
    assert engine.accountIdOf(trader, 7) == 1
    assert engine.accountIdOf(other, 0) == 2
    assert engine.accountCount() == 2
    with ape.reverts(engine.AccountExists):
        engine.openAccount(7, sender=trader)


def test_deposit_and_withdraw_move_balances_and_gas(
    engine, admin, usdc, weth, trader, funded_trader, gas
):
    engine.deposit(funded_trader, weth, WAD, sender=trader)
    # Measured on a top-up: the first deposit of a token also pays for new storage slots.
    tx = engine.deposit(funded_trader, weth, WAD, sender=trader)
    gas.record("engine.deposit", tx)
    engine.deposit(funded_trader, usdc, 1_000 * USDC, sender=trader)
    assert admin.collateralBalance(funded_trader, weth) == 2 * WAD
    assert admin.accounts(funded_trader).quoteBalance == 1_000 * USDC
    assert admin.accounts(funded_trader).collateralMask == 1
    assert admin.collaterals(weth).totalDeposited == 2 * WAD
    before = weth.balanceOf(trader)
    engine.withdraw(funded_trader, weth, 2 * WAD, trader, sender=trader)
    assert weth.balanceOf(trader) == before + 2 * WAD
    assert admin.accounts(funded_trader).collateralMask == 0
    engine.withdraw(funded_trader, usdc, 1_000 * USDC, trader, sender=trader)
    assert admin.accounts(funded_trader).quoteBalance == 0


def test_deposit_rejects(engine, usdc, weth, trader, funded_trader, deployer, admin, other, fot):
    with ape.reverts(engine.ZeroAmount):
        engine.deposit(funded_trader, weth, 0, sender=trader)
    with ape.reverts(engine.UnknownAccount):
        engine.deposit(999, weth, 1, sender=trader)
    with ape.reverts(engine.UnknownToken):
        engine.deposit(funded_trader, other, 1, sender=trader)
    admin.setCollateralParams(weth, 8 * WAD // 10, 85 * WAD // 100, WAD, sender=deployer)
    with ape.reverts(engine.DepositCapExceeded):
        engine.deposit(funded_trader, weth, WAD + 1, sender=trader)
    with ape.reverts(engine.FeeOnTransferNotSupported):
        engine.deposit(funded_trader, fot, 10**18, sender=trader)
    assert fot.balanceOf(engine) == 0


def test_withdraw_rejects(
    book, engine, admin, usdc, weth, trader, other, guardian, oracle, funded_trader, deployer
):
    engine.deposit(funded_trader, usdc, 10_000 * USDC, sender=trader)
    engine.deposit(funded_trader, weth, WAD, sender=trader)
    with ape.reverts(engine.ZeroAmount):
        engine.withdraw(funded_trader, usdc, 0, trader, sender=trader)
    with ape.reverts(engine.ZeroAddress):
        engine.withdraw(funded_trader, usdc, 1, ape.utils.ZERO_ADDRESS, sender=trader)
    with ape.reverts(engine.NotAuthorized):
        engine.withdraw(funded_trader, usdc, 1, other, sender=other)
    with ape.reverts(engine.InsufficientBalance):
        engine.withdraw(funded_trader, usdc, 10_000 * USDC + 1, trader, sender=trader)
    with ape.reverts(engine.InsufficientBalance):
        engine.withdraw(funded_trader, weth, WAD + 1, trader, sender=trader)
    with ape.reverts(engine.UnknownToken):
        engine.withdraw(funded_trader, other, 1, trader, sender=trader)
    book.trade(funded_trader, 0, 30 * WAD, MAX, sender=trader)  # 90k notional, IM ~9k
    with ape.reverts(engine.InsufficientMargin):
        engine.withdraw(funded_trader, usdc, 9_000 * USDC, trader, sender=trader)
    admin.pauseRiskIncrease(sender=guardian)
    with ape.reverts(engine.RiskIncreasePaused):
        engine.withdraw(funded_trader, usdc, 1, trader, sender=trader)
    admin.unpauseRiskIncrease(sender=deployer)
    engine.withdraw(funded_trader, usdc, 1, trader, sender=trader)
    oracle.setRiskPaused(weth, True, sender=trader)
    with ape.reverts(engine.RiskIncreaseBlockedByOracle):
        engine.withdraw(funded_trader, weth, 1, trader, sender=trader)
    oracle.setSequencerRestricted(True, sender=trader)
    with ape.reverts(engine.RiskIncreaseBlockedByOracle):
        engine.withdraw(funded_trader, usdc, 1, trader, sender=trader)


def test_operator_can_withdraw_once_approved(
    book, engine, admin, usdc, weth, trader, other, funded_trader, deployer
):
    usdc.mint(other, 10_000 * USDC, sender=deployer)
    usdc.approve(engine, MAX, sender=other)
    engine.deposit(funded_trader, usdc, 10_000 * USDC, sender=other)  # anyone may deposit quote
    weth.mint(other, WAD, sender=deployer)
    weth.approve(engine, MAX, sender=other)
    with ape.reverts(engine.CollateralDepositNotAuthorized):  # ...but not other collateral
        engine.deposit(funded_trader, weth, WAD, sender=other)
    with ape.reverts(engine.ZeroAddress):
        engine.setOperator(ape.utils.ZERO_ADDRESS, True, sender=trader)
    engine.setOperator(other, True, sender=trader)
    engine.deposit(funded_trader, weth, WAD, sender=other)  # an operator may
    assert admin.collateralBalance(funded_trader, weth) == WAD
    book.trade(funded_trader, 0, WAD)  # (who may trade is the order book's check now)
    engine.withdraw(funded_trader, usdc, 100 * USDC, other, sender=other)
    engine.setOperator(other, False, sender=trader)
    with ape.reverts(engine.NotAuthorized):
        engine.withdraw(funded_trader, usdc, 1, other, sender=other)


def test_fill_open_close_realizes_pnl_and_fees_as_modelled(
    book, chain, engine, admin, usdc, weth, oracle, trader, funded_trader, gas, other, deployer
):
    # Another trader's position first, so the measured open is not the market's very first.
    engine.openAccount(0, sender=other)
    usdc.mint(other, 10_000 * USDC, sender=deployer)
    usdc.approve(engine, MAX, sender=other)
    other_id = engine.accountIdOf(other, 0)
    engine.deposit(other_id, usdc, 10_000 * USDC, sender=other)
    book.trade(other_id, 0, WAD, MAX, sender=other)
    engine.deposit(funded_trader, usdc, 20_000 * USDC, sender=trader)
    engine.deposit(funded_trader, weth, 5 * WAD, sender=trader)
    size = 10 * WAD
    fees_before = admin.ledger().insuranceFees
    chain.mine(timestamp=chain.pending_timestamp + 60)  # funding and borrow accrue in the fill
    tx = book.trade(funded_trader, 0, size, ETH_PRICE, sender=trader)
    gas.record("engine.fill_open", tx)
    fee_open = model.trade_fee(size, ETH_PRICE, FEE_RATE)
    position = admin.positions(funded_trader, 0)
    assert position.size == size
    assert position.openNotional == 30_000 * WAD
    assert admin.accounts(funded_trader).quoteBalance == 20_000 * USDC - fee_open
    assert admin.marketSkew(0).netSize == size + WAD
    assert admin.markets(0).longOpenInterest == size + WAD
    ledger = admin.ledger()
    assert ledger.insuranceFees == fees_before + model.insurance_cut(
        fee_open, ETH_MARKET.insurance_fee_share
    )

    # A minute after the fill: funding always accrues in the margin check's views (in the fill's
    # second it does not, and the gas would depend on the machine's speed).
    chain.mine(timestamp=chain.pending_timestamp + 60)
    tx = engine.withdraw(funded_trader, usdc, 1_000 * USDC, trader, sender=trader)
    gas.record("engine.withdraw", tx)

    new_price = 3_100 * WAD + 7
    oracle.setPrice(weth, new_price, sender=trader)
    quote_before = admin.accounts(funded_trader).quoteBalance
    chain.mine(timestamp=chain.pending_timestamp + 60)
    tx = book.trade(funded_trader, 0, -size, new_price, sender=trader)
    gas.record("engine.fill_close", tx)
    _, realized = model.apply_fill(size, 30_000 * WAD, -size, new_price)
    fee_close = model.trade_fee(size, new_price, FEE_RATE)
    assert realized == 1_000 * WAD + 70
    assert admin.accounts(funded_trader).quoteBalance == (
        quote_before + model.to_quote_floor(realized) - fee_close
    )
    assert admin.positions(funded_trader, 0).size == 0
    assert admin.accounts(funded_trader).marketMask == 0
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_flip_counts_as_risk_increase(book, engine, admin, usdc, trader, guardian, funded_trader):
    engine.deposit(funded_trader, usdc, 20_000 * USDC, sender=trader)
    book.trade(funded_trader, 0, 5 * WAD, MAX, sender=trader)
    admin.pauseRiskIncrease(sender=guardian)
    with ape.reverts(engine.RiskIncreasePaused):
        book.trade(funded_trader, 0, -6 * WAD, 0, sender=trader)  # long 5 -> short 1
    with ape.reverts(engine.RiskIncreasePaused):
        book.trade(funded_trader, 0, WAD, MAX, sender=trader)
    book.trade(funded_trader, 0, -2 * WAD, 0, sender=trader)  # reducing is always allowed
    book.trade(funded_trader, 0, -3 * WAD, 0, sender=trader)  # close to zero
    assert admin.positions(funded_trader, 0).size == 0


def test_fill_rejects(
    book, engine, admin, usdc, weth, oracle, trader, funded_trader, deployer, other
):
    engine.deposit(funded_trader, usdc, 10_000 * USDC, sender=trader)
    with ape.reverts(engine.ZeroAmount):
        book.trade(funded_trader, 0, 0, MAX, sender=trader)
    with ape.reverts(engine.UnknownMarket):
        book.trade(funded_trader, 5, WAD, MAX, sender=trader)
    with ape.reverts(engine.UnknownAccount):
        book.trade(999, 0, WAD, MAX, sender=trader)
    with ape.reverts(engine.InsufficientMargin):
        book.trade(funded_trader, 0, 40 * WAD, MAX, sender=trader)  # 120k notional, IM 12k
    oracle.setRiskPaused(weth, True, sender=trader)
    with ape.reverts(engine.RiskIncreaseBlockedByOracle):
        book.trade(funded_trader, 0, WAD, MAX, sender=trader)
    oracle.setRiskPaused(weth, False, sender=trader)
    admin.setMarketParams(0, market_tuple(ETH_MARKET, oi_cap=2 * WAD), sender=deployer)
    book.trade(funded_trader, 0, 2 * WAD, MAX, sender=trader)
    with ape.reverts(engine.OpenInterestCapExceeded):
        book.trade(funded_trader, 0, 1, MAX, sender=trader)
    engine.openAccount(0, sender=other)
    usdc.mint(other, 10_000 * USDC, sender=deployer)
    usdc.approve(engine, MAX, sender=other)
    other_id = engine.accountIdOf(other, 0)
    engine.deposit(other_id, usdc, 10_000 * USDC, sender=other)
    book.trade(other_id, 0, -2 * WAD, 0, sender=other)  # the short side has its own cap
    admin.setMarketParams(0, market_tuple(ETH_MARKET, oi_cap=WAD), sender=deployer)
    book.trade(funded_trader, 0, -WAD, 0, sender=trader)  # closing works above a lowered cap


def test_exposure_bound_stops_new_net_exposure_only(
    book, engine, admin, usdc, trader, funded_trader, other, deployer
):
    """The pool's cash is $500k; at ratio 0.1 the traders' net notional in ETH may reach $50k
    (16 ETH at $3,000). A fill beyond it is refused with the figures; a larger fill against the
    skew is not (it shrinks the net size), and neither is a close after the ratio is cut."""
    engine.deposit(funded_trader, usdc, 100_000 * USDC, sender=trader)
    admin.setMarketParams(0, market_tuple(ETH_MARKET, exposure_ratio=WAD // 10), sender=deployer)
    book.trade(funded_trader, 0, 16 * WAD, MAX, sender=trader)
    bound = int(admin.ledger().poolCash) * 10**12 // 10  # the cash now holds the first fill's fee
    with ape.reverts(
        engine.PoolExposureExceeded, marketId=0, exposure=17 * 3_000 * WAD, bound=bound
    ):
        book.trade(funded_trader, 0, WAD, MAX, sender=trader)
    engine.openAccount(0, sender=other)
    usdc.mint(other, 50_000 * USDC, sender=deployer)
    usdc.approve(engine, MAX, sender=other)
    other_id = engine.accountIdOf(other, 0)
    engine.deposit(other_id, usdc, 50_000 * USDC, sender=other)
    book.trade(other_id, 0, -30 * WAD, 0, sender=other)  # net 16 -> -14: shrinks, accepted
    with ape.reverts(engine.PoolExposureExceeded):
        book.trade(other_id, 0, -3 * WAD, 0, sender=other)  # net -17: grows beyond $50k
    admin.setMarketParams(0, market_tuple(ETH_MARKET, exposure_ratio=1), sender=deployer)
    book.trade(funded_trader, 0, -16 * WAD, 0, sender=trader)  # closing is never refused
    assert int(admin.positions(funded_trader, 0).size) == 0


def test_governance_rejects_and_bounds(
    engine, admin, usdc, weth, wbtc, trader, guardian, deployer, other, configured
):
    with ape.reverts(engine.AccessControlUnauthorizedAccount):
        admin.setLiquidationParams(liquidation_tuple(LIQ), sender=trader)
    with ape.reverts(engine.AccessControlUnauthorizedAccount):
        admin.unpauseRiskIncrease(sender=guardian)
    with ape.reverts(engine.AccessControlUnauthorizedAccount):
        admin.pauseRiskIncrease(sender=trader)
    with ape.reverts(admin.InvalidCollateral):
        admin.listCollateral(usdc, WAD // 2, WAD // 2, 1, sender=deployer)
    with ape.reverts(admin.CollateralAlreadyListed):
        admin.listCollateral(weth, WAD // 2, WAD // 2, 1, sender=deployer)
    with ape.reverts(admin.InvalidWeights):
        admin.setCollateralParams(weth, 9 * WAD // 10, 8 * WAD // 10, 1, sender=deployer)
    with ape.reverts(admin.InvalidWeights):
        admin.setCollateralParams(weth, WAD, WAD + 1, 1, sender=deployer)
    with ape.reverts(admin.InvalidWeights):
        admin.setCollateralParams(weth, 0, WAD, 1, sender=deployer)
    with ape.reverts(admin.UnknownToken):
        admin.setCollateralParams(other, WAD // 2, WAD // 2, 1, sender=deployer)
    bad_margin = [
        ETH_MARKET.__class__(**{**ETH_MARKET.__dict__, "base_mmr": 0}),
        ETH_MARKET.__class__(**{**ETH_MARKET.__dict__, "base_mmr": WAD // 2 + 1}),
        ETH_MARKET.__class__(**{**ETH_MARKET.__dict__, "im_scale": WAD - 1}),
        ETH_MARKET.__class__(**{**ETH_MARKET.__dict__, "vol_factor": WAD + 1}),
        ETH_MARKET.__class__(**{**ETH_MARKET.__dict__, "sigma_cap": 10 * WAD + 1}),
    ]
    for params in bad_margin:
        with ape.reverts(admin.InvalidMarginParams):
            admin.setMarketParams(0, market_tuple(params), sender=deployer)
    for params in (
        ETH_MARKET.__class__(**{**ETH_MARKET.__dict__, "insurance_fee_share": WAD + 1}),
    ):
        with ape.reverts(admin.InvalidFeeParams):
            admin.setMarketParams(0, market_tuple(params), sender=deployer)
    with ape.reverts(admin.UnknownMarket):
        admin.setMarketParams(9, market_tuple(ETH_MARKET), sender=deployer)
    with ape.reverts(admin.ZeroAddress):
        admin.createMarket(ape.utils.ZERO_ADDRESS, market_tuple(ETH_MARKET), sender=deployer)
    for field, value, error in (
        ("target_health", WAD - 1, admin.InvalidLiquidationParams),
        ("target_health", 2 * WAD + 1, admin.InvalidLiquidationParams),
        ("full_liquidation_health", WAD + 1, admin.InvalidLiquidationParams),
        ("keeper_chip", WAD // 10 + 1, admin.InvalidLiquidationParams),
        ("keeper_tip", 1_000 * USDC + 1, admin.InvalidLiquidationParams),
        # Issue 12: a zero penalty leaves keepers unpaid; a zero restricted threshold freezes every
        # liquidation while the sequencer is restricted.
        ("penalty_rate", WAD // 5 + 1, admin.InvalidPenaltyRate),
        ("penalty_rate", 0, admin.InvalidPenaltyRate),
        ("penalty_rate", WAD // 200 - 1, admin.InvalidPenaltyRate),
        ("restricted_liquidation_health", WAD + 1, admin.InvalidRestrictedLiquidationHealth),
        ("restricted_liquidation_health", 0, admin.InvalidRestrictedLiquidationHealth),
        ("restricted_liquidation_health", WAD // 2 - 1, admin.InvalidRestrictedLiquidationHealth),
        ("dust_notional", 100_000 * WAD + 1, admin.InvalidDustNotional),
        ("liquidation_fee", 0, admin.InvalidLiquidationFee),
        ("liquidation_fee", WAD // 5 + 1, admin.InvalidLiquidationFee),
        ("min_position_margin", 1_000 * WAD + 1, admin.InvalidMinPositionMargin),
        ("min_position_margin", LIQ.keeper_tip * 10**12 - 1, admin.InvalidMinPositionMargin),
    ):
        params = LIQ.__class__(**{**LIQ.__dict__, field: value})
        with ape.reverts(error):
            admin.setLiquidationParams(liquidation_tuple(params), sender=deployer)
    # The restricted threshold may not sit below the full-liquidation threshold either.
    params = LIQ.__class__(
        **{
            **LIQ.__dict__,
            "full_liquidation_health": 9 * WAD // 10,
            "restricted_liquidation_health": 8 * WAD // 10,
        }
    )
    with ape.reverts(admin.InvalidRestrictedLiquidationHealth):
        admin.setLiquidationParams(liquidation_tuple(params), sender=deployer)
    for oi_cap in (0, 2**120 + 1):
        with ape.reverts(admin.InvalidOpenInterestCap):
            admin.setMarketParams(0, market_tuple(ETH_MARKET, oi_cap=oi_cap), sender=deployer)
    for ratio in (0, 10 * WAD + 1):
        with ape.reverts(admin.InvalidExposureRatio):
            admin.setMarketParams(
                0, market_tuple(ETH_MARKET, exposure_ratio=ratio), sender=deployer
            )
    assert int(admin.markets(0).maxExposureRatio) == WAD  # nothing changed
    tx = admin.setLiquidationParams(liquidation_tuple(LIQ), sender=deployer)
    [logged] = tx.events.filter(admin.LiquidationParamsSet)
    assert (logged.liquidationFee, logged.minPositionMargin) == (
        LIQ.liquidation_fee,
        LIQ.min_position_margin,
    )
    assert admin.liquidationParams().minPositionMargin == LIQ.min_position_margin
    with ape.reverts(admin.InvalidPoolParams):
        admin.setPoolReserveRatio(WAD + 1, sender=deployer)
    with ape.reverts(admin.AlreadySet):
        admin.setLPPool(other, sender=deployer)
    with ape.reverts(admin.ZeroAddress):
        admin.setLiquidator(ape.utils.ZERO_ADDRESS, sender=deployer)
    with ape.reverts(admin.ZeroAddress):
        admin.setInsuranceFund(ape.utils.ZERO_ADDRESS, sender=deployer)
    tx = admin.setPoolReserveRatio(WAD // 5, sender=deployer)
    assert [log.reserveRatio for log in tx.events.filter(admin.PoolReserveRatioSet)] == [WAD // 5]
    tx = admin.pauseRiskIncrease(sender=guardian)
    assert engine.riskPaused()
    assert len(tx.events.filter(admin.RiskPausedSet)) == 1


def test_parts_hooks_are_restricted(engine, admin, trader, configured):
    with ape.reverts(engine.OnlyLiquidator):
        admin.settleAuction(settlement(1, trader, debtRepaid=1), sender=trader)
    with ape.reverts(engine.OnlyLiquidator):
        admin.releaseCollateral(trader, trader, 1, sender=trader)
    with ape.reverts(engine.OnlyPool):
        admin.creditPool(1, sender=trader)
    with ape.reverts(engine.OnlyPool):
        admin.payFromPool(trader, 1, sender=trader)


def test_liquidator_cannot_release_collateral_outside_auction_custody(
    engine, admin, deployer, weth, trader, funded_trader, configured
):
    """Deposited collateral is not in auction custody: a liquidator can neither pay it out nor
    credit it back as a leftover (the bound that keeps other accounts' collateral safe)."""
    account = funded_trader
    engine.deposit(account, weth, 2 * WAD, sender=trader)
    assert admin.collateralInAuction(weth) == 0 and weth.balanceOf(engine) >= 2 * WAD
    admin.setLiquidator(deployer, sender=deployer)
    with ape.reverts(engine.AuctionCustodyExceeded):
        admin.releaseCollateral(weth, deployer, 1, sender=deployer)
    with ape.reverts(engine.AuctionCustodyExceeded):
        admin.settleAuction(settlement(account, weth, returned=1, ended=True), sender=deployer)
    with ape.reverts(engine.AuctionCustodyExceeded):
        admin.settleAuction(
            settlement(account, weth, receiver=deployer, released=1), sender=deployer
        )
    with ape.reverts(engine.AuctionCustodyExceeded):
        admin.releaseCollateral(trader, deployer, 1, sender=deployer)  # not listed: nothing held


def test_sweep_insurance_fees(book, engine, admin, usdc, fund, trader, funded_trader):
    with ape.reverts(engine.ZeroAmount):
        admin.sweepInsuranceFees(sender=trader)
    engine.deposit(funded_trader, usdc, 10_000 * USDC, sender=trader)
    book.trade(funded_trader, 0, 10 * WAD, MAX, sender=trader)
    fees = admin.ledger().insuranceFees
    assert fees > 0
    before = usdc.balanceOf(fund)
    admin.sweepInsuranceFees(sender=trader)
    assert usdc.balanceOf(fund) == before + fees
    assert admin.ledger().insuranceFees == 0
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_repaying_debt_settles_against_the_pool(
    book, engine, admin, usdc, weth, trader, funded_trader, guardian
):
    engine.deposit(funded_trader, weth, 10 * WAD, sender=trader)
    book.trade(funded_trader, 0, 5 * WAD, MAX, sender=trader)
    debt = -admin.accounts(funded_trader).quoteBalance
    assert debt == model.trade_fee(5 * WAD, ETH_PRICE, FEE_RATE)
    assert admin.ledger().accountDebt == debt
    admin.pauseRiskIncrease(sender=guardian)  # repaying is allowed even when paused
    cash_before = admin.ledger().poolCash
    engine.deposit(funded_trader, usdc, debt + 7, sender=trader)
    assert admin.accounts(funded_trader).quoteBalance == 7
    assert admin.ledger().accountDebt == 0
    assert admin.ledger().poolCash == cash_before + debt
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_keeper_views_reject_unknown_accounts_and_clamp_ranges(engine, admin, funded_trader):
    with ape.reverts(admin.UnknownAccount):
        admin.healthOf([funded_trader, 999])
    assert admin.liquidatableAccounts(5, 2) == []
    [health] = admin.healthOf([funded_trader])
    assert (health.equity, health.requirement, health.health) == (0, 0, 2**256 - 1)
