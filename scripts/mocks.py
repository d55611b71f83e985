"""ape run mocks COMMAND --network ethereum:anvil:node --account TEST::0 [...]

Drives the mocks of a local deployment recorded in deployments/<network>.json:

  price ASSET USD       move an asset's mock feeds (primary and secondary)
  refresh [--every S]   re-publish every feed's answer (once, or every S seconds until Ctrl-C)
  mint TOKEN AMOUNT     mint a mock token (quote or an asset key) to --to (default: the signer)
  liquidity             seed the LP pool and the insurance fund
  traders               open leveraged trader accounts
  advance SECONDS       move the local chain's clock forward and mine a block

See docs/keeper.md, "Running it".
"""

import time
from decimal import Decimal

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from solvent.deploy import attach
from solvent.ops import mocks
from solvent.ops.cli import is_local, record_for

deployment_option = click.option(
    "--deployment", default=None, help="deployments/<name>.json (default: network)"
)


def _protocol(network, deployment):
    return attach(project, record_for(network, chain, deployment))


@click.group()
def cli():
    """Mock tokens and feeds of a local deployment."""


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@deployment_option
@click.argument("asset")
@click.argument("usd", type=Decimal)
def price(network, account, deployment, asset, usd):
    """Set ASSET's mock feeds to USD."""
    protocol = _protocol(network, deployment)
    mocks.set_price(protocol, account, asset, usd)
    click.echo(f"{asset} = {mocks.price(protocol, asset)} USD")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@deployment_option
@click.option("--every", type=int, default=None, help="seconds between refreshes (loop)")
def refresh(network, account, deployment, every):
    """Re-publish every mock feed's latest answer."""
    protocol = _protocol(network, deployment)
    while True:
        prices = mocks.refresh(protocol, account)
        click.echo("refreshed " + ", ".join(f"{k} {v}" for k, v in prices.items()))
        if every is None:
            return
        time.sleep(every)


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@deployment_option
@click.argument("symbol")
@click.argument("amount", type=Decimal)
@click.option("--to", default=None, help="recipient address (default: the signer)")
def mint(network, account, deployment, symbol, amount, to):
    """Mint AMOUNT whole tokens of SYMBOL (quote, or an asset key such as WETH)."""
    protocol = _protocol(network, deployment)
    recipient = to or account.address
    raw = mocks.mint(protocol, account, symbol, amount, recipient)
    click.echo(f"minted {amount} {symbol} ({raw} units) to {recipient}")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@deployment_option
@click.option("--pool-usd", type=Decimal, default=Decimal(1_000_000), show_default=True)
@click.option("--fund-usd", type=Decimal, default=Decimal(50_000), show_default=True)
def liquidity(network, account, deployment, pool_usd, fund_usd):
    """Deposit quote into the LP pool and the insurance fund."""
    protocol = _protocol(network, deployment)
    mocks.seed_liquidity(protocol, account, pool_usd, fund_usd)
    click.echo(f"LP pool +{pool_usd} USD, insurance fund +{fund_usd} USD")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@deployment_option
@click.option("--count", default=10, show_default=True)
@click.option("--collateral", default="WETH", show_default=True, help="quote or an asset key")
@click.option("--collateral-usd", type=Decimal, default=Decimal(10_000), show_default=True)
@click.option("--market", default="WETH", show_default=True, help="asset key of the perp")
@click.option("--leverage", type=Decimal, default=Decimal(4), show_default=True)
@click.option("--short", is_flag=True)
def traders(network, account, deployment, **options):
    """Open leveraged trader accounts (sub-accounts of the signer)."""
    protocol = _protocol(network, deployment)
    ids = mocks.open_traders(protocol, chain, account, mocks.TraderPlan(**options))
    click.echo(f"opened accounts {ids[0]}..{ids[-1]}" if ids else "opened none")


@cli.command(cls=ConnectedProviderCommand)
@click.argument("seconds", type=int)
def advance(network, seconds):
    """Move the local chain's clock SECONDS forward and mine a block (auctions decay with time)."""
    if not is_local(network):
        raise click.UsageError("advance only works on a local node")
    # Plain JSON-RPC: ape's generic node provider has no time travel of its own.
    chain.provider.make_request("evm_increaseTime", [seconds])
    chain.provider.make_request("evm_mine", [])
    click.echo(f"block {chain.blocks.head.number} at {chain.blocks.head.timestamp}")
