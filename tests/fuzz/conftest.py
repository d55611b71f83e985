"""The deployed system of the stateful fuzz campaign (profiles: solvent/fuzz/profiles.py).

The whole package runs on an Anvil of its own: no step tracing (the campaign is throughput
bound) and a clock that moves only with the chain, so a replayed example sees the same
timestamps and nothing the campaign does to time can leak into the rest of the suite.

Reproduce a failure with the seed Hypothesis prints:
`make test ARGS="tests/fuzz --hypothesis-seed=N"`.
"""

from __future__ import annotations

import pytest

from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.fuzz.driver import FastDriver
from solvent.fuzz.system import ACTORS, build

GENESIS_TIMESTAMP = 1_700_000_000


@pytest.fixture(scope="package")
def fuzz_node(networks):
    options = AnvilOptions(accounts=ACTORS, fixed_clock_from=GENESIS_TIMESTAMP)
    with ape_on_own_anvil(networks, options) as node:
        yield node


@pytest.fixture(scope="package")
def fuzz_system(fuzz_node, project, chain, accounts):
    return build(project, chain, accounts)


@pytest.fixture(scope="package")
def fast_driver(fuzz_node, fuzz_system):
    driver = FastDriver(fuzz_node.url, fuzz_system.codec, accounts=ACTORS)
    yield driver
    driver.close()
