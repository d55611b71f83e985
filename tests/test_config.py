"""Network configuration files parse into chain units."""

import pytest

from solvent.config import ConfigError, load, to_units, to_wad

WAD = 10**18


def test_local_config_is_all_mocks_with_two_assets():
    config = load("local")
    assert config.quote.is_mock and config.quote.decimals == 6
    assert [a.key for a in config.assets] == ["WETH", "WBTC"]
    weth = config.asset("WETH")
    assert weth.token.is_mock and weth.feed.is_mock and weth.secondary_feed is not None
    assert weth.feed.initial_answer() == 2000 * 10**8
    assert weth.collateral.mm_weight == 85 * WAD // 100
    assert weth.collateral.deposit_cap == 1_000_000 * WAD
    assert config.asset("WBTC").collateral.deposit_cap == 50_000 * 10**8
    assert weth.market.base_mmr == 65 * WAD // 1000
    assert config.asset("WBTC").market.name == "BTC-PERP"
    assert weth.auction.tip == 5 * 10**6 and weth.auction.curve.kind == "stairstep"
    assert config.liquidation.keeper_tip == 5_000_000
    assert config.liquidation.liquidation_fee == 2 * WAD // 100
    assert config.liquidation.min_position_margin == 50 * WAD


def test_sepolia_config_names_public_addresses_and_no_mocks():
    config = load("sepolia")
    assert not config.quote.is_mock
    for asset in config.assets:
        assert not asset.token.is_mock and not asset.feed.is_mock
        assert asset.secondary_feed is None
    assert config.asset("WETH").feed.address == "0x694AA1769357215DE4FAC081bf1f309aDC325306"


def test_unknown_network_names_the_known_ones():
    with pytest.raises(ConfigError, match="local, sepolia"):
        load("mainnet")


def test_units_refuse_precision_they_cannot_hold():
    assert to_wad("0.065") == 65 * 10**15
    assert to_units("5.25", 6) == 5_250_000
    with pytest.raises(ConfigError):
        to_units("0.0000001", 6)
