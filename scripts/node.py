"""ape run node [--port 8545] [--block-time SECONDS] [--state .anvil/state.json] [--fresh]

A persistent local Anvil for operators: its state is saved to a file (every few seconds and on
Ctrl-C) and loaded again on the next start, so deployments, accounts and auctions survive a
restart. Other commands reach it by name: `--network ethereum:anvil:node` (ape-config.yaml).
Automine by default; `--block-time N` mines a block every N seconds instead. See docs/keeper.md.
"""

import signal
import threading
from pathlib import Path

import click

from solvent.anvil import AnvilOptions, start_anvil

NAMED_NETWORK_PORT = 8545  # ape-config.yaml: node.ethereum.anvil.uri


@click.command()
@click.option("--port", default=NAMED_NETWORK_PORT, show_default=True)
@click.option("--block-time", type=int, default=None, help="interval mining (default: automine)")
@click.option(
    "--state",
    "state_path",
    default=".anvil/state.json",
    show_default=True,
    type=click.Path(path_type=Path),
)
@click.option("--state-interval", default=5, show_default=True, help="seconds between dumps")
@click.option("--fresh", is_flag=True, help="discard the saved state and start a new chain")
def cli(port, block_time, state_path, state_interval, fresh):
    if fresh and state_path.exists():
        state_path.unlink()
    state_path.parent.mkdir(parents=True, exist_ok=True)
    options = AnvilOptions(
        accounts=20,
        block_time=block_time,
        state_path=state_path,
        state_interval_s=state_interval,
    )
    node = start_anvil(options, port=port)
    head = int(node.call("eth_blockNumber"), 16)
    mining = f"a block every {block_time} s" if block_time else "automine"
    if port != NAMED_NETWORK_PORT:
        click.echo(f"note: --network ethereum:anvil:node expects port {NAMED_NETWORK_PORT}")
    click.echo(f"anvil at {node.url} (chain 31337, head {head}, {mining}, state {state_path})")
    click.echo("Ctrl-C or SIGTERM stops it and saves the state")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            if not node.is_running():
                raise click.ClickException(f"anvil exited with {node.process.returncode}")
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
        click.echo(f"stopped; state saved to {state_path}")
