"""The campaign's report: report.json (inputs, per-point quantiles, the recommendation, the
referee's replays, every episode's metrics, wall times), heatmap PNGs and report.html."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

HEATMAPS = (
    ("bad_debt_usd_p99", "bad debt, 99th percentile (USD)"),
    ("lp_loss_usd_p99", "LP loss, 99th percentile (USD)"),
    ("lp_credit_loss_usd_p99", "LP credit loss, 99th percentile (USD)"),
)
DISTRIBUTIONS = (("bad_debt_usd", "bad debt (USD)"), ("lp_loss_usd", "LP loss (USD)"))
COLUMNS = (
    ("label", "point"),
    ("paths", "paths"),
    ("bad_debt_usd_p50", "bad debt p50"),
    ("bad_debt_usd_p95", "p95"),
    ("bad_debt_usd_p99", "p99"),
    ("bad_debt_usd_max", "max"),
    ("lp_loss_usd_p50", "LP loss p50"),
    ("lp_loss_usd_p95", "p95"),
    ("lp_loss_usd_p99", "p99"),
    ("lp_credit_loss_usd_p99", "LP credit loss p99"),
    ("socialized_usd_p99", "socialized p99"),
    ("liquidations_mean", "liquidations (mean)"),
    ("paths_with_bad_debt", "paths with bad debt"),
    ("p99_bad_debt_within_fund", "p99 bad debt within fund"),
)


def write(folder: Path, report: dict[str, Any]) -> list[Path]:
    """report.json, a heatmap per figure (with a two-axis grid) and report.html."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "report.json"]
    written[0].write_text(json.dumps(report, indent=2, default=str) + "\n")
    axes = report["inputs"]["axes"]
    images = []
    if len(axes) == 2:
        for metric, title in HEATMAPS:
            path = folder / f"heatmap_{metric}.png"
            heatmap(path, report["points"], axes, metric, title)
            images.append(path)
    for metric, title in DISTRIBUTIONS:
        path = folder / f"distribution_{metric}.png"
        distribution(path, report, metric, title)
        images.append(path)
    written += images
    page = folder / "report.html"
    page.write_text(_page(report, [p.name for p in images]))
    written.append(page)
    return written


def heatmap(
    path: Path, rows: list[dict[str, Any]], axes: list[str], metric: str, title: str
) -> None:
    """`metric` over the grid: first axis down, second across, each cell annotated."""
    ys = sorted({r["point"][axes[0]] for r in rows})
    xs = sorted({r["point"][axes[1]] for r in rows})
    grid = [[0.0] * len(xs) for _ in ys]
    for r in rows:
        grid[ys.index(r["point"][axes[0]])][xs.index(r["point"][axes[1]])] = r[metric]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    image = ax.imshow(grid, cmap="Reds", origin="lower", aspect="auto")
    ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
    ax.set_xlabel(axes[1])
    ax.set_ylabel(axes[0])
    ax.set_title(title)
    top = max((abs(v) for row in grid for v in row), default=0.0)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            color = "white" if top and value > top / 2 else "black"  # readable on dark cells
            ax.text(j, i, f"{value:,.0f}", ha="center", va="center", fontsize=8, color=color)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def distribution(path: Path, report: dict[str, Any], metric: str, title: str) -> None:
    """Each grid point's distribution of `metric` over its paths: the share of paths above each
    level (a survival curve), on a symmetric log axis (most paths sit at 0, the tail spans
    decades)."""
    axes = report["inputs"]["axes"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in report["points"]:
        mine = sorted(
            e[metric]
            for e in report["episodes"]
            if all(e["point"][a] == row["point"][a] for a in axes)
        )
        n = len(mine)
        ax.step(mine, [1 - i / n for i in range(n)], where="post", label=row["label"])
    ax.set_xscale("symlog", linthresh=1_000)
    ax.set_xlabel(title)
    ax.set_ylabel("share of paths at or above")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict | list):
        return f"<code>{html.escape(json.dumps(value, default=str))}</code>"
    return html.escape(str(value))


