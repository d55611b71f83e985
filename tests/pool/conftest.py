"""The LP pool's requests on the real deployment (config/local.yaml), deployed once per module."""

from __future__ import annotations

import dataclasses

import pytest

from solvent import config as configs
from solvent.deploy import Protocol, deploy


@pytest.fixture(scope="module")
def config():
    """config/local.yaml without its L2 sequencer feed: the pool's gas rows
    (`pool.execute_*`) measure the L1 path, as config/sepolia.yaml ships. Every other package
    but the order book's runs the L2 path; the pool value's uptime read adds ~9,700 gas to an
    execution there."""
    return dataclasses.replace(configs.load("local"), sequencer=None)


@pytest.fixture(scope="module")
def system(project, chain, deployer, config) -> Protocol:
    return deploy(project, chain, config, deployer)
