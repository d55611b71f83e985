"""Generated price paths calibrated to the hourly ETH/USD and BTC/USD history (2017-2026).

Two models, fitted once to the hourly log returns of data/prices/ (returns only between
consecutive hours: a gap in the file drops the return across it) and stored in
data/prices/calibration.json, so a run neither refits (slow) nor depends on the fitting library's
version. `python -m solvent.sim.calibration` refits and rewrites the file.

* GBM with jumps. An hourly return r is a jump when |r - median| > k * sigma, where sigma is the
  standard deviation of the returns that are not jumps, found by iterating from the standard
  deviation of all returns until the set of jumps stops changing (k = JUMP_THRESHOLD_SIGMAS).
  The diffusion's volatility is that sigma, annualized; the jump frequency is the number of jumps
  per day of history; the jump log-size is normal with the jumps' mean and standard deviation.
  The diffusions of the two assets are correlated as their non-jump returns are; jumps are
  independent per asset.
* GARCH(1,1) with Student-t innovations, fitted by maximum likelihood with the `arch` package:
  r_t = mu + e_t, e_t = s_t z_t, s_t^2 = omega + alpha e_{t-1}^2 + beta s_{t-1}^2, z_t a Student-t
  of nu degrees of freedom scaled to unit variance. The two assets' innovations are correlated as
  their standardized residuals are (each divides a correlated normal by its own chi-square).

Both simulate from a numpy Generator seeded by the scenario's seed: a seed gives the same path.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from solvent.price_history import DATA_DIR, HOURLY_FILES, candles, iso
from solvent.sim.paths import SECONDS_PER_YEAR, PricePath

CALIBRATION_FILE = DATA_DIR / "calibration.json"
JUMP_THRESHOLD_SIGMAS = 4.0
HOUR = 3600
HOURS_PER_YEAR = SECONDS_PER_YEAR // HOUR
ASSETS = ("WETH", "WBTC")


def hourly_returns(key: str) -> dict[int, float]:
    """Log return of each hour whose previous hour is in the file, keyed by the hour's end."""
    series = candles(HOURLY_FILES[key])
    returns = {}
    for i in range(1, len(series.times)):
        if series.times[i] - series.times[i - 1] == HOUR:
            returns[series.times[i]] = math.log(series.closes[i] / series.closes[i - 1])
    return returns


@dataclass(frozen=True)
class JumpFit:
    sigma_annual: float  # diffusion volatility, from returns that are not jumps
    jumps_per_day: float
    jump_mean: float  # log-size of a jump
    jump_std: float
    hours: int
    jumps: int


def fit_jumps(returns: np.ndarray, k: float = JUMP_THRESHOLD_SIGMAS) -> tuple[JumpFit, np.ndarray]:
    """The estimator of the module's docstring; also the mask of the returns that are jumps."""
    centre = float(np.median(returns))
    jumps = np.zeros(len(returns), dtype=bool)
    for _ in range(100):
        sigma = float(np.std(returns[~jumps], ddof=1))
        flagged = np.abs(returns - centre) > k * sigma
        if np.array_equal(flagged, jumps):
            break
        jumps = flagged
    sizes = returns[jumps]
    fit = JumpFit(
        sigma_annual=sigma * math.sqrt(HOURS_PER_YEAR),
        jumps_per_day=len(sizes) / len(returns) * 24,
        jump_mean=float(np.mean(sizes)),
        jump_std=float(np.std(sizes, ddof=1)),
        hours=len(returns),
        jumps=len(sizes),
    )
    return fit, jumps


@dataclass(frozen=True)
class GarchFit:
    mu: float  # hourly log-return mean
    omega: float  # in squared log-return units
    alpha: float
    beta: float
    nu: float
    loglikelihood: float = float("nan")  # of the fit, on the returns it was fitted to

    @property
    def persistence(self) -> float:
        return self.alpha + self.beta

    @property
    def unconditional_variance(self) -> float:
        return self.omega / (1 - self.persistence)


