"""Walk-forward backtest of the forecasters on the real hourly history (docs/predictive-margin.md).

Origins are every day at 00:00 UTC from `start` on. At each origin every forecaster gives the
margin it would hold for the next 24 hours, from data up to the origin only. The realized move is
the simple return from the origin's close to the close 24 hours later (both must exist); an
exceedance is |move| > margin: a position margined at that level would have lost more than its
margin. The realized variance (accuracy losses) is the sum of the 24 squared hourly log returns
(horizons with a missing hour are left out of the losses, not of the exceedances).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from solvent import config as configs
from solvent.forecast import models, stats
from solvent.price_history import HOUR, Hourly, hourly, utc

DAY = 86_400
TARGET_RATE = 0.01  # Z_99: a variance forecast's margin should be exceeded 1% of horizons
CONFIDENCE_DAYS = 90  # the confidence is Kupiec's p-value over the last 90 resolved horizons
# Crash windows of the data (README of data/prices): (name, first day, last day), UTC.
CRASHES = (
    ("march_2020", "2020-03-08", "2020-03-21"),
    ("may_2021", "2021-05-12", "2021-05-26"),
    ("june_2022", "2022-06-10", "2022-06-22"),
    ("november_2022", "2022-11-05", "2022-11-15"),
    ("october_2025", "2025-10-06", "2025-10-15"),
)


@dataclass(frozen=True)
class Realized:
    origins: np.ndarray
    move: np.ndarray  # simple return over the horizon
    variance: np.ndarray  # sum of squared hourly log returns; NaN when an hour is missing


def realized(series: Hourly, start: int, hours: int = models.HORIZON_HOURS) -> Realized:
    """Every daily origin from `start` whose close and the close `hours` later both exist."""
    first = start - start % DAY
    last = int(series.times[-1]) - hours * HOUR
    origins, moves, variances = [], [], []
    logs = np.log(series.closes)
    for origin in range(first, last + 1, DAY):
        i, j = series.index_at(origin), series.index_at(origin + hours * HOUR)
        if i is None or j is None:
            continue
        origins.append(origin)
        moves.append(series.closes[j] / series.closes[i] - 1)
        whole = j - i == hours  # no missing hour in between
        variances.append(float(np.sum(np.diff(logs[i : j + 1]) ** 2)) if whole else np.nan)
    return Realized(np.array(origins, dtype=np.int64), np.array(moves), np.array(variances))


def historical_scaling(
    forecast: models.Forecasts, outcome: Realized, q: float = 0.99, min_history: int = 250
) -> models.Forecasts:
    """The same variance forecast with its margin multiplier taken from history instead of the
    normal's Z: at each origin, the q-quantile of |move| / forecast sigma over the horizons that
    had ended by then (filtered historical simulation; Z until `min_history` have). Fat tails of
    24 h returns make the normal multiplier too small; this learns the right one walk-forward."""
    sigma = np.sqrt(forecast.variance)
    standardized = np.abs(outcome.move) / sigma
    margin = np.empty(len(sigma))
    for k in range(len(sigma)):
        past = standardized[:k]  # horizon j ends at origin j + 1 day <= origin k
        z = float(np.quantile(past, q)) if len(past) >= min_history else models.Z_99
        margin[k] = z * sigma[k]
    name = f"{forecast.name}_fhs"
    return models.Forecasts(name, forecast.variance, margin, forecast.sigma_annual)


def evaluate(forecast: models.Forecasts, outcome: Realized, mask: np.ndarray) -> dict[str, Any]:
    """Exceedances (rate, Kupiec, Christoffersen), average margin and accuracy over `mask`."""
    hits = np.abs(outcome.move[mask]) > forecast.margin[mask]
    n, x = int(mask.sum()), int(hits.sum())
    out: dict[str, Any] = {
        "horizons": n,
        "exceedances": x,
        "exceedance_rate": round(x / n, 5) if n else None,
        "average_margin": round(float(np.mean(forecast.margin[mask])), 5) if n else None,
        "max_margin": round(float(np.max(forecast.margin[mask])), 5) if n else None,
    }
    if n >= 2:
        pof = stats.kupiec(x, n, TARGET_RATE)
        ind = stats.christoffersen(hits)
        out |= {
            "kupiec_lr": round(pof.statistic, 3),
            "kupiec_p": round(pof.p_value, 5),
            "christoffersen_lr": round(ind.statistic, 3),
            "christoffersen_p": round(ind.p_value, 5),
        }
        ok = mask & ~np.isnan(outcome.variance)
        if ok.any():
            out["qlike"] = round(stats.qlike(outcome.variance[ok], forecast.variance[ok]), 5)
            out["mse"] = float(f"{stats.mse(outcome.variance[ok], forecast.variance[ok]):.4e}")
    return out


def confidence(forecast: models.Forecasts, outcome: Realized) -> float:
    """The forecaster's confidence at the last origin: Kupiec's p-value over its last
    CONFIDENCE_DAYS horizons that had ended by then (1: consistent with the target rate)."""
    hits = np.abs(outcome.move) > forecast.margin
    recent = hits[-CONFIDENCE_DAYS - 1 : -1]
    return round(stats.kupiec(int(recent.sum()), len(recent), TARGET_RATE).p_value, 5)


def run_asset(asset: str, start: int, end: int | None = None) -> dict[str, Any]:
    """The backtest of one asset: per forecaster, overall and per crash window."""
    series = hourly(asset)
    spec = configs.load("local").asset(asset)
    outcome = realized(series, start)
    if end is not None:
        keep = outcome.origins <= end
        outcome = Realized(outcome.origins[keep], outcome.move[keep], outcome.variance[keep])
    forecasts, fits = models.all_forecasts(spec, series, outcome.origins)
    by_name = {f.name: f for f in forecasts}
    forecasts += [historical_scaling(by_name[n], outcome) for n in ("ewma", "garch_t")]
    everything = np.ones(len(outcome.origins), dtype=bool)
    windows = {
        name: (outcome.origins >= utc(a)) & (outcome.origins <= utc(b)) for name, a, b in CRASHES
    }
    result: dict[str, Any] = {
        "asset": asset,
        "first_origin": int(outcome.origins[0]),
        "last_origin": int(outcome.origins[-1]),
        "models": {},
        "garch_fits": [
            {"origin": origin, **{k: round(v, 8) for k, v in asdict(p).items()}}
            for origin, p in fits
        ],
    }
    for forecast in forecasts:
        entry = {"all": evaluate(forecast, outcome, everything)}
        for name, mask in windows.items():
            if mask.any():
                entry[name] = evaluate(forecast, outcome, mask)
        entry["confidence_now"] = confidence(forecast, outcome)
        result["models"][forecast.name] = entry
    result["crash_days"] = {}
    for name, mask in windows.items():
        if not mask.any():
            continue
        k = int(np.flatnonzero(mask)[np.argmax(np.abs(outcome.move[mask]))])
        result["crash_days"][name] = {
            "origin": int(outcome.origins[k]),
            "move": round(float(outcome.move[k]), 4),
            "margins": {f.name: round(float(f.margin[k]), 4) for f in forecasts},
        }
    result["_series"] = {
        "origins": outcome.origins.tolist(),
        "move": outcome.move.tolist(),
        **{f.name: f.margin.tolist() for f in forecasts},
    }
    return result


MODEL_NOTES = {
    "flat": "base initial ratio, no volatility scaling",
    "onchain_ewma": "the adapter's EWMA and the engine's rule, as deployed",
    "ewma": "RiskMetrics 0.94/day, normal 99%",
    "garch_t": "GARCH(1,1)-t, normal 99%",
    "predictive": "engine rule on max(on-chain, GARCH) sigma",
    "ewma_fhs": "EWMA, multiplier from past |move|/sigma",
    "garch_t_fhs": "GARCH, multiplier from past |move|/sigma",
}


PLOTTED = ("flat", "onchain_ewma", "predictive", "garch_t_fhs")  # the rest: summary.json


def markdown_table(results: list[dict[str, Any]], window: str = "all") -> str:
    """One row per asset and forecaster: exceedances against the 1% target, Kupiec's and
    Christoffersen's p-values, average and largest margin, QLIKE."""
    lines = [
        "| asset | forecaster | horizons | exceedances | rate | Kupiec p | Christoffersen p "
        "| average margin | max margin | QLIKE |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for name, entry in r["models"].items():
            e = entry.get(window)
            if e is None:
                continue
            lines.append(
                f"| {r['asset']} | {name} | {e['horizons']} | {e['exceedances']} "
                f"| {e['exceedance_rate']:.2%} | {e.get('kupiec_p', float('nan')):.3f} "
                f"| {e.get('christoffersen_p', float('nan')):.3f} | {e['average_margin']:.2%} "
                f"| {e['max_margin']:.2%} | {e.get('qlike', float('nan')):.3f} |"
            )
    return "\n".join(lines) + "\n"


def crash_day_table(results: list[dict[str, Any]]) -> str:
    """The margin each forecaster held at the start of the largest 24 h move of each crash
    window: what was in place before the crash, not after it."""
    names = list(results[0]["models"])
    lines = [
        "| asset | window | day (UTC) | 24 h move | " + " | ".join(names) + " |",
        "|---|---|---|---:|" + "---:|" * len(names),
    ]
    from datetime import UTC, datetime

    for r in results:
        for window, d in r["crash_days"].items():
            day_text = datetime.fromtimestamp(d["origin"], UTC).strftime("%Y-%m-%d")
            cells = " | ".join(f"{d['margins'][n]:.1%}" for n in names)
            lines.append(f"| {r['asset']} | {window} | {day_text} | {d['move']:+.1%} | {cells} |")
    return "\n".join(lines) + "\n"


def write_report(results: list[dict[str, Any]], folder: Path) -> list[Path]:
    """summary.json (without the per-day series) and one PNG per asset: the margin each
    forecaster held against the realized |move|, day by day."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    summary = [{k: v for k, v in r.items() if k != "_series"} for r in results]
    paths = [folder / "summary.json", folder / "tables.md"]
    paths[0].write_text(json.dumps(summary, indent=2) + "\n")
    crash_tables = "".join(
        f"\n### {name}\n\n{markdown_table(results, name)}" for name, _, _ in CRASHES
    )
    paths[1].write_text(
        "## All days\n\n"
        + markdown_table(results)
        + "\n## Margin held before the largest move of each crash window\n\n"
        + crash_day_table(results)
        + crash_tables
    )
    for r in results:
        s = r["_series"]
        days = (
            (np.array(s["origins"]) - s["origins"][0]) / DAY / 365
            + 1970
            + (s["origins"][0] / DAY / 365.25)
        )
        fig, ax = plt.subplots(figsize=(11, 4.5))
        ax.plot(days, np.abs(s["move"]), lw=0.5, color="0.6", label="|24 h move|")
        for name in PLOTTED:
            ax.plot(days, s[name], lw=0.9, label=f"{name} margin")
        ax.set_yscale("log")
        ax.set_ylim(1e-3, 1)
        ax.set_xlabel("year")
        ax.set_ylabel("fraction of notional")
        ax.set_title(f"{r['asset']}: margin held vs realized 24 h move")
        ax.legend(ncol=3, fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = folder / f"margin_{r['asset']}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths
