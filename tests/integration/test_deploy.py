"""Deployment: the whole protocol wired from a network config, its record, and a rehearsal of the
Sepolia config on Anvil with mocks placed at the configured addresses."""

import pytest

from solvent import config as configs
from solvent.deploy import (
    DeploymentExists,
    RecordNotFound,
    addresses_without_code,
    attach,
    deploy,
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