def fit_garch(returns: np.ndarray) -> tuple[GarchFit, np.ndarray]:
    """GARCH(1,1)-t with variance targeting: mu is the sample mean, omega = s^2 (1 - alpha - beta)
    with s^2 the sample variance, and (alpha, beta, nu) maximize the Student-t likelihood that
    `arch` computes (returns scaled to percent), under alpha, beta > 0, alpha + beta < 1, nu > 2.
    Also the standardized residuals. The unconstrained maximum sits on the boundary (see
    `fit_garch_unconstrained`), so variance targeting is what makes the fit stationary."""
    from arch import arch_model
    from scipy.optimize import minimize

    scaled = returns * 100
    model = arch_model(scaled, mean="Constant", vol="GARCH", p=1, q=1, dist="t")
    mu, variance = float(np.mean(scaled)), float(np.var(scaled))

    def params(x: np.ndarray) -> list[float]:
        alpha, beta, nu = x
        return [mu, variance * (1 - alpha - beta), alpha, beta, nu]

    def negative_loglikelihood(x: np.ndarray) -> float:
        alpha, beta, nu = x
        if alpha <= 0 or beta <= 0 or alpha + beta >= 1 or nu <= 2.05:
            return 1e18
        return -float(model.fix(params(x)).loglikelihood)

    best = minimize(
        negative_loglikelihood,
        np.array([0.08, 0.90, 3.5]),
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-4, "maxiter": 4000},
    )
    fixed = model.fix(params(best.x))
    alpha, beta, nu = (float(v) for v in best.x)
    fit = GarchFit(
        mu=mu / 100,
        omega=variance * (1 - alpha - beta) / 100**2,
        alpha=alpha,
        beta=beta,
        nu=nu,
        loglikelihood=-float(best.fun),
    )
    standardized = np.asarray(fixed.resid / fixed.conditional_volatility)
    return fit, standardized


def fit_garch_unconstrained(returns: np.ndarray) -> dict[str, float]:
    """The plain maximum-likelihood GARCH(1,1)-t of `arch` (constant mean), for the record: on
    hourly crypto returns it lands on alpha + beta = 1 (integrated GARCH: no unconditional
    variance to start or revert to)."""
    from arch import arch_model

    result = arch_model(returns * 100, mean="Constant", vol="GARCH", p=1, q=1, dist="t").fit(
        disp="off"
    )
    p = result.params
    return {
        "alpha": float(p["alpha[1]"]),
        "beta": float(p["beta[1]"]),
        "nu": float(p["nu"]),
        "persistence": float(p["alpha[1]"] + p["beta[1]"]),
        "loglikelihood": float(result.loglikelihood),
    }


