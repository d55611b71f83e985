"""A Monte Carlo campaign: N seeded paths x a grid of parameter points, each episode an
independent task on Dask (docs/simulator.md, "Monte Carlo campaign"), aggregated into quantiles
per point and a parameter recommendation; a sample of its episodes is replayed on Anvil.

The engine: with no scheduler address the campaign starts a `distributed.LocalCluster` of worker
processes on this machine's cores; given `tcp://host:8786` it submits the same tasks to that
cluster (its workers need this package installed), with no code change; `inline` runs them in
this process (no Dask at all), which gives the same results: each episode depends only on its
spec.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from solvent.sim.montecarlo.episode import (
    AXES,
    BookSpec,
    EpisodeSpec,
    KeeperSpec,
    PathSpec,
    Point,
    summary,
)
from solvent.sim.run import quantile

INLINE = "inline"
DEFAULT_GRID = (("leverage", (5.0, 10.0, 15.0)), ("latency", (1.0, 3.0, 10.0)))
QUANTILES = (0.50, 0.95, 0.99)
# the figures aggregated per point (episode metric -> what the report calls it)
AGGREGATED = ("bad_debt_usd", "lp_loss_usd", "lp_credit_loss_usd", "socialized_usd")


class CampaignOptionError(ValueError):
    """A campaign option the CLI refuses, with what is wrong."""


Grid = tuple[tuple[str, tuple[float, ...]], ...]


@dataclass(frozen=True)
class CampaignSpec:
    paths: int = 200
    first_seed: int = 1
    grid: Grid = DEFAULT_GRID
    path: PathSpec = field(default_factory=PathSpec)
    book: BookSpec = field(default_factory=BookSpec)
    keeper: KeeperSpec = field(default_factory=KeeperSpec)
    base: Point = field(default_factory=Point)  # the values of the axes not on the grid
    batch: int = 20  # episodes per task

    def __post_init__(self) -> None:
        if self.paths < 1:
            raise CampaignOptionError("--paths must be at least 1")
        if not 1 <= len(self.grid) <= 2:
            raise CampaignOptionError("the grid has one or two axes (--grid AXIS=V1,V2,...)")
        axes = [axis for axis, _ in self.grid]
        if len(set(axes)) != len(axes):
            raise CampaignOptionError(f"an axis appears twice in the grid: {axes}")
        if self.batch < 1:
            raise CampaignOptionError("--batch must be at least 1")

    @property
    def axes(self) -> tuple[str, ...]:
        return tuple(axis for axis, _ in self.grid)

    def points(self) -> list[Point]:
        """Every point of the grid, the first axis outermost; the other axes at `base`."""
        base = dataclasses.asdict(self.base)
        return [
            Point.of(base | dict(zip(self.axes, combo, strict=True)))
            for combo in product(*(values for _, values in self.grid))
        ]

    def seeds(self) -> range:
        return range(self.first_seed, self.first_seed + self.paths)

    def episodes(self) -> list[EpisodeSpec]:
        return [
            EpisodeSpec(point, seed, self.path, self.book, self.keeper)
            for point in self.points()
            for seed in self.seeds()
        ]


def parse_grid(items: list[str]) -> Grid:
    """`["leverage=5,10,15", "fund=50000,250000"]` -> the grid, refusing what is not one."""
    grid = []
    for item in items:
        axis, sep, raw = item.partition("=")
        axis = axis.strip()
        if not sep or axis not in AXES:
            raise CampaignOptionError(
                f"--grid {item!r}: write AXIS=V1,V2,... with AXIS one of {', '.join(AXES)}"
            )
        try:
            values = tuple(float(v) for v in raw.split(",") if v.strip())
        except ValueError as exc:
            raise CampaignOptionError(f"--grid {item!r}: values must be numbers") from exc
        if not values:
            raise CampaignOptionError(f"--grid {item!r}: no values")
        if len(set(values)) != len(values):
            raise CampaignOptionError(f"--grid {item!r}: a value appears twice")
        _check_axis(axis, values)
        grid.append((axis, tuple(sorted(values))))
    return tuple(grid)


def _check_axis(axis: str, values: tuple[float, ...]) -> None:
    bad = {
        "leverage": [v for v in values if not 1 <= v <= 15],
        "penalty": [v for v in values if not 0 <= v < 0.2],
        "fund": [v for v in values if v < 0],
        "latency": [v for v in values if v < 1 or v != int(v)],
        "buf": [v for v in values if not 1 <= v <= 2],
        "cut": [v for v in values if not 0 < v < 1],
    }[axis]
    if bad:
        rule = {
            "leverage": "between 1 and 15 (1 / the 6.5% maintenance margin)",
            "penalty": "a rate in [0, 0.2)",
            "fund": "USD >= 0",
            "latency": "whole blocks >= 1",
            "buf": "a start price / oracle in [1, 2] (the liquidator's bounds)",
            "cut": "a decay per step in (0, 1)",
        }[axis]
        raise CampaignOptionError(f"--grid {axis}: {bad} out of range: {rule}")


# ---------------------------------------------------------------------- execution


def run_batch(specs: list[EpisodeSpec]) -> list[dict[str, Any]]:
    """One task: the summaries of a few episodes (module level, so a worker can unpickle it)."""
    return [summary(spec) for spec in specs]


def _batches(specs: list[EpisodeSpec], size: int) -> Iterator[list[EpisodeSpec]]:
    for start in range(0, len(specs), size):
        yield specs[start : start + size]


def execute(spec: CampaignSpec, scheduler: str | None = None) -> tuple[list[dict], dict]:
    """Runs every episode; returns their summaries in (point, seed) order and how it ran.
    `scheduler`: None starts a LocalCluster on this machine's cores, `inline` runs here, else a
    Dask scheduler's address."""
    episodes = spec.episodes()
    batches = list(_batches(episodes, spec.batch))
    if scheduler == INLINE:
        results = [row for batch in batches for row in run_batch(batch)]
        return results, {"scheduler": INLINE, "workers": 1, "tasks": len(batches)}
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        )
        address = cluster.scheduler_address
    else:
        address = scheduler
    try:
        with Client(address) as client:
            workers = len(client.scheduler_info()["workers"])
            futures = client.map(run_batch, batches, pure=False)
            results = [row for rows in client.gather(futures) for row in rows]
    finally:
        if cluster is not None:
            cluster.close()
    engine = {
        "scheduler": "LocalCluster" if cluster is not None else address,
        "workers": workers,
        "tasks": len(batches),
    }
    return results, engine


