"""The crash simulator on a real deployment (its own Anvil, no step tracing): prompt keepers
leave no bad debt through the March-2020 shape, absent keepers do, and a seed reproduces a run.

The March path runs here at 15-minute blocks to stay fast; `make sim` runs it at 5 minutes."""

import pytest

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.harness.world import world_from_protocol
from solvent.sim import scenarios
from solvent.sim.keepers import KeeperModel
from solvent.sim.run import run

ACCOUNTS = 40
STEP = 900
PROMPT = (KeeperModel(latency_blocks=1), KeeperModel(latency_blocks=1, failure_rate=0.2))


def simulate(project, networks, name, keepers, seed=11):
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        protocol = deploy(project, chain, configs.load("local"), accounts.test_accounts[0])
        world = world_from_protocol(project, chain, protocol, accounts=16)
        return run(world, scenarios.build(name, seed, ACCOUNTS, keepers, STEP)).summary


@pytest.fixture(scope="module")
def march_with_keepers(project, networks):
    return simulate(project, networks, "march_2020", PROMPT)


def test_prompt_keepers_leave_no_bad_debt_in_march_2020(march_with_keepers):
    summary = march_with_keepers
    assert summary["max_drawdown"]["WETH"] == pytest.approx(0.5, abs=0.03)
    assert summary["liquidations"] > 0
    assert summary["bad_debt_usd"] == 0
    # Keepers act in the block after a breach; a burst larger than a block's gas spills over.
    assert summary["breach_to_liquidation_blocks_mean"] <= 1.5


def test_without_keepers_the_same_crash_leaves_bad_debt(project, networks):
    summary = simulate(project, networks, "march_2020", ())
    assert summary["liquidations"] == 0
    assert summary["bad_debt_usd"] > 0
    # the loss is deepest at the low (hour 25), not at the end of the path (prices recover)
    assert summary["bad_debt_peak_usd"] > summary["bad_debt_usd"]


def test_a_seed_reproduces_the_run(project, networks, march_with_keepers):
    assert simulate(project, networks, "march_2020", PROMPT) == march_with_keepers
