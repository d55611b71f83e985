"""The exact model against the real contracts: seeded episodes replayed on Anvil by the referee
(solvent/sim/montecarlo/referee.py) end equal to the wei: every liquidation's fields, every
write-off's split, the liquidatable accounts after every block, and at the end each account's
quote, positions and health, the ledger, the markets, the fund and the pool. A one-wei change in
the model fails the replay."""

import pytest

from solvent.model import world as model_world
from solvent.sim.montecarlo.episode import BookSpec, EpisodeSpec, PathSpec, Point, run
from solvent.sim.montecarlo.referee import RefereeMismatch, replay

# A 15% gap (seed 1 of the gap model) under 15x leverage and a keeper 2 blocks late: the swept
# insurance fees and the fund's $1,000 stake cover $1,286, the pool takes $134,325.
TO_THE_POOL = EpisodeSpec(
    Point(leverage=15, fund=1_000, latency=2), 1, PathSpec("gap", 16), BookSpec(accounts=12)
)
# A stressed day of GBM with jumps (seed 1, 34% drawdown) at 15x: 82 liquidations, 35 accounts,
# $49,115 of bad debt, all of it covered by the fund (its swept fees first).
TO_THE_FUND = EpisodeSpec(Point(leverage=15, fund=10_000), 1, PathSpec("gbm_jumps", 288))


def test_bad_debt_reaching_the_pool_is_equal_to_the_wei(project, networks):
    model = run(TO_THE_POOL).metrics
    assert model["covered_by_insurance_usd"] > TO_THE_POOL.point.fund  # fees swept in first
    assert model["socialized_usd"] > 100_000
    record = replay(project, networks, TO_THE_POOL)
    assert record["equal_to_the_wei"]
    assert record["socialized_usd"] == model["socialized_usd"]
    assert record["values_compared"] > 100


def test_bad_debt_covered_by_the_fund_is_equal_to_the_wei(project, networks):
    model = run(TO_THE_FUND).metrics
    assert model["liquidations"] > 50
    assert model["covered_by_insurance_usd"] > 0 and model["socialized_usd"] == 0
    record = replay(project, networks, TO_THE_FUND)
    assert record["bad_debt_usd"] == model["bad_debt_usd"] > 0
    assert record["values_compared"] > 1_000


def test_a_one_wei_error_in_the_model_fails_the_replay(project, networks, monkeypatch):
    real = model_world.ref.penalty

    def one_wei_more(*args: int, **kwargs: int) -> int:
        return real(*args, **kwargs) + 1

    monkeypatch.setattr(model_world.ref, "penalty", one_wei_more)
    with pytest.raises(RefereeMismatch, match="liquidations"):
        replay(project, networks, TO_THE_POOL)
