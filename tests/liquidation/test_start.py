"""startAuctions: split by value, auction records, keeper reward and reject paths (caps, the
breaker and unconfigured collateral queue the lot: tests/liquidation/test_queue.py)."""

from __future__ import annotations

import ape
from hypothesis import given, settings
from hypothesis import strategies as st
from liquidation_support import (
    BTC,
    BUF,
    CHIP,
    ETH,
    SCALE_WBTC,
    SCALE_WETH,
    TIP,
    USDC,
    WBTC_PRICE,
    WETH_PRICE,
    active_tabs,
    start_price,
)

from solvent.model.auction import keeper_reward, split_by_value
from solvent.model.fixed_point import mul_div_down


def _values(lots: list[int]) -> list[int]:
    return [
        mul_div_down(lots[0], WETH_PRICE, SCALE_WETH),
        mul_div_down(lots[1], WBTC_PRICE, SCALE_WBTC),
    ]


def test_two_lots_split_by_value_and_recorded(system, chain):
    s = system
    lots = [10 * ETH + 7, 2 * BTC + 3]
    debt, penalty = 100_000 * USDC + 1, 5_000 * USDC + 3
    keeper_before = s.quote.balanceOf(s.keeper)
    fund_before = s.quote.balanceOf(s.fund)
    tx, first = s.start([s.weth, s.wbtc], lots, debt, penalty, account=42)
    ids = s.auction_ids(tx)
    assert ids[0] == first and len(ids) == 2

    debts = split_by_value(debt, _values(lots))
    penalties = split_by_value(penalty, _values(lots))
    assert sum(debts) == debt and sum(penalties) == penalty
    block_time = chain.blocks[-1].timestamp
    for i, (token, price) in enumerate([(s.weth, WETH_PRICE), (s.wbtc, WBTC_PRICE)]):
        st_ = s.liquidator.status(ids[i])
        assert st_.active and not st_.needsReset
        assert (st_.accountId, st_.token, st_.lot) == (42, token.address, lots[i])
        assert (st_.tab, st_.debt) == (debts[i] + penalties[i], debts[i])
        assert st_.startPrice == start_price(price, BUF) == st_.price
        assert st_.startTime == block_time
        assert s.liquidator.collaterals(token).dirt == debts[i] + penalties[i]
    assert s.liquidator.activeAuctionIds() == ids
    assert s.liquidator.globals().dirt == debt + penalty == active_tabs(s.liquidator)
    assert s.liquidator.globals().slotCount == 2

    tabs = [d + p for d, p in zip(debts, penalties, strict=True)]
    reward = keeper_reward([TIP, TIP], [CHIP, CHIP], tabs, penalty)
    assert s.quote.balanceOf(s.keeper) - keeper_before == reward
    assert fund_before - s.quote.balanceOf(s.fund) == reward
    [event] = tx.events.filter(s.liquidator.KeeperRewarded)
    assert (event.keeper, event.requested, event.paid) == (s.keeper.address, reward, reward)
    # `startAuctions` returns the first id and what the fund paid (the engine reports it).
    assert tx.return_value == (first, reward)
    # The lots stay in the engine's custody: the liquidator never holds collateral.
    assert s.weth.balanceOf(s.liquidator) == 0 and s.wbtc.balanceOf(s.liquidator) == 0
    assert s.engine.collateralInAuction(s.weth) == lots[0]
    assert s.engine.collateralInAuction(s.wbtc) == lots[1]


@settings(max_examples=20, deadline=None)
@given(
    weth_lot=st.integers(min_value=1, max_value=10**6 * ETH),
    wbtc_lot=st.integers(min_value=1, max_value=10**4 * BTC),
    debt=st.integers(min_value=0, max_value=4_000_000 * USDC),
    penalty=st.integers(min_value=0, max_value=400_000 * USDC),
)
def test_split_matches_reference(system, chain, weth_lot, wbtc_lot, debt, penalty):
    s = system
    if debt + penalty == 0:
        return
    with chain.isolate():
        lots = [weth_lot, wbtc_lot]
        keeper_before = s.quote.balanceOf(s.keeper)
        tx, _ = s.start([s.weth, s.wbtc], lots, debt, penalty)
        ids = s.auction_ids(tx)
        debts = split_by_value(debt, _values(lots))
        penalties = split_by_value(penalty, _values(lots))
        for i in range(2):
            st_ = s.liquidator.status(ids[i])
            assert (st_.debt, st_.tab) == (debts[i], debts[i] + penalties[i])
        tabs = [d + p for d, p in zip(debts, penalties, strict=True)]
        reward = keeper_reward([TIP, TIP], [CHIP, CHIP], tabs, penalty)
        assert reward <= penalty
        assert s.quote.balanceOf(s.keeper) - keeper_before == reward


