"""The risk keeper on the real deployment: its copy of the steward's rule predicts every
acceptance and refusal of the contract, it sends only what the steward accepts (clamped to the
change bound, waiting out the minimum delay), and it forecasts a plausible sigma from the real
history."""

from __future__ import annotations

import ape
import pytest

from solvent.forecast.risk_keeper import RiskKeeper, forecast_sigma
from solvent.forecast.steward_rule import LivePush, StewardBounds, refusal
from solvent.price_history import hourly

WAD = 10**18
HOUR = 3600


def chain_rule_inputs(system, token, now):
    b = system.steward.bounds(token)
    p = system.steward.pushed(token)
    return (
        StewardBounds(b.floor, b.ceiling, b.maxChangeBps, b.minDelay, b.ttl),
        LivePush(p.sigma, p.at, p.expiry),
        int(system.oracle.volatility(token)[0]),
    )


def keeper_forecasting(system, chain, deployer, forecaster) -> RiskKeeper:
    """A risk keeper for WETH whose forecast is `forecaster`'s (the GARCH fit is tested apart)."""
    eth = system.tokens["WETH"]
    now = lambda: int(chain.pending_timestamp)  # noqa: E731
    return RiskKeeper(
        system.steward, system.oracle, {"WETH": eth}, deployer, now, forecaster=forecaster
    )


def contract_error(system, chain, token, sigma, sender) -> str | None:
    """The steward's custom error for the push, sent for real and rolled back (a snapshot)."""
    with chain.isolate():
        try:
            system.steward.pushForecast(token, sigma, sender=sender)
        except ape.exceptions.ContractLogicError as exc:
            return type(exc).__name__
    return None


@pytest.mark.parametrize("live", [False, True])
def test_the_keepers_rule_predicts_the_steward(system, chain, deployer, live):
    eth = system.tokens["WETH"]
    if live:
        system.steward.pushForecast(eth, 11 * WAD // 10, sender=deployer)
        chain.mine(timestamp=chain.pending_timestamp + HOUR)
    candidates = [WAD * k // 100 for k in (5, 19, 20, 39, 40, 55, 80, 110, 120, 121, 165, 166)]
    candidates += [3 * WAD, 3 * WAD + 1]
    seen = set()
    for sigma in candidates:
        now = chain.pending_timestamp
        bounds, last, onchain = chain_rule_inputs(system, eth, now)
        expected = refusal(sigma, bounds, last, onchain, now)
        assert contract_error(system, chain, eth, sigma, deployer) == expected, sigma
        seen.add(expected)
    assert None in seen and "ForecastOutOfBounds" in seen and "ForecastChangeTooLarge" in seen


def test_the_keeper_pushes_only_what_the_steward_accepts(system, chain, deployer):
    eth = system.tokens["WETH"]
    wanted = {"sigma": 2.0}
    keeper = keeper_forecasting(system, chain, deployer, lambda returns: wanted["sigma"])
    onchain = int(system.oracle.volatility(eth)[0])  # 0.8 (seeded)
    assert keeper.step() == {"WETH": "pushed_clamped"}  # 2.0 wanted, 0.8 x 1.5 = 1.2 allowed
    first = onchain + onchain * 5000 // 10_000
    assert system.steward.pushed(eth).sigma == first
    assert keeper.step() == {"WETH": "waiting"}  # one push an hour
    chain.mine(timestamp=chain.pending_timestamp + HOUR)
    assert keeper.step() == {"WETH": "pushed_clamped"}  # 1.2 x 1.5 = 1.8
    assert system.steward.pushed(eth).sigma == first + first * 5000 // 10_000
    chain.mine(timestamp=chain.pending_timestamp + HOUR)
    wanted["sigma"] = 1.5
    assert keeper.step() == {"WETH": "pushed"}  # within bounds: as forecast
    assert system.steward.pushed(eth).sigma == 15 * WAD // 10
    system.steward.disable(sender=deployer)
    chain.mine(timestamp=chain.pending_timestamp + HOUR)
    assert keeper.step() == {"WETH": "disabled"}
    registry = keeper.metrics.registry
    clamped = {"asset": "WETH", "outcome": "pushed_clamped"}
    assert registry.get_sample_value("solvent_risk_keeper_pushes_total", clamped) == 2
    # no feed round for hours: the price went stale, the keeper carried on without it
    unavailable = "solvent_risk_keeper_price_unavailable_total"
    assert registry.get_sample_value(unavailable, {"asset": "WETH"}) >= 1


def test_a_forecast_below_the_onchain_estimate_is_not_sent(system, chain, deployer):
    eth = system.tokens["WETH"]
    keeper = keeper_forecasting(system, chain, deployer, lambda returns: 0.5)
    assert keeper.step() == {"WETH": "below_onchain"}
    assert system.steward.pushed(eth).at == 0


def test_the_garch_forecast_of_the_real_history_is_plausible():
    series = hourly("WETH")
    times, returns = series.hourly_log_returns()
    calm = forecast_sigma(returns[times <= 1_690_848_000][-2 * 365 * 24 :])  # to August 2023
    stressed = forecast_sigma(returns[times <= 1_584_057_600][-2 * 365 * 24 :])  # 13 March 2020
    assert calm is not None and stressed is not None
    assert 0.1 < calm < 1.0 < stressed < 10
    assert forecast_sigma(returns[:100]) is None  # too little history
