"""ape run campaign [--paths 200 --grid leverage=5,10,15 --grid latency=1,3,10 --replays 10 ...]

The Monte Carlo campaign (solvent/sim/montecarlo/cli.py; `make campaign`): every option of
`python -m solvent.sim.montecarlo --help`, passed through."""

import sys

import click

from solvent.sim.montecarlo.cli import main


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(args: tuple[str, ...]) -> None:
    sys.exit(main(list(args)))
