"""reset: when it is allowed, the fresh start price, reward rules (no farming on dust)."""

from __future__ import annotations

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from liquidation_support import (
    BUF,
    CHIP,
    CHOST,
    CUSP,
    ETH,
    LINEAR_TAU,
    SCALE_WETH,
    STEP_CUT,
    STEP_SECONDS,
    TAIL,
    TIP,
    USDC,
    WAD,
    WETH_PRICE,
    collateral_params,
    start_price,
)

from solvent.model.auction import linear_price, needs_reset, reset_reward, stairstep_price


def _at(chain, t):
    chain.pending_timestamp = t
    chain.mine()


def test_fresh_auction_is_not_resettable(system):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    with ape.reverts(s.liquidator.AuctionNotResettable):
        s.liquidator.reset(first, s.keeper, sender=s.keeper)
    with ape.reverts(s.liquidator.AuctionNotActive):
        s.liquidator.reset(first + 5, s.keeper, sender=s.keeper)


def test_reset_after_tail_restarts_at_fresh_oracle_and_rewards(system, chain):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    t0 = s.liquidator.status(first).startTime
    _at(chain, t0 + TAIL)
    assert not s.liquidator.status(first).needsReset  # elapsed == tail is still live
    s.oracle.setPrice(s.weth, 1_800 * WAD, sender=s.deployer)
    before = s.quote.balanceOf(s.keeper)
    chain.pending_timestamp = t0 + TAIL + 1
    tx = s.liquidator.reset(first, s.keeper, sender=s.taker)
    a = s.liquidator.status(first)
    assert a.startPrice == start_price(1_800 * WAD, BUF) == a.price
    assert a.startTime == t0 + TAIL + 1 and not a.needsReset
    value = 10 * ETH * 1_800 * WAD // 10**30
    reward = reset_reward(a.tab, a.debt, value, CHOST, TIP, CHIP)
    assert reward == TIP + CHIP * 15_750 * USDC // WAD
    assert s.quote.balanceOf(s.keeper) - before == reward
    [event] = tx.events.filter(s.liquidator.AuctionReset)
    assert (event.rewardRequested, event.rewardPaid, event.keeper) == (reward, reward, s.taker)


def test_reset_when_price_below_cusp(system, chain):
    s = system
    params = collateral_params(s.linear, tail=2 * LINEAR_TAU)
    s.liquidator.setCollateral(s.weth, params, sender=s.deployer)
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    a = s.liquidator.status(first)
    half = LINEAR_TAU // 2  # price == cusp * start: still live
    live_price = linear_price(a.startPrice, half, LINEAR_TAU)
    assert not needs_reset(live_price, a.startPrice, half, 2 * LINEAR_TAU, CUSP)
    # The transaction is checked well before the boundary: after a mined block, the next one's
    # time follows the wall clock, which a loaded machine can move past `half` (a flake in CI).
    _at(chain, a.startTime + half - 60)
    with ape.reverts(s.liquidator.AuctionNotResettable):
        s.liquidator.reset(first, s.keeper, sender=s.keeper)
    _at(chain, a.startTime + half)
    assert not s.liquidator.status(first).needsReset  # exactly at the boundary: still live
    elapsed = half + 1
    price = linear_price(a.startPrice, elapsed, LINEAR_TAU)
    assert needs_reset(price, a.startPrice, elapsed, 2 * LINEAR_TAU, CUSP)
    chain.pending_timestamp = a.startTime + elapsed
    s.liquidator.reset(first, s.keeper, sender=s.keeper)
    assert s.liquidator.status(first).startPrice == start_price(WETH_PRICE, BUF)


def test_no_reward_on_dust_tab(system, chain):
    s = system
    _, first = s.start([s.weth], [10 * ETH], CHOST - 10 * USDC, 9 * USDC)  # tab < chost
    _at(chain, s.liquidator.status(first).startTime + TAIL + 1)
    before = s.quote.balanceOf(s.keeper)
    tx = s.liquidator.reset(first, s.keeper, sender=s.keeper)
    assert s.quote.balanceOf(s.keeper) == before
    assert tx.events.filter(s.liquidator.AuctionReset)[0].rewardRequested == 0


def test_no_reward_on_dust_lot_value(system, chain):
    s = system
    lot = ETH // 100  # worth 20 USDC < chost, tab large
    _, first = s.start([s.weth], [lot], 5_000 * USDC, 250 * USDC)
    _at(chain, s.liquidator.status(first).startTime + TAIL + 1)
    before = s.quote.balanceOf(s.keeper)
    s.liquidator.reset(first, s.keeper, sender=s.keeper)
    assert s.quote.balanceOf(s.keeper) == before


