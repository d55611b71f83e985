"""Faults of a real network, each asserting that nothing is lost and nothing is done twice."""

from __future__ import annotations

import threading
import time

import pytest
from keeper_support import FlakyProxy, crashed, drive, liquidation_counts, sent_by

from solvent.fastpath import dev_accounts
from solvent.harness.nodes import restart
from solvent.harness.world import COMPETITOR, KEEPER
from solvent.keeper.bot import Keeper, KeeperConfig
from solvent.keeper.signers import LocalKeySigner
from solvent.keeper.transactions import FeePolicy
from solvent.rpc import RpcError, RpcUnavailable

# The operator path under faults (node restarts, outages, RPC errors, nonce gaps, gas spikes): each
# test runs a keeper against a node of its own for many blocks. CI runs them (`make test-slow`);
# the fast suite keeps the keeper's normal path (tests/keeper/test_keeper_crash.py and others).
pytestmark = pytest.mark.slow

GWEI = 10**9


def assert_each_liquidated_once(w, breached, update_block):
    counts = liquidation_counts(w, update_block)
    assert {a: counts.get(a, 0) for a in breached} == {a: 1 for a in breached}
    assert w.liquidatable() == []


def test_anvil_killed_and_restarted_mid_run(node, template):
    w, keeper, breached, update_block = crashed(node, template)
    node.stop()  # persists the state up to the update block
    restarted = restart(node)
    w.node = restarted
    try:
        report = keeper.step()  # the crash is still on chain: liquidations go out
        assert report.liquidations_sent == len(breached)
        restarted.kill()  # crash: the pool and everything after the last dump are gone
        again = restart(node)
        w.node = again
        reports = drive(w, keeper, 3)
        assert sum(r.mined for r in reports) == len(breached)
        assert sum(r.competitor for r in reports) == 0
        assert_each_liquidated_once(w, breached, update_block)
        w.mine_block()
        assert keeper.step().liquidations_sent == 0
    finally:
        w.node.kill()


def test_rpc_errors_and_time_outs_are_retried(node, template):
    proxy = FlakyProxy(node.url, fail_every=4, stall_every=11, stall_s=1.2)
    try:
        w, _, breached, update_block = crashed(node, template)
        config = KeeperConfig(
            rpc_url=proxy.url, record=w.record, abis=w.abis, rpc_retries=6, rpc_backoff_s=0.01
        )
        keeper = Keeper(config, LocalKeySigner(dev_accounts(KEEPER + 1)[KEEPER]))
        keeper.rpc.timeout_s = 1.0
        keeper.sync()
        reports = [keeper.step(), *drive(w, keeper, 2)]
        assert proxy.failures > 5
        assert sum(r.liquidations_sent for r in reports) == len(breached)
        assert_each_liquidated_once(w, breached, update_block)
    finally:
        proxy.close()


def test_a_scan_cut_mid_step_loses_no_breached_account(node, template):
    """The health scan's call fails after every retry in the first step after the crash (the
    head, the prices and the logs were read, then `healthOf` fails): the step is abandoned, and
    the first step after the RPC recovers liquidates every breached account. Before, the re-check
    set was cleared before the scan, so these accounts waited for the next price change or full
    scan (this test then saw 0 of 24 liquidations sent)."""
    proxy = FlakyProxy(node.url)
    try:
        w, _, breached, update_block = crashed(node, template)
        config = KeeperConfig(
            rpc_url=proxy.url, record=w.record, abis=w.abis, rpc_retries=2, rpc_backoff_s=0.01
        )
        keeper = Keeper(config, LocalKeySigner(dev_accounts(KEEPER + 1)[KEEPER]))
        keeper.sync()  # every indexed account is to be read at the first step
        selector = bytes.fromhex(keeper.views.selector("healthOf").removeprefix("0x"))
        proxy.fail_when = selector.hex().encode()
        with pytest.raises(RpcUnavailable):
            keeper.step()
        assert w.liquidatable() == sorted(breached)  # nothing was sent
        proxy.fail_when = None
        report = keeper.step()
        assert report.liquidations_sent == len(breached)
        assert keeper.metrics.breached_pending._value.get() == len(breached)
        w.mine_block()
        keeper.step()
        assert_each_liquidated_once(w, breached, update_block)
        assert keeper.metrics.liquidations.labels("mined")._value.get() == len(breached)
        assert keeper.metrics.breached_pending._value.get() == 0  # read healthy again
    finally:
        proxy.close()


