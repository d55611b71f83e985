"""Liquidations while auction starts are stopped queue their lots; the keeper starts every
queued lot once starts resume (a `startQueued` per lot that can start, none while none can)."""

from __future__ import annotations

from keeper_support import crashed, drive

from solvent.keeper.scenario import DEPLOYER, logs, mine_block


def test_keeper_starts_queued_lots_when_room_exists(node, template):
    w, keeper, breached, update_block = crashed(node, template, n_accounts=20)
    w.send([w.tx(DEPLOYER, "liquidator", "setStopped", 1)])  # breaker: no new auctions
    drive(w, keeper, 3)
    queued = logs(w, "liquidator", "LotQueued", update_block)
    assert queued and not logs(w, "liquidator", "AuctionStarted", update_block)
    assert len(logs(w, "engine", "Liquidated", update_block)) == len(breached)  # closed anyway
    waiting = set(w.call("liquidator", "queuedLotIds")[0])
    assert waiting == {e["queueId"] for e in queued}
    report = keeper.step()  # nothing can start: no transaction for the queue
    assert not any(key[0] == "start_queued" for key in keeper.pending)

    w.send([w.tx(DEPLOYER, "liquidator", "setStopped", 0)])
    mine_block(node)
    keeper.step()
    assert {key[1] for key in keeper.pending if key[0] == "start_queued"} == waiting
    drive(w, keeper, 2)
    assert not w.call("liquidator", "queuedLotIds")[0]
    started = {e["queueId"] for e in logs(w, "liquidator", "LotDequeued", update_block)}
    assert started == waiting
    assert report.block > update_block