def test_worthless_lots_put_everything_on_the_last(system):
    s = system
    start, first = s.start([s.weth, s.wbtc], [1, 1], 500 * USDC, 20 * USDC)
    second = s.auction_ids(start)[1]
    assert s.liquidator.status(first).tab == 0
    assert s.liquidator.status(second).tab == 520 * USDC
    # An auction with nothing to recover hands its lot back on the first take, for free.
    tx = s.liquidator.take(first, 1, 2**255, s.taker, b"", sender=s.taker)
    assert s.weth.balanceOf(s.taker) == 0 and s.weth.balanceOf(s.engine) == 1
    [end] = tx.events.filter(s.engine.AuctionEndReported)
    assert (end.token, end.returned) == (s.weth.address, 1)
    assert s.liquidator.activeAuctionIds() == [second]


def test_status_of_unknown_auction_is_inactive(system):
    s = system
    st_ = s.liquidator.status(12345)
    assert not st_.active and st_.lot == st_.tab == st_.price == 0
    assert s.liquidator.globals().slotCount == 0


def test_keeper_reward_capped_by_penalty(system):
    s = system
    before = s.quote.balanceOf(s.keeper)
    s.start([s.weth], [ETH], 1_000 * USDC, 2 * USDC)  # tip alone (5 USDC) exceeds the penalty
    assert s.quote.balanceOf(s.keeper) - before == 2 * USDC


def test_no_penalty_no_reward(system):
    s = system
    before = s.quote.balanceOf(s.keeper)
    tx, first = s.start([s.weth], [ETH], 1_000 * USDC, 0)
    assert s.quote.balanceOf(s.keeper) == before
    assert not list(tx.events.filter(s.liquidator.KeeperRewarded))
    assert tx.return_value == (first, 0)


def test_keeper_reward_limited_by_fund_balance(system, deployer):
    s = system
    s.fund.grantRole(s.fund.COVER_ROLE(), deployer, sender=deployer)
    s.fund.coverShortfall(s.quote.balanceOf(s.fund) - 3, sender=deployer)
    before = s.quote.balanceOf(s.keeper)
    tx, first = s.start([s.weth], [ETH], 1_000 * USDC, 50 * USDC)
    [event] = tx.events.filter(s.liquidator.KeeperRewarded)
    assert (event.requested, event.paid) == (TIP + CHIP * 1_050 * USDC // 10**18, 3)
    assert tx.return_value == (first, 3)  # what was paid, not what was due
    assert s.quote.balanceOf(s.keeper) - before == 3
    assert s.quote.balanceOf(s.fund) == 0


def test_only_engine_can_start(system):
    s = system
    with ape.reverts(s.liquidator.NotEngine):
        s.liquidator.startAuctions(
            1, [s.weth], [ETH], [WETH_PRICE], USDC, 0, s.keeper, sender=s.deployer
        )


def test_rejects_bad_lots(system):
    s = system
    s.weth.mint(s.engine, 10 * ETH, sender=s.deployer)
    with ape.reverts(s.liquidator.InvalidLots):
        s.engine.start(1, [], [], USDC, 0, s.keeper, sender=s.deployer)
    with ape.reverts(s.liquidator.InvalidLots):
        s.engine.start(1, [s.weth], [ETH, ETH], USDC, 0, s.keeper, sender=s.deployer)
    for prices in ([], [WETH_PRICE, WETH_PRICE]):
        with ape.reverts(s.liquidator.InvalidLots):
            s.engine.startPriced(1, [s.weth], [ETH], prices, USDC, 0, s.keeper, sender=s.deployer)
    with ape.reverts(s.liquidator.ZeroLot):
        s.engine.liquidate(1, [s.weth, s.weth], [ETH, 0], USDC, 0, s.keeper, sender=s.deployer)
    with ape.reverts(s.liquidator.ZeroTab):
        s.engine.liquidate(1, [s.weth], [ETH], 0, 0, s.keeper, sender=s.deployer)
