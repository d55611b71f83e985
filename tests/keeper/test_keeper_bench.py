"""Smoke test of the keeper benchmark with a small population (the real run is `make bench`)."""

from solvent.bench import keeper_bench


def test_keeper_bench_runs_and_reports(project, chain, deployer):
    result = keeper_bench.run(project, chain, deployer, n_scan=60, n_breach=12, scan_batch=25)
    assert result["accounts"] == 60
    assert result["breached"] == result["breached_expected"] == 12
    assert result["liquidated"] == 12 and result["latency_blocks_max"] == 1
    assert result["health_scan_s"] > 0 and result["anvil_gas_limit"] == keeper_bench.BENCH_GAS_LIMIT
