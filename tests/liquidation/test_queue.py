"""The hand-off never refuses: lots that do not fit the caps (or arrive while starts are stopped,
or for a collateral the liquidator does not know) wait in a queue and start as room frees, whole
or for the part that fits (Maker's dog.bark `room` rule); the engine hears of one end per lot."""

from __future__ import annotations

from typing import Any

import ape
from liquidation_support import (
    BUF,
    CHIP,
    CHOST,
    ETH,
    SCALE_WETH,
    TIP,
    USDC,
    WAD,
    WETH_PRICE,
    bad_debt,
    collateral_params,
    ends,
    start_price,
)

from solvent.model.auction import NO_PIECE, QueuedLot, piece, room

MAX = 2**256 - 1


def _hand_off(s: Any, tokens: list[Any], lots: list[int], debt: int, penalty: int, account=7):
    """Plays the engine's liquidation; never reverts for caps, breaker or configuration."""
    for token, lot in zip(tokens, lots, strict=True):
        token.mint(s.engine, lot, sender=s.deployer)
    return s.engine.liquidate(account, tokens, lots, debt, penalty, s.keeper, sender=s.deployer)


def _queued(s: Any, tx: Any) -> list[tuple[int, int, int, int]]:
    return [(e.queueId, e.lot, e.tab, e.debt) for e in tx.events.filter(s.liquidator.LotQueued)]


def _started(s: Any, tx: Any) -> list[Any]:
    return list(tx.events.filter(s.liquidator.AuctionStarted))


def _take_all(s: Any, chain: Any, auction_id: int) -> Any:
    taker = s.fund_taker(10_000_000 * USDC)
    chain.pending_timestamp = s.liquidator.status(auction_id).startTime + 1
    return s.liquidator.take(auction_id, MAX, MAX, taker, b"", sender=taker)


def _record(s: Any, queue_id: int) -> QueuedLot:
    r = s.liquidator.queuedLots(queue_id)
    return QueuedLot(r.lot, r.tab, r.debt, r.pieces, r.leftover)


def test_stopped_starts_queue_the_lot_and_pay_the_keeper(system, chain):
    s = system
    s.liquidator.setStopped(1, sender=s.deployer)
    before = s.quote.balanceOf(s.keeper)
    tx = _hand_off(s, [s.weth], [10 * ETH], 1_000 * USDC, 50 * USDC)
    assert _started(s, tx) == []
    [(queue_id, lot, tab, debt)] = _queued(s, tx)
    assert (lot, tab, debt) == (10 * ETH, 1_050 * USDC, 1_000 * USDC)
    reward = TIP + CHIP * 1_050 * USDC // WAD
    [paid] = tx.events.filter(s.liquidator.KeeperRewarded)
    assert (paid.firstAuctionId, paid.requested, paid.paid) == (0, reward, reward)
    assert s.quote.balanceOf(s.keeper) - before == reward
    assert s.liquidator.queuedLotIds() == [queue_id] and s.liquidator.waitingLots() == 1
    assert s.liquidator.globals().dirt == 0  # nothing runs: the caps count running tabs only
    with ape.reverts(s.liquidator.AuctionsStopped):
        s.liquidator.startQueued(queue_id, sender=s.taker)

    s.liquidator.setStopped(0, sender=s.deployer)
    s.oracle.setPrice(s.weth, 1_900 * WAD, sender=s.deployer)
    tx = s.liquidator.startQueued(queue_id, sender=s.taker)  # anyone may start it
    [started] = _started(s, tx)
    assert started.startPrice == start_price(1_900 * WAD, BUF)  # the oracle now, not at hand-off
    assert (started.lot, started.tab, started.debt) == (10 * ETH, 1_050 * USDC, 1_000 * USDC)
    [dq] = tx.events.filter(s.liquidator.LotDequeued)
    assert (dq.queueId, dq.auctionId, dq.lotLeft, dq.tabLeft) == (queue_id, started.id, 0, 0)
    assert s.liquidator.queuedLotIds() == [] and s.liquidator.waitingLots() == 0
    assert s.liquidator.globals().dirt == 1_050 * USDC
    with ape.reverts(s.liquidator.QueuedLotNotFound):
        s.liquidator.startQueued(queue_id, sender=s.taker)

    tx = _take_all(s, chain, started.id)
    slice_ = 1_050 * USDC * SCALE_WETH // started.startPrice
    assert ends(tx, s.engine) == [(7, s.weth.address, 10 * ETH - slice_)]
    assert _record(s, queue_id) == QueuedLot(0, 0, 0, 0, 0)


def test_unknown_queue_id_is_refused(system):
    s = system
    for queue_id in (0, 1, 77):
        with ape.reverts(s.liquidator.QueuedLotNotFound):
            s.liquidator.startQueued(queue_id, sender=s.taker)


def test_unconfigured_collateral_waits_until_configured(system, project):
    s = system
    other = s.deployer.deploy(project.MockERC20, "Other", "OTH", 18)
    s.oracle.setPrice(other, WETH_PRICE, sender=s.deployer)
    lots = [10 * ETH, 10 * ETH]  # equal values: debt and penalty split in halves
    tx = _hand_off(s, [s.weth, other], lots, 2_000 * USDC, 100 * USDC)
    [started] = _started(s, tx)
    assert (started.token, started.tab, started.debt) == (
        s.weth.address,
        1_050 * USDC,
        1_000 * USDC,
    )
    [(queue_id, lot, tab, debt)] = _queued(s, tx)
    assert (lot, tab, debt) == (10 * ETH, 1_050 * USDC, 1_000 * USDC)
    with ape.reverts(s.liquidator.CollateralNotConfigured):
        s.liquidator.startQueued(queue_id, sender=s.taker)
    s.liquidator.setCollateral(other, collateral_params(s.stairstep), sender=s.deployer)
    tx = s.liquidator.startQueued(queue_id, sender=s.taker)
    [started] = _started(s, tx)
    assert (started.token, started.lot, started.tab) == (other.address, 10 * ETH, 1_050 * USDC)


