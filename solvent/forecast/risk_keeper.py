"""The risk keeper (`ape run risk-keeper`): on a schedule, forecasts each asset's volatility from
its hourly price history and pushes the forecast to the RiskSteward, clamped to what the steward
accepts (steward_rule.py): it never sends a push the steward would refuse. A forecast above the
on-chain estimate tightens margin (phased in by the oracle's ramp); one below changes nothing, so
the keeper does not send it.

History: the vendored hourly closes up to now (local chains replay them), extended by the oracle's
price read at every step, bucketed by hour. Forecast: GARCH(1,1)-t on the trailing two years,
refit once a day; the 24 h variance annualized (docs/predictive-margin.md)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge

from solvent.forecast import models
from solvent.forecast.steward_rule import LivePush, StewardBounds, nearest_allowed, refusal
from solvent.model.oracle_math import SECONDS_PER_YEAR
from solvent.price_history import HOUR

WAD = 10**18
LOG = logging.getLogger("solvent.risk_keeper")
WINDOW_HOURS = 2 * 365 * 24
MIN_HOURS = 30 * 24  # a month of history before the first forecast


@dataclass
class RiskKeeperMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.forecast = Gauge(
            "solvent_risk_keeper_forecast_sigma",
            "Latest forecast (annualized)",
            ["asset"],
            registry=r,
        )
        self.pushed = Gauge(
            "solvent_risk_keeper_pushed_sigma", "Latest forecast pushed", ["asset"], registry=r
        )
        self.price_unavailable = Counter(
            "solvent_risk_keeper_price_unavailable",
            "Steps whose oracle price read failed (stale, out of bounds)",
            ["asset"],
            registry=r,
        )
        self.pushes = Counter(
            "solvent_risk_keeper_pushes", "Pushes by outcome", ["asset", "outcome"], registry=r
        )


@dataclass
class AssetHistory:
    """Hourly closes: candle end (s) -> price (USD)."""

    closes: dict[int, float] = field(default_factory=dict)

    def add(self, timestamp: int, price: float) -> None:
        self.closes[timestamp - timestamp % HOUR + HOUR] = price  # the hour's last reading

    def returns(self) -> np.ndarray:
        times = sorted(self.closes)[-WINDOW_HOURS - 1 :]
        prices = np.array([self.closes[t] for t in times])
        whole = np.diff(np.array(times)) == HOUR
        return np.diff(np.log(prices))[whole]


def forecast_sigma(returns: np.ndarray) -> float | None:
    """Annualized sigma of the next 24 h from GARCH(1,1)-t, or None with too little history."""
    if len(returns) < MIN_HOURS:
        return None
    params, last_variance = models.fit_garch(returns)
    next_variance = params.omega + params.alpha * returns[-1] ** 2 + params.beta * last_variance
    variance = params.horizon_variance(next_variance)
    return math.sqrt(variance * SECONDS_PER_YEAR / (models.HORIZON_HOURS * HOUR))


def decide_push(
    wanted: int, bounds: StewardBounds, last: LivePush, onchain: int, now: int, mined_at: int
) -> tuple[str, int | None]:
    """What the keeper does with a forecast `wanted` (WAD) seen at `now` for a push mined at
    `mined_at`: (outcome, the sigma to push or None). A forecast that would change nothing (at or
    below the on-chain estimate, no live forecast above it) is not sent; inside the minimum delay
    it waits; otherwise it sends the accepted value nearest the forecast, and never one the
    steward would refuse at `mined_at`."""
    if wanted <= onchain and not (last.expiry > now and last.sigma > onchain):
        return "below_onchain", None  # changes nothing: not sent
    allowed = nearest_allowed(wanted, bounds, last, onchain, now)
    if allowed is None:
        return "waiting", None
    if refusal(allowed, bounds, last, onchain, mined_at) is not None:
        return "refused_locally", None
    return ("pushed" if allowed == wanted else "pushed_clamped"), allowed


def forecast_sigmas(
    times: np.ndarray, returns: np.ndarray, origins: list[int], refit_hours: int = 24
) -> list[float]:
    """The keeper's forecast (annualized sigma of the next 24 h, GARCH(1,1)-t on the trailing
    two years) at each origin, ascending, from the hourly returns ending at or before it only.
    The model is refit at the first origin and then every `refit_hours`, as the keeper does
    (once a day); between refits the next hour's variance is filtered hour by hour with the
    last fit's parameters. At a refit origin this is `forecast_sigma` of the same returns."""
    out: list[float] = []
    params: models.GarchParams | None = None
    next_variance = 0.0
    row = 0
    next_fit = origins[0] if origins else 0
    for origin in origins:
        hi = int(np.searchsorted(times, origin, side="right"))
        if origin >= next_fit:
            lo = max(0, hi - WINDOW_HOURS)
            if hi - lo < MIN_HOURS:
                raise ValueError(f"too little history before {origin}")
            params, last_variance = models.fit_garch(returns[lo:hi])
            next_variance = (
                params.omega + params.alpha * returns[hi - 1] ** 2 + params.beta * last_variance
            )
            row, next_fit = hi, origin + refit_hours * HOUR
        assert params is not None
        for r in returns[row:hi]:
            next_variance = params.omega + params.alpha * r**2 + params.beta * next_variance
        row = max(row, hi)
        variance = params.horizon_variance(next_variance)
        out.append(math.sqrt(variance * SECONDS_PER_YEAR / (models.HORIZON_HOURS * HOUR)))
    return out


