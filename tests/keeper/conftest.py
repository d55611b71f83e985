"""One deployment on ape's node, dumped and loaded into Anvil nodes of our own (no step tracing,
mining only when the test says so, a large block gas limit), one fresh node per test."""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from keeper_support import GAS_LIMIT

from solvent import config as configs
from solvent.anvil import AnvilOptions, start_anvil
from solvent.deploy import deploy, write_record
from solvent.keeper.bot import abis_from_project


@dataclass
class Template:
    state: str
    timestamp: int
    record: dict[str, Any]
    abis: dict[str, list[Any]]


@pytest.fixture(scope="session")
def template(project, chain, deployer, tmp_path_factory) -> Template:
    config = configs.load("local")
    protocol = deploy(project, chain, config, deployer)
    folder = Path(tmp_path_factory.mktemp("deployments"))
    path = write_record(protocol, config, "local", chain.chain_id, "0.8.28", folder=folder)
    record = json.loads(path.read_text())
    state = chain.provider.make_request("anvil_dumpState", [])
    return Template(
        state=state,
        timestamp=chain.blocks.head.timestamp,
        record=record,
        abis={
            **abis_from_project(project),
            "MockAggregator": abis_from_project(project, ("MockAggregator",))["MockAggregator"],
        },
    )


@pytest.fixture
def node(template, tmp_path):
    state_path = tmp_path / "state.json"
    state_path.write_bytes(gzip.decompress(bytes.fromhex(template.state.removeprefix("0x"))))
    options = AnvilOptions(no_mining=True, gas_limit=GAS_LIMIT, state_path=state_path)
    node = start_anvil(options)  # `--state` loads the file, and with it the old block gas limit
    try:
        node.call("evm_setBlockGasLimit", hex(GAS_LIMIT))
        head = node.call("eth_getBlockByNumber", "latest", False)
        start = max(template.timestamp, int(head["timestamp"], 16), int(time.time())) + 5
        node.call("evm_setNextBlockTimestamp", hex(start))
        node.call("evm_mine")
        yield node
    finally:
        node.kill()
