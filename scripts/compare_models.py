"""ape run compare_models [--accounts 300 --seed 2020 --out reports/models]

The same population (a quarter of it basis trades) under the standard margin and the portfolio
risk model, on march_2020, gap_30, gap_50 and gbm_jumps, each run on a fresh Anvil: bad debt,
liquidations, fund drawdown and the margin the book needs (docs/simulator.md, "Risk models").
Writes reports/models/summary.json, tradeoff.png, table.md and each run's report.
"""

from pathlib import Path

import click
from ape import networks, project
from ape.logging import logger

from solvent.sim.campaign import CampaignOptions
from solvent.sim.compare_models import HEDGED_SHARE, SCENARIOS, compare, on_anvil


@click.command()
@click.option(
    "--scenario",
    "names",
    multiple=True,
    default=SCENARIOS,
    show_default=True,
    help="repeatable; any scenario `ape run simulate` knows",
)
@click.option("--accounts", default=300, show_default=True)
@click.option("--seed", default=2020, show_default=True)
@click.option("--hedged-share", default=HEDGED_SHARE, show_default=True)
@click.option("--out", default="reports/models", show_default=True, type=click.Path(path_type=Path))
def cli(names, accounts, seed, hedged_share, out):
    logger.set_level("WARNING")
    options = CampaignOptions(accounts=accounts, seed=seed, hedged_share=hedged_share)
    summary = compare(on_anvil(project, networks), options, tuple(names), out)
    for r in summary["runs"]:
        click.echo(
            f"{r['scenario']:<12} {r['model']:<10} margin held "
            f"${r['margin']['initial_requirement_usd']:,.0f}  bad debt ${r['bad_debt_usd']:,.0f}  "
            f"liquidations {r['liquidations']} ({r['liquidated_accounts']})  "
            f"fund drawdown ${r['insurance_drawdown_usd']:,.0f}"
        )
    click.echo(f"report {out}")
