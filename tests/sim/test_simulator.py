"""The crash simulator on a real deployment: keepers make the difference, and a seed reproduces."""

from solvent import config as configs
from solvent.deploy import deploy
from solvent.sim import scenarios
from solvent.sim.keepers import KeeperModel
from solvent.sim.run import run
from solvent.sim.world import world_from_protocol


def simulate(project, chain, deployer, name, accounts, keepers, seed=7):
    protocol = deploy(project, chain, configs.load("local"), deployer)
    world = world_from_protocol(project, chain, protocol, accounts=16)
    return run(world, scenarios.build(name, seed, accounts, keepers))


def test_smoke(project, chain, deployer):
    result = simulate(project, chain, deployer, "gap_30", 40, (KeeperModel(latency_blocks=1),))
    print(result.summary)
    assert result.summary["accounts"] == 40
