"""200 accounts, a 35% crash of ETH and BTC: the keeper liquidates every liquidatable account
within 2 blocks of the oracle update, takes every auction, and the bad debt is exactly what the
insurance fund paid plus what the LP pool socialized."""

from __future__ import annotations

from solvent.harness.nodes import crowd
from solvent.harness.population import weth_longs
from solvent.harness.world import KEEPER


def test_crash_is_liquidated_within_two_blocks_and_auctions_settle(node, template):
    w, traders = crowd(node, template, weth_longs(200))
    ids = [t.account_id for t in traders]
    keeper = w.keeper()
    keeper.sync()
    assert keeper.accounts == set(ids)
    w.mine_block()
    keeper.step()  # approval and pokes
    w.mine_block()
    first = keeper.step()
    assert first.liquidations_sent == 0 and w.liquidatable() == []
    fund_before = w.read("quote", "balanceOf", w.c("fund").address)

    w.set_prices({"WETH": 1_300, "WBTC": 39_000})  # -35%, mined in this block
    update_block = w.block()[0]
    breached = w.liquidatable()
    assert len(breached) > 20
    report = keeper.step()
    assert report.liquidations_sent == len(breached)
    # Most at risk first: nonce (inclusion) order follows the health read, lowest first.
    sent = sorted(
        (tx.nonce, key[1]) for key, tx in keeper.pending.items() if key[0] == "liquidation"
    )
    healths = [keeper.last_health[account] for _, account in sent]
    assert healths == sorted(healths) and healths[0] < healths[-1]
    assert report.checked < len(ids) + 1
    w.mine_block()
    settled = keeper.step()
    assert settled.competitor == 0 and settled.liquidations_sent == 0
    assert settled.latencies == [1] * len(breached)  # all in the block after the update
    exposition = keeper.metrics.exposition()
    assert (
        f'solvent_keeper_liquidations_total{{outcome="mined"}} {float(len(breached))}' in exposition
    )
    assert f"solvent_keeper_reaction_latency_blocks_count {float(len(breached))}" in exposition
    assert "solvent_keeper_accounts_tracked 200.0" in exposition
    liquidated = w.logs("engine", "Liquidated", update_block)
    assert sorted(e["accountId"] for e in liquidated) == sorted(breached)
    assert all(e["keeper"] == w.sender.signers[KEEPER].address for e in liquidated)
    assert w.liquidatable() == []

    started = w.logs("liquidator", "AuctionStarted", update_block)
    assert started
    for _ in range(60):
        w.mine_block(60)
        keeper.step()
        if w.read("liquidator", "activeAuctionCount") == 0:
            break
    assert w.read("liquidator", "activeAuctionCount") == 0
    started = w.logs("liquidator", "AuctionStarted", update_block)  # later rounds included
    ended = w.logs("liquidator", "AuctionEnded", update_block)
    assert {e["id"] for e in ended} == {e["id"] for e in started}
    takes = w.logs("liquidator", "Take", update_block)
    assert all(t["taker"] == w.sender.signers[KEEPER].address for t in takes)
    assert takes
    token_of = {e["id"]: e["token"] for e in started}
    for take in takes:  # the oracle has not moved since the crash
        oracle = w.read("oracle", "price", token_of[take["id"]])
        assert take["price"] * 10_000 <= oracle * (10_000 - keeper.config.take_discount_bps)

    bad = w.logs("engine", "BadDebtWrittenOff", update_block)
    social = w.logs("pool", "LossSocialized", update_block)
    rewarded = w.logs("liquidator", "KeeperRewarded", update_block)
    reset_paid = sum(e["paid"] for e in w.logs("liquidator", "AuctionReset", update_block))
    bad_debt = sum(e["debt"] for e in bad)
    covered = sum(e["coveredByInsurance"] for e in bad)
    socialized = sum(e["socialized"] for e in social)
    assert bad_debt > 0
    assert bad_debt == sum(e["badDebt"] for e in ended)
    assert bad_debt == covered + socialized
    fund_after = w.read("quote", "balanceOf", w.c("fund").address)
    # fees are swept in by the keeper's schedule and by every write-off, before the fund covers
    swept = sum(e["amount"] for e in w.logs("engine", "InsuranceFeesSwept", update_block))
    paid_out = covered + sum(e["paid"] for e in rewarded) + reset_paid
    assert fund_before + swept - fund_after == paid_out
    assert w.read("admin", "ledger")[2] == 0  # nothing left in auction
