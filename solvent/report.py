"""Reports of the demo and the simulator: a JSON summary and PNG plots under a reports folder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt


@dataclass
class Series:
    """One line of a time plot: y values at x (blocks or steps)."""

    label: str
    x: Sequence[float]
    y: Sequence[float]


@dataclass
class Report:
    title: str
    summary: dict[str, Any]
    time_plots: dict[str, list[Series]] = field(default_factory=dict)
    histograms: dict[str, Sequence[float]] = field(default_factory=dict)
    x_label: str = "block"

    def write(self, folder: Path) -> list[Path]:
        """Writes summary.json and one PNG per plot; returns the files written."""
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "summary.json"]
        written[0].write_text(json.dumps(self.summary, indent=2, default=str) + "\n")
        for name, lines in self.time_plots.items():
            written.append(self._time_plot(folder / f"{name}.png", name, lines))
        for name, values in self.histograms.items():
            written.append(self._histogram(folder / f"{name}.png", name, values))
        return written

    def _time_plot(self, path: Path, name: str, lines: list[Series]) -> Path:
        fig, ax = plt.subplots(figsize=(8, 4))
        for line in lines:
            ax.plot(line.x, line.y, label=line.label)
        ax.set_title(f"{self.title}: {name.replace('_', ' ')}")
        ax.set_xlabel(self.x_label)
        if len(lines) > 1:
            ax.legend()
        ax.grid(alpha=0.3)
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
