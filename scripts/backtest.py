"""Walk-forward backtest of the volatility forecasters on the real hourly history: `ape run
backtest` (or `make backtest`) writes reports/backtest/ (summary.json, tables.md, PNGs).

No chain is needed: the forecasts, margins and tests are computed off-chain
(solvent/forecast/, docs/predictive-margin.md)."""

from __future__ import annotations

from pathlib import Path

import click

from solvent.forecast import backtest
from solvent.price_history import utc


@click.command()
@click.option("--start", default="2018-01-01", show_default=True, help="first origin (UTC day)")
@click.option("--asset", "assets", multiple=True, default=("WETH", "WBTC"), show_default=True)
@click.option(
    "--out", default="reports/backtest", show_default=True, type=click.Path(path_type=Path)
)
def cli(start: str, assets: tuple[str, ...], out: Path) -> None:
    results = [backtest.run_asset(asset, utc(start)) for asset in assets]
    files = backtest.write_report(results, out)
    click.echo(backtest.markdown_table(results))
    click.echo(f"report: {', '.join(str(f) for f in files)}")