def test_outage_is_waited_out_by_the_run_loop(node, template):
    proxy = FlakyProxy(node.url)
    w, _, breached, update_block = crashed(node, template)
    config = KeeperConfig(
        rpc_url=proxy.url, record=w.record, abis=w.abis, rpc_retries=1, rpc_backoff_s=0.01
    )
    keeper = Keeper(config, LocalKeySigner(dev_accounts(KEEPER + 1)[KEEPER]))
    stop = threading.Event()
    proxy.down = True  # the node is unreachable when the keeper starts
    thread = threading.Thread(target=keeper.run, args=(stop, 0.05))
    thread.start()
    try:
        time.sleep(1.0)
        assert keeper.metrics.rpc_errors._value.get() >= 1
        assert keeper.metrics.step_failures.labels("rpc")._value.get() >= 1
        assert keeper.metrics.last_processed_block._value.get() == 0  # no step has ended
        proxy.down = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and w.liquidatable():
            time.sleep(0.5)
            w.mine_block()
    finally:
        stop.set()
        thread.join(timeout=30)
        proxy.close()
    assert not thread.is_alive()
    assert_each_liquidated_once(w, breached, update_block)
    head = int(w.sender.rpc.call("eth_blockNumber"), 16)
    processed = int(keeper.metrics.last_processed_block._value.get())
    assert head - 1 <= processed <= head
    assert keeper.metrics.last_step_timestamp._value.get() > time.time() - 60
    balance = int(w.sender.rpc.call("eth_getBalance", keeper.me, hex(processed)), 16)
    assert keeper.metrics.signer_balance._value.get() == pytest.approx(balance / 10**18, rel=1e-12)


def test_nonce_gap_from_a_dropped_transaction_is_closed(node, template):
    w, keeper, breached, update_block = crashed(node, template)
    keeper.step()
    first = min(keeper.txm.pending.values(), key=lambda tx: tx.nonce)
    node.call("anvil_dropTransaction", first.hashes[-1])
    w.mine_block()
    assert (
        keeper.step().mined == 0
    )  # nothing after the gap can be mined; the dropped one is re-sent
    reports = drive(w, keeper, 2)
    assert sum(r.mined for r in reports) == len(breached)
    assert_each_liquidated_once(w, breached, update_block)


def test_gas_price_spike_above_the_cap_is_waited_out(node, template):
    cap = 40 * GWEI
    policy = FeePolicy(max_fee_cap=cap, priority_fee=GWEI, stuck_after_blocks=1)
    w, keeper, breached, update_block = crashed(node, template, fee_policy=policy)
    keeper.step()
    for _ in range(3):
        node.call("anvil_setNextBlockBaseFeePerGas", hex(100 * GWEI))
        w.mine_block()
        assert keeper.step().mined == 0
    assert all(tx.fields["maxFeePerGas"] <= cap for tx in keeper.txm.pending.values())
    node.call("anvil_setNextBlockBaseFeePerGas", hex(GWEI))
    reports = drive(w, keeper, 2)
    assert sum(r.mined for r in reports) == len(breached)
    assert_each_liquidated_once(w, breached, update_block)
    receipts = sent_by(w, keeper.me, update_block)
    assert all(int(r["effectiveGasPrice"], 16) <= cap for r in receipts)


