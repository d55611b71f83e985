"""The same population under both risk models (issue 18, item 7; docs/simulator.md, "Risk
models"): each scenario runs twice, on a fresh Anvil each, with one seed, one population (a share
of basis trades in it) and the traders' accounts on the standard margin, then on the portfolio
model. Writes `<out>/summary.json` (every run's figures and the book's margin read from the
chain), `<out>/tradeoff.png` (bad debt against the margin the book holds, per scenario and model;
the margin cost of a hedged and a directional book), `<out>/table.md` and each run's own report
under `<out>/<model>/<scenario>/`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

from solvent.sim.campaign import CampaignOptions, run_scenario, write
from solvent.sim.risk_models import RISK_MODELS
from solvent.sim.run import SimResult

SCENARIOS = ("march_2020", "gap_30", "gap_50", "gbm_jumps")
HEDGED_SHARE = 0.25  # a quarter of the book holds a basis trade (WETH collateral, ETH-PERP short)
FIGURES = (
    "bad_debt_usd",
    "bad_debt_peak_usd",
    "covered_by_insurance_usd",
    "socialized_usd",
    "insurance_drawdown_usd",
    "liquidations",
    "liquidated_accounts",
    "accounts_with_positions",
    "outstanding_negative_equity_usd",
    "auctions_taken",
    "clearing_price_vs_oracle",
)
Runner = Callable[[str, CampaignOptions], SimResult]


def compare(
    run: Runner, options: CampaignOptions, names: tuple[str, ...], out: Path
) -> dict[str, Any]:
    """Runs every scenario of `names` under each model (`run(name, options)`), writes the reports
    and returns the summary."""
    rows = []
    started = time.monotonic()
    for name in names:
        for model in RISK_MODELS:
            began = time.monotonic()
            result = run(name, replace(options, risk_model=model))
            write(result, out / model / name)
            rows.append({**row(name, model, result), "wall_s": round(time.monotonic() - began, 1)})
    summary = {
        "inputs": {**asdict(options), "risk_model": list(RISK_MODELS), "scenarios": list(names)},
        "wall_s": round(time.monotonic() - started, 1),
        "runs": rows,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "table.md").write_text(table(rows) + "\n")
    plot(rows, out / "tradeoff.png")
    return summary


def row(name: str, model: str, result: SimResult) -> dict[str, Any]:
    """One run's figures: the summary's bad debt, liquidations and fund drawdown, the fund's
    balance when the path started, and the book's margin (`risk_models.book_margin`)."""
    s = result.summary
    return {
        "scenario": name,
        "model": model,
        **{key: s[key] for key in FIGURES},
        "fund_start_usd": round(_fund_start(result), 2),
        "bad_debt_within_fund": s["bad_debt_usd"] <= _fund_start(result),
        "margin": s["book_margin"],
    }


def _fund_start(result: SimResult) -> float:
    """The insurance fund's balance when the path started (the summary's drawdown is measured
    from it: drawdown = start - lowest)."""
    fund = result.series["fund"]
    return min(fund) + result.summary["insurance_drawdown_usd"] if fund else 0.0


