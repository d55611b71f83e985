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
from pathlib import Path
from typing import Any

from solvent.keeper.scenario import (
    liquidatable,
    mine_block,
    populate,
    set_prices,
    snapshot_deployment,
    start_from,
    world,
)

BENCH_GAS_LIMIT = 5_000_000_000
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
    w = world(node, template)
    # Breaching accounts first (seeded leverage range), the healthy rest after.
    populate(w, n_breach, leverage=BREACH_LEVERAGE, seed=1)
    breach_ids = list(w.accounts)
    populate(
        w, n_scan - n_breach, leverage=SAFE_LEVERAGE, seed=2, first_sub=n_breach
    )  # > subs used
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

    mine_block(node)
    keeper.step()
    mine_block(node)
    keeper.step()
    set_prices(w, eth=1_300, btc=39_000)
    breached = liquidatable(w)
    t0 = time.monotonic()
    report = keeper.step()
    react_s = time.monotonic() - t0
    latencies: list[int] = []
    for _ in range(5):
        mine_block(node)
        latencies += keeper.step().latencies
        if len(latencies) >= len(breached):
            break
    return {
        "accounts": len(ids),
        "scan_batch": scan_batch,
        "health_scan_s": min(health_times),
        "health_scan_median_s": statistics.median(health_times),
        "liquidatable_scan_s": min(full_times),
        "sync_from_logs_s": sync_s,
        "setup_s": setup_s,
        "breached": len(breached),
        "breached_expected": len(breach_ids),
        "liquidations_sent": report.liquidations_sent,
        "step_with_breaches_s": react_s,
        "liquidated": len(latencies),
        "latency_blocks_max": max(latencies, default=None),
        "latency_blocks_mean": statistics.mean(latencies) if latencies else None,
        "anvil_gas_limit": gas_limit,
    }