def test_reset_reward_capped_by_penalty_part(system, chain):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 2 * USDC)  # penalty < tip
    _at(chain, s.liquidator.status(first).startTime + TAIL + 1)
    before = s.quote.balanceOf(s.keeper)
    s.liquidator.reset(first, s.keeper, sender=s.keeper)
    assert s.quote.balanceOf(s.keeper) - before == 2 * USDC


def test_price_never_rises_except_by_reset(system, chain):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    t0 = s.liquidator.status(first).startTime
    previous = s.liquidator.status(first).price
    for elapsed in range(0, TAIL + 1, 450):
        _at(chain, t0 + elapsed)
        price = s.liquidator.status(first).price
        assert price <= previous
        assert price == stairstep_price(
            start_price(WETH_PRICE, BUF), elapsed, STEP_CUT, STEP_SECONDS
        )
        previous = price
    _at(chain, t0 + TAIL + 1)
    s.liquidator.reset(first, s.keeper, sender=s.keeper)
    assert s.liquidator.status(first).price > previous


def test_stopped_level_two_blocks_resets(system, chain):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    _at(chain, s.liquidator.status(first).startTime + TAIL + 1)
    s.liquidator.setStopped(2, sender=s.deployer)
    with ape.reverts(s.liquidator.AuctionsStopped):
        s.liquidator.reset(first, s.keeper, sender=s.keeper)
    s.liquidator.setStopped(1, sender=s.deployer)
    s.liquidator.reset(first, s.keeper, sender=s.keeper)
    assert not s.liquidator.status(first).needsReset


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(
    lot=st.integers(min_value=1, max_value=1_000 * ETH),
    debt=st.integers(min_value=0, max_value=1_000_000 * USDC),
    penalty=st.integers(min_value=0, max_value=50_000 * USDC),
    new_price=st.integers(min_value=1, max_value=10**6 * WAD),
)
def test_reset_matches_reference(system, chain, lot, debt, penalty, new_price):
    s = system
    if debt + penalty == 0:
        return
    with chain.isolate():
        _, first = s.start([s.weth], [lot], debt, penalty)
        a = s.liquidator.status(first)
        s.oracle.setPrice(s.weth, new_price, sender=s.deployer)
        before = s.quote.balanceOf(s.keeper)
        chain.pending_timestamp = a.startTime + TAIL + 1
        s.liquidator.reset(first, s.keeper, sender=s.taker)
        value = lot * new_price // SCALE_WETH
        expected = reset_reward(a.tab, a.debt, value, CHOST, TIP, CHIP)
        assert s.quote.balanceOf(s.keeper) - before == expected <= a.tab - a.debt
        after = s.liquidator.status(first)
        assert after.startPrice == start_price(new_price, BUF) == after.price
        assert (after.lot, after.tab, after.debt) == (a.lot, a.tab, a.debt)


def test_reset_rewards_together_never_exceed_the_penalty_part(system, chain):
    """Six resets of a 500 tab whose penalty part is 20: 5.5 + 5.5 + 5.5 + 3.5, then nothing."""
    s = system
    _, first = s.start([s.weth], [10 * ETH], 480 * USDC, 20 * USDC)
    paid_before = 0
    rewards = []
    for _ in range(6):
        a = s.liquidator.status(first)
        _at(chain, a.startTime + TAIL + 1)
        value = 10 * ETH * WETH_PRICE // SCALE_WETH
        want = reset_reward(a.tab, a.debt, value, CHOST, TIP, CHIP, paid_before)
        tx = s.liquidator.reset(first, s.keeper, sender=s.keeper)
        [event] = tx.events.filter(s.liquidator.AuctionReset)
        assert event.rewardRequested == event.rewardPaid == want
        paid_before += want
        rewards.append(want)
    step = TIP + CHIP * 500 * USDC // WAD
    assert rewards == [step, step, step, 20 * USDC - 3 * step, 0, 0]
    assert paid_before == 20 * USDC


def test_reset_book_is_per_auction(system, chain):
    """A later auction in a recycled slot starts with a fresh budget."""
    s = system
    _, first = s.start([s.weth], [10 * ETH], 480 * USDC, 20 * USDC)
    for _ in range(4):
        _at(chain, s.liquidator.status(first).startTime + TAIL + 1)
        s.liquidator.reset(first, s.keeper, sender=s.keeper)
    s.liquidator.cancel(first, sender=s.deployer)
    _, second = s.start([s.weth], [10 * ETH], 480 * USDC, 20 * USDC)
    assert second % 2**24 == first % 2**24 and second != first  # same slot, new auction
    _at(chain, s.liquidator.status(second).startTime + TAIL + 1)
    tx = s.liquidator.reset(second, s.keeper, sender=s.keeper)
    [event] = tx.events.filter(s.liquidator.AuctionReset)
    assert event.rewardPaid == TIP + CHIP * 500 * USDC // WAD
