"""The risk keeper: forecasts each asset's volatility and pushes it to the RiskSteward within its
bounds (docs/predictive-margin.md). `ape run risk_keeper --network ... --account ...`.

It fits GARCH(1,1)-t on the hourly history (the vendored closes, then the oracle's prices it reads
at every step) and pushes at most what the steward accepts; a forecast below the on-chain estimate
is not sent (it would change nothing)."""

from __future__ import annotations

import time

import click
from ape.cli import ConnectedProviderCommand, account_option
from prometheus_client import start_http_server

from solvent.deploy import attach
from solvent.forecast.risk_keeper import AssetHistory, RiskKeeper
from solvent.ops.cli import record_for
from solvent.price_history import hourly


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--deployment", default=None, help="deployments/<name>.json (default: network)")
@click.option("--interval", type=float, default=3600.0, show_default=True, help="seconds per step")
@click.option("--once", is_flag=True, help="one step, then exit (cron)")
@click.option(
    "--history/--no-history",
    default=True,
    show_default=True,
    help="start from the vendored hourly closes (data/prices/) up to the chain's time",
)
@click.option("--metrics-port", type=int, default=None, help="Serve Prometheus /metrics here")
def cli(network, chain, project, account, deployment, interval, once, history, metrics_port):
    record = record_for(network, chain, deployment, check_code=True)
    protocol = attach(project, record)
    if protocol.steward is None:
        raise click.UsageError("the deployment has no risk steward (no `forecast:` bounds)")
    assets = {key: protocol.tokens[key] for key in protocol.tokens}
    keeper = RiskKeeper(
        protocol.steward,
        protocol.oracle,
        {k: t for k, t in assets.items() if int(protocol.steward.bounds(t).ceiling) > 0},
        account,
        lambda: int(chain.blocks.head.timestamp),
    )
    if history:
        now = int(chain.blocks.head.timestamp)
        for key in keeper.assets:
            series = hourly(key)
            keep = series.times <= now
            keeper.histories[key] = AssetHistory(
                dict(zip(series.times[keep].tolist(), series.closes[keep].tolist(), strict=True))
            )
    if metrics_port is not None:
        start_http_server(metrics_port, registry=keeper.metrics.registry)
    while True:
        click.echo(f"risk keeper step: {keeper.step()}")
        if once:
            return
        time.sleep(interval)
