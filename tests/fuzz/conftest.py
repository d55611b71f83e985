"""The deployed system of the stateful fuzz campaign (profiles: solvent/fuzz/profiles.py).

Reproduce a failure with the seed Hypothesis prints:
`make test ARGS="tests/fuzz --hypothesis-seed=N"`.
"""

from __future__ import annotations

import pytest

from solvent.fuzz.driver import FastDriver
from solvent.fuzz.system import build


@pytest.fixture(scope="package")
def fuzz_system(project, chain, accounts):
    return build(project, chain, accounts)


@pytest.fixture(scope="package")
def fast_driver(chain, fuzz_system):
    driver = FastDriver(chain.provider.http_uri, fuzz_system.codec)
    yield driver
    driver.close()
