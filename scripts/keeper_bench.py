"""ape run keeper_bench [--scan 10000] [--breach 2000] [--orders 500] [--out FILE]

The keeper benchmark (solvent/bench/keeper_bench.py) on ape's local network: health scan,
reaction latency and RPC calls per block, then the throughput at a real block gas limit (30M) for
the risk order and the account order, then (with an order book) `--orders` orders committed in one
block and settled by the keeper: blocks from their price to their settlement, gas per settlement
and the settlement fee against it. Prints the measurements as JSON and optionally writes them.
"""

import json
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from solvent.bench import keeper_bench


@click.command(cls=ConnectedProviderCommand)
@click.option("--scan", "n_scan", type=int, default=10_000, show_default=True)
@click.option("--breach", "n_breach", type=int, default=2_000, show_default=True)
@click.option("--orders", "n_orders", type=int, default=500, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None)
def cli(network, n_scan, n_breach, n_orders, out):
    if not network.is_local:
        raise click.UsageError("the benchmark deploys mocks: local networks only")
    deployer = accounts.test_accounts[0]
    result = keeper_bench.run(project, chain, deployer, n_scan, n_breach)
    result["throughput"] = keeper_bench.throughput(project, chain, deployer, n_breach)
    if n_orders:
        result["orders"] = keeper_bench.orders(project, chain, deployer, n_orders)
    text = json.dumps(result, indent=2)
    click.echo(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
