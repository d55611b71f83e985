"""Liquidations while auction starts are stopped queue their lots; the keeper starts every
queued lot once starts resume (a `startQueued` per lot that can start, none while none can)."""

from __future__ import annotations

from keeper_support import crashed, drive

from solvent.harness.world import OPERATOR


def test_keeper_starts_queued_lots_when_room_exists(node, template):
    w, keeper, breached, update_block = crashed(node, template, n_accounts=20)
    w.send_ok([w.tx(OPERATOR, "liquidator", "setStopped", 1)])  # breaker: no new auctions
    drive(w, keeper, 3)
    queued = w.logs("liquidator", "LotQueued", update_block)
    assert queued and not w.logs("liquidator", "AuctionStarted", update_block)
    assert len(w.logs("engine", "Liquidated", update_block)) == len(breached)  # closed anyway
    waiting = set(w.read("liquidator", "queuedLotIds"))
    assert waiting == {e["queueId"] for e in queued}
    report = keeper.step()  # nothing can start: no transaction for the queue
    assert not any(key[0] == "start_queued" for key in keeper.pending)

    w.govern([("liquidator", "setStopped", (0,))])  # resuming is the timelock's
    w.mine_block()
    keeper.step()
    assert {key[1] for key in keeper.pending if key[0] == "start_queued"} == waiting
    drive(w, keeper, 2)
    assert not w.read("liquidator", "queuedLotIds")
    started = {e["queueId"] for e in w.logs("liquidator", "LotDequeued", update_block)}
    assert started == waiting
    assert report.block > update_block
