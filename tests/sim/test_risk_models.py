"""The simulator's population under a risk model, in Python (no chain): a basis trade is all WETH
collateral and the same ETH short, the hedged share leaves every other account as drawn, and the
portfolio fit gives each plan the largest scale of its positions the model's initial margin
carries (a plan it already carries is untouched)."""

import random

import pytest

from solvent import config as configs
from solvent.harness.population import PopulationSpec, _hedge, _plan
from solvent.model import portfolio as pm
from solvent.sim.risk_models import TARGET_HEALTH, PortfolioFit

WAD = 10**18
PRICES = {"WETH": 2_000.0, "WBTC": 60_000.0}
DECIMALS = {"WETH": 18, "WBTC": 8, "quote": 6}
SIGMA = 8 * WAD // 10  # the local seed volatility: scan range at its 30% floor


@pytest.fixture(scope="module")
def fit() -> PortfolioFit:
    spec = configs.load("local").portfolio_model
    assert spec is not None
    return PortfolioFit(
        spec.params(),
        {a.key: a.haircut for a in spec.assets},
        {a.key: a.add_on for a in spec.assets},
        {k: int(p) * WAD for k, p in PRICES.items()},
        {k: SIGMA for k in PRICES},
        DECIMALS,
    )


def plans(spec: PopulationSpec) -> list[dict]:
    rng = random.Random(spec.seed)
    return [_plan(rng, spec, i, PRICES, DECIMALS) for i in range(spec.accounts)]


def test_a_basis_trade_is_weth_collateral_and_the_same_eth_short():
    plan = plans(PopulationSpec(accounts=1, seed=3))[0]
    hedged = _hedge(plan, PRICES, DECIMALS)
    units = plan["collateral_usd"] / PRICES["WETH"]
    assert hedged["deposits"] == {"WETH": int(units * WAD)}
    assert hedged["positions"] == {"WETH": -round(units, 6)}
    assert hedged["hedged"] and hedged["owner"] == plan["owner"] and hedged["sub"] == plan["sub"]


def test_the_directional_plans_fit_at_their_largest_scale(fit):
    resized = 0
    for plan in plans(PopulationSpec(accounts=60, seed=2020)):
        sizes = fit(plan)
        assert fit.health(plan, sizes) >= TARGET_HEALTH
        if sizes == plan["positions"]:
            continue
        resized += 1
        # the same direction, smaller, and 1% more would not pass
        for market, size in sizes.items():
            assert abs(size) < abs(plan["positions"][market])
            assert size * plan["positions"][market] >= 0
        bigger = {m: s * 1.01 for m, s in sizes.items()}
        assert fit.health(plan, bigger) < TARGET_HEALTH
    # leverage 1.5-6x against a ~31% requirement: most of the crowd is cut
    assert resized > 30


def test_a_plan_the_model_carries_is_untouched_and_a_basis_trade_always_is(fit):
    for plan in plans(PopulationSpec(accounts=20, seed=5)):
        hedged = _hedge(plan, PRICES, DECIMALS)
        assert fit(hedged) == hedged["positions"]
        # the hedge's requirement: the collateral's 2% haircut at the 30% scan, plus the 1% add-on
        book_health = fit.health(hedged, hedged["positions"])
        assert book_health > 10 * WAD
    small = {"owner": 1, "deposits": {"quote": 10_000 * 10**6}, "positions": {"WETH": 1.0}}
    assert fit(small) == {"WETH": 1.0}


def test_the_fit_uses_the_reference_model(fit):
    plan = {"owner": 1, "deposits": {"quote": 31_000 * 10**6}, "positions": {"WETH": 50.0}}
    book = pm.Book(
        31_000 * 10**6,
        (),
        (pm.Position("WETH", 50 * WAD, 100_000 * WAD, 2_000 * WAD, WAD // 100),),
    )
    expected = pm.initial_health(book, fit.params, fit.sigmas)
    assert fit.health(plan, plan["positions"]) == expected
    # $100k of ETH needs 30% + 1% = $31k: exactly at initial margin, under the 2% buffer
    assert expected == WAD
    assert fit(plan)["WETH"] < 50.0
