"""Smoke test of the keeper benchmark with a small population (the real run is `make bench`)."""

import pytest

from solvent.bench import keeper_bench

# Minutes of benchmark-sized work: `make test-slow` (CI) rather than every `make test`.
pytestmark = pytest.mark.slow


def test_keeper_bench_runs_and_reports(project, chain, deployer):
    result = keeper_bench.run(project, chain, deployer, n_scan=60, n_breach=12, scan_batch=25)
    assert result["accounts"] == 60
    assert result["breached"] == result["breached_expected"] == 12
    assert result["liquidated"] == 12 and result["latency_blocks_max"] == 1
    assert result["health_scan_s"] > 0 and result["anvil_gas_limit"] == keeper_bench.BENCH_GAS_LIMIT


def test_throughput_bench_clears_every_breach_and_risk_order_accrues_less_bad_debt(
    project, chain, deployer
):
    """A small population at a block gas limit that holds a handful of liquidations: both orders
    clear every breached account, and the keeper's risk order leaves no more bad debt than the
    account-id order (the deepest accounts go first, before the slide takes them further under)."""
    result = keeper_bench.throughput(project, chain, deployer, n_breach=40, gas_limit=3_000_000)
    risk, account = result["risk"], result["account"]
    assert risk["liquidated"] == account["liquidated"] > 0
    assert risk["blocks_to_clear"] is not None and account["blocks_to_clear"] is not None
    assert risk["blocks_to_clear"] > 1  # the block limit really spreads the work
    assert risk["deficit_still_open_usd"] == account["deficit_still_open_usd"] == 0
    assert 0 < risk["deficit_at_liquidation_usd"] < account["deficit_at_liquidation_usd"]


def test_orders_bench_settles_every_order_within_one_block_of_its_price(project, chain, deployer):
    """The orders benchmark at a small size: every order committed in one block, all settled in
    the block after their round, the gas and fee figures measured."""
    result = keeper_bench.orders(project, chain, deployer, n_orders=30)
    assert result is not None
    assert result["committed"] == result["orders"] > 0 and result["commit_blocks"] == 1
    assert result["settlements_sent_in_one_step"] == result["committed"]
    assert result["settled"] + result["cancelled_at_settlement"] == result["committed"]
    assert result["latency_blocks_max"] == 1
    assert result["settle_gas_mean"] > 0 and result["break_even_gas_price_gwei"] > 0