def _until_takes_profitable(w, max_blocks=40):
    """Mines a minute per block, keepers idle, until an auction is cheap enough to take."""
    for _ in range(max_blocks):
        w.mine_block(60)
        ids = w.read("liquidator", "activeAuctionIds")
        for i in ids:
            status = w.read("liquidator", "status", i)
            oracle = w.read("oracle", "price", status[3])
            if status[7] * 10_000 <= oracle * 9_800:
                return list(ids)
    raise AssertionError("auction prices never fell below the take threshold")


def test_competing_keeper_wins_the_takes(node, template):
    w, keeper, _, update_block = crashed(node, template)
    keeper.step()
    drive(w, keeper, 1)
    fast = FeePolicy(max_fee_cap=500 * GWEI, priority_fee=20 * GWEI)
    rival = w.keeper(COMPETITOR, fee_policy=fast)
    rival.sync()
    ids = _until_takes_profitable(w)
    ours = keeper.step()
    theirs = rival.step()
    assert ours.takes_sent > 0 and theirs.takes_sent > 0
    w.mine_block()
    settled = keeper.step()
    assert settled.competitor > 0  # the rival's higher tip went first: our takes reverted
    assert keeper.metrics.takes.labels("competitor")._value.get() == settled.competitor
    takes = w.logs("liquidator", "Take", update_block)
    by_auction = {}
    for t in takes:
        by_auction.setdefault(t["id"], []).append(t["taker"])
    rival_address = w.sender.signers[COMPETITOR].address
    assert any(rival_address in takers for takers in by_auction.values())
    assert set(ids) >= set(by_auction)  # nothing taken that was not running


def test_keeper_crash_and_restart_mid_auction_does_not_act_twice(node, template):
    w, keeper, _, update_block = crashed(node, template)
    keeper.step()
    drive(w, keeper, 1)
    _until_takes_profitable(w)
    before = keeper.step()
    assert before.takes_sent > 0
    in_flight = len(keeper.txm.pending)
    del keeper  # crash: the takes are in the pool, the process is gone
    restarted = w.keeper()
    restarted.sync()
    after = restarted.step()
    assert after.takes_sent == 0 and after.liquidations_sent == 0
    assert len(restarted.foreign) == in_flight
    w.mine_block()
    restarted.step()
    receipts = sent_by(w, restarted.me, update_block)
    assert all(int(r["status"], 16) == 1 for r in receipts)  # no duplicate, so no revert
    assert len(w.logs("liquidator", "Take", update_block)) == before.takes_sent
    assert restarted.foreign == {}


def test_a_restarted_node_that_forgot_the_pool_gets_simulated_re_broadcasts(node, template):
    """The node restarts from its saved state without its transaction pool, and by the time the
    keeper re-broadcasts, prices have recovered: every forgotten liquidation is re-simulated,
    found doomed and replaced by a cancellation of its nonce. Nothing is mined as a revert and
    nothing is labelled `competitor`; every action ends in exactly one terminal line."""
    w, keeper, breached, update_block = crashed(node, template)
    assert keeper.step().liquidations_sent == len(breached)  # in the pool, not mined
    node.stop()  # the state is dumped; the pool is not
    restarted = restart(node)
    w.node = restarted
    try:
        w.set_prices({"WETH": 2_000, "WBTC": 60_000})  # recovered: nobody is liquidatable any more
        assert w.liquidatable() == []
        reports = [keeper.step(), *drive(w, keeper, 2)]
        assert sum(r.competitor + r.reverted + r.mined for r in reports) == 0
        assert keeper.metrics.actions_dropped.labels("liquidation")._value.get() == len(breached)
        assert keeper.metrics.liquidations.labels("competitor")._value.get() == 0
        assert not keeper.txm.pending and not keeper.pending  # every nonce was filled
        assert w.logs("engine", "Liquidated", update_block) == []
        receipts = sent_by(w, keeper.me, update_block)
        assert len(receipts) == len(breached)
        assert all(int(r["status"], 16) == 1 and r["to"] == keeper.me.lower() for r in receipts)
    finally:
        restarted.kill()


