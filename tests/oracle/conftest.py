"""Shared set-up for the OracleAdapter tests: one adapter, WETH-like token, two 8-decimals feeds."""

from __future__ import annotations

from typing import Any

import pytest

WAD = 10**18
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ETH_PRICE = 2_000 * 10**8  # 8-decimals feed answer

PARAM_FIELDS = (
    "primaryFeed",
    "secondaryFeed",
    "maxStaleness",
    "secondaryMaxStaleness",
    "maxDeviationBps",
    "minPrice",
    "maxPrice",
    "breakerThresholdBps",
    "breakerWindow",
    "breakerCooldown",
    "volInterval",
    "volLambda",
    "volStaleAfter",
    "volMaxSampleRise",
    "volMaxRisePerHour",
)

DEFAULT_PARAMS: dict[str, Any] = {
    "secondaryFeed": ZERO_ADDRESS,
    "maxStaleness": 3_600 + 600,
    "secondaryMaxStaleness": 3_600 + 600,
    "maxDeviationBps": 200,
    "minPrice": 10 * WAD,
    "maxPrice": 1_000_000 * WAD,
    "breakerThresholdBps": 1_000,
    "breakerWindow": 3_600,
    "breakerCooldown": 1_800,
    "volInterval": 3_600,  # >= 4/5 of maxStaleness
    "volLambda": 94 * 10**16,
    "volStaleAfter": 10_800,
    "volMaxSampleRise": 25 * 10**16,
    "volMaxRisePerHour": 25 * 10**16,
}


def asset_params(primary: Any, **overrides: Any) -> tuple:
    """AssetParams as the ABI tuple, defaults overridden by keyword."""
    values = {**DEFAULT_PARAMS, "primaryFeed": primary, **overrides}
    return tuple(values[name] for name in PARAM_FIELDS)


def advance(chain: Any, seconds: int) -> int:
    """Mines a block `seconds` after the latest one; returns its timestamp."""
    timestamp = chain.blocks.head.timestamp + seconds
    chain.mine(timestamp=timestamp)
    return timestamp


@pytest.fixture(scope="module")
def stranger(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def keeper(accounts):
    return accounts[2]


@pytest.fixture(scope="module")
def adapter(project, deployer):
    return deployer.deploy(project.OracleAdapter)


@pytest.fixture(scope="module")
def weth(project, deployer):
    return deployer.deploy(project.MockERC20, "Wrapped Ether", "WETH", 18)


@pytest.fixture(scope="module")
def primary(project, deployer):
    return deployer.deploy(project.MockAggregator, 8, "ETH / USD", ETH_PRICE)


@pytest.fixture(scope="module")
def secondary(project, deployer):
    return deployer.deploy(project.MockAggregator, 8, "ETH / USD backup", ETH_PRICE)


@pytest.fixture(scope="module")
def listed(adapter, weth, primary, secondary, deployer):
    """WETH listed with a primary and a secondary feed."""
    adapter.setAssetConfig(weth, asset_params(primary, secondaryFeed=secondary), sender=deployer)
    return weth
