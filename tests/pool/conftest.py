"""The LP pool's requests on the real deployment (config/local.yaml without the sequencer feed:
the session's shared L1 deployment, tests/conftest.py)."""

from __future__ import annotations

import dataclasses

import pytest

from solvent import config as configs


@pytest.fixture(scope="module")
def config():
    """config/local.yaml without its L2 sequencer feed: the pool's gas rows
    (`pool.execute_*`) measure the L1 path, as config/sepolia.yaml ships. Every other package
    but the order book's runs the L2 path; the pool value's uptime read adds ~9,700 gas to an
    execution there."""
    return dataclasses.replace(configs.load("local"), sequencer=None)