def test_a_rewound_chain_corrects_the_mined_count(node, template):
    """The liquidations are mined, then the chain is rewound to before them (a reorg): the
    keeper counts them as `rewound` (mined - rewound is what the chain holds), re-syncs, and
    liquidates every breached account again, once."""
    w, keeper, breached, update_block = crashed(node, template)
    snapshot = node.call("evm_snapshot")
    keeper.step()
    w.mine_block()
    keeper.step()
    assert keeper.metrics.liquidations.labels("mined")._value.get() == len(breached)
    node.call("evm_revert", snapshot)
    for _ in range(3):  # the other branch grows past the old head
        w.mine_block()
    reports = [keeper.step(), *drive(w, keeper, 2)]
    assert keeper.metrics.actions_rewound.labels("liquidation")._value.get() == len(breached)
    assert sum(r.liquidations_sent for r in reports) == len(breached)
    assert keeper.metrics.liquidations.labels("mined")._value.get() == 2 * len(breached)
    assert_each_liquidated_once(w, breached, update_block)


def test_an_empty_gas_balance_is_waited_out_and_loses_nothing(node, template):
    """The signer has no gas when the crash comes: the sends are refused (insufficient funds),
    the step fails and is counted, the balance gauge shows 0; once topped up, every breached
    account is liquidated exactly once."""
    w, keeper, breached, update_block = crashed(node, template)
    node.call("anvil_setBalance", keeper.me, "0x0")
    with pytest.raises(RpcError, match=r"(?i)insufficient funds"):
        keeper.step()
    assert keeper.metrics.signer_balance._value.get() == 0
    w.mine_block()
    with pytest.raises(RpcError, match=r"(?i)insufficient funds"):
        keeper.step()  # the re-broadcast is refused again: nothing is lost meanwhile
    assert w.liquidatable() == sorted(breached)
    node.call("anvil_setBalance", keeper.me, hex(10**21))
    reports = [keeper.step(), *drive(w, keeper, 2)]
    assert sum(r.mined for r in reports) >= len(breached)
    assert keeper.metrics.signer_balance._value.get() > 0
    assert_each_liquidated_once(w, breached, update_block)


def test_latency_counts_from_the_update_when_the_keeper_was_late(node, template):
    """The keeper misses five blocks after the crash: its latency counts from the first block it
    had not seen (here the update's block), not from when it noticed (which said 1 block)."""
    w, keeper, breached, update_block = crashed(node, template)
    for _ in range(5):
        w.mine_block()
    assert keeper.step().liquidations_sent == len(breached)
    mined_at = w.mine_block()
    settled = keeper.step()
    assert settled.latencies == [mined_at - update_block] * len(breached) == [6] * len(breached)


def test_the_profitability_gate_holds_liquidations_while_gas_costs_more_than_they_pay(
    node, template
):
    """A fee spike (base fee 2,000 gwei, the keeper's cap 5,000 gwei): each liquidation's
    simulated reward is below its gas at that fee and the ETH price, so nothing is sent and each
    is counted `unprofitable`; the accounts stay breached. When the fee falls back, they go."""
    policy = FeePolicy(max_fee_cap=5_000 * GWEI, priority_fee=GWEI)
    w, keeper, breached, update_block = crashed(node, template, fee_policy=policy)
    node.call("anvil_setNextBlockBaseFeePerGas", hex(2_000 * GWEI))
    w.mine_block()
    held = keeper.step()
    assert held.liquidations_sent == 0 and held.unprofitable == len(breached)
    assert keeper.metrics.actions_unprofitable.labels("liquidation")._value.get() == len(breached)
    assert keeper.breached == set(breached) and w.liquidatable() == sorted(breached)
    node.call("anvil_setNextBlockBaseFeePerGas", hex(GWEI))
    w.mine_block()
    reports = [keeper.step(), *drive(w, keeper, 2)]
    assert sum(r.liquidations_sent for r in reports) == len(breached)
    assert_each_liquidated_once(w, breached, update_block)
