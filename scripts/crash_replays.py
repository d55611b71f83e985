"""ape run crash_replays [--window real_ftx_2022 ...] [--accounts 100 --seed 2020 --step 600]

Replays each real crash window (solvent/sim/history.py) with the same trader population under
reactive margin (the on-chain EWMA) and predictive margin (the risk keeper's forecast through the
RiskSteward every simulated hour), each window on a fresh Anvil of its own, and writes
reports/crash/summary.json and table.md (docs/predictive-margin.md, "Crash replays")."""

from __future__ import annotations

import time
from pathlib import Path

import click
from ape import networks, project
from ape.logging import logger

from solvent.sim import crash_replay
from solvent.sim.campaign import CampaignOptions


@click.command()
@click.option(
    "--window",
    "windows",
    multiple=True,
    default=crash_replay.WINDOWS,
    show_default=True,
    type=click.Choice(crash_replay.WINDOWS),
    help="repeatable",
)
@click.option("--accounts", default=100, show_default=True)
@click.option("--seed", default=2020, show_default=True)
@click.option("--step", "step_seconds", default=600, show_default=True, help="seconds per block")
@click.option("--lead-hours", default=24, show_default=True, help="hourly closes before a window")
@click.option("--out", default="reports/crash", show_default=True, type=click.Path(path_type=Path))
def cli(windows, accounts, seed, step_seconds, lead_hours, out):
    logger.set_level("WARNING")
    options = crash_replay.ReplayOptions(
        accounts, seed, step_seconds, lead_hours, CampaignOptions(seed=seed)
    )
    summaries = []
    started = time.monotonic()
    for name in windows:
        with click.progressbar(length=1, label=f"{name:<20}") as bar:

            def progress(mode: str, done: int, total: int, bar=bar, name=name) -> None:
                bar.label = f"{name:<18} {mode:<10}"
                bar.length = total
                bar.update(done - bar.pos)

            window = crash_replay.replay_window(project, networks, name, options, progress)
        summaries.append(crash_replay.window_summary(window))
    files = crash_replay.write_report(summaries, options, out)
    click.echo(crash_replay.markdown_table(summaries))
    click.echo(f"{time.monotonic() - started:.0f} s; report: {', '.join(map(str, files))}")