def _page(report: dict[str, Any], images: list[str]) -> str:
    inputs = report["inputs"]
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Monte Carlo campaign</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "td:first-child{text-align:left}</style></head><body>",
        "<h1>Monte Carlo campaign</h1>",
        "<h2>Parameter recommendation</h2><ul>",
        *(f"<li>{html.escape(s)}</li>" for s in report["recommendation"]),
        "</ul>",
        "<h2>Headline: quantiles over the paths of each grid point (USD)</h2><table><tr>",
        *(f"<th>{html.escape(title)}</th>" for _, title in COLUMNS),
        "</tr>",
    ]
    for row in report["points"]:
        out.append("<tr>" + "".join(f"<td>{_cell(row[key])}</td>" for key, _ in COLUMNS) + "</tr>")
    out.append("</table>")
    out += [f"<p><img src='{name}'></p>" for name in images]
    out.append("<h2>Referee: episodes replayed on Anvil, equal to the wei</h2><table>")
    out.append(
        "<tr><th>point</th><th>seed</th><th>bad debt</th><th>liquidations</th>"
        "<th>values compared</th><th>equal</th></tr>"
    )
    for r in report["replays"]:
        out.append(
            f"<tr><td>{_cell(r['point'])}</td><td>{r['seed']}</td>"
            f"<td>{_cell(r['bad_debt_usd'])}</td><td>{r['liquidations']}</td>"
            f"<td>{r['values_compared']}</td><td>{_cell(r['equal_to_the_wei'])}</td></tr>"
        )
    out.append("</table><h2>Inputs</h2><table>")
    for key, value in inputs.items():
        out.append(f"<tr><td>{html.escape(key)}</td><td>{_cell(value)}</td></tr>")
    out.append("</table><h2>Run</h2><table>")
    for key, value in report["run"].items():
        out.append(f"<tr><td>{html.escape(key)}</td><td>{_cell(value)}</td></tr>")
    out.append("</table></body></html>")
    return "\n".join(out)


def markdown(report: dict[str, Any]) -> list[str]:
    """The campaign's section of docs/BENCHMARKS.md: what ran, how long, the quantile table, the
    recommendation and the referee's replays."""
    inputs, run = report["inputs"], report["run"]
    path, book = inputs["path"], inputs["book"]
    replays = report["replays"]
    lines = [
        f"`{inputs['command']}`: {run['episodes']:,} episodes ({inputs['paths_per_point']} "
        f"paths, seeds {inputs['seeds'][0]}-{inputs['seeds'][1]}, x {len(report['points'])} grid "
        f"points of {' x '.join(inputs['axes'])}), path model `{path['model']}` "
        f"({path['steps']} blocks of {path['step_seconds']} s), a book of {book['accounts']} "
        f"accounts ({book.get('collateral_share', 0):.0%} margined in ETH or BTC, the rest in "
        f"quote; seed {book['seed']}), base point {inputs['base_point']}. "
        f"Wall time {run['total_wall_s']:,.0f} s: the model on {run['workers']} Dask worker "
        f"process(es) ({run['scheduler']}) {run['model_wall_s']:,.0f} s, {len(replays)} Anvil "
        f"replays {run['replays_wall_s']:,.0f} s.",
        "",
        "| point | bad debt p50 | p95 | p99 | LP loss p50 | p95 | p99 | LP credit loss p99 "
        "| liquidations (mean) | paths with bad debt | p99 bad debt within fund |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["points"]:
        usd = [
            _usd(r[key])
            for key in (
                "bad_debt_usd_p50",
                "bad_debt_usd_p95",
                "bad_debt_usd_p99",
                "lp_loss_usd_p50",
                "lp_loss_usd_p95",
                "lp_loss_usd_p99",
                "lp_credit_loss_usd_p99",
            )
        ]
        lines.append(
            f"| {r['label']} | {' | '.join(usd)} | {r['liquidations_mean']:,.1f} "
            f"| {r['paths_with_bad_debt']} | {'yes' if r['p99_bad_debt_within_fund'] else 'no'} |"
        )
    lines += ["", *(f"- {s}" for s in report["recommendation"]), ""]
    if replays:
        compared = sum(r["values_compared"] for r in replays)
        lines += [
            f"Referee: {len(replays)} episodes replayed on Anvil (the worst bad debt of each "
            "point, "
            f"then the most liquidations), all equal to the wei ({compared:,} values compared; "
            f"{sum(r['liquidations'] for r in replays):,} liquidations, "
            f"{sum(r.get('auctions_taken', 0) for r in replays):,} takes, "
            f"{sum(r.get('auction_resets', 0) for r in replays):,} resets, "
            f"${sum(r['bad_debt_usd'] for r in replays):,.0f} of bad debt).",
            "",
        ]
    return lines


def _usd(value: float) -> str:
    """$1,234 or -$1,234 (a negative LP loss is a gain)."""
    return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"
