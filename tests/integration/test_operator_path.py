"""The local operator path of docs/keeper.md, "Running it", run with the very commands the docs
show, each in its own process: a persistent node, deploy, liquidity, traders, a funded keeper, a
crash of the mock feed, time passing. Every breached account is liquidated and every auction is
taken; a second deploy is refused before it sends anything; the node keeps its state across a
restart; the keeper refuses a record whose addresses hold no code."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from solvent.rpc import RpcClient

# Runs the README's operator commands as processes (about 25 s): `make test-slow` (CI).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NODE_URL = "http://127.0.0.1:8545"  # ape-config.yaml: the `anvil` network
NETWORK = ["--network", "ethereum:anvil:node"]
OPERATOR = [*NETWORK, "--account", "TEST::0"]
KEEPER = [*NETWORK, "--account", "TEST::1"]
KEEPER_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1
TRADERS = 6


def _env() -> dict[str, str]:
    path = f"{ROOT / 'node_modules' / '.bin'}:{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "PWD": str(ROOT)}


def ape_run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["ape", "run", *args], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"ape run {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["ape", "run", *args], cwd=ROOT, env=_env(), stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_node(rpc: RpcClient, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            rpc.call("eth_chainId")
            return
        except Exception:
            time.sleep(0.3)
    raise AssertionError("the node did not start")


@pytest.fixture
def node(tmp_path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    if not _port_free(8545):
        pytest.skip("port 8545 (the documented node's) is in use on this machine")
    state = tmp_path / "state.json"
    process = _start(["node", "--fresh", "--state", str(state)], tmp_path / "node.log")
    _wait_for_node(RpcClient(NODE_URL))
    yield process, state
    _stop(process)


@pytest.fixture
def record(tmp_path) -> Iterator[Path]:
    path = ROOT / "deployments" / "anvil.json"
    saved = path.read_bytes() if path.exists() else None
    path.unlink(missing_ok=True)
    yield path
    path.unlink(missing_ok=True)
    if saved is not None:
        path.write_bytes(saved)


def test_documented_local_operator_path(node, record, tmp_path):
    process, state = node
    rpc = RpcClient(NODE_URL)
    ape_run("deploy", *OPERATOR)
    deployed = json.loads(record.read_text())
    head = int(rpc.call("eth_blockNumber"), 16)
    refused = ape_run("deploy", *OPERATOR, check=False)
    assert refused.returncode != 0 and "exists: pass --force" in refused.stderr + refused.stdout
    assert int(rpc.call("eth_blockNumber"), 16) == head  # nothing was sent

    ape_run("mocks", "liquidity", *OPERATOR)
    ape_run("mocks", "traders", *OPERATOR, "--count", str(TRADERS), "--leverage", "4")
    ape_run("mocks", "mint", "quote", "200000", *OPERATOR, "--to", KEEPER_ADDRESS)
    keeper = _start(
        ["keeper", *KEEPER, "--metrics-port", "0", "--poll-interval", "0.2"],
        tmp_path / "keeper.log",
    )
    try:
        liquidator = deployed["addresses"]["liquidator"]
        ape_run("mocks", "price", "WETH", "1500", *OPERATOR)  # -25%: every 4x WETH long breaches
        assert _wait(lambda: _liquidated(tmp_path / "keeper.log") == TRADERS, 90), _tail(tmp_path)
        assert _active_auctions(rpc, liquidator) > 0
        ape_run("mocks", "advance", "900", *NETWORK)  # the auction price decays below the oracle
        ape_run("mocks", "refresh", *OPERATOR)  # a block after the jump: the keeper sees it
        assert _wait(lambda: _active_auctions(rpc, liquidator) == 0, 90), _tail(tmp_path)
        assert _settled(tmp_path / "keeper.log", "take") > 0
    finally:
        _stop(keeper)

    # The node saves its state on stop and loads it on the next start.
    head = int(rpc.call("eth_blockNumber"), 16)
    _stop(process)
    restarted = _start(["node", "--state", str(state)], tmp_path / "node2.log")
    try:
        _wait_for_node(rpc)
        assert int(rpc.call("eth_blockNumber"), 16) == head
        rpc.call("anvil_setCode", deployed["addresses"]["engine"], "0x")  # a node reset
        refused = ape_run("keeper", *KEEPER, check=False)
        assert refused.returncode != 0
        assert "no contract code at the record's engine" in refused.stderr + refused.stdout
    finally:
        _stop(restarted)


def _wait(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def _events(log: Path) -> list[dict]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def _settled(log: Path, kind: str) -> int:
    return sum(
        1
        for e in _events(log)
        if e.get("event") == "keeper.settled" and e.get("kind") == kind and e["outcome"] == "mined"
    )


def _liquidated(log: Path) -> int:
    return _settled(log, "liquidation")


def _active_auctions(rpc: RpcClient, liquidator: str) -> int:
    selector = "0x" + _selector("activeAuctionCount()")
    return int(rpc.call("eth_call", {"to": liquidator, "data": selector}, "latest"), 16)


def _selector(signature: str) -> str:
    from eth_utils import keccak

    return keccak(text=signature)[:4].hex()


def _tail(folder: Path) -> str:
    log = folder / "keeper.log"
    return "\n".join(log.read_text().splitlines()[-20:]) if log.exists() else "no keeper log"
