"""Tests of a margin level against realized moves, and forecast-accuracy losses.

An exceedance (a "hit") is a horizon whose realized move was larger than the margin held at its
start. A margin sized at the (1 - p) quantile should be exceeded with probability p, and its hits
should not cluster: Kupiec's proportion-of-failures test checks the first, Christoffersen's
independence test the second (both likelihood ratios, chi-squared with one degree of freedom).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2


@dataclass(frozen=True)
class LikelihoodRatio:
    statistic: float
    p_value: float

    def rejects(self, level: float = 0.05) -> bool:
        return self.p_value < level


def _xlogy(x: float, y: float) -> float:
    """x * ln(y), with 0 * ln(0) = 0."""
    return 0.0 if x == 0 else x * math.log(y)


def kupiec(hits: int, n: int, p: float) -> LikelihoodRatio:
    """Proportion of failures: H0 "the hit rate is p", from `hits` exceedances in `n` horizons.
    LR = -2 ln[(1-p)^(n-x) p^x / ((1-x/n)^(n-x) (x/n)^x)]."""
    if n <= 0 or not 0 < p < 1 or not 0 <= hits <= n:
        raise ValueError("kupiec needs n > 0, 0 < p < 1 and 0 <= hits <= n")
    rate = hits / n
    null = _xlogy(n - hits, 1 - p) + _xlogy(hits, p)
    alternative = _xlogy(n - hits, 1 - rate) + _xlogy(hits, rate)
    statistic = max(0.0, -2 * (null - alternative))
    return LikelihoodRatio(statistic, float(chi2.sf(statistic, 1)))


def christoffersen(hits: np.ndarray) -> LikelihoodRatio:
    """Independence: H0 "a hit today is as likely after a hit as after none", from the sequence
    of hits (booleans in time order). LR = -2 ln[L(pi) / L(pi01, pi11)] over the transitions."""
    h = np.asarray(hits, dtype=bool)
    before, after = h[:-1], h[1:]
    n00 = int(np.sum(~before & ~after))
    n01 = int(np.sum(~before & after))
    n10 = int(np.sum(before & ~after))
    n11 = int(np.sum(before & after))
    total = n00 + n01 + n10 + n11
    if total == 0:
        return LikelihoodRatio(0.0, 1.0)
    pi = (n01 + n11) / total
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    null = _xlogy(n00 + n10, 1 - pi) + _xlogy(n01 + n11, pi)
    alternative = (
        _xlogy(n00, 1 - pi01) + _xlogy(n01, pi01) + _xlogy(n10, 1 - pi11) + _xlogy(n11, pi11)
    )
    statistic = max(0.0, -2 * (null - alternative))
    return LikelihoodRatio(statistic, float(chi2.sf(statistic, 1)))


def qlike(realized: np.ndarray, forecast: np.ndarray) -> float:
    """Mean QLIKE loss RV/F - ln(RV/F) - 1 (0 for a perfect forecast; robust to noise in the
    realized variance, Patton 2011), over horizons with a positive realized variance."""
    ok = (realized > 0) & (forecast > 0)
    ratio = realized[ok] / forecast[ok]
    return float(np.mean(ratio - np.log(ratio) - 1))


def mse(realized: np.ndarray, forecast: np.ndarray) -> float:
    """Mean squared error of the variance forecast."""
    return float(np.mean((realized - forecast) ** 2))
