"""Keeper metrics and structured logs."""

import io
import json
import logging

from solvent.keeper import logs
from solvent.keeper.metrics import KeeperMetrics


def test_metrics_are_exposed_with_their_labels():
    metrics = KeeperMetrics()
    metrics.accounts_tracked.set(200)
    metrics.liquidations.labels(outcome="mined").inc(3)
    metrics.liquidations.labels(outcome="competitor").inc()
    metrics.reaction_latency_blocks.observe(1)
    text = metrics.exposition()
    assert "solvent_keeper_accounts_tracked 200.0" in text
    assert 'solvent_keeper_liquidations_total{outcome="mined"} 3.0' in text
    assert 'solvent_keeper_liquidations_total{outcome="competitor"} 1.0' in text
    assert 'solvent_keeper_reaction_latency_blocks_bucket{le="1.0"} 1.0' in text
    assert 'solvent_keeper_reaction_latency_blocks_bucket{le="0.0"} 0.0' in text


def test_two_keepers_in_one_process_have_separate_metrics():
    first, second = KeeperMetrics(), KeeperMetrics()
    first.pokes.inc()
    assert "solvent_keeper_pokes_total 1.0" in first.exposition()
    assert "solvent_keeper_pokes_total 0.0" in second.exposition()


def test_log_lines_are_json_with_fields():
    stream = io.StringIO()
    logs.configure(logging.INFO, stream)
    logs.log("liquidated", account=7, block=12)
    logs.log("ignored debug line", logging.DEBUG)
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["event"] == "liquidated"
    assert (record["account"], record["block"], record["level"]) == (7, 12, "info")
