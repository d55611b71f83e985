"""The LP pool's requests on the real deployment (config/local.yaml), deployed once per module."""

from __future__ import annotations

import pytest

from solvent import config as configs
from solvent.deploy import Protocol, deploy


@pytest.fixture(scope="module")
def config():
    return configs.load("local")


@pytest.fixture(scope="module")
def system(project, chain, deployer, config) -> Protocol:
    return deploy(project, chain, config, deployer)
