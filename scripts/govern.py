"""ape run govern {propose FILE | list | execute ID | cancel ID} --network ... --account ...

Timelocked parameter changes (docs/governance.md). `propose` reads a YAML of parameter changes,
prints current vs proposed values, refuses any value outside its contract's bound before sending,
and schedules one batch on the timelock; `list` shows every proposal, its state and when it
becomes executable; `execute` and `cancel` take a proposal's id from `list`.
"""

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from solvent.deploy import attach
from solvent.ops import govern as gov
from solvent.ops.cli import record_for

deployment_option = click.option(
    "--deployment", default=None, help="deployments/<name>.json (default: network)"
)


def _system(network, deployment):
    record = record_for(network, chain, deployment, check_code=True)
    system = attach(project, record)
    if system.timelock is None:
        raise click.UsageError("the record names no timelock: redeploy with a governance config")
    return record, system


@click.group()
def cli():
    """Timelocked governance of a deployment."""


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@deployment_option
@click.argument("changes", type=click.Path(exists=True, dir_okay=False))
def propose(network, account, deployment, changes):
    """Schedule the changes of a YAML file (one batch)."""
    _, system = _system(network, deployment)
    try:
        the_plan = gov.plan(system, gov.load_changes(changes))
    except (gov.OutOfBounds, gov.UnknownParameter, ValueError) as exc:
        raise click.UsageError(f"refused before sending: {exc}") from exc
    proposal = gov.propose_plan(system, the_plan, account)
    for line in gov.describe(the_plan, proposal.ready_at, int(system.quote.decimals())):
        click.echo(line)
    click.echo(f"proposal {'0x' + proposal.operation_id.hex()}")


@cli.command(name="list", cls=ConnectedProviderCommand)
@deployment_option
def list_(network, deployment):
    """Every proposal on the timelock, its state and when it becomes executable."""
    record, system = _system(network, deployment)
    head = chain.blocks.head
    for pending in gov.proposals(system, int(record["deploy_block"]), head.number):
        for line in gov.describe_pending(pending, head.timestamp, lambda t, d: f"{t} {d[:10]}"):
            click.echo(line)


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@deployment_option
@click.argument("operation_id")
def execute(network, account, deployment, operation_id):
    """Execute a ready proposal."""
    record, system = _system(network, deployment)
    pending = gov.find(system, int(record["deploy_block"]), chain.blocks.head.number, operation_id)
    if pending.state != "Ready":
        raise click.UsageError(f"proposal {operation_id} is {pending.state}, not Ready")
    from solvent.governance import execute as run

    run(system.timelock, pending.proposal, account)
    click.echo(f"executed {operation_id}")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@deployment_option
@click.argument("operation_id")
def cancel(network, account, deployment, operation_id):
    """Cancel a pending proposal (a proposer or the guardian)."""
    record, system = _system(network, deployment)
    pending = gov.find(system, int(record["deploy_block"]), chain.blocks.head.number, operation_id)
    if pending.state not in ("Waiting", "Ready"):
        raise click.UsageError(f"proposal {operation_id} is {pending.state}: nothing to cancel")
    from solvent.governance import cancel as drop

    drop(system.timelock, pending.proposal, account)
    click.echo(f"cancelled {operation_id}")
