"""Deployment: the whole protocol wired from a network config, its record, and a rehearsal of the
Sepolia config on Anvil with mocks placed at the configured addresses."""

import dataclasses
import json

import ape
import pytest

from solvent import config as configs
from solvent import governance as governance_ops
from solvent.deploy import (
    ZERO_ADDRESS,
    DeploymentExists,
    RecordNotFound,
    addresses_without_code,
    attach,
    deploy,
    governed_contracts,
    read_record,
    refuse_existing_record,
    stage_mocks_at_configured_addresses,
    write_record,
)

WAD = 10**18


@pytest.fixture(scope="module")
def local(project, chain, deployer):
    return deploy(project, chain, configs.load("local"), deployer)


def test_local_deployment_is_wired(local):
    p = local
    assert p.admin.liquidator() == p.liquidator.address
    assert p.admin.insuranceFund() == p.fund.address
    assert p.admin.lpPool() == p.pool.address
    assert p.liquidator.engine() == p.engine.address
    assert p.fund.hasRole(p.fund.COVER_ROLE(), p.engine)
    assert p.fund.hasRole(p.fund.REWARD_ROLE(), p.liquidator)
    assert p.fund.hasRole(p.fund.REWARD_ROLE(), p.engine)
    assert p.fund.hasRole(p.fund.COVER_ROLE(), p.liquidator)
    assert p.oracle.price(p.tokens["WETH"]) == 2000 * WAD
    assert p.oracle.price(p.tokens["WBTC"]) == 60_000 * WAD
    assert p.market_ids == {"WETH": 0, "WBTC": 1}
    assert p.admin.markets(1).asset == p.tokens["WBTC"].address


def test_record_round_trips_and_refuses_to_overwrite(local, project, tmp_path):
    config = configs.load("local")
    path = write_record(local, config, "local", 31337, "0.8.28", folder=tmp_path)
    record = read_record("local", folder=tmp_path)
    assert record["addresses"]["engine"] == local.engine.address
    assert record["config"] == "local" and record["compiler"] == "0.8.28"
    with pytest.raises(DeploymentExists):
        write_record(local, config, "local", 31337, "0.8.28", folder=tmp_path)
    assert (
        write_record(local, config, "local", 31337, "0.8.28", folder=tmp_path, force=True) == path
    )
    again = attach(project, record)
    assert again.engine.address == local.engine.address
    assert again.tokens["WETH"].address == local.tokens["WETH"].address


def test_an_existing_record_is_refused_before_deploying_and_a_missing_one_named(tmp_path):
    (tmp_path / "anvil.json").write_text("{}")
    with pytest.raises(DeploymentExists, match="pass --force"):
        refuse_existing_record("anvil", force=False, folder=tmp_path)
    assert refuse_existing_record("anvil", force=True, folder=tmp_path) == tmp_path / "anvil.json"
    with pytest.raises(RecordNotFound, match="deploy first"):
        read_record("sepolia", folder=tmp_path)


def test_record_addresses_without_code_are_named(local, chain, tmp_path):
    config = configs.load("local")
    write_record(local, config, "local", 31337, "0.8.28", folder=tmp_path)
    record = read_record("local", folder=tmp_path)

    def code_at(address):
        return chain.provider.get_code(address).hex()

    assert addresses_without_code(record, code_at) == []
    record["addresses"]["engine"] = "0x000000000000000000000000000000000000dEaD"
    assert addresses_without_code(record, code_at) == ["engine"]


def test_the_persistent_node_deploys_with_the_local_config():
    assert configs.config_name_for("anvil") == "local"
    assert configs.load("anvil") == configs.load("local")
    with pytest.raises(configs.ConfigError, match="--config NAME"):
        configs.load("custom")


def test_sepolia_config_rehearsed_on_anvil(project, chain, deployer):
    config = configs.load("sepolia")
    staged = stage_mocks_at_configured_addresses(project, chain, config, deployer)
    assert len(staged) == 5  # USDC, WETH, WBTC and the two Chainlink feeds
    sepolia = deploy(project, chain, config, deployer)
    weth = config.asset("WETH")
    assert sepolia.tokens["WETH"].address == weth.token.address
    assert sepolia.tokens["WETH"].symbol() == "WETH"
    assert sepolia.tokens["WBTC"].decimals() == 8
    assert sepolia.feeds["WETH"].address == weth.feed.address
    assert sepolia.oracle.price(weth.token.address) == 10**8 * 10**10  # rehearsal answer: $1
    assert sepolia.secondary_feeds == {}


def test_roles_go_to_the_holders_the_config_names(project, chain, deployer, accounts, tmp_path):
    """A separated deployment: another proposer, a guardian and a risk keeper of their own, anyone
    executes. The deployer keeps no role anywhere; the record lists every holder."""
    proposer, guardian, keeper = accounts[1], accounts[2], accounts[3]
    base = configs.load("local")
    governance = dataclasses.replace(
        base.governance,
        proposers=("test:1",),
        executors=(),
        guardian="test:2",
        risk_keeper="test:3",
    )
    p = deploy(project, chain, dataclasses.replace(base, governance=governance), deployer)
    timelock = p.timelock
    for key, contract in governed_contracts(p).items():
        for role in ("DEFAULT_ADMIN_ROLE", "GOVERNOR_ROLE", "GUARDIAN_ROLE", "RISK_KEEPER_ROLE"):
            if hasattr(contract, role):
                assert not contract.hasRole(getattr(contract, role)(), deployer), (key, role)
    assert p.roles["engine"] == {
        "DEFAULT_ADMIN_ROLE": [timelock.address],
        "GOVERNOR_ROLE": [timelock.address],
        "GUARDIAN_ROLE": [guardian.address],
    }
    assert p.roles["risk_steward"]["RISK_KEEPER_ROLE"] == [keeper.address]
    assert p.roles["timelock"]["PROPOSER_ROLE"] == [proposer.address]
    assert p.roles["timelock"]["EXECUTOR_ROLE"] == [ZERO_ADDRESS]  # anyone executes
    assert sorted(p.roles["timelock"]["CANCELLER_ROLE"]) == sorted(
        [proposer.address, guardian.address]
    )
    record = json.loads(
        write_record(p, base, "separated", 31337, "0.8.28", folder=tmp_path).read_text()
    )
    assert record["roles"] == p.roles and record["addresses"]["timelock"] == timelock.address

    # Each role's refusals, with their named errors.
    call = [(p.admin, "setPoolReserveRatio", WAD // 5)]
    with ape.reverts(timelock.AccessControlUnauthorizedAccount):
        governance_ops.propose(timelock, call, deployer)  # the deployer proposes nothing
    with ape.reverts(timelock.AccessControlUnauthorizedAccount):
        governance_ops.propose(timelock, call, guardian)  # the guardian only cancels
    with ape.reverts(p.engine.AccessControlUnauthorizedAccount):
        p.admin.setPoolReserveRatio(WAD // 5, sender=proposer)  # no direct call, not even hers
    proposal = governance_ops.propose(timelock, call, proposer)
    governance_ops.wait_past(chain, proposal.ready_at)
    governance_ops.execute(timelock, proposal, accounts[6])  # any executor
    assert p.admin.poolReserveRatio() == WAD // 5
    with ape.reverts(p.steward.AccessControlUnauthorizedAccount):
        p.steward.pushForecast(p.tokens["WETH"], WAD, sender=deployer)
