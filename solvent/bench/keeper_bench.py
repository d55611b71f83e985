"""Keeper benchmark (not a timed test): (a) the wall time of a health scan of `n_scan` accounts
through the extension's batch views in batched eth_calls (target < 0.5 s for 10,000), and (b) the
reaction latency in blocks when `n_breach` accounts breach at one oracle update (target <= 1 block
after the update).

It runs on an Anvil of our own, loaded with a deployment made on ape's node, without step tracing
and with a block gas limit of `gas_limit` (5e9 by default: 2,000 liquidations need ~1e9 gas, far
above a real chain's 30-45M; on a real network the same batch spreads over several blocks, which
docs/keeper.md discusses). Call `run(project, chain, deployer)` inside an ape session (`ape run`
or a test); it returns a dict of measurements.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from solvent.harness.nodes import crowd, snapshot_deployment, start_from
from solvent.harness.population import open_population, weth_longs
from solvent.harness.world import World

BENCH_GAS_LIMIT = 5_000_000_000
IDLE_BLOCKS = 20  # quiet blocks after the crash has settled: the idle cost per block
REAL_GAS_LIMIT = 30_000_000  # an L1 block: about 100 liquidations
THROUGHPUT_LEVERAGE = (1.4, 3.2)  # from barely breached to bankrupt as the fall goes on
CRASH = {"WETH": 1_300, "WBTC": 39_000}  # -35% from (2,000, 60,000)
SLIDE_PER_BLOCK = 0.98  # after the gap, prices keep falling 2% a block
SAFE_LEVERAGE = (0.2, 0.6)  # stays healthy through a 35% drop
BREACH_LEVERAGE = (1.5, 1.8)  # breaches at a 35% drop without going bankrupt


def run(
    project: Any,
    chain: Any,
    deployer: Any,
    n_scan: int = 10_000,
    n_breach: int = 2_000,
    scan_batch: int = 500,
    repeats: int = 5,
    gas_limit: int = BENCH_GAS_LIMIT,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        template = snapshot_deployment(project, chain, deployer, Path(folder))
        node = start_from(template, Path(folder), gas_limit=gas_limit)
        try:
            return _measure(template, node, n_scan, n_breach, scan_batch, repeats, gas_limit)
        finally:
            node.kill()


def _measure(
    template: Any,
    node: Any,
    n_scan: int,
    n_breach: int,
    scan_batch: int,
    repeats: int,
    gas_limit: int,
) -> dict[str, Any]:
    started = time.monotonic()
    w, _ = crowd(node, template, weth_longs(n_breach, 1, BREACH_LEVERAGE))
    # Breaching accounts first (seeded leverage range), the healthy rest after (past their subs).
    prices = w.oracle_prices()
    safe = weth_longs(n_scan - n_breach, 2, SAFE_LEVERAGE, first_sub=n_breach, fund=False)
    open_population(w, safe, prices)
    setup_s = time.monotonic() - started

    keeper = w.keeper(scan_batch=scan_batch)
    sync_started = time.monotonic()
    keeper.sync()
    sync_s = time.monotonic() - sync_started
    ids = sorted(keeper.accounts)

    health_times = []
    for _ in range(repeats):
        t0 = time.monotonic()
        healths = keeper.health_of(ids)
        health_times.append(time.monotonic() - t0)
    assert len(healths) == len(ids), "a healthOf chunk failed"
    full_times = []
    for _ in range(repeats):
        t0 = time.monotonic()
        keeper.liquidatable_ids()
        full_times.append(time.monotonic() - t0)

    w.mine_block()
    keeper.step()
    w.mine_block()
    keeper.step()
    idle_calls = keeper.rpc.calls
    for _ in range(IDLE_BLOCKS):  # quiet blocks: nothing moves, nothing is due
        w.mine_block()
        keeper.step()
    idle_calls = (keeper.rpc.calls - idle_calls) / IDLE_BLOCKS
    w.set_prices(CRASH)
    busy_calls = keeper.rpc.calls
    breached = w.liquidatable()
    t0 = time.monotonic()
    report = keeper.step()
    react_s = time.monotonic() - t0
    latencies: list[int] = []
    busy_steps = 1
    for _ in range(5):
        w.mine_block()
        latencies += keeper.step().latencies
        busy_steps += 1
        if len(latencies) >= len(breached):
            break
    busy_calls = (keeper.rpc.calls - busy_calls) / busy_steps
    return {
        "accounts": len(ids),
        "scan_batch": scan_batch,
        "health_scan_s": min(health_times),
        "health_scan_median_s": statistics.median(health_times),
        "liquidatable_scan_s": min(full_times),
        "sync_from_logs_s": sync_s,
        "setup_s": setup_s,
        "breached": len(breached),
        "breached_expected": n_breach,
        "liquidations_sent": report.liquidations_sent,
        "step_with_breaches_s": react_s,
        "liquidated": len(latencies),
        "latency_blocks_max": max(latencies, default=None),
        "latency_blocks_mean": statistics.mean(latencies) if latencies else None,
        "anvil_gas_limit": gas_limit,
        # JSON-RPC calls per block (the keeper steps once per new head; between heads it asks
        # only eth_blockNumber, once per poll interval, not counted here).
        "rpc_calls_per_block_idle": idle_calls,
        "rpc_calls_per_block_busy": busy_calls,
    }


def throughput(
    project: Any,
    chain: Any,
    deployer: Any,
    n_breach: int = 2_000,
    gas_limit: int = REAL_GAS_LIMIT,
    max_blocks: int = 200,
) -> dict[str, Any]:
    """`n_breach` accounts breach at one update on a chain whose blocks hold `gas_limit` gas,
    and prices keep sliding 2% a block: blocks until every breached account is liquidated, and
    the bad debt accrued meanwhile (written off plus negative equity still open), for the keeper's
    risk order and for the account-id order, each on a fresh copy of the same chain."""
    with tempfile.TemporaryDirectory() as folder:
        template = snapshot_deployment(project, chain, deployer, Path(folder))
        return {
            "gas_limit": gas_limit,
            "population": n_breach,
            **{
                order: _clear(
                    template, Path(folder) / order, order, n_breach, gas_limit, max_blocks
                )
                for order in ("risk", "account")
            },
        }


def _clear(
    template: Any, folder: Path, order: str, n_breach: int, gas_limit: int, max_blocks: int
) -> dict[str, Any]:
    folder.mkdir()
    node = start_from(template, folder, gas_limit=gas_limit)
    try:
        w, _ = crowd(node, template, weth_longs(n_breach, 3, THROUGHPUT_LEVERAGE))
        keeper = w.keeper(liquidation_order=order)
        keeper.sync()
        w.mine_block()
        keeper.step()
        w.mine_block()
        keeper.step()
        prices = dict(CRASH)
        w.set_prices(prices)
        update_block = w.block()[0]
        breached = set(w.liquidatable())
        blocks = 0
        done: set[int] = set()
        deficit = 0  # negative maintenance equity of each account in the block before its turn
        while blocks < max_blocks:
            keeper.step()
            prices = {k: round(p * SLIDE_PER_BLOCK) for k, p in prices.items()}
            w.post(w.price_txs(prices))  # in the next block, with the keeper's
            mined = w.mine_block()
            blocks += 1
            now = {e["accountId"] for e in w.logs("engine", "Liquidated", update_block)}
            deficit += _deficit_before(w, sorted(now - done), mined)
            done = now
            if breached <= done:
                break
        open_ids = sorted(breached - done)
        return {
            "breached": len(breached),
            "blocks_to_clear": blocks if breached <= done else None,
            "liquidated": len(breached & done),
            # What the collateral could not cover when each account's liquidation landed: the
            # loss the wait let grow (the auctions realize it later as bad debt).
            "deficit_at_liquidation_usd": deficit / 10**18,
            "deficit_still_open_usd": _deficit_before(w, open_ids, mined + 1) / 10**18,
        }
    finally:
        node.kill()


def _deficit_before(w: World, ids: list[int], block: int) -> int:
    """Sum of max(0, -maintenance equity) of `ids` at the end of block `block - 1` (WAD USD)."""
    if not ids:
        return 0
    views = w.admin
    raw = w.rpc.call(
        "eth_call", {"to": views.address, "data": views.encode("healthOf", ids)}, hex(block - 1)
    )
    return sum(max(0, -int(h[0])) for h in views.decode("healthOf", raw)[0])


ORDER_LEVERAGE = (0.5, 1.5)  # accounts with room for a small increase (the commit pre-check)
GWEI = 10**9


def orders(
    project: Any,
    chain: Any,
    deployer: Any,
    n_orders: int = 500,
    gas_limit: int = BENCH_GAS_LIMIT,
) -> dict[str, Any] | None:
    """`n_orders` orders committed in one block (one per account, a tenth of its position off
    or a small increase on alternate accounts), then the round that determines them is
    published: blocks from that round to each settlement (target: 1), the keeper's gas per
    settlement, and the settlement fee against that gas at the keeper's fee (does the fee cover
    the gas, and up to which gas price)."""
    with tempfile.TemporaryDirectory() as folder:
        template = snapshot_deployment(project, chain, deployer, Path(folder))
        if "order_book" not in template.record["addresses"]:
            return None  # a deployment from before the order book: nothing to settle
        node = start_from(template, Path(folder), gas_limit=gas_limit)
        try:
            return _settle_orders(template, node, n_orders)
        finally:
            node.kill()


def _settle_orders(template: Any, node: Any, n_orders: int) -> dict[str, Any]:
    from solvent.harness.trading import TradeRequest, commit_orders, publish_rounds

    w, traders = crowd(node, template, weth_longs(n_orders, 4, ORDER_LEVERAGE))
    keeper = w.keeper()
    keeper.sync()
    w.mine_block()
    keeper.step()
    w.mine_block()
    keeper.step()
    markets = w.market_ids
    held = [(t, m) for t in traders for m in list(t.positions)[:1]]
    sizes = w.read_many([(w.admin, "positions", (t.account_id, markets[m])) for t, m in held])
    requests = [
        TradeRequest(t.owner, t.account_id, m, (1 if n % 2 else -1) * (abs(int(s[0])) // 10))
        for n, ((t, m), s) in enumerate(zip(held, sizes, strict=True))
    ]
    automine = bool(w.rpc.call("anvil_getAutomine"))
    assert not automine, "the benchmark's node mines only when told"
    _, committed, targets = commit_orders(w, requests)
    commit_blocks = {int(o.receipt["blockNumber"], 16) for o in committed if o.ok}
    keeper.step()
    published = publish_rounds(w, sorted({m for _, m in held}), max(targets.values()))
    t0 = time.monotonic()
    report = keeper.step()
    step_s = time.monotonic() - t0
    latencies: list[int] = []
    for _ in range(5):
        w.mine_block()
        latencies += keeper.step().settle_latencies
        if len(latencies) >= len(targets):
            break
    settled = w.logs("order_book", "OrderSettled", published)
    cancelled = [
        e for e in w.logs("order_book", "OrderCancelled", published) if e["orderId"] in targets
    ]
    per_tx = orders_per_settle_transaction(w, published)
    hashes = sorted(per_tx)
    receipts = w.sender.receipts(hashes)
    # Gas per order: a batch's gas shared among the orders it ended (settled or cancelled).
    gas = [int(r["gasUsed"], 16) / per_tx[h] for h, r in zip(hashes, receipts, strict=True)]
    gas_price = [int(r["effectiveGasPrice"], 16) for r in receipts]
    fee_quote = int(w.read("order_book", "marketOrders", markets["WETH"])[3])
    eth_usd = w.oracle_prices()["WETH"]
    mean_gas = statistics.mean(gas) if gas else 0
    cost_usd = [g * p / 10**18 * eth_usd for g, p in zip(gas, gas_price, strict=True)]
    fee_usd = fee_quote / 10**6
    return {
        "orders": len(requests),
        "committed": len(targets),
        "commit_blocks": len(commit_blocks),
        "settlements_sent_in_one_step": report.settlements_sent,
        "step_with_settlements_s": step_s,
        "settled": len(settled),
        "cancelled_at_settlement": len(cancelled),
        "latency_blocks_max": max(latencies, default=None),
        "latency_blocks_mean": statistics.mean(latencies) if latencies else None,
        "settle_transactions": len(hashes),
        "settle_gas_mean": mean_gas,
        "settle_gas_max": round(max(gas)) if gas else None,
        "effective_gas_price_gwei": statistics.mean(gas_price) / GWEI if gas_price else None,
        "eth_usd": eth_usd,
        "settlement_fee_usd": fee_usd,
        "settle_cost_usd_mean": statistics.mean(cost_usd) if cost_usd else None,
        "fee_covers_gas": bool(cost_usd) and max(cost_usd) <= fee_usd,
        "settle_cost_usd_at_10_gwei": mean_gas * 10 * GWEI / 10**18 * eth_usd,
        "settle_cost_usd_at_30_gwei": mean_gas * 30 * GWEI / 10**18 * eth_usd,
        # the highest gas price at which the fee still pays for a mean settlement
        "break_even_gas_price_gwei": fee_usd / (mean_gas * eth_usd) * 10**9 if mean_gas else None,
    }


def orders_per_settle_transaction(w: World, from_block: int) -> dict[str, int]:
    """Transactions that settled orders since `from_block`, with the orders each ended (its
    OrderSettled and OrderCancelled events: a batch ends several)."""
    book = w.c("order_book")
    raw = w.rpc.call(
        "eth_getLogs",
        {
            "address": book.address,
            "fromBlock": hex(from_block),
            "toBlock": "latest",
            "topics": [[book.topic("OrderSettled"), book.topic("OrderCancelled")]],
        },
    )
    return dict(Counter(item["transactionHash"] for item in raw))
