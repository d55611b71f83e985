"""One deployment on ape's node, dumped and loaded into Anvil nodes of our own (no step tracing,
mining only when the test says so, a large block gas limit), one fresh node per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from solvent.harness.nodes import Template, snapshot_deployment, start_from


@pytest.fixture(scope="session")
def template(project, chain, deployer, tmp_path_factory) -> Template:
    return snapshot_deployment(project, chain, deployer, Path(tmp_path_factory.mktemp("deploy")))


@pytest.fixture
def node(template, tmp_path):
    node = start_from(template, tmp_path)
    try:
        yield node
    finally:
        node.kill()
        # The state file holds the whole dump of ape's node (hundreds of MB); pytest keeps the
        # temporary folders of three runs, so each test removes its own.
        (tmp_path / "state.json").unlink(missing_ok=True)
