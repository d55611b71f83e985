"""ape run flash_taker --network ... --account <alias> --router ADDRESS [--deployment NAME]

Deploys the operator's FlashTaker (contracts/keeper/FlashTaker.sol) for the deployment in
deployments/<network>.json: takes sell the collateral through the Uniswap-v3-style `--router`
inside the liquidator's callback, so the keeper needs no quote. The signer owns it (only it may
take and sweep). On a local node, `--mock-router` deploys a MockSwapRouter priced at the oracle and
funded with mock quote instead. Then: `ape run keeper ... --flash-taker <printed address>`.
"""

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from solvent.deploy import attach
from solvent.ops.cli import is_local, record_for

MOCK_ROUTER_QUOTE = 50_000_000  # whole quote tokens the mock router can pay out


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--deployment", default=None, help="deployments/<name>.json (default: network)")
@click.option("--router", default=None, help="a Uniswap-v3-style router (exactInputSingle)")
@click.option("--mock-router", is_flag=True, help="local only: deploy a MockSwapRouter")
def cli(network, account, deployment, router, mock_router):
    if bool(router) == mock_router:
        raise click.UsageError("give exactly one of --router ADDRESS and --mock-router")
    record = record_for(network, chain, deployment)
    protocol = attach(project, record)
    if mock_router:
        if not is_local(network):
            raise click.UsageError("--mock-router only works on a local node")
        mock = account.deploy(project.MockSwapRouter, protocol.quote)
        decimals = int(protocol.quote.decimals())
        protocol.quote.mint(mock, MOCK_ROUTER_QUOTE * 10**decimals, sender=account)
        for token in protocol.tokens.values():
            mock.setPrice(token, protocol.oracle.price(token), sender=account)
        router = mock.address
        click.echo(f"mock router {router} (oracle prices; re-price with setPrice)")
    taker = account.deploy(project.FlashTaker, protocol.liquidator, router, protocol.quote, account)
    click.echo(f"flash taker {taker.address} (owner {account.address}, router {router})")
