"""The exact model against the real contracts: seeded episodes replayed on Anvil by the referee
(solvent/sim/montecarlo/referee.py) end equal to the wei: every liquidation's, take's, reset's
and write-off's fields, the liquidatable accounts and the running auctions after every block,
and at the end each account's quote, collateral, positions and health, the ledger, the markets,
the fund and the pool. A one-wei change in the model fails the replay."""

import pytest

from solvent.model import world as model_world
from solvent.sim.montecarlo.episode import BookSpec, EpisodeSpec, PathSpec, Point, run
from solvent.sim.montecarlo.referee import RefereeMismatch, replay

# A 15% gap (seed 1 of the gap model) under 15x leverage and a keeper 2 blocks late, 12 accounts
# (4 of them margined in ETH or BTC): the swept insurance fees and the fund's $1,000 stake cover
# $1,274, the pool takes $133,344, part of it from auction lots exhausted with debt left.
TO_THE_POOL = EpisodeSpec(
    Point(leverage=15, fund=1_000, latency=2), 1, PathSpec("gap", 16), BookSpec(accounts=12)
)
# A stressed day of GBM with jumps (seed 1, 34% drawdown) at 15x: 70 liquidations, 10 auctions
# taken, $45,472 of bad debt, all of it covered by the fund (its swept fees first).
TO_THE_FUND = EpisodeSpec(Point(leverage=15, fund=10_000), 1, PathSpec("gbm_jumps", 288))
# A keeper 10 blocks late never sees an auction's price under its limit before the auction is
# stale (tail 3,000 s = 10 blocks): it resets them, 55 times, paid by the fund, until the
# settlement blocks run out with the auctions still running.
RESETS = EpisodeSpec(
    Point(leverage=15, latency=10),
    3,
    PathSpec("gap", 16),
    BookSpec(accounts=12, collateral_share=0.5),
)


def test_bad_debt_reaching_the_pool_is_equal_to_the_wei(project, networks):
    episode = run(TO_THE_POOL)
    model = episode.metrics
    assert model["covered_by_insurance_usd"] > TO_THE_POOL.point.fund  # fees swept in first
    assert model["socialized_usd"] > 100_000
    taken = {t.account for t in episode.world.takes}
    assert any(w.account in taken for w in episode.world.write_offs)  # through exhausted lots
    record = replay(project, networks, TO_THE_POOL)
    assert record["equal_to_the_wei"]
    assert record["socialized_usd"] == model["socialized_usd"]
    assert record["values_compared"] > 100


@pytest.mark.slow  # ~8 s each: the regular suite keeps the pool and one-wei replays
def test_bad_debt_covered_by_the_fund_is_equal_to_the_wei(project, networks):
    model = run(TO_THE_FUND).metrics
    assert model["liquidations"] > 50 and model["auctions_taken"] >= 10
    assert model["covered_by_insurance_usd"] > 0 and model["socialized_usd"] == 0
    record = replay(project, networks, TO_THE_FUND)
    assert record["bad_debt_usd"] == model["bad_debt_usd"] > 0
    assert record["values_compared"] > 1_000


@pytest.mark.slow  # ~8 s each: the regular suite keeps the pool and one-wei replays
def test_a_slow_keepers_resets_are_equal_to_the_wei(project, networks):
    model = run(RESETS).metrics
    assert model["auctions_taken"] == 0 and model["auction_resets"] > 50
    assert model["blocks"] > 200  # the settlement blocks ran
    record = replay(project, networks, RESETS)
    assert record["auction_resets"] == model["auction_resets"]
    assert record["fund_drawdown_usd"] == model["fund_drawdown_usd"] > 0


@pytest.mark.slow  # ~8 s each: the regular suite keeps the pool and one-wei replays
def test_a_point_off_the_config_deploys_and_replays_equal_to_the_wei(project, networks):
    """Every parameter a grid axis sets, away from config/local.yaml: the deployment is the
    point's, and the model follows it (13 takes at a 5% start premium decaying 2% a minute)."""
    spec = EpisodeSpec(
        Point(leverage=15, penalty=0.04, fund=20_000, latency=2, buf=1.05, cut=0.98),
        2,
        book=BookSpec(collateral_share=0.5),
    )
    model = run(spec).metrics
    assert model["auctions_taken"] > 10
    record = replay(project, networks, spec)
    assert record["liquidations"] == model["liquidations"] > 40


def test_a_one_wei_error_in_the_model_fails_the_replay(project, networks, monkeypatch):
    real = model_world.ref.penalty

    def one_wei_more(*args: int, **kwargs: int) -> int:
        return real(*args, **kwargs) + 1

    monkeypatch.setattr(model_world.ref, "penalty", one_wei_more)
    with pytest.raises(RefereeMismatch, match="liquidations"):
        replay(project, networks, TO_THE_POOL)
