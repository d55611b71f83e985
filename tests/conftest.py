import json
import os
from pathlib import Path

import pytest
from ape.api.transactions import ReceiptAPI
from ape_ethereum.trace import Trace

from solvent import config as configs
from solvent.deploy import Protocol, deploy
from solvent.gas import GasReport, load_snapshot, write_snapshot
from solvent.testing import (
    decode_errors_from_call_tree,
    memoize_transaction_type,
    poll_receipts_quickly,
    remember_contracts,
)

_gas_report = GasReport()


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="module")
def config():
    """config/local.yaml, as `ape run deploy` reads it."""
    return configs.load("local")


@pytest.fixture(scope="module")
def system(project, chain, deployer, config) -> Protocol:
    """The real deployment (`solvent.deploy` with `config`), once per module; ape isolates each
    test with a chain snapshot. Packages with a set-up of their own override it."""
    return deploy(project, chain, config, deployer)


@pytest.fixture
def steady_clock(chain):
    """Every block of the test one second after the one before, whatever the machine's speed:
    gas that depends on elapsed time (a decay's fractional step, an accrual's rounding) is then
    the same on every run. Explicitly mined timestamps still apply."""
    chain.provider.make_request("anvil_setBlockTimestampInterval", [1])
    try:
        yield
    finally:
        chain.provider.make_request("anvil_removeBlockTimestampInterval", [])


@pytest.fixture(scope="session")
def gas() -> GasReport:
    """Record an operation's gas: `gas.record("engine.deposit", receipt)`."""
    return _gas_report


def pytest_configure(config):
    """ape-foundry prints the enriched call trace of every reverted transaction. Enriching it
    costs about 250 ms a revert (it re-derives the test accounts' keys to label addresses), and
    the suite checks hundreds of reject paths, where the decoded error is what a test needs.
    SOLVENT_REVERT_TRACES=1 prints them again, for debugging a failure. Receipts are polled every
    2 ms instead of web3's 100 ms, ape's default transaction type is resolved once and an address
    known to hold code is not asked for it again (`solvent.testing`)."""
    if os.environ.get("SOLVENT_REVERT_TRACES") != "1":
        Trace.show = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
        # Ape traces every transaction to a contract for console.log lines; ours print none.
        ReceiptAPI.show_debug_logs = lambda self: None  # type: ignore[method-assign]
    poll_receipts_quickly()
    memoize_transaction_type()
    remember_contracts()
    decode_errors_from_call_tree()


def pytest_collection_modifyitems(session, config, items):
    """tests/fuzz switches ape to an Anvil of its own. ape keeps its block and transaction
    containers per chain id, and both nodes are chain 31337, so a test that ran after it would
    read the fuzz node's blocks and timestamps: the package runs after every other test."""
    items.sort(key=lambda item: "/tests/fuzz/" in str(item.path))


def pytest_sessionfinish(session, exitstatus):
    if not _gas_report.recorded:
        return
    if out := os.environ.get("GAS_MEASUREMENTS_OUT"):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(_gas_report.recorded, indent=2, sort_keys=True))
    snapshot = load_snapshot()
    if os.environ.get("GAS_SNAPSHOT_UPDATE") == "1":
        write_snapshot(_gas_report.merged_into(snapshot))
        return
    failures, notes = _gas_report.compare(snapshot)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in notes:
        reporter.write_line(f"gas improved: {line}")
    for line in failures:
        reporter.write_line(f"GAS REGRESSION: {line}", red=True)
    if failures:
        session.exitstatus = 1
