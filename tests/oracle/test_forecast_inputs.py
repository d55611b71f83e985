"""OracleAdapter's forecast entry points called directly by the forecaster (normally the
RiskSteward, which bounds forecasts more tightly): the adapter's own last-line bounds on a
forecast's sigma and expiry, each refused with its named error and nothing stored."""

from __future__ import annotations

import ape
import pytest

WAD = 10**18


@pytest.fixture(scope="module")
def forecaster(accounts):
    return accounts[3]


@pytest.fixture
def wired(adapter, listed, forecaster, deployer):
    """The forecaster role given to a plain account, so the adapter's checks are the only ones."""
    adapter.setForecaster(forecaster, sender=deployer)
    return listed


def _forecast(adapter, asset) -> tuple[int, int]:
    state = adapter.assetState(asset)
    return state.forecastSigma, state.forecastExpiry


@pytest.mark.parametrize("sigma", [0, 10 * WAD + 1, 2**255])
def test_sigma_outside_range_refused(chain, adapter, wired, forecaster, sigma):
    before = _forecast(adapter, wired)
    expiry = chain.blocks.head.timestamp + 3_600
    with ape.reverts(adapter.ForecastSigmaOutOfRange, sigmaWad=sigma):
        adapter.setForecast(wired, sigma, expiry, sender=forecaster)
    assert _forecast(adapter, wired) == before


def test_sigma_at_the_ceiling_accepted(chain, adapter, wired, forecaster):
    expiry = chain.blocks.head.timestamp + 3_600
    adapter.setForecast(wired, adapter.MAX_SEED_SIGMA(), expiry, sender=forecaster)
    assert _forecast(adapter, wired) == (adapter.MAX_SEED_SIGMA(), expiry)


def test_expiry_in_the_past_refused(chain, adapter, wired, forecaster):
    before = _forecast(adapter, wired)
    now = chain.blocks.head.timestamp
    # The call is mined one second later at the earliest, so `now` is already past.
    with ape.reverts(adapter.ForecastExpiryOutOfRange):
        adapter.setForecast(wired, WAD, now, sender=forecaster)
    assert _forecast(adapter, wired) == before


def test_expiry_beyond_the_ttl_refused(chain, adapter, wired, forecaster):
    before = _forecast(adapter, wired)
    too_late = chain.blocks.head.timestamp + adapter.MAX_FORECAST_TTL() + 3_600
    with ape.reverts(adapter.ForecastExpiryOutOfRange):
        adapter.setForecast(wired, WAD, too_late, sender=forecaster)
    assert _forecast(adapter, wired) == before


def test_unknown_asset_refused(chain, adapter, wired, forecaster, stranger):
    expiry = chain.blocks.head.timestamp + 3_600
    with ape.reverts(adapter.UnknownAsset):
        adapter.setForecast(stranger, WAD, expiry, sender=forecaster)
