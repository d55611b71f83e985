"""Simulator price paths: shapes, magnitudes, and reproducibility from a seed."""

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solvent.sim.paths import gap, gbm_with_jumps, march_2020


@given(st.integers(min_value=0, max_value=2**32))
def test_gbm_is_reproducible_from_its_seed(seed):
    first = gbm_with_jumps(2000.0, 200, 60, sigma=0.8, seed=seed, jumps_per_day=5)
    again = gbm_with_jumps(2000.0, 200, 60, sigma=0.8, seed=seed, jumps_per_day=5)
    assert first == again
    assert first.prices[0] == 2000.0 and first.steps == 200
    assert min(first.prices) > 0


def test_gbm_realized_volatility_matches_its_parameter():
    step = 300
    path = gbm_with_jumps(100.0, 20_000, step, sigma=0.6, seed=7)
    returns = [math.log(b / a) for a, b in itertools.pairwise(path.prices)]
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    annualized = math.sqrt(variance * 365 * 86_400 / step)
    assert annualized == pytest.approx(0.6, rel=0.05)


def test_different_seeds_give_different_paths():
    assert gbm_with_jumps(1.0, 50, 60, 0.5, seed=1) != gbm_with_jumps(1.0, 50, 60, 0.5, seed=2)


@pytest.mark.parametrize("drop", [0.30, 0.50])
def test_gap_falls_by_the_drop_in_one_step(drop):
    path = gap(1000.0, drop, steps_before=3, steps_after=4, step_seconds=12)
    assert path.prices[:3] == (1000.0,) * 3
    assert path.prices[3] == pytest.approx(1000.0 * (1 - drop))
    assert path.max_drawdown() == pytest.approx(drop)
    assert path.name == f"gap_{round(drop * 100)}"


def test_march_2020_falls_about_half_within_a_day_steepest_in_hours():
    path = march_2020(200.0, step_seconds=300, seed=3)
    assert path.max_drawdown() == pytest.approx(0.5, abs=0.03)
    per_hour = 3600 // 300
    day = path.prices[: 25 * per_hour + 1]
    assert min(day) / day[0] < 0.53
    hourly_falls = [1 - day[i + per_hour] / day[i] for i in range(0, len(day) - per_hour, per_hour)]
    assert max(hourly_falls) > 0.04  # the afternoon's steep hours
    assert path == march_2020(200.0, step_seconds=300, seed=3)


def test_invalid_paths_are_rejected():
    with pytest.raises(ValueError):
        gap(1.0, 1.2, 1, 1, 12)
