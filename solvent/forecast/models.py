"""Forecasters of the next horizon's variance, each made only from what was known at the
forecast's origin (walk-forward), and the margin level each implies.

Every forecaster returns, for each origin time T, the variance of the log return over
(T, T + horizon] and the margin (a fraction of notional) it would hold from T:
- `flat`: a constant margin, the market's base initial ratio (what a venue without volatility
  scaling charges);
- `onchain_ewma`: the adapter's estimator as it runs today, replayed exactly on integers
  (solvent.model.oracle_math.VolatilityState: hourly samples, lambda 0.97, sample cap, ramp), and
  the engine's margin rule on its sigma:
  imr = max(baseMmr, volFactor * min(sigma, sigmaCap)) * imScale;
- `ewma`: RiskMetrics, lambda 0.94 a day (0.94^(1/24) an hour), margin Z * sigma over the horizon;
- `garch_t`: GARCH(1,1) with Student-t innovations (the `arch` package), refit every
  `refit_days` on the trailing `window_days`, filtered hour by hour between refits; margin
  Z * sigma over the horizon;
- `predictive`: what a risk steward applying the GARCH forecast would hold (docs/predictive-
  margin.md): the engine's rule on max(on-chain sigma, forecast sigma): a forecast can only
  tighten margin.
Z = 2.5758 (two-sided 99% of a normal): a variance forecast's margin targets 1% exceedances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solvent.config import AssetSpec
from solvent.model import margin as margin_model
from solvent.model.oracle_math import SECONDS_PER_YEAR, WAD, VolatilityState
from solvent.price_history import HOUR, Hourly

Z_99 = 2.5758293035489004  # two-sided 99% quantile of the standard normal
HORIZON_HOURS = 24


@dataclass(frozen=True)
class Forecasts:
    name: str
    variance: np.ndarray  # per origin: forecast variance of the horizon's log return
    margin: np.ndarray  # per origin: margin held from the origin, fraction of notional
    sigma_annual: np.ndarray  # per origin: the forecast as an annualized volatility


def annualize(variance: np.ndarray, hours: int = HORIZON_HOURS) -> np.ndarray:
    return np.sqrt(variance * SECONDS_PER_YEAR / (hours * HOUR))


def horizon_variance(sigma_annual: np.ndarray, hours: int = HORIZON_HOURS) -> np.ndarray:
    return sigma_annual**2 * hours * HOUR / SECONDS_PER_YEAR


def engine_margin(spec: AssetSpec, sigma_annual: float) -> float:
    """The engine's initial margin ratio at an annualized sigma
    (solvent.model.margin.margin_ratios)."""
    m = spec.market
    params = margin_model.MarketParams(m.base_mmr, m.vol_factor, m.sigma_cap, m.im_scale)
    _, imr = margin_model.margin_ratios(params, int(sigma_annual * WAD))
    return imr / WAD


def flat(spec: AssetSpec, origins: np.ndarray) -> Forecasts:
    m = spec.market
    imr = m.base_mmr * m.im_scale / WAD / WAD
    sigma = np.full(len(origins), imr / Z_99)
    variance = sigma**2
    return Forecasts("flat", variance, np.full(len(origins), imr), annualize(variance))


def onchain_ewma(spec: AssetSpec, series: Hourly, origins: np.ndarray) -> Forecasts:
    """The adapter's estimator fed every hourly close as a poke (a keeper pokes every 300 s; a
    sample is recorded once per `vol_interval` = 3600 s), read at each origin."""
    o = spec.oracle
    state = VolatilityState(
        o.vol_interval, o.vol_lambda, o.vol_stale_after, o.vol_max_sample_rise,
        o.vol_max_rise_per_hour,
    )  # fmt: skip
    first = int(series.times[0])
    state.seed(o.seed_sigma, first)
    sigmas = np.empty(len(origins))
    row = 0
    for k, origin in enumerate(origins):
        while row < len(series.times) and series.times[row] <= origin:
            state.poke(int(series.closes[row] * WAD), int(series.times[row]))
            row += 1
        sigmas[k] = state.margin_sigma(int(origin)) / WAD
    margins = np.array([engine_margin(spec, s) for s in sigmas])
    return Forecasts("onchain_ewma", horizon_variance(sigmas), margins, sigmas)


def ewma(series: Hourly, origins: np.ndarray, daily_lambda: float = 0.94) -> Forecasts:
    lam = daily_lambda ** (1 / HORIZON_HOURS)
    times, returns = series.hourly_log_returns()
    variance = float(np.var(returns[: 30 * HORIZON_HOURS]))  # the first month seeds it
    hourly = np.empty(len(origins))
    row = 0
    for k, origin in enumerate(origins):
        while row < len(times) and times[row] <= origin:
            variance = lam * variance + (1 - lam) * returns[row] ** 2
            row += 1
        hourly[k] = variance
    forecast = hourly * HORIZON_HOURS
    return Forecasts("ewma", forecast, Z_99 * np.sqrt(forecast), annualize(forecast))


@dataclass(frozen=True)
class GarchParams:
    omega: float  # per hour, log-return units squared
    alpha: float
    beta: float
    nu: float  # Student-t degrees of freedom

    @property
    def persistence(self) -> float:
        return self.alpha + self.beta

    def horizon_variance(self, next_variance: float, hours: int = HORIZON_HOURS) -> float:
        """Sum over h = 1..hours of E[sigma^2_{t+h}]: the long-run variance plus the excess of
        the next hour's, decaying by the persistence each hour."""
        p = self.persistence
        if p >= 1:
            return next_variance * hours
        long_run = self.omega / (1 - p)
        decay_sum = (1 - p**hours) / (1 - p)
        return long_run * hours + (next_variance - long_run) * decay_sum


