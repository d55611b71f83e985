"""Smoke test of the fuzz throughput benchmark (the measurement itself runs in `make bench`)."""

import pytest

from solvent.bench.fuzz_bench import measure

# Minutes of benchmark-sized work: `make test-slow` (CI) rather than every `make test`.
pytestmark = pytest.mark.slow


def test_both_paths_run_the_same_campaign(fuzz_node, project, chain, accounts):
    result = measure(project, chain, accounts, examples=1, steps=3)
    assert result["same_steps"], result
    assert result["naive"]["steps"] > 0
    assert result["naive"]["steps_per_s"] > 0 and result["fast"]["steps_per_s"] > 0
    assert result["ratio"] == round(
        result["fast"]["steps_per_s"] / result["naive"]["steps_per_s"], 1
    )
    print(result)
