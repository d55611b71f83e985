"""LPPool as an asynchronous ERC-4626 vault (ERC-7540): requests, execution at the value the
request determines, claims, operators, every reject path, the model (solvent/model/pool.py) on
exact integers, and the gas of requests and executions (docs/pool.md)."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent import orders
from solvent import pool as lp_flow
from solvent.model import pool as model

WAD = 10**18
USDC = 10**6
MAX = 2**256 - 1
ETH = "WETH"
SEED_USD = 2_000_000
FEE = 2 * USDC


@pytest.fixture(scope="module")
def actors(accounts) -> dict[str, Any]:
    return {
        "lp": accounts[1],
        "other": accounts[2],
        "trader": accounts[3],
        "keeper": accounts[4],
        "operator": accounts[5],
    }


@pytest.fixture(scope="module")
def seeded(system, deployer, actors):
    """$2M in the pool (instant: the pool is flat), a trader long 500 ETH; $1M minted to `other`."""
    s = system
    s.quote.mint(actors["lp"], SEED_USD * USDC, sender=deployer)
    s.quote.approve(s.pool, MAX, sender=actors["lp"])
    s.pool.deposit(SEED_USD * USDC, actors["lp"], sender=actors["lp"])
    trader = actors["trader"]
    s.engine.openAccount(0, sender=trader)
    account = int(s.engine.accountIdOf(trader, 0))
    s.quote.mint(trader, 300_000 * USDC, sender=deployer)
    s.quote.approve(s.engine, MAX, sender=trader)
    s.engine.deposit(account, s.quote, 300_000 * USDC, sender=trader)
    s.quote.mint(deployer, 10 * USDC, sender=deployer)
    orders.trade(
        s, ape.chain, trader, account, ETH, 500 * WAD, settler=deployer, publisher=deployer
    )
    s.quote.mint(actors["other"], 1_000_000 * USDC, sender=deployer)
    s.quote.approve(s.pool, MAX, sender=actors["other"])
    return s


def _rounds(system, deployer) -> lp_flow.Rounds:
    return lp_flow.publish_and_find(system, deployer)


def _later(chain) -> None:
    """A block a minute on, before a measured execution: funding and interest then always accrue
    in it (in the publishing block's second they would not: the gas would depend on machine
    speed). The round published before stays the determining one (the window is 4,500 s)."""
    chain.mine(timestamp=chain.pending_timestamp + 60)


def _to_target(chain, pool, controller, deposit: bool) -> int:
    target, _ = lp_flow.request_times(pool, controller, deposit)
    chain.mine(timestamp=max(target, chain.pending_timestamp))
    return target


def test_pool_is_async_with_truthful_views(seeded, actors):
    pool = seeded.pool
    assert not pool.isFlat()
    for interface in ("0x01ffc9a7", "0xe3bc4e65", "0xce3bbe50", "0x620ee8e4", "0x2f0a18c5"):
        assert pool.supportsInterface(interface)
    assert not pool.supportsInterface("0xffffffff")
    assert pool.share() == pool.address
    for preview in (
        pool.previewDeposit,
        pool.previewMint,
        pool.previewWithdraw,
        pool.previewRedeem,
    ):
        with ape.reverts(pool.AsyncFlow):
            preview(USDC)
    shares = pool.balanceOf(actors["lp"])
    assets = pool.totalAssets()
    assert pool.convertToAssets(shares) == model.convert_to_assets(shares, assets, shares)
    # Nothing claimable and not flat: the instant paths are refused.
    with ape.reverts(pool.RequestRequired):
        pool.deposit(USDC, actors["other"], sender=actors["other"])
    with ape.reverts(pool.RequestRequired):
        pool.redeem(10**12, actors["lp"], actors["lp"], sender=actors["lp"])
    with ape.reverts(pool.RequestRequired):
        pool.withdraw(USDC, actors["lp"], actors["lp"], sender=actors["lp"])


def test_deposit_request_executes_at_its_value_and_is_claimed(
    seeded, chain, deployer, actors, gas, steady_clock
):
    pool, other, keeper = seeded.pool, actors["other"], actors["keeper"]
    receipt = pool.requestDeposit(100_000 * USDC, other, other, sender=other)
    gas.record("pool.request_deposit", receipt)
    [event] = receipt.events.filter(pool.DepositRequest)
    assert (event.controller, event.owner, event.requestId, event.assets) == (
        other.address,
        other.address,
        0,
        100_000 * USDC,
    )
    assert pool.pendingDepositRequest(0, other) == 100_000 * USDC
    assert seeded.quote.balanceOf(pool) == 100_000 * USDC  # escrowed, outside totalAssets
    with ape.reverts(pool.ExecutionTooEarly):
        pool.executeDeposit(other, [1, 1], sender=keeper)
    target = _to_target(chain, pool, other, True)
    rounds = _rounds(seeded, deployer)(target)
    with ape.reverts(pool.RoundCountMismatch):
        pool.executeDeposit(other, rounds[:1], sender=keeper)
    supply = pool.totalSupply()
    _later(chain)
    receipt = pool.executeDeposit(other, rounds, sender=keeper)
    gas.record("pool.execute_deposit", receipt)
    [executed] = receipt.events.filter(pool.DepositExecuted)
    expected = model.execute_deposit(100_000 * USDC, supply, executed.poolValue, FEE)
    assert (executed.shares, executed.fee, executed.assets) == (
        expected.shares,
        expected.fee,
        expected.pool_assets_delta,
    )
    assert seeded.quote.balanceOf(keeper) == FEE
    assert pool.pendingDepositRequest(0, other) == 0
    assert pool.claimableDepositRequest(0, other) == pool.maxDeposit(other) == 100_000 * USDC
    assert pool.maxMint(other) == expected.shares
    with ape.reverts(pool.ExceedsClaimable):
        pool.deposit(100_000 * USDC + 1, other, other, sender=other)
    with ape.reverts(pool.NotAuthorized):
        pool.deposit(USDC, keeper, other, sender=keeper)
    half = pool.mint(expected.shares // 2, other, other, sender=other)
    assert half.events.filter(pool.Deposit)[0].shares == expected.shares // 2
    pool.deposit(pool.maxDeposit(other), other, sender=other)
    assert pool.balanceOf(other) == expected.shares
    assert pool.maxDeposit(other) == pool.maxMint(other) == 0


def test_redeem_request_bears_the_pool_until_execution(
    seeded, chain, deployer, actors, gas, steady_clock
):
    pool, lp, keeper = seeded.pool, actors["lp"], actors["keeper"]
    shares = pool.balanceOf(lp) // 4
    receipt = pool.requestRedeem(shares, lp, lp, sender=lp)
    gas.record("pool.request_redeem", receipt)
    assert pool.pendingRedeemRequest(0, lp) == shares
    assert pool.balanceOf(pool) == shares  # escrowed, still in the supply
    with ape.reverts(pool.RequestPending):
        pool.requestRedeem(1, lp, lp, sender=lp)
    # ETH +5% after the request: the traders' gain is the pool's loss, borne by the request.
    _to_target(chain, pool, lp, False)
    for feed in (seeded.feeds[ETH], seeded.secondary_feeds[ETH]):
        feed.setAnswer(int(feed.latestRoundData()[1]) * 105 // 100, sender=deployer)
    target, _ = lp_flow.request_times(pool, lp, False)
    rounds = _rounds(seeded, deployer)(target)
    supply = pool.totalSupply()
    _later(chain)
    receipt = pool.executeRedeem(lp, rounds, sender=keeper)
    gas.record("pool.execute_redeem", receipt)
    [executed] = receipt.events.filter(pool.RedeemExecuted)
    expected = model.execute_redeem(shares, supply, executed.poolValue, FEE)
    assert (executed.assets, executed.fee) == (expected.claimable_assets, expected.fee)
    assert executed.poolValue < SEED_USD * USDC - 40_000 * USDC  # the +5% move is in it
    assert pool.maxWithdraw(lp) == expected.claimable_assets
    assert pool.maxRedeem(lp) == pool.claimableRedeemRequest(0, lp) == shares
    before = seeded.quote.balanceOf(lp)
    pool.withdraw(expected.claimable_assets // 3, lp, lp, sender=lp)
    pool.redeem(pool.maxRedeem(lp), lp, lp, sender=lp)
    assert seeded.quote.balanceOf(lp) == before + expected.claimable_assets
    with ape.reverts(pool.RequestRequired):
        pool.withdraw(1, lp, lp, sender=lp)  # nothing left to claim, and the pool is not flat
    assert pool.maxRedeem(lp) == 0


# ~20 s alone: `make test-slow` (and CI) runs it; `make test` stays under 10 minutes
@pytest.mark.slow
def test_operators_allowances_and_cancellation(seeded, chain, deployer, actors):
    pool, lp, operator, other = seeded.pool, actors["lp"], actors["operator"], actors["other"]
    with ape.reverts(pool.NotAuthorized):
        pool.requestDeposit(USDC, operator, other, sender=operator)
    with ape.reverts(pool.ERC20InsufficientAllowance):
        pool.requestRedeem(10**12, operator, lp, sender=operator)
    receipt = pool.setOperator(operator, True, sender=lp)
    assert receipt.events.filter(pool.OperatorSet)[0].approved
    assert pool.isOperator(lp, operator)
    pool.requestRedeem(10**12, lp, lp, sender=operator)
    with ape.reverts(pool.ZeroAmount):
        pool.requestDeposit(0, other, other, sender=other)
    with ape.reverts(pool.RequestTooLarge):
        pool.requestDeposit(2**128, other, other, sender=other)
    with ape.reverts(pool.NoPendingRequest):
        pool.executeDeposit(other, [1, 1], sender=other)
    with ape.reverts(pool.NoPendingRequest):
        pool.cancelRequest(other, True, sender=other)
    pool.requestDeposit(50 * USDC, other, other, sender=other)
    with ape.reverts(pool.RequestNotExpired):
        pool.cancelRequest(other, True, sender=lp)
    target, expiry = lp_flow.request_times(pool, other, True)
    assert expiry == target + pool.REQUEST_WINDOW()
    # The settler cannot pick an earlier round: the oracle's round rule refuses it.
    chain.mine(timestamp=target)
    stale = [int(seeded.feeds[k].latestRoundData()[0]) for k in lp_flow.market_keys(seeded)]
    with ape.reverts():
        pool.executeDeposit(other, stale, sender=lp)
    chain.mine(timestamp=expiry + 1)
    with ape.reverts(pool.RequestExpired):
        pool.executeDeposit(other, stale, sender=lp)
    before = seeded.quote.balanceOf(other)
    pool.cancelRequest(other, True, sender=lp)
    assert seeded.quote.balanceOf(other) == before + 50 * USDC
    shares = pool.balanceOf(lp)
    pool.cancelRequest(lp, False, sender=other)
    assert pool.balanceOf(lp) == shares + 10**12


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    round_move=st.integers(-300, 300),  # bps of the ETH move to the determining round
    later_move=st.integers(-300, 300),  # bps of a further move before execution
    round_up=st.booleans(),
)
def test_execution_value_matches_the_model(
    seeded, chain, deployer, actors, round_move, later_move, round_up
):
    pool, other = seeded.pool, actors["other"]
    with chain.isolate():
        pool.requestDeposit(1_000 * USDC, other, other, sender=other)
        target = _to_target(chain, pool, other, True)
        eth = [seeded.feeds[ETH], seeded.secondary_feeds[ETH]]
        for feed in eth:
            feed.setAnswer(
                int(feed.latestRoundData()[1]) * (10_000 + round_move) // 10_000, sender=deployer
            )
        rounds = _rounds(seeded, deployer)(target)
        for feed in eth:
            feed.setAnswer(
                int(feed.latestRoundData()[1]) * (10_000 + later_move) // 10_000, sender=deployer
            )
        value = pool.executionValue(target, rounds, round_up)
        marks = []
        for key in lp_flow.market_keys(seeded):
            market = seeded.market_ids[key]
            asset = seeded.tokens[key]
            net = int(seeded.admin.marketSkew(market).netSize)
            marks.append(
                model.MarketMark(
                    net,
                    int(seeded.oracle.price(asset)),
                    int(seeded.oracle.roundPrice(asset, rounds[market], target).priceWad),
                )
            )
        expected = model.execution_value(int(pool.totalAssets()), 10**12, marks, round_up)
        assert value == expected


@given(
    cooldown=st.integers(86_400, 30 * 86_400),
    window=st.integers(3_600, 14 * 86_400),
)
def test_exit_ready_bound_model(cooldown, window):
    """window * 9 <= cooldown is exactly W / (C + W) <= 10%."""
    assert model.window_allowed(cooldown, window) == (10 * window <= cooldown + window)
    if model.window_allowed(cooldown, window):
        assert model.exit_ready_share_ppm(cooldown, window) <= 100_000


def test_operator_seeding_goes_through_a_request_once_positions_are_open(seeded, actors):
    """`ape run mocks deposit` (solvent.ops.mocks.seed_liquidity) on a pool that is not flat:
    it requests, publishes the rounds, executes and claims; the insurance deposit is direct."""
    from decimal import Decimal

    from solvent.ops.mocks import seed_liquidity

    signer = actors["operator"]
    seed_liquidity(seeded, signer, Decimal(25_000), Decimal(1_000))
    assert seeded.pool.balanceOf(signer) > 0 and seeded.fund.balanceOf(signer) > 0
    assert seeded.pool.pendingDepositRequest(0, signer) == 0
    assert seeded.pool.maxDeposit(signer) == 0  # claimed
