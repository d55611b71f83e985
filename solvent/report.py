"""Reports of the demo and the simulator: a JSON summary, PNG plots and one HTML page that puts
them together (inputs, headline tables, plots) under a reports folder."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

Rows = list[tuple[str, Any]]


@dataclass
class Series:
    """One line of a time plot: y values at x (blocks, steps or hours)."""

    label: str
    x: Sequence[float]
    y: Sequence[float]


@dataclass
class Report:
    title: str
    summary: dict[str, Any]
    # One axis per plot, every series on it.
    time_plots: dict[str, list[Series]] = field(default_factory=dict)
    histograms: dict[str, Sequence[float]] = field(default_factory=dict)
    x_label: str = "block"
    # One panel per series, each on its own y axis (prices of assets an order of magnitude apart).
    panels: dict[str, list[Series]] = field(default_factory=dict)
    # Plots whose y axis starts at zero: a 1.5% drawdown of a fund must not look like a cliff.
    zero_based: frozenset[str] = frozenset()
    # Tables of the HTML page, heading -> (label, value) rows, in order.
    tables: dict[str, Rows] = field(default_factory=dict)

    def write(self, folder: Path) -> list[Path]:
        """Writes summary.json, one PNG per plot and index.html; returns the files written
        (summary.json first, index.html last)."""
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "summary.json"]
        written[0].write_text(json.dumps(self.summary, indent=2, default=str) + "\n")
        for name, lines in self.time_plots.items():
            written.append(self._time_plot(folder / f"{name}.png", name, lines))
        for name, lines in self.panels.items():
            written.append(self._panels(folder / f"{name}.png", name, lines))
        for name, values in self.histograms.items():
            written.append(self._histogram(folder / f"{name}.png", name, values))
        written.append(self._page(folder / "index.html", [p.name for p in written[1:]]))
        return written

    def _time_plot(self, path: Path, name: str, lines: list[Series]) -> Path:
        fig, ax = plt.subplots(figsize=(8, 4))
        for line in lines:
            ax.plot(line.x, line.y, label=line.label)
        ax.set_title(f"{self.title}: {name.replace('_', ' ')}")
        ax.set_xlabel(self.x_label)
        if name in self.zero_based:
            ax.set_ylim(bottom=min(0.0, *(min(line.y, default=0.0) for line in lines)))
        if len(lines) > 1:
            ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path

    def _panels(self, path: Path, name: str, lines: list[Series]) -> Path:
        fig, axes = plt.subplots(len(lines), 1, figsize=(8, 2.6 * len(lines)), sharex=True)
        for ax, line in zip([axes] if len(lines) == 1 else axes, lines, strict=True):
            ax.plot(line.x, line.y)
            ax.set_ylabel(line.label)
            ax.grid(alpha=0.3)
        fig.suptitle(f"{self.title}: {name.replace('_', ' ')}")
        fig.supxlabel(self.x_label)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path

    def _histogram(self, path: Path, name: str, values: Sequence[float]) -> Path:
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.hist(values, bins=40)
        ax.set_title(f"{self.title}: {name.replace('_', ' ')}")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path

    def _page(self, path: Path, images: list[str]) -> Path:
        parts = [
            "<!doctype html>",
            '<html><head><meta charset="utf-8">',
            f"<title>{html.escape(self.title)}</title>",
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
            "table{border-collapse:collapse;margin-bottom:1.5em}"
            "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
            "td.num{text-align:right}img{max-width:100%}</style>",
            f"</head><body><h1>{html.escape(self.title)}</h1>",
        ]
        for heading, rows in self.tables.items():
            parts.append(f"<h2>{html.escape(heading)}</h2><table>")
            for label, value in rows:
                cls = ' class="num"' if isinstance(value, int | float) else ""
                parts.append(
                    f"<tr><th>{html.escape(label)}</th><td{cls}>{html.escape(_cell(value))}</td></tr>"
                )
            parts.append("</table>")
        parts.append("<h2>Plots</h2>")
        for image in images:
            parts.append(f'<p><img src="{html.escape(image)}" alt="{html.escape(image)}"></p>')
        parts.append('<p>All figures: <a href="summary.json">summary.json</a></p></body></html>')
        path.write_text("\n".join(parts) + "\n")
        return path


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        small = abs(value) < 10 and value != round(value)
        return f"{value:,.4f}" if small else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " | ".join(_cell(v) for v in value)
    return str(value)
