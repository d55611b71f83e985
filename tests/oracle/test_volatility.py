"""Realized volatility: sampling cadence, seeding, staleness, and the EWMA against the reference."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent import oracle_math
from solvent.fixed_point import WAD

from .conftest import asset_params

INTERVAL = 300
STALE_AFTER = 3_600
LAMBDA = 94 * 10**16
PRICE = 100 * 10**8  # $100, 8-decimals feed


@pytest.fixture(scope="module")
def vol_asset(project, adapter, deployer):
    """An asset with a single feed, so any price path is accepted."""
    token = deployer.deploy(project.MockERC20, "Volatile", "VOL", 18)
    feed = deployer.deploy(project.MockAggregator, 8, "VOL / USD", PRICE)
    params = asset_params(
        feed,
        minPrice=1,
        maxPrice=2**128 - 1,
        volInterval=INTERVAL,
        volLambda=LAMBDA,
        volStaleAfter=STALE_AFTER,
        maxStaleness=72 * 3600,
    )
    adapter.setAssetConfig(token, params, sender=deployer)
    return token, feed


def poke_at(chain, adapter, feed, token, deployer, keeper, answer, gap):
    """Sets the feed to `answer` `gap` seconds after the head block, pokes; returns (tx, time)."""
    chain.pending_timestamp = chain.blocks.head.timestamp + gap
    feed.setAnswer(answer, sender=deployer)
    tx = adapter.poke(token, sender=keeper)
    return tx, chain.blocks[tx.block_number].timestamp


def model_for(adapter, token) -> oracle_math.VolatilityState:
    params = adapter.volatilityParams(token)
    return oracle_math.VolatilityState(
        interval=params.interval, lam=params.lambdaWad, stale_after=params.staleAfter
    )


def assert_matches(adapter, token, model, now):
    state = adapter.assetState(token)
    assert state.variancePerSecond == model.variance
    assert state.hasVariance == model.has_variance
    assert state.lastSamplePrice == model.last_sample_price
    assert state.lastSampleTime == model.last_sample_time
    sigma, stale = adapter.volatility(token)
    assert sigma == model.sigma() == adapter.sigma(token)
    assert stale == model.stale(now)


def test_first_poke_only_records_the_price(adapter, vol_asset, deployer, keeper, chain):
    token, feed = vol_asset
    tx, now = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    assert not tx.events.filter(adapter.VolatilitySampled)
    state = adapter.assetState(token)
    assert (state.lastSamplePrice, state.lastSampleTime) == (100 * WAD, now)
    assert not state.hasVariance
    assert adapter.volatility(token) == (0, False)


def test_first_return_sets_the_variance_without_seed(adapter, vol_asset, deployer, keeper, chain):
    token, feed = vol_asset
    model = model_for(adapter, token)
    _, t0 = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    model.poke(100 * WAD, t0)
    tx, t1 = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE * 101 // 100, INTERVAL)
    model.poke(101 * WAD, t1)
    assert model.variance == oracle_math.variance_sample(100 * WAD, 101 * WAD, t1 - t0)
    event = tx.events.filter(adapter.VolatilitySampled)[0]
    assert event.variancePerSecond == model.variance
    assert event.sigmaWad == model.sigma()
    assert_matches(adapter, token, model, t1)


def test_early_poke_does_not_revert_or_sample_but_updates_the_breaker(
    adapter, vol_asset, deployer, keeper, chain
):
    token, feed = vol_asset
    _, t0 = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    tx, _ = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE * 2, 10)
    assert not tx.events.filter(adapter.VolatilitySampled)
    assert tx.events.filter(adapter.CircuitBreakerTripped)
    state = adapter.assetState(token)
    assert (state.lastSampleTime, state.lastSamplePrice) == (t0, 100 * WAD)
    assert not adapter.riskIncreaseAllowed(token)


def test_stale_estimate_keeps_its_value_and_a_stale_gap_never_lowers_it(
    adapter, vol_asset, deployer, keeper, chain
):
    token, feed = vol_asset
    adapter.seedVolatility(token, 8 * 10**17, sender=deployer)
    seeded = adapter.assetState(token).variancePerSecond
    poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    sigma_before, stale = adapter.volatility(token)
    assert not stale
    chain.mine(timestamp=chain.blocks.head.timestamp + STALE_AFTER + 1)
    assert adapter.volatility(token) == (sigma_before, True)  # no decay while stale
    # A quiet price after a long gap would pull the EWMA down: the estimate must not go down.
    tx, _ = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE + 1, 86_400)
    assert tx.events.filter(adapter.VolatilitySampled)
    assert adapter.assetState(token).variancePerSecond == seeded
    assert adapter.volatility(token) == (sigma_before, False)


def test_fresh_quiet_samples_do_decay_the_estimate(adapter, vol_asset, deployer, keeper, chain):
    token, feed = vol_asset
    adapter.seedVolatility(token, 8 * 10**17, sender=deployer)
    seeded = adapter.assetState(token).variancePerSecond
    poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, INTERVAL)
    assert adapter.assetState(token).variancePerSecond == oracle_math.ewma(seeded, 0, LAMBDA)


# Gaps: early (no sample), regular, and stale (beyond STALE_AFTER).
gaps = st.one_of(
    st.integers(1, INTERVAL - 1),
    st.integers(INTERVAL, STALE_AFTER),
    st.integers(STALE_AFTER + 1, 3 * 86_400),
)
answers = st.one_of(st.integers(10**6, 10**14), st.just(PRICE))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lam=st.integers(5 * 10**17, 9_999 * 10**14),
    seed=st.one_of(st.none(), st.integers(10**16, 10 * WAD)),
    steps=st.lists(st.tuples(gaps, answers), min_size=2, max_size=6),
)
def test_ewma_sequence_matches_reference(
    adapter, vol_asset, deployer, keeper, chain, lam, seed, steps
):
    token, feed = vol_asset
    with chain.isolate():
        params = asset_params(
            feed,
            minPrice=1,
            maxPrice=2**128 - 1,
            volInterval=INTERVAL,
            volLambda=lam,
            volStaleAfter=STALE_AFTER,
            maxStaleness=72 * 3600,
            breakerThresholdBps=5_000,
        )
        adapter.setAssetConfig(token, params, sender=deployer)
        model = model_for(adapter, token)
        if seed is not None:
            adapter.seedVolatility(token, seed, sender=deployer)
            model.seed(seed)
        for gap, answer in steps:
            _, now = poke_at(chain, adapter, feed, token, deployer, keeper, answer, gap)
            model.poke(answer * 10**10, now)
            assert_matches(adapter, token, model, now)
