"""take: Maker's arithmetic against the reference, callbacks, leftovers, bad debt, rejects."""

from __future__ import annotations

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from liquidation_support import (
    BUF,
    CHOST,
    ETH,
    SCALE_WETH,
    STEP_CUT,
    STEP_SECONDS,
    TAIL,
    USDC,
    WETH_PRICE,
    bad_debt,
    collateral_params,
    ends,
    settled,
    start_price,
)

from solvent.model.auction import DustRemainder, stairstep_price, take

TOP = start_price(WETH_PRICE, BUF)


def _take_at(s, chain, first, elapsed, max_amount, max_price=None, who=None, receiver=None):
    """Takes auction `first` exactly `elapsed` seconds after its start."""
    chain.pending_timestamp = s.liquidator.status(first).startTime + elapsed
    who = who or s.taker
    price_cap = max_price if max_price is not None else 2**256 - 1
    return s.liquidator.take(first, max_amount, price_cap, receiver or who, b"", sender=who)


def _expected(s, first, elapsed, max_amount):
    a = s.liquidator.status(first)
    price = stairstep_price(a.startPrice, elapsed, STEP_CUT, STEP_SECONDS)
    return price, take(a.lot, a.tab, a.debt, price, SCALE_WETH, max_amount, CHOST)


def test_full_take_pays_tab_and_returns_leftover(system, chain):
    s = system
    lot, debt, penalty = 10 * ETH, 15_000 * USDC, 750 * USDC
    _, first = s.start([s.weth], [lot], debt, penalty)
    taker = s.fund_taker(20_000 * USDC)
    price, exp = _expected(s, first, 10, lot)
    assert price == TOP and exp.owe == debt + penalty and exp.lot_left > 0

    tx = _take_at(s, chain, first, 10, lot, max_price=TOP)
    assert s.quote.balanceOf(taker) == 20_000 * USDC - exp.owe
    assert s.weth.balanceOf(taker) == exp.slice == (debt + penalty) * SCALE_WETH // TOP
    assert s.quote.balanceOf(s.engine) == exp.owe
    assert s.weth.balanceOf(s.engine) == lot - exp.slice  # leftover back to the engine
    assert s.engine.collateralInAuction(s.weth) == 0
    assert settled(tx, s.engine) == (debt, penalty)
    assert ends(tx, s.engine) == [(7, s.weth.address, lot - exp.slice)]
    assert bad_debt(tx, s.engine) == []
    assert not s.liquidator.status(first).active
    assert s.liquidator.activeAuctionIds() == []
    assert s.liquidator.globals().dirt == 0 == s.liquidator.collaterals(s.weth).dirt


def test_partial_takes_repay_debt_first(system, chain):
    s = system
    lot, debt, penalty = 10 * ETH, 15_000 * USDC, 750 * USDC
    _, first = s.start([s.weth], [lot], debt, penalty)
    taker = s.fund_taker(20_000 * USDC)

    _, exp = _expected(s, first, 5, 2 * ETH)
    tx = _take_at(s, chain, first, 5, 2 * ETH)
    assert (exp.slice, exp.owe) == (2 * ETH, 4_800 * USDC)
    assert settled(tx, s.engine) == (4_800 * USDC, 0)
    assert ends(tx, s.engine) == []
    a = s.liquidator.status(first)
    assert (a.lot, a.tab, a.debt) == (8 * ETH, 10_950 * USDC, 10_200 * USDC)
    assert s.liquidator.globals().dirt == 10_950 * USDC

    price, exp = _expected(s, first, 200, 8 * ETH)  # two steps later: 1% + 1% cheaper
    assert price == TOP * 99 // 100 * 99 // 100
    tx = _take_at(s, chain, first, 200, 8 * ETH)
    assert settled(tx, s.engine) == (10_200 * USDC, 750 * USDC)
    assert s.weth.balanceOf(taker) == 2 * ETH + exp.slice
    assert s.quote.balanceOf(taker) == 20_000 * USDC - 15_750 * USDC
    assert ends(tx, s.engine) == [(7, s.weth.address, 8 * ETH - exp.slice)]
    assert s.weth.balanceOf(s.engine) + s.weth.balanceOf(taker) == lot


def test_partial_take_keeps_chost_remainder(system, chain):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    s.fund_taker(20_000 * USDC)
    tab = 15_750 * USDC
    amount = (tab - 50 * USDC) * SCALE_WETH // TOP  # would leave ~50 USDC < chost
    _, exp = _expected(s, first, 1, amount)
    assert exp.owe == tab - CHOST and exp.slice < amount
    _take_at(s, chain, first, 1, amount)
    a = s.liquidator.status(first)
    assert (a.tab, a.lot) == (CHOST, 10 * ETH - exp.slice)


