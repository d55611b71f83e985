"""ape run deploy --network ethereum:anvil:node --account TEST::0 [--config NAME] [--force]

Deploys and wires the whole protocol, then writes deployments/<network>.json. Signs with an ape
account (`--account <alias>`; on a local network `--account TEST::0` uses a dev account). An
existing record is refused before any transaction is sent (`--force` replaces it).
"""

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from solvent import config as configs
from solvent.deploy import (
    deploy,
    refuse_existing_record,
    stage_mocks_at_configured_addresses,
    write_record,
)
from solvent.ops.cli import is_local


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--config", "config_name", default=None, help="config/<name>.yaml (default: network)")
@click.option("--deployment", default=None, help="deployments/<name>.json (default: network)")
@click.option("--rehearse", is_flag=True, help="Local only: place mocks at configured addresses")
@click.option("--force", is_flag=True, help="Replace an existing deployments/<network>.json")
def cli(network, account, config_name, deployment, rehearse, force):
    record_name = deployment or network.name
    try:
        refuse_existing_record(record_name, force)
    except FileExistsError as exc:
        raise click.UsageError(str(exc)) from exc
    config = configs.load(config_name or network.name)
    if rehearse:
        if not is_local(network):
            raise click.UsageError("--rehearse only works on a local network")
        staged = stage_mocks_at_configured_addresses(project, chain, config, account)
        click.echo(f"placed {len(staged)} mocks at the addresses of config '{config.network}'")
    protocol = deploy(project, chain, config, account)
    compiler = project.config.solidity.version
    path = write_record(protocol, config, record_name, chain.chain_id, compiler, force=force)
    for name, address in protocol.addresses().items():
        click.echo(f"{name:<24} {address}")
    click.echo(f"wrote {path}")