def refit(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """Fits both models to the hourly files and writes `path`."""
    returns = {key: hourly_returns(key) for key in ASSETS}
    common = sorted(set(returns["WETH"]) & set(returns["WBTC"]))
    out: dict[str, Any] = {
        "source": {key: HOURLY_FILES[key] for key in ASSETS},
        "span_utc": [iso(min(returns["WETH"])), iso(max(returns["WETH"]))],
        "jump_threshold_sigmas": JUMP_THRESHOLD_SIGMAS,
        "gbm_jumps": {},
        "garch_t": {},
    }
    non_jump: dict[str, dict[int, float]] = {}
    residuals: dict[str, dict[int, float]] = {}
    for key in ASSETS:
        times = np.array(sorted(returns[key]))
        values = np.array([returns[key][t] for t in times])
        jumps, mask = fit_jumps(values)
        out["gbm_jumps"][key] = jumps.__dict__
        non_jump[key] = dict(zip(times[~mask].tolist(), values[~mask].tolist(), strict=True))
        garch, standardized = fit_garch(values)
        out["garch_t"][key] = {
            **garch.__dict__,
            "persistence": garch.persistence,
            "annualized_unconditional_volatility": math.sqrt(
                garch.unconditional_variance * HOURS_PER_YEAR
            ),
            "unconstrained_mle": fit_garch_unconstrained(values),
        }
        residuals[key] = dict(zip(times.tolist(), standardized.tolist(), strict=True))
    both = [t for t in common if t in non_jump["WETH"] and t in non_jump["WBTC"]]
    out["gbm_jumps"]["diffusion_correlation"] = _correlation(non_jump, both)
    out["garch_t"]["innovation_correlation"] = _correlation(residuals, common)
    path.write_text(json.dumps(out, indent=2) + "\n")
    return out


def _correlation(series: dict[str, dict[int, float]], times: list[int]) -> float:
    a = np.array([series["WETH"][t] for t in times])
    b = np.array([series["WBTC"][t] for t in times])
    return float(np.corrcoef(a, b)[0, 1])


def load_calibration(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def _correlated_normals(rng: np.random.Generator, n: int, rho: float) -> tuple[np.ndarray, ...]:
    first = rng.standard_normal(n)
    second = rho * first + math.sqrt(1 - rho**2) * rng.standard_normal(n)
    return first, second


def gbm_jumps_calibrated(
    start_prices: dict[str, float],
    steps: int,
    step_seconds: int,
    seed: int,
    calibration: dict[str, Any] | None = None,
) -> dict[str, PricePath]:
    """Both assets' GBM-with-jumps paths from the fitted parameters (driftless)."""
    params = (calibration or load_calibration())["gbm_jumps"]
    rng = np.random.Generator(np.random.PCG64(seed))
    dt = step_seconds / SECONDS_PER_YEAR
    shocks = dict(
        zip(
            ASSETS,
            _correlated_normals(rng, steps - 1, params["diffusion_correlation"]),
            strict=True,
        )
    )
    paths = {}
    for key in ASSETS:
        p = params[key]
        sigma = p["sigma_annual"]
        jump_probability = p["jumps_per_day"] * step_seconds / 86_400
        jumped = rng.random(steps - 1) < jump_probability
        sizes = rng.normal(p["jump_mean"], p["jump_std"], steps - 1)
        log_steps = -(sigma**2) / 2 * dt + sigma * math.sqrt(dt) * shocks[key] + jumped * sizes
        paths[key] = _path("gbm_jumps_calibrated", start_prices[key], step_seconds, log_steps)
    return paths


def garch_hourly_returns(
    hours: int, seed: int, calibration: dict[str, Any] | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`hours` hourly log returns of each asset from the fitted GARCH(1,1)-t, starting at the
    unconditional variance, with each hour's conditional variance."""
    params = (calibration or load_calibration())["garch_t"]
    rng = np.random.Generator(np.random.PCG64(seed))
    normals = dict(
        zip(ASSETS, _correlated_normals(rng, hours, params["innovation_correlation"]), strict=True)
    )
    out = {}
    for key in ASSETS:
        g = GarchFit(**{f: params[key][f] for f in ("mu", "omega", "alpha", "beta", "nu")})
        # standardized Student-t: normal / sqrt(chi2/nu), scaled to unit variance
        z = normals[key] / np.sqrt(rng.chisquare(g.nu, hours) / g.nu) * math.sqrt((g.nu - 2) / g.nu)
        returns, variances = np.empty(hours), np.empty(hours)
        variance = g.unconditional_variance
        for t in range(hours):
            variances[t] = variance
            shock = math.sqrt(variance) * z[t]
            returns[t] = g.mu + shock
            variance = g.omega + g.alpha * shock**2 + g.beta * variance
        out[key] = (returns, variances)
    return out


def garch_paths(
    start_prices: dict[str, float],
    steps: int,
    step_seconds: int,
    seed: int,
    calibration: dict[str, Any] | None = None,
) -> dict[str, PricePath]:
    """Both assets' paths from the hourly GARCH returns. A step shorter than an hour divides each
    hour into n = 3600 / step sub-steps by a Brownian bridge: n normal increments of the hour's
    conditional variance / n, shifted so they add up to the hour's return exactly."""
    if HOUR % step_seconds:
        raise ValueError("the step must divide an hour")
    per_hour = HOUR // step_seconds
    hours = math.ceil((steps - 1) / per_hour)
    hourly = garch_hourly_returns(hours, seed, calibration)
    rng = np.random.Generator(np.random.PCG64([seed, 1]))
    paths = {}
    for key in ASSETS:
        returns, variances = hourly[key]
        if per_hour > 1:
            scale = np.sqrt(variances / per_hour)[:, None]
            noise = rng.standard_normal((hours, per_hour)) * scale
            bridge = noise - noise.mean(axis=1, keepdims=True) + returns[:, None] / per_hour
            log_steps = bridge.reshape(-1)[: steps - 1]
        else:
            log_steps = returns[: steps - 1]
        paths[key] = _path("garch_eth_btc", start_prices[key], step_seconds, log_steps)
    return paths


def _path(name: str, start: float, step_seconds: int, log_steps: np.ndarray) -> PricePath:
    levels = start * np.exp(np.cumsum(log_steps))
    return PricePath(name, step_seconds, (start, *(float(x) for x in levels)))


if __name__ == "__main__":
    print(json.dumps(refit(), indent=2))