# ---------------------------------------------------------------------- aggregation


def aggregate(spec: CampaignSpec, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per point: quantiles of bad debt and LP losses over its paths, and whether its 99th
    percentile of bad debt stays under the fund."""
    rows = []
    for point in spec.points():
        mine = [r for r in results if r["point"] == dataclasses.asdict(point)]
        if not mine:
            continue
        row: dict[str, Any] = {
            "point": dataclasses.asdict(point),
            "label": point.label(spec.axes),
            "paths": len(mine),
        }
        for metric in AGGREGATED:
            values = [float(r[metric]) for r in mine]
            for q in QUANTILES:
                row[f"{metric}_p{round(q * 100)}"] = round(quantile(values, q), 2)
            row[f"{metric}_mean"] = round(sum(values) / len(values), 2)
            row[f"{metric}_max"] = round(max(values), 2)
        row["liquidations_mean"] = round(sum(r["liquidations"] for r in mine) / len(mine), 2)
        row["paths_with_bad_debt"] = sum(1 for r in mine if r["bad_debt_usd"] > 0)
        row["p99_bad_debt_within_fund"] = row["bad_debt_usd_p99"] <= point.fund
        rows.append(row)
    return rows


def recommend(spec: CampaignSpec, rows: list[dict[str, Any]]) -> list[str]:
    """For each setting of the other axis: the largest leverage on the grid (when leverage is an
    axis) or the smallest fund (when the fund is) whose 99th-percentile bad debt stays within the
    fund. Said for the grid that ran, no further."""
    statements = []
    for axis, pick, word in (("leverage", max, "largest leverage"), ("fund", min, "smallest fund")):
        if axis not in spec.axes:
            continue
        others = [a for a in spec.axes if a != axis]
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for row in rows:
            key = tuple((a, row["point"][a]) for a in others)
            groups.setdefault(key, []).append(row)
        for key, group in groups.items():
            where = "At " + ", ".join(f"{a}={v:,.10g}" for a, v in key) if key else "On the grid"
            safe = [r["point"][axis] for r in group if r["p99_bad_debt_within_fund"]]
            tried = ", ".join(f"{r['point'][axis]:,.10g}" for r in group)
            if safe:
                statements.append(
                    f"{where}: the {word} that keeps p99 bad debt within the fund is "
                    f"{axis}={pick(safe):,.10g} (grid: {tried})."
                )
            else:
                statements.append(
                    f"{where}: no {axis} on the grid ({tried}) keeps p99 bad debt within the fund."
                )
    if not statements:
        statements.append(
            "Neither leverage nor the fund is on the grid: put one of them on it for a "
            "recommendation."
        )
    return statements


def choose_replays(
    spec: CampaignSpec, results: list[dict[str, Any]], count: int
) -> list[EpisodeSpec]:
    """The episodes the referee replays: the worst bad debt of each point first, then the most
    liquidations not chosen yet, until `count` (the tail is where a model bug would show)."""
    by_key = {(tuple(sorted(r["point"].items())), r["seed"]): r for r in results}
    chosen: list[tuple] = []
    for point in spec.points():
        mine = [r for r in results if r["point"] == dataclasses.asdict(point)]
        if mine and len(chosen) < count:
            worst = max(mine, key=lambda r: (r["bad_debt_usd"], r["liquidations"], -r["seed"]))
            chosen.append((tuple(sorted(worst["point"].items())), worst["seed"]))
    rest = sorted(results, key=lambda r: (-r["liquidations"], -r["bad_debt_usd"], r["seed"]))
    for r in rest:
        if len(chosen) >= count:
            break
        key = (tuple(sorted(r["point"].items())), r["seed"])
        if key not in chosen:
            chosen.append(key)
    specs = []
    for key in chosen:
        r = by_key[key]
        point = Point.of({k: r["point"][k] for k in AXES})
        specs.append(EpisodeSpec(point, r["seed"], spec.path, spec.book, spec.keeper))
    return specs