def table(rows: list[dict[str, Any]]) -> str:
    """The BENCHMARKS table: one line per scenario and model."""
    lines = [
        "| scenario | model | book notional (plans cut) | margin held (IM) | bad debt (peak) | "
        "liquidations (accounts) | fund drawdown | fund at start | bad debt ≤ fund | "
        "hedged IM / cost per notional | directional IM / cost per notional |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        books = r["margin"]["books"]
        lines.append(
            f"| `{r['scenario']}` | {r['model']} | ${r['margin']['notional_usd'] / 1e6:,.1f}M "
            f"({r['margin']['positions_resized']}) | "
            f"${r['margin']['initial_requirement_usd']:,.0f} | "
            f"${r['bad_debt_usd']:,.0f} (${r['bad_debt_peak_usd']:,.0f}) | "
            f"{r['liquidations']} ({r['liquidated_accounts']}) | "
            f"${r['insurance_drawdown_usd']:,.0f} | ${r['fund_start_usd']:,.0f} | "
            f"{'yes' if r['bad_debt_within_fund'] else 'no'} | "
            f"{_efficiency(books.get('hedged'))} | {_efficiency(books.get('directional'))} |"
        )
    return "\n".join(lines)


def findings(summary: dict[str, Any]) -> list[str]:
    """The section's prose: what ran, the capital efficiency of each book under each model, and
    whether the gap the grid is sized to (gap_30) leaves bad debt within the insurance fund."""
    o, rows = summary["inputs"], summary["runs"]
    lines = [
        f"`make compare-models`: {o['accounts']} accounts, seed {o['seed']}, "
        f"{o['hedged_share']:.0%} of them basis trades (WETH collateral, the same ETH-PERP "
        f"short), {o['keepers']} keepers (latency {o['latency_blocks']} block, failure rate "
        f"{o['failure_rate']}), {o['step_seconds']} s blocks; each scenario runs on a fresh Anvil "
        "once with every account on the standard margin and once on the deployed portfolio "
        "model (approved through the timelock; a directional plan the model's initial margin "
        "does not carry is cut to the largest that it does). "
        f"{len(rows)} runs in {summary['wall_s'] / 60:.1f} min. Margin held: the book's initial "
        "requirement at the start (`initialHealthOf`); book notional: the positions opened, at "
        "the start prices, and how many plans the model cut; IM / cost per notional: the "
        "requirement, and the requirement plus the deposits' value the model does not count as "
        "equity (collateral haircuts, the fill's fees), over the book's notional.",
        "",
    ]
    first = rows[0]["scenario"] if rows else None
    books = {r["model"]: r["margin"]["books"] for r in rows if r["scenario"] == first}
    if {"standard", "portfolio"} <= books.keys():
        for kind in ("hedged", "directional"):
            std, pf = books["standard"].get(kind), books["portfolio"].get(kind)
            if std and pf and std["cost_per_notional"]:
                lines.append(
                    f"- {kind} book: margin cost {std['cost_per_notional']:.1%} of notional on the "
                    f"standard model, {pf['cost_per_notional']:.1%} on the portfolio model "
                    f"({pf['cost_per_notional'] / std['cost_per_notional']:.0%} of it)."
                )
    for r in rows:
        if r["scenario"] == "gap_30" and r["model"] == "portfolio":
            verdict = "within" if r["bad_debt_within_fund"] else "NOT within"
            lines.append(
                f"- `gap_30` (an instant 30% fall of both assets) on the portfolio model, whose "
                f"grid moves each asset by its scan range (30% at the floor): bad debt "
                f"${r['bad_debt_usd']:,.0f}, {verdict} the insurance fund's "
                f"${r['fund_start_usd']:,.0f} (fund drawdown "
                f"${r['insurance_drawdown_usd']:,.0f}, socialized "
                f"${r['socialized_usd']:,.0f}). Negative equity left at the oracle: "
                f"${r.get('outstanding_negative_equity_usd', 0.0):,.0f}; the bad debt is what "
                f"the liquidations realized, penalties beyond the equity left and seized "
                f"collateral sold in {r.get('auctions_taken', 0)} auction takes at "
                f"{r.get('clearing_price_vs_oracle') or 0:.2f} of the oracle on average."
            )
    return lines


def _efficiency(book: dict[str, Any] | None) -> str:
    if not book:
        return "—"
    return f"{book['requirement_per_notional']:.1%} / {book['cost_per_notional']:.1%}"


def plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Left: bad debt against the margin the book holds, one point per scenario and model, a
    line from the standard to the portfolio run of each scenario. Right: the margin cost per
    notional of the hedged and the directional books under each model."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    markers = {"standard": "o", "portfolio": "s"}
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    for i, name in enumerate(scenarios):
        color = f"C{i}"
        runs = [r for r in rows if r["scenario"] == name]
        xs = [r["margin"]["initial_requirement_usd"] for r in runs]
        ys = [r["bad_debt_usd"] for r in runs]
        left.plot(xs, ys, color=color, alpha=0.4)
        for r, x, y in zip(runs, xs, ys, strict=True):
            left.scatter(x, y, color=color, marker=markers.get(r["model"], "x"), s=60)
        left.plot([], [], color=color, label=name)
    for model, marker in markers.items():
        left.scatter([], [], color="grey", marker=marker, label=model)
    left.set_xlabel("margin held: the book's initial requirement at the start (USD)")
    left.set_ylabel("bad debt (USD)")
    left.set_title("bad debt against margin held")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    first = {r["model"]: r["margin"]["books"] for r in rows if r["scenario"] == scenarios[0]}
    kinds = ("hedged", "directional")
    width = 0.35
    for j, (model, books) in enumerate(first.items()):
        values = [books.get(k, {}).get("cost_per_notional", 0.0) * 100 for k in kinds]
        bars = right.bar([i + j * width for i in range(len(kinds))], values, width, label=model)
        right.bar_label(bars, fmt="%.1f%%", fontsize=8)
    right.set_xticks([i + width / 2 for i in range(len(kinds))], [f"{k} book" for k in kinds])
    right.set_ylabel("margin cost per notional (%): IM + haircuts and fees")
    right.set_title("capital efficiency (initialHealthOf at the start)")
    right.legend()
    right.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def on_anvil(project: Any, networks: Any) -> Runner:
    """Runs a scenario as `ape run simulate` does: a fresh Anvil and deployment each."""

    def run(name: str, options: CampaignOptions) -> SimResult:
        return run_scenario(project, networks, name, options)

    return run
