"""The portfolio risk model as `solvent.deploy` ships it (config/local.yaml's `portfolio_model`):
its grid on chain is the config's (the documented default grid), the timelock governs it and the
deployer keeps nothing, the basis trade's margin read from the deployed model equals the reference
and costs at most a quarter of the standard model's, and a bad grid is refused when loaded."""

from __future__ import annotations

import copy

import ape
import pytest
import yaml
from test_portfolio_risk_model import (
    ETH_PRICE,
    AssetRates,
    Grid,
    account_args,
    assert_matches_reference,
    standard_cost,
)

from solvent import config as configs
from solvent import governance
from solvent.model import margin as standard
from solvent.model import portfolio as pm

WAD = 10**18
GRID_ASSETS = ("WETH", "WBTC")


def shipped(config: configs.ProtocolConfig) -> Grid:
    """The config's grid as the reference takes it, with each asset's rates."""
    spec = config.portfolio_model
    assert spec is not None
    return Grid(spec.params(), {a.key: AssetRates(a.haircut, a.add_on) for a in spec.assets})


def test_the_deployed_grid_is_the_config_and_the_documented_default(system, config):
    spec = config.portfolio_model
    model = system.portfolio_model
    assert spec is not None and model is not None
    # The shipped grid is the one docs/risk-models.md documents (`portfolio.default_grid`).
    assert spec.params() == pm.default_grid(GRID_ASSETS)
    assert model.grid() == (12, 8 * WAD // 10)
    assert list(model.gridAssets()) == [system.tokens[k].address for k in GRID_ASSETS]
    for asset in spec.assets:
        risk = (asset.sigma_multiple, asset.floor, asset.cap, asset.haircut, asset.add_on)
        assert model.assetGrid(system.tokens[asset.key]) == (True, risk, spec.moves_of(asset.key))
    assert risk == (35 * WAD // 100, 30 * WAD // 100, 60 * WAD // 100, 2 * WAD // 100, WAD // 100)
    assert system.addresses()["portfolio_model"] == model.address
    names, abis = system.abis()
    assert names["portfolio_model"] == "PortfolioRiskModel"
    assert any(e.get("name") == "setGrid" for e in abis["PortfolioRiskModel"])


def test_the_timelock_governs_the_model_and_the_deployer_holds_nothing(system, deployer):
    model, timelock = system.portfolio_model, system.timelock.address
    for role in ("DEFAULT_ADMIN_ROLE", "GOVERNOR_ROLE"):
        assert model.hasRole(getattr(model, role)(), timelock)
        assert not model.hasRole(getattr(model, role)(), deployer)
    assert system.roles["portfolio_model"] == {
        "DEFAULT_ADMIN_ROLE": [timelock],
        "GOVERNOR_ROLE": [timelock],
    }
    with ape.reverts(model.AccessControlUnauthorizedAccount):
        model.setGrid(
            1,
            WAD,
            [system.tokens["WETH"]],
            [(0, WAD // 2, WAD // 2, 0, 0)],
            [[-WAD]],
            sender=deployer,
        )
    # The timelock can replace it (after its delay).
    governance.govern(
        system,
        [
            (
                model,
                "setGrid",
                1,
                WAD,
                [system.tokens["WETH"]],
                [(0, WAD // 2, WAD // 2, 0, 0)],
                [[-WAD]],
            )
        ],
    )
    assert model.grid() == (1, WAD)


def test_a_basis_trade_on_the_deployed_model_costs_at_most_a_quarter_of_the_standard(
    system, config
):
    """100 WETH collateral and a 100 ETH-PERP short at the deployment's oracle price and sigma:
    the deployed model equals the reference under the shipped grid, and its cost (initial
    requirement + what the haircut takes) is ≤ 25% of the standard model's under the same
    config (WETH's IM weight 0.80, ETH-PERP's ratios)."""
    weth = system.tokens["WETH"]
    price, sigma = system.oracle.price(weth), system.oracle.sigma(weth)
    assert price == ETH_PRICE
    grid = shipped(config)
    rates = grid.rates["WETH"]
    eth = 100 * WAD
    book = pm.Book(
        0,
        (pm.Holding("WETH", eth, 18, price, rates.haircut),),
        (pm.Position("WETH", -eth, -eth * price // WAD, price, rates.addon),),
    )
    sigmas = {k: system.oracle.sigma(system.tokens[k]) for k in GRID_ASSETS}
    address = {k: system.tokens[k].address for k in GRID_ASSETS}
    assert_matches_reference(system.portfolio_model, book, grid, sigmas, address)
    got = system.portfolio_model.margin(account_args(book, sigmas, address))
    cost = got.initialRequirement + eth * price // WAD - got.equity  # no cash, no PnL
    asset = config.asset("WETH")
    m, c = asset.market, asset.collateral
    theirs = standard_cost(
        eth,
        -eth,
        sigma,
        standard.MarketParams(m.base_mmr, m.vol_factor, m.sigma_cap, m.im_scale),
        standard.CollateralParams(18, c.im_weight, c.mm_weight),
    )
    assert cost == 7_200 * WAD  # 2% haircut $4,000 + 1% add-on $2,000 + worst loss $1,200
    assert 0 < cost * 4 <= theirs


def raw_local() -> dict:
    return yaml.safe_load((configs.CONFIG_DIR / "local.yaml").read_text())


def edited(change) -> dict:
    raw = copy.deepcopy(raw_local())
    change(raw["portfolio_model"])
    return raw


def retune(grid: dict, key: str, **fields: str) -> None:
    """One asset's parameters changed (the YAML shares one mapping between both assets)."""
    grid["assets"][key] = {**grid["assets"][key], **fields}


BAD_GRIDS = [
    ("floor 0", lambda g: retune(g, "WETH", floor="0"), "floor <= cap"),
    ("cap 1", lambda g: retune(g, "WBTC", cap="1"), "floor <= cap"),
    ("haircut 1", lambda g: retune(g, "WETH", haircut="1"), "WETH: need 0 <= haircut"),
    ("add-on off tick", lambda g: retune(g, "WBTC", add_on="0.0100001"), "WBTC: haircut"),
    ("move above range", lambda g: g["scenarios"][0]["moves"].update(WETH="-1.01"), "above one"),
    ("move off tick", lambda g: g["scenarios"][3]["moves"].update(WBTC="-0.333"), "not a multiple"),
    ("mm factor 0", lambda g: g.update(mm_factor="0"), "mm_factor"),
    ("no scenario", lambda g: g.update(scenarios=[]), "1 to 16 scenarios"),
    ("17 scenarios", lambda g: g.update(scenarios=g["scenarios"] + g["scenarios"][:5]), "1 to 16"),
    ("unknown asset moves", lambda g: g["scenarios"][0]["moves"].update(LINK="-1"), "no scan"),
    ("asset left out", lambda g: g["assets"].pop("WBTC"), "exactly the configured assets"),
    ("asset not listed", lambda g: g["assets"].update(LINK=g["assets"]["WETH"]), "exactly"),
]


@pytest.mark.parametrize(
    ("change", "message"), [b[1:] for b in BAD_GRIDS], ids=[b[0] for b in BAD_GRIDS]
)
def test_a_bad_grid_is_refused_when_the_config_is_loaded(change, message):
    """Refused by `solvent.config.parse` (PortfolioGridError, naming the bound) before `deploy`
    sends anything."""
    with pytest.raises(configs.PortfolioGridError, match=message):
        configs.parse(edited(change))


def test_the_shipped_configs_parse_and_a_config_without_the_section_has_no_model():
    assert configs.parse(raw_local()).portfolio_model is not None
    assert configs.load("sepolia").portfolio_model == configs.load("local").portfolio_model
    raw = raw_local()
    del raw["portfolio_model"]
    assert configs.parse(raw).portfolio_model is None
