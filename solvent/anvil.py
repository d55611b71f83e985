"""Run a local Anvil node as a child process: for the demo, the simulator, fuzzing and fault tests.

ape-foundry starts Anvil with `--steps-tracing`, which slows every transaction; a node started here
has no step tracing. Its state can persist to a file (`state`), so a node killed mid-run can be
restarted where it was, as the keeper's fault tests need.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solvent.rpc import RpcClient, RpcUnavailable

ROOT = Path(__file__).resolve().parent.parent
TEST_MNEMONIC = "test test test test test test test test test test test junk"
READY_TIMEOUT_S = 30.0


class AnvilError(RuntimeError):
    """Anvil could not be found or did not become ready."""


def anvil_binary() -> str:
    local = ROOT / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if found is None:
        raise AnvilError("anvil not found: run `make setup` (it installs anvil from npm)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AnvilOptions:
    """Command-line options for one Anvil node."""

    accounts: int = 10
    balance_eth: int = 1_000_000
    mnemonic: str = TEST_MNEMONIC
    chain_id: int = 31337
    block_time: int | None = None
    no_mining: bool = False
    state_path: Path | None = None
    state_interval_s: int | None = None
    gas_limit: int | None = None
    # Genesis timestamp of a wall-clock-free chain: every block is then 1 s after the previous one
    # unless the caller sets the next timestamp, so a seeded run does not depend on machine load.
    fixed_clock_from: int | None = None
    extra_args: list[str] = field(default_factory=list)

    def command(self, port: int) -> list[str]:
        cmd = [
            anvil_binary(),
            "--port",
            str(port),
            "--accounts",
            str(self.accounts),
            "--balance",
            str(self.balance_eth),
            "--mnemonic",
            self.mnemonic,
            "--chain-id",
            str(self.chain_id),
        ]
        if self.block_time is not None:
            cmd += ["--block-time", str(self.block_time)]
        if self.no_mining:
            cmd.append("--no-mining")
        if self.state_path is not None:
            cmd += ["--state", str(self.state_path)]
        if self.state_interval_s is not None:
            cmd += ["--state-interval", str(self.state_interval_s)]
        if self.gas_limit is not None:
            cmd += ["--gas-limit", str(self.gas_limit)]
        if self.fixed_clock_from is not None:
            cmd += ["--timestamp", str(self.fixed_clock_from)]
        return cmd + self.extra_args


@dataclass
class AnvilNode:
    """A running Anvil child process."""

    port: int
    options: AnvilOptions
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, *params: object) -> object:
        return RpcClient(self.url).call(method, *params)

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        """Graceful stop: Anvil writes its state file (when it has one) on SIGTERM/SIGINT."""
        if self.is_running():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """Crash: no state is written beyond the last periodic dump."""
        if self.is_running():
            self.process.kill()
            self.process.wait()

    def restart(self) -> AnvilNode:
        """A new process on the same port and options (so the same state file)."""
        self.stop()
        return start_anvil(self.options, port=self.port)


def start_anvil(options: AnvilOptions | None = None, port: int | None = None) -> AnvilNode:
    options = options or AnvilOptions()
    port = port or free_port()
    process = subprocess.Popen(
        options.command(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    node = AnvilNode(port=port, options=options, process=process)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if not node.is_running():
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise AnvilError(f"anvil exited with {process.returncode}: {stderr.strip()}")
        try:
            node.call("eth_chainId")
        except RpcUnavailable:
            time.sleep(0.05)
            continue
        if options.fixed_clock_from is not None:
            node.call("anvil_setBlockTimestampInterval", 1)
        return node
    node.kill()
    raise AnvilError(f"anvil on port {port} not ready after {READY_TIMEOUT_S} s")


@contextmanager
def running_anvil(options: AnvilOptions | None = None) -> Iterator[AnvilNode]:
    node = start_anvil(options)
    try:
        yield node
    finally:
        node.stop()


@contextmanager
def ape_on_own_anvil(networks: Any, options: AnvilOptions | None = None) -> Iterator[AnvilNode]:
    """Runs an Anvil of our own (no step tracing) and points ape's local foundry provider at it
    for the duration: deployments go through ape, bulk traffic through the fast path."""
    with (
        running_anvil(options) as node,
        networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}),
    ):
        yield node