def fit_garch(returns: np.ndarray) -> tuple[GarchParams, float]:
    """GARCH(1,1), zero mean, Student-t, fitted by `arch` on percent returns (its scaling advice);
    returns the parameters in log-return units and the last conditional variance."""
    from arch import arch_model

    model = arch_model(returns * 100, mean="Zero", vol="GARCH", p=1, q=1, dist="t")
    fit = model.fit(disp="off", show_warning=False)
    p = fit.params
    params = GarchParams(p["omega"] / 1e4, p["alpha[1]"], p["beta[1]"], p["nu"])
    last = float(fit.conditional_volatility[-1]) ** 2 / 1e4
    return params, last


def garch_t(
    series: Hourly,
    origins: np.ndarray,
    refit_days: int = 30,
    window_days: int = 730,
    burn_in_days: int = 365,
) -> tuple[Forecasts, list[tuple[int, GarchParams]]]:
    """Walk-forward GARCH: refit at the first origin, then every `refit_days`, on the hourly
    returns of the trailing `window_days` before it; between refits the conditional variance is
    carried hour by hour with the last fit's parameters. Also returns every fit (origin, params)."""
    times, returns = series.hourly_log_returns()
    fits: list[tuple[int, GarchParams]] = []
    forecast = np.empty(len(origins))
    params: GarchParams | None = None
    next_variance = 0.0
    row = 0
    next_fit = int(origins[0])
    for k, origin in enumerate(origins):
        if origin >= next_fit:
            lo = int(np.searchsorted(times, origin - window_days * 86_400, side="right"))
            hi = int(np.searchsorted(times, origin, side="right"))
            if hi - lo < burn_in_days * HORIZON_HOURS // 2:
                raise ValueError(f"{series.asset}: too little history before {origin}")
            params, next_variance = fit_garch(returns[lo:hi])
            # the fit's last conditional variance is that of its last return: one step more
            next_variance = (
                params.omega + params.alpha * returns[hi - 1] ** 2 + (params.beta * next_variance)
            )
            fits.append((int(origin), params))
            row = hi
            next_fit = int(origin) + refit_days * 86_400
        assert params is not None
        while row < len(times) and times[row] <= origin:
            next_variance = (
                params.omega + params.alpha * returns[row] ** 2 + (params.beta * next_variance)
            )
            row += 1
        forecast[k] = params.horizon_variance(next_variance)
    return Forecasts("garch_t", forecast, Z_99 * np.sqrt(forecast), annualize(forecast)), fits


def predictive(spec: AssetSpec, onchain: Forecasts, forecast: Forecasts) -> Forecasts:
    """The engine's rule on max(on-chain sigma, forecast sigma): the steward's margin."""
    sigma = np.maximum(onchain.sigma_annual, forecast.sigma_annual)
    margins = np.array([engine_margin(spec, s) for s in sigma])
    return Forecasts("predictive", horizon_variance(sigma), margins, sigma)


def all_forecasts(
    spec: AssetSpec, series: Hourly, origins: np.ndarray
) -> tuple[list[Forecasts], list[tuple[int, GarchParams]]]:
    onchain = onchain_ewma(spec, series, origins)
    garch, fits = garch_t(series, origins)
    models = [flat(spec, origins), onchain, ewma(series, origins), garch]
    return [*models, predictive(spec, onchain, garch)], fits