def test_global_cap_starts_the_part_that_fits_and_the_rest_as_room_frees(system, chain):
    s = system
    s.liquidator.setGlobalHole(1_000 * USDC, sender=s.deployer)
    lot, debt, tab = 10 * ETH, 2_000 * USDC, 2_100 * USDC
    tx = _hand_off(s, [s.weth], [lot], debt, tab - debt)
    [(queue_id, *_)] = _queued(s, tx)
    model = QueuedLot(lot, tab, debt)
    first = piece(lot, tab, debt, room(1_000 * USDC, 0, 10**30, 0), CHOST)
    assert first.tab == 1_000 * USDC and first.lot == lot * 1_000 // 2_100
    [started] = _started(s, tx)
    assert (started.lot, started.tab, started.debt) == (first.lot, first.tab, first.debt)
    model.start(first)
    assert _record(s, queue_id) == model
    assert s.liquidator.globals().dirt == 1_000 * USDC
    with ape.reverts(s.liquidator.NoRoom):  # the cap is full
        s.liquidator.startQueued(queue_id, sender=s.taker)

    # The piece sells: its tab is paid, its leftover is kept for the lot's final settlement.
    tx = _take_all(s, chain, started.id)
    assert ends(tx, s.engine) == []  # the engine hears of one end per handed lot
    leftover = first.lot - first.tab * SCALE_WETH // started.startPrice
    assert model.end_piece(leftover) == (False, 0)
    assert _record(s, queue_id) == model

    # Room again: the next piece; 1,100 waits, so 1,000 starts and 100 (= chost) is left.
    tx = s.liquidator.startQueued(queue_id, sender=s.taker)
    second = piece(model.lot, model.tab, model.debt, 1_000 * USDC, CHOST)
    [started] = _started(s, tx)
    assert (started.lot, started.tab, started.debt) == (second.lot, second.tab, second.debt)
    model.start(second)
    assert model.tab == CHOST and _record(s, queue_id) == model
    tx = _take_all(s, chain, started.id)
    assert model.end_piece(second.lot - second.tab * SCALE_WETH // started.startPrice) == (False, 0)

    tx = s.liquidator.startQueued(queue_id, sender=s.taker)
    [started] = _started(s, tx)
    assert (started.lot, started.tab) == (model.lot, CHOST)  # the rest, whole
    model.start(piece(model.lot, model.tab, model.debt, 1_000 * USDC, CHOST))
    tx = _take_all(s, chain, started.id)
    last_left = started.lot - CHOST * SCALE_WETH // started.startPrice
    ended, returned = model.end_piece(last_left)
    assert ended and ends(tx, s.engine) == [(7, s.weth.address, returned)]
    assert s.weth.balanceOf(s.engine) == returned  # every leftover is back in the engine
    assert _record(s, queue_id) == QueuedLot(0, 0, 0, 0, 0)


def test_collateral_cap_leaves_at_least_chost_waiting(system):
    s = system
    s.liquidator.setCollateral(
        s.weth, collateral_params(s.stairstep, hole=1_000 * USDC), sender=s.deployer
    )
    tx = _hand_off(s, [s.weth], [ETH], 1_000 * USDC, 50 * USDC)
    # room 1,000 would leave 50 < chost waiting: the piece is cut to tab - chost.
    expected = piece(ETH, 1_050 * USDC, 1_000 * USDC, 1_000 * USDC, CHOST)
    assert expected.tab == 1_050 * USDC - CHOST
    [started] = _started(s, tx)
    assert (started.lot, started.tab, started.debt) == (expected.lot, expected.tab, expected.debt)
    [(queue_id, *_)] = _queued(s, tx)
    assert s.liquidator.queuedLots(queue_id).tab == CHOST

    # 50 of room is below chost: a second account's lot waits whole, nothing starts.
    tx = _hand_off(s, [s.weth], [ETH], 400 * USDC, 20 * USDC, account=8)
    assert piece(ETH, 420 * USDC, 400 * USDC, 50 * USDC, CHOST) == NO_PIECE
    assert _started(s, tx) == [] and len(_queued(s, tx)) == 1
    with ape.reverts(s.liquidator.NoRoom):
        s.liquidator.startQueued(queue_id, sender=s.taker)
    assert len(s.liquidator.queuedLotIds()) == 2


def test_a_piece_that_runs_out_books_its_bad_debt_without_ending_the_lot(system, chain):
    s = system
    s.liquidator.setGlobalHole(1_000 * USDC, sender=s.deployer)
    tx = _hand_off(s, [s.weth], [3 * ETH // 10], 2_000 * USDC, 100 * USDC)  # $720 for $2,100
    [started] = _started(s, tx)
    [(queue_id, *_)] = _queued(s, tx)
    taker = s.fund_taker(10_000 * USDC)
    chain.pending_timestamp = s.liquidator.status(started.id).startTime + 1
    tx = s.liquidator.take(started.id, MAX, MAX, taker, b"", sender=taker)
    [take] = tx.events.filter(s.liquidator.Take)
    assert take.lotLeft == 0 and take.tabLeft > 0
    assert [b[0] for b in bad_debt(tx, s.engine)] == [started.debt - min(take.owe, started.debt)]
    assert ends(tx, s.engine) == []  # part of the lot still waits
    assert s.liquidator.queuedLots(queue_id).pieces == 0