def test_partial_take_of_dust_tab_reverts(system, chain):
    s = system
    _, first = s.start([s.weth], [ETH], 80 * USDC, 0)  # tab <= chost
    s.fund_taker(1_000 * USDC)
    with pytest.raises(DustRemainder):
        _expected(s, first, 1, ETH // 1_000)
    with ape.reverts(s.liquidator.DustRemainder):
        _take_at(s, chain, first, 1, ETH // 1_000)
    tx = _take_at(s, chain, first, 2, ETH)  # the whole tab is fine
    assert settled(tx, s.engine) == (80 * USDC, 0)


def test_bad_debt_only_when_lot_exhausted(system, chain):
    s = system
    _, first = s.start([s.weth], [ETH], 3_000 * USDC, 150 * USDC)
    s.fund_taker(5_000 * USDC)
    fund_before = s.quote.balanceOf(s.fund)
    tx = _take_at(s, chain, first, 1, ETH // 2)
    assert bad_debt(tx, s.engine) == [] and ends(tx, s.engine) == []
    tx = _take_at(s, chain, first, 2, ETH)
    assert settled(tx, s.engine) == (1_200 * USDC, 0)
    assert bad_debt(tx, s.engine) == [(600 * USDC, 600 * USDC, 0)]
    assert ends(tx, s.engine) == [(7, s.weth.address, 0)]
    [end] = tx.events.filter(s.liquidator.AuctionEnded)
    assert (end.returned, end.badDebt, end.penaltyUnpaid) == (0, 600 * USDC, 150 * USDC)
    assert fund_before - s.quote.balanceOf(s.fund) == 600 * USDC
    assert s.liquidator.globals().dirt == 0 == s.liquidator.collaterals(s.weth).dirt


def test_exhausted_fund_socializes_the_rest(system, chain, deployer):
    s = system
    _, first = s.start([s.weth], [ETH], 3_000 * USDC, 150 * USDC)
    s.fund.grantRole(s.fund.COVER_ROLE(), deployer, sender=deployer)
    s.fund.coverShortfall(s.quote.balanceOf(s.fund) - 100 * USDC, sender=deployer)
    s.fund_taker(5_000 * USDC)
    tx = _take_at(s, chain, first, 1, ETH)
    assert bad_debt(tx, s.engine) == [(600 * USDC, 100 * USDC, 500 * USDC)]
    assert s.quote.balanceOf(s.fund) == 0


def test_capital_free_take_through_callback(system, chain, project):
    s = system
    lot, debt, penalty = 10 * ETH, 15_000 * USDC, 750 * USDC
    _, first = s.start([s.weth], [lot], debt, penalty)
    swapper = s.deployer.deploy(project.SwapTaker, s.liquidator, s.exchange)
    s.exchange.setPrice(s.weth, 2_300 * 10**18, sender=s.deployer)
    assert s.quote.balanceOf(swapper) == 0
    exchange_quote = s.quote.balanceOf(s.exchange)

    elapsed = 10 * STEP_SECONDS
    price, exp = _expected(s, first, elapsed, lot)
    chain.pending_timestamp = s.liquidator.status(first).startTime + elapsed
    tx = swapper.take(first, lot, price, sender=s.taker)
    proceeds = exp.slice * 2_300 * 10**18 // SCALE_WETH
    assert s.quote.balanceOf(swapper) == proceeds - exp.owe > 0
    assert s.weth.balanceOf(swapper) == 0
    assert s.weth.balanceOf(s.exchange) == exp.slice
    assert s.quote.balanceOf(s.exchange) == exchange_quote - proceeds
    assert s.quote.balanceOf(s.engine) == debt + penalty
    assert s.weth.balanceOf(s.engine) == lot - exp.slice
    assert settled(tx, s.engine) == (debt, penalty)


def test_capital_free_partial_take(system, chain, project):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    swapper = s.deployer.deploy(project.SwapTaker, s.liquidator, s.exchange)
    s.exchange.setPrice(s.weth, 2_300 * 10**18, sender=s.deployer)
    elapsed = 10 * STEP_SECONDS
    price, exp = _expected(s, first, elapsed, 3 * ETH)
    chain.pending_timestamp = s.liquidator.status(first).startTime + elapsed
    swapper.take(first, 3 * ETH, price, sender=s.taker)
    assert exp.slice == 3 * ETH
    assert s.quote.balanceOf(swapper) == 3 * 2_300 * USDC - exp.owe
    assert s.liquidator.status(first).lot == 7 * ETH


def test_unprofitable_callback_take_moves_nothing(system, chain, project):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    swapper = s.deployer.deploy(project.SwapTaker, s.liquidator, s.exchange)
    s.exchange.setPrice(s.weth, 2_000 * 10**18, sender=s.deployer)  # below the auction price
    with ape.reverts(s.exchange.InsufficientOutput):
        swapper.take(first, 10 * ETH, TOP, sender=s.taker)
    assert s.engine.collateralInAuction(s.weth) == s.weth.balanceOf(s.engine) == 10 * ETH
    assert s.liquidator.status(first).tab == 15_750 * USDC


# ~20 s alone: `make test-slow` (and CI) runs it; `make test` stays under 10 minutes
@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    lot=st.integers(min_value=1, max_value=1_000 * ETH),
    debt=st.integers(min_value=0, max_value=2_000_000 * USDC),
    penalty=st.integers(min_value=0, max_value=100_000 * USDC),
    steps=st.integers(min_value=0, max_value=TAIL // STEP_SECONDS - 1),
    fraction=st.integers(min_value=1, max_value=1_000),
)
def test_take_matches_reference(system, chain, lot, debt, penalty, steps, fraction):
    s = system
    if debt + penalty == 0:
        return
    with chain.isolate():
        _, first = s.start([s.weth], [lot], debt, penalty)
        taker = s.fund_taker(3_000_000 * USDC)
        max_amount = max(lot * fraction // 1_000, 1)
        elapsed = steps * STEP_SECONDS + 1
        price, exp = _expected_or_none(s, first, elapsed, max_amount)
        if exp is None:
            with ape.reverts(s.liquidator.DustRemainder):
                _take_at(s, chain, first, elapsed, max_amount)
            return
        tx = _take_at(s, chain, first, elapsed, max_amount, max_price=price)
        assert s.weth.balanceOf(taker) == exp.slice + exp.dust
        assert s.quote.balanceOf(taker) == 3_000_000 * USDC - exp.owe
        assert settled(tx, s.engine) == (exp.debt_repaid, exp.penalty_paid)
        a = s.liquidator.status(first)
        if exp.tab_left == 0 or exp.lot_left == 0:
            assert not a.active
            returned = exp.lot_left if exp.tab_left == 0 else 0
            assert ends(tx, s.engine) == [(7, s.weth.address, returned)]
            written = [] if exp.tab_left == 0 or exp.debt_left == 0 else [exp.debt_left]
            assert [b[0] for b in bad_debt(tx, s.engine)] == written
        else:
            assert (a.lot, a.tab, a.debt) == (exp.lot_left, exp.tab_left, exp.debt_left)
        # seized = taken + (returned + still in auction, both in the engine)
        held = s.engine.collateralInAuction(s.weth)
        assert held == (0 if exp.tab_left == 0 or exp.lot_left == 0 else exp.lot_left)
        assert exp.slice + exp.dust + s.weth.balanceOf(s.engine) == lot


def _expected_or_none(s, first, elapsed, max_amount):
    try:
        return _expected(s, first, elapsed, max_amount)
    except DustRemainder:
        return 0, None


def test_rejects(system, chain):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    taker = s.fund_taker(20_000 * USDC)
    with ape.reverts(s.liquidator.PriceAboveMax):
        _take_at(s, chain, first, 1, ETH, max_price=TOP - 1)
    with ape.reverts(s.liquidator.AuctionNotActive):
        s.liquidator.take(first + 99, ETH, TOP, taker, b"", sender=taker)
    with ape.reverts(s.liquidator.ZeroAmount):
        s.liquidator.take(first, 0, TOP, taker, b"", sender=taker)
    with ape.reverts(s.liquidator.ZeroAddress):
        s.liquidator.take(first, ETH, TOP, ape.utils.ZERO_ADDRESS, b"", sender=taker)
    _take_at(s, chain, first, 5, 10 * ETH, max_price=TOP)  # exact max price is accepted
    with ape.reverts(s.liquidator.AuctionNotActive):
        s.liquidator.take(first, ETH, TOP, taker, b"", sender=taker)
    _, second = s.start([s.weth], [ETH], 1_000 * USDC, 0)
    assert second % 2**24 == first % 2**24  # the finished auction's slot, under a new id
    with ape.reverts(s.liquidator.AuctionNotActive):
        s.liquidator.take(first, ETH, TOP, taker, b"", sender=taker)
    with ape.reverts(s.liquidator.AuctionNeedsReset):
        _take_at(s, chain, second, TAIL + 1, ETH)


def test_price_zero_is_never_sold(system, chain):
    s = system
    params = collateral_params(s.linear, tail=7_200)  # linear reaches 0 at 3,600 s
    s.liquidator.setCollateral(s.weth, params, sender=s.deployer)
    _, first = s.start([s.weth], [ETH], 1_000 * USDC, 0)
    s.fund_taker(2_000 * USDC)
    chain.pending_timestamp = s.liquidator.status(first).startTime + 3_600
    chain.mine()
    assert s.liquidator.status(first).price == 0 and s.liquidator.status(first).needsReset
    with ape.reverts(s.liquidator.AuctionNeedsReset):
        _take_at(s, chain, first, 3_601, ETH, max_price=0)


def test_an_auction_started_at_a_zero_price_sells_nothing(system, chain):
    """An engine that passed a zero oracle price: the curve stays at zero without ever needing a
    reset before `tail`, and the zero-price guard refuses every take."""
    s = system
    s.weth.mint(s.engine, ETH, sender=s.deployer)
    s.engine.startPriced(7, [s.weth], [ETH], [0], 1_000 * USDC, 0, s.keeper, sender=s.deployer)
    first = s.liquidator.activeAuctionIds()[-1]
    status = s.liquidator.status(first)
    assert status.startPrice == 0 and status.price == 0 and not status.needsReset
    s.fund_taker(2_000 * USDC)
    with ape.reverts(s.liquidator.ZeroPrice):
        _take_at(s, chain, first, 60, ETH)
    assert s.weth.balanceOf(s.taker) == 0


def test_stopped_levels_and_takes(system, chain):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    s.fund_taker(20_000 * USDC)
    s.liquidator.setStopped(3, sender=s.deployer)
    with ape.reverts(s.liquidator.AuctionsStopped):
        _take_at(s, chain, first, 1, ETH)
    s.liquidator.setStopped(2, sender=s.deployer)
    _take_at(s, chain, first, 2, ETH)
    assert s.liquidator.status(first).lot == 9 * ETH


def test_preview_take_matches_the_take(system, chain):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    taker = s.fund_taker(20_000 * USDC)
    t0 = s.liquidator.status(first).startTime
    chain.pending_timestamp = t0 + STEP_SECONDS + 10
    chain.mine()
    price, exp = _expected(s, first, STEP_SECONDS + 10, 3 * ETH)
    assert s.liquidator.previewTake(first, 3 * ETH) == (price, exp.slice, exp.owe)
    tx = _take_at(s, chain, first, STEP_SECONDS + 11, 3 * ETH)  # same step, same price
    [event] = tx.events.filter(s.liquidator.Take)
    assert (event.price, event.slice, event.owe) == (price, exp.slice, exp.owe)
    assert s.quote.balanceOf(taker) == 20_000 * USDC - exp.owe
    with ape.reverts(s.liquidator.AuctionNotActive):
        s.liquidator.previewTake(first + 1, ETH)
    with ape.reverts(s.liquidator.ZeroAmount):
        s.liquidator.previewTake(first, 0)


def test_a_take_that_leaves_dust_ends_the_auction(system, chain):
    """Taking all but 1 wei of a 1 ETH lot with 750 of tab left: the 1 wei (worth 0 < chost)
    goes with the slice, the auction ends at once and its remaining debt is bad debt."""
    s = system
    _, first = s.start([s.weth], [ETH], 3_000 * USDC, 150 * USDC)
    taker = s.fund_taker(5_000 * USDC)
    price, exp = _expected(s, first, 1, ETH - 1)
    assert exp.dust == 1 and exp.lot_left == 0 and exp.tab_left == 750 * USDC
    tx = _take_at(s, chain, first, 1, ETH - 1)
    [event] = tx.events.filter(s.liquidator.Take)
    assert (event.slice, event.lotLeft, event.tabLeft) == (ETH - 1, 0, 750 * USDC)
    [dust] = tx.events.filter(s.liquidator.DustLotCleared)
    assert (dust.id, dust.receiver, dust.lot) == (first, taker.address, 1)
    assert s.weth.balanceOf(taker) == ETH
    assert bad_debt(tx, s.engine) == [(exp.debt_left, exp.debt_left, 0)]
    assert ends(tx, s.engine) == [(7, s.weth.address, 0)]
    assert not s.liquidator.status(first).active
    assert s.liquidator.globals().dirt == 0 == s.liquidator.collaterals(s.weth).dirt
    assert price == TOP


def test_a_lot_left_worth_chost_is_not_dust(system, chain):
    s = system
    _, first = s.start([s.weth], [ETH], 3_000 * USDC, 150 * USDC)
    s.fund_taker(5_000 * USDC)
    keep = -(-CHOST * SCALE_WETH // TOP)  # worth exactly chost at the price, rounded up
    _, exp = _expected(s, first, 1, ETH - keep)
    assert exp.dust == 0 and exp.lot_left == keep
    tx = _take_at(s, chain, first, 1, ETH - keep)
    assert ends(tx, s.engine) == [] and s.liquidator.status(first).lot == keep
