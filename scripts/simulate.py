"""ape run simulate --scenario march_2020 [--accounts 300 --seed 2020 --keepers 2 --latency 1 ...]

Runs crash scenarios, each on a fresh Anvil of its own, and writes reports/sim/<scenario>/
(summary.json and PNG plots) and reports/sim/index.json. `--scenario all` runs the standard set;
append `_no_keepers` to a name to run it with no keeper at all. `--oracle deviation` publishes a
round only on a 0.5% move or after the 3600 s heartbeat (`cadence`: at the real Chainlink rounds'
times), `--oracle-lag` delays what the feeds see (docs/simulator.md, "Oracle model").
`--risk-model portfolio` puts every trader account on the deployment's portfolio model (reports
under reports/sim/portfolio/), `--hedged-share` makes a share of the population basis trades
(docs/simulator.md, "Risk models").
"""

from pathlib import Path

import click
from ape import networks, project
from ape.logging import logger

from solvent.sim.campaign import DEFAULT_SET, CampaignOptions, run_scenario, write, write_index
from solvent.sim.oracle_model import KINDS, OracleModel
from solvent.sim.risk_models import RISK_MODELS, STANDARD
from solvent.sim.scenarios import SCENARIOS, with_oracle


@click.command()
@click.option(
    "--scenario",
    "names",
    multiple=True,
    default=("all",),
    show_default=True,
    help=f"repeatable; 'all' (the standard set) or one of: {', '.join(SCENARIOS)}, "
    "each optionally with _no_keepers",
)
@click.option("--accounts", default=300, show_default=True)
@click.option("--seed", default=2020, show_default=True)
@click.option("--keepers", default=2, show_default=True)
@click.option("--latency", "latency_blocks", default=1, show_default=True)
@click.option("--failure-rate", default=0.1, show_default=True)
@click.option("--gas-budget", "gas_budget_per_block", default=30_000_000, show_default=True)
@click.option("--step", "step_seconds", default=300, show_default=True, help="seconds per block")
@click.option("--keeper-capital", "keeper_capital_usd", default=50_000_000.0, show_default=True)
@click.option(
    "--exchange-depth",
    "exchange_depth_usd",
    default=0.0,
    show_default=True,
    help="USD a side of a constant-product exchange keepers sell their takes on (0: none)",
)
@click.option(
    "--bid-step",
    "bid_step_gwei",
    default=0.0,
    show_default=True,
    help="priority fee step between keepers (gwei): the first keeper bids the most",
)
@click.option(
    "--top-up-share",
    default=0.0,
    show_default=True,
    help="share of traders who deposit more quote when maintenance health falls below 1.25",
)
@click.option(
    "--reduce-share",
    default=0.0,
    show_default=True,
    help="share of traders who halve their positions through the order book near liquidation",
)
@click.option(
    "--take-profit-share",
    default=0.0,
    show_default=True,
    help="share of traders who withdraw half their quote when maintenance health is above 3",
)
@click.option(
    "--stress-lp-usd",
    default=0.0,
    show_default=True,
    help="an LP of this size who redeems all once a market is --stress-lp-drawdown below its start",
)
@click.option("--stress-lp-drawdown", default=0.10, show_default=True)
@click.option(
    "--oracle",
    type=click.Choice(KINDS),
    default=KINDS[0],
    show_default=True,
    help="when feeds publish: every block; on a 0.5% deviation or the 3600 s heartbeat; "
    "at the real Chainlink rounds' times",
)
@click.option("--oracle-lag", default=0, show_default=True, help="seconds the feeds trail the path")
@click.option(
    "--risk-model",
    type=click.Choice(RISK_MODELS),
    default=STANDARD,
    show_default=True,
    help="the traders' margin: the engine's standard model or the deployment's portfolio model",
)
@click.option(
    "--hedged-share",
    default=0.0,
    show_default=True,
    help="share of traders holding a basis trade (WETH collateral, the same ETH-PERP short)",
)
@click.option("--out", default="reports/sim", show_default=True, type=click.Path(path_type=Path))
def cli(names, out, oracle, oracle_lag, **options):
    logger.set_level("WARNING")  # one line per scenario, not per set-up transaction
    model = OracleModel(kind=oracle, lag_seconds=oracle_lag)
    chosen = [with_oracle(n, model) for n in (DEFAULT_SET if names == ("all",) else names)]
    settings = CampaignOptions(**options)
    if settings.risk_model != STANDARD:
        out = out / settings.risk_model
    summaries = []
    for name in chosen:
        with click.progressbar(length=1, label=f"{name:<24}") as bar:

            def progress(step: int, total: int, bar=bar) -> None:
                bar.length = total
                bar.update(step - bar.pos)

            result = run_scenario(project, networks, name, settings, progress)
        files = write(result, out / name)
        s = result.summary
        click.echo(
            f"  bad debt ${s['bad_debt_usd']:,.0f} (peak ${s['bad_debt_peak_usd']:,.0f})  "
            f"liquidations {s['liquidations']} ({s['liquidated_accounts']} accounts)  "
            f"fund drawdown ${s['insurance_drawdown_usd']:,.0f}  "
            f"LP PnL ${s['lp_pnl_usd']['total']:,.0f}  report {files[0].parent}"
        )
        summaries.append(s)
    write_index(summaries, out / "index.json")
