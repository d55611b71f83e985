"""Anvil nodes of our own loaded with one deployment: a deployment made with ape and dumped once
(`snapshot_deployment`), nodes started from it (`start_from`) that mine only when told, with a
large block gas limit and no step tracing, and a `World` on each (`world_on`). The keeper tests
and the keeper benchmark run on these."""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solvent import config as configs
from solvent.abi import abis_from_project
from solvent.anvil import AnvilNode, AnvilOptions, start_anvil
from solvent.deploy import deploy, write_record
from solvent.harness.population import PopulationSpec, Trader, hire_keepers, open_population
from solvent.harness.world import (
    BLOCK_SECONDS,
    COMPETITOR,
    CONTRACTS,
    DEV_ACCOUNTS,
    KEEPER,
    World,
    connect,
)

GAS_LIMIT = 3_000_000_000  # blocks large enough for hundreds of liquidations (see docs/keeper.md)
KEEPER_CAPITAL_USD = 10_000_000


@dataclass
class Template:
    """A deployment made on ape's node: its Anvil state dump, record and ABIs."""

    state: str
    timestamp: int
    record: dict[str, Any]
    abis: dict[str, list[Any]]


def snapshot_deployment(project: Any, chain: Any, deployer: Any, folder: Path) -> Template:
    config = configs.load("local")
    protocol = deploy(project, chain, config, deployer)
    path = write_record(protocol, config, "local", chain.chain_id, "0.8.28", folder=folder)
    return Template(
        state=chain.provider.make_request("anvil_dumpState", []),
        timestamp=chain.blocks.head.timestamp,
        record=json.loads(path.read_text()),
        abis=abis_from_project(project, CONTRACTS),
    )


def start_from(template: Template, folder: Path, gas_limit: int = GAS_LIMIT) -> AnvilNode:
    """An Anvil that mines only when told, loaded with the template's state (`--state`), with a
    large block gas limit (the dump carries the old one) and a clock after the wall clock."""
    state_path = folder / "state.json"
    state_path.write_bytes(gzip.decompress(bytes.fromhex(template.state.removeprefix("0x"))))
    node = start_anvil(
        AnvilOptions(
            accounts=DEV_ACCOUNTS, no_mining=True, gas_limit=gas_limit, state_path=state_path
        )
    )
    try:
        node.call("evm_setBlockGasLimit", hex(gas_limit))
        _chain_clock(node)
        head = node.call("eth_getBlockByNumber", "latest", False)
        start = max(template.timestamp, int(head["timestamp"], 16), int(time.time())) + 5
        node.call("evm_setNextBlockTimestamp", hex(start))
        node.call("evm_mine")
    except Exception:
        node.kill()
        raise
    return node


def restart(node: AnvilNode, gas_limit: int = GAS_LIMIT) -> AnvilNode:
    """The node started again from the state it saved (`--state`), on the same port, with the
    same block gas limit and chain clock: its next block comes BLOCK_SECONDS after the saved head
    (a restarted Anvil would otherwise take the wall clock, earlier than our chain's time, and
    time would run backwards for the contracts)."""
    again = start_anvil(node.options, port=node.port)
    try:
        again.call("evm_setBlockGasLimit", hex(gas_limit))
        head = again.call("eth_getBlockByNumber", "latest", False)
        again.call("evm_setNextBlockTimestamp", hex(int(head["timestamp"], 16) + BLOCK_SECONDS))
        _chain_clock(again)
    except Exception:
        again.kill()
        raise
    return again


def _chain_clock(node: AnvilNode) -> None:
    """Blocks mined without a timestamp (a set-up batch) come BLOCK_SECONDS apart, so that chain
    time never depends on how long the set-up took on this machine."""
    node.call("anvil_setBlockTimestampInterval", BLOCK_SECONDS)


def world_on(node: AnvilNode, template: Template) -> World:
    return connect(node.url, template.record, template.abis, node=node)


def crowd(node: AnvilNode, template: Template, spec: PopulationSpec) -> tuple[World, list[Trader]]:
    """A World on `node` with the population `spec` opened at the oracle's prices and two funded
    keeper accounts (KEEPER, COMPETITOR; the production keeper approves by itself); returns the
    world and the population's traders."""
    w = world_on(node, template)
    traders = open_population(w, spec, w.oracle_prices())
    hire_keepers(w, [KEEPER, COMPETITOR], KEEPER_CAPITAL_USD, approve=False)
    return w, traders
