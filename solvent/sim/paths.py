"""Price paths for the crash simulator, reproducible from a seed.

A path is a sequence of prices, one per simulation step (one block); `step_seconds` is the block
interval the simulator advances the chain by. Prices are floats here and become feed answers
(integers with the feed's decimals) where the simulator writes them to the mock feeds.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

SECONDS_PER_YEAR = 365 * 24 * 3600

# The shape of ETH/USD on 12-13 March 2020 (hours from the start of 12 March, fraction of the
# opening price): a slide through the morning, the steepest fall over a few hours in the
# afternoon and evening, the low about 50% down overnight, a partial rebound.
MARCH_2020_KEYFRAMES: tuple[tuple[float, float], ...] = (
    (0.0, 1.00),
    (6.0, 0.96),
    (10.0, 0.88),
    (12.0, 0.80),
    (14.0, 0.70),
    (16.0, 0.66),
    (20.0, 0.60),
    (23.0, 0.52),
    (25.0, 0.50),
    (30.0, 0.56),
    (36.0, 0.58),
)


@dataclass(frozen=True)
class PricePath:
    name: str
    step_seconds: int
    prices: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.prices or min(self.prices) <= 0:
            raise ValueError("a price path needs at least one price, all positive")

    @property
    def steps(self) -> int:
        return len(self.prices)

    def max_drawdown(self) -> float:
        """Largest fall from a running peak, as a fraction (0.5 means a 50% fall)."""
        peak, worst = self.prices[0], 0.0
        for price in self.prices:
            peak = max(peak, price)
            worst = max(worst, 1 - price / peak)
        return worst


def gbm_with_jumps(
    start: float,
    steps: int,
    step_seconds: int,
    sigma: float,
    seed: int,
    drift: float = 0.0,
    jumps_per_day: float = 0.0,
    jump_mean: float = -0.05,
    jump_std: float = 0.03,
) -> PricePath:
    """Geometric Brownian motion (annualized `sigma`, `drift`) with Poisson log-normal jumps."""
    rng = random.Random(seed)
    dt = step_seconds / SECONDS_PER_YEAR
    jump_probability = jumps_per_day * step_seconds / 86_400
    log_price = math.log(start)
    prices = [start]
    for _ in range(steps - 1):
        log_price += (drift - sigma**2 / 2) * dt + sigma * math.sqrt(dt) * rng.gauss(0, 1)
        if rng.random() < jump_probability:
            log_price += rng.gauss(jump_mean, jump_std)
        prices.append(math.exp(log_price))
    return PricePath("gbm_jumps", step_seconds, tuple(prices))


def gap(
    start: float, drop: float, steps_before: int, steps_after: int, step_seconds: int
) -> PricePath:
    """Flat, then an instant fall by `drop` (0.3 means 30%) in one step, then flat."""
    if not 0 < drop < 1:
        raise ValueError("drop is a fraction between 0 and 1")
    prices = (start,) * steps_before + (start * (1 - drop),) * steps_after
    return PricePath(f"gap_{round(drop * 100)}", step_seconds, prices)


def march_2020(start: float, step_seconds: int, seed: int, noise: float = 0.004) -> PricePath:
    """The March-2020 shape, log-linear between keyframes, with small seeded noise."""
    rng = random.Random(seed)
    end_seconds = MARCH_2020_KEYFRAMES[-1][0] * 3600
    steps = int(end_seconds // step_seconds) + 1
    prices = []
    for step in range(steps):
        hours = step * step_seconds / 3600
        fraction = _interpolate_log(MARCH_2020_KEYFRAMES, hours)
        jitter = math.exp(rng.gauss(0, noise)) if 0 < step < steps - 1 else 1.0
        prices.append(start * fraction * jitter)
    return PricePath("march_2020", step_seconds, tuple(prices))


def _interpolate_log(keyframes: tuple[tuple[float, float], ...], x: float) -> float:
    for (x0, y0), (x1, y1) in itertools.pairwise(keyframes):
        if x0 <= x <= x1:
            weight = (x - x0) / (x1 - x0)
            return math.exp(math.log(y0) + weight * (math.log(y1) - math.log(y0)))
    return keyframes[-1][1]