@dataclass
class RiskKeeper:
    """One step per call: read, forecast, clamp, push. `steward` and `oracle` are ape contracts."""

    steward: Any
    oracle: Any
    assets: dict[str, Any]  # key -> token address
    sender: Any
    now: Callable[[], int]
    histories: dict[str, AssetHistory] = field(default_factory=dict)
    metrics: RiskKeeperMetrics = field(default_factory=RiskKeeperMetrics)
    forecaster: Callable[[np.ndarray], float | None] = forecast_sigma

    def step(self) -> dict[str, str]:
        """Forecasts and pushes every asset; returns each asset's outcome."""
        outcomes = {}
        for key, token in self.assets.items():
            outcomes[key] = self._asset(key, token)
        return outcomes

    def _asset(self, key: str, token: Any) -> str:
        now = self.now()
        history = self.histories.setdefault(key, AssetHistory())
        try:
            history.add(now, int(self.oracle.price(token)) / WAD)
        except Exception as exc:  # a stale or refused price: forecast from the history as it is
            LOG.warning("no price for %s this step: %s", key, exc)
            self.metrics.price_unavailable.labels(key).inc()
        sigma = self.forecaster(history.returns())
        if sigma is None:
            return self._count(key, "no_history")
        self.metrics.forecast.labels(key).set(sigma)
        b = self.steward.bounds(token)
        bounds = StewardBounds(b.floor, b.ceiling, b.maxChangeBps, b.minDelay, b.ttl)
        p = self.steward.pushed(token)
        last = LivePush(p.sigma, p.at, p.expiry)
        onchain = int(self.oracle.volatility(token)[0])
        if self.steward.disabled():
            return self._count(key, "disabled")
        outcome, allowed = decide_push(int(sigma * WAD), bounds, last, onchain, now, now + 1)
        if allowed is None:
            return self._count(key, outcome)
        self.steward.pushForecast(token, allowed, sender=self.sender)
        self.metrics.pushed.labels(key).set(allowed / WAD)
        LOG.info("pushed %s forecast %.4f (wanted %.4f)", key, allowed / WAD, sigma)
        return self._count(key, outcome)

    def _count(self, key: str, outcome: str) -> str:
        self.metrics.pushes.labels(key, outcome).inc()
        return outcome
