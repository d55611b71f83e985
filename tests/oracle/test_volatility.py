"""Realized volatility: sampling cadence, seeding, staleness, time-weighted EWMA, the per-sample
cap and the margin sigma's ramp, all against the reference model (solvent/model/oracle_math.py)."""

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.model import oracle_math
from solvent.model.fixed_point import WAD

from .conftest import asset_params

INTERVAL = 300
MAX_STALENESS = 375  # the interval is its 4/5: the smallest the heartbeat rule allows
STALE_AFTER = 3_600
LAMBDA = 94 * 10**16
MAX_SAMPLE_RISE = 25 * 10**16
MAX_RISE_PER_HOUR = 25 * 10**16
PRICE = 100 * 10**8  # $100, 8-decimals feed
SEED = 8 * 10**17


def _vol_params(feed, **over):
    """The test asset's config: a single feed accepting any price path, this file's volatility
    parameters, `over` changed."""
    return asset_params(
        feed,
        **{
            "minPrice": 1,
            "maxPrice": 10**38,
            "volInterval": INTERVAL,
            "volLambda": LAMBDA,
            "volStaleAfter": STALE_AFTER,
            "maxStaleness": MAX_STALENESS,
            "volMaxSampleRise": MAX_SAMPLE_RISE,
            "volMaxRisePerHour": MAX_RISE_PER_HOUR,
            **over,
        },
    )


@pytest.fixture(scope="module")
def vol_asset(project, adapter, deployer):
    """An asset with a single feed, so any price path is accepted."""
    token = deployer.deploy(project.MockERC20, "Volatile", "VOL", 18)
    feed = deployer.deploy(project.MockAggregator, 8, "VOL / USD", PRICE)
    params = _vol_params(feed)
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
    margin = adapter.marginSigma(token)
    return oracle_math.VolatilityState(
        interval=params.interval,
        lam=params.lambdaWad,
        stale_after=params.staleAfter,
        max_sample_rise=params.maxSampleRise,
        max_rise_per_hour=margin.maxRisePerHour,
        ramp_from=margin.fromSigma,
        ramp_target=margin.targetSigma,
        ramp_since=margin.since,
    )


def assert_matches(adapter, token, model, now):
    state = adapter.assetState(token)
    assert state.variancePerSecond == model.variance
    assert state.hasVariance == model.has_variance
    assert state.lastSamplePrice == model.last_sample_price
    assert state.lastSampleTime == model.last_sample_time
    sigma, stale = adapter.volatility(token)
    assert sigma == model.sigma()
    assert stale == model.stale(now)
    margin = adapter.marginSigma(token)
    assert (margin.fromSigma, margin.targetSigma, margin.since) == (
        model.ramp_from,
        model.ramp_target,
        model.ramp_since,
    )
    assert adapter.sigma(token) == model.margin_sigma(now)


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
    adapter.seedVolatility(token, SEED, sender=deployer)
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
    assert adapter.sigma(token) == sigma_before  # nor the margin


def test_fresh_quiet_samples_do_decay_the_estimate(adapter, vol_asset, deployer, keeper, chain):
    token, feed = vol_asset
    adapter.seedVolatility(token, SEED, sender=deployer)
    seeded = adapter.assetState(token).variancePerSecond
    _, t0 = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    _, t1 = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, INTERVAL)
    # About one interval apart (the poke's block may land a second after the feed's, with the
    # wall clock): the quiet sample weighs lambda^(dt/interval), exactly lambda at dt = interval.
    weight = oracle_math.decay(LAMBDA, t1 - t0, INTERVAL)
    assert INTERVAL <= t1 - t0 <= INTERVAL + 2
    decayed = oracle_math.ewma(seeded, 0, weight)
    assert adapter.assetState(token).variancePerSecond == decayed
    # Decreases reach the margin at once.
    assert adapter.sigma(token) == oracle_math.annualized_sigma(decayed) < SEED


def test_sample_weight_follows_its_elapsed_time(adapter, vol_asset, deployer, keeper, chain):
    """A sample 2.5 intervals after the last weighs 1 - lambda^2.5, not 1 - lambda."""
    token, feed = vol_asset
    adapter.seedVolatility(token, SEED, sender=deployer)
    seeded = adapter.assetState(token).variancePerSecond
    _, t0 = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    _, t1 = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE * 1002 // 1000, 750)
    dt = t1 - t0
    weight = oracle_math.decay(LAMBDA, dt, INTERVAL)
    assert abs(weight / WAD - (LAMBDA / WAD) ** (dt / INTERVAL)) < 1e-12
    sample = oracle_math.variance_sample(100 * WAD, 1002 * WAD // 10, dt)
    expected = oracle_math.ewma(seeded, sample, weight)
    assert (
        adapter.assetState(token).variancePerSecond
        == expected
        != oracle_math.ewma(seeded, sample, LAMBDA)
    )


def test_one_sample_raises_sigma_by_at_most_the_cap(adapter, vol_asset, deployer, keeper, chain):
    """The issue's wick (-5% over the sample) would take sigma 0.8 to ~2.9; the cap stops it at
    0.8 + volMaxSampleRise."""
    token, feed = vol_asset
    adapter.seedVolatility(token, SEED, sender=deployer)
    seeded = adapter.assetState(token).variancePerSecond
    poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    poke_at(chain, adapter, feed, token, deployer, keeper, PRICE * 95 // 100, INTERVAL)
    uncapped = oracle_math.ewma(
        seeded, oracle_math.variance_sample(100 * WAD, 95 * WAD, INTERVAL), LAMBDA
    )
    assert oracle_math.annualized_sigma(uncapped) > 2 * WAD
    variance = adapter.assetState(token).variancePerSecond
    assert variance == oracle_math.sample_cap(seeded, MAX_SAMPLE_RISE) < uncapped
    sigma, _ = adapter.volatility(token)
    seed_sigma = oracle_math.annualized_sigma(seeded)
    assert seed_sigma + MAX_SAMPLE_RISE <= sigma <= seed_sigma + MAX_SAMPLE_RISE + 10**9


def test_margin_sigma_ramps_toward_a_higher_estimate(adapter, vol_asset, deployer, keeper, chain):
    token, feed = vol_asset
    adapter.seedVolatility(token, SEED, sender=deployer)
    start = adapter.sigma(token)
    poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    _, t1 = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE * 95 // 100, INTERVAL)
    target, _ = adapter.volatility(token)
    assert target > start
    assert adapter.sigma(token) == start  # the poke itself moves no margin
    margin = adapter.marginSigma(token)
    assert (margin.fromSigma, margin.targetSigma, margin.since) == (start, target, t1)
    chain.mine(timestamp=t1 + 1_800)
    assert adapter.sigma(token) == start + MAX_RISE_PER_HOUR // 2
    chain.mine(timestamp=t1 + 4 * 3_600)
    assert adapter.sigma(token) == target


def test_rate_change_restarts_the_ramp_from_the_current_sigma(
    adapter, vol_asset, deployer, keeper, chain
):
    token, feed = vol_asset
    adapter.seedVolatility(token, SEED, sender=deployer)
    start = adapter.sigma(token)
    poke_at(chain, adapter, feed, token, deployer, keeper, PRICE, 1)
    _, t1 = poke_at(chain, adapter, feed, token, deployer, keeper, PRICE * 95 // 100, INTERVAL)
    chain.pending_timestamp = t1 + 720
    params = _vol_params(feed, volMaxRisePerHour=WAD)
    tx = adapter.setAssetConfig(token, params, sender=deployer)
    now = chain.blocks[tx.block_number].timestamp
    rose = oracle_math.ceil_div(MAX_RISE_PER_HOUR * (now - t1), 3_600)
    margin = adapter.marginSigma(token)
    assert (margin.fromSigma, margin.since) == (start + rose, now)
    chain.mine(timestamp=now + 360)
    assert adapter.sigma(token) == start + rose + WAD // 10  # the new rate, from now on


def test_sigma_of_an_unknown_asset_reverts(adapter, stranger):
    with ape.reverts(adapter.UnknownAsset):
        adapter.sigma(stranger)


# Gaps: early (no sample), regular, and stale (beyond STALE_AFTER).
gaps = st.one_of(
    st.integers(1, INTERVAL - 1),
    st.integers(INTERVAL, STALE_AFTER),
    st.integers(STALE_AFTER + 1, 3 * 86_400),
)
answers = st.one_of(st.integers(10**6, 10**14), st.just(PRICE))


# ~20 s alone: `make test-slow` (and CI) runs it; `make test` stays under 10 minutes
@pytest.mark.slow
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lam=st.integers(5 * 10**17, 9_999 * 10**14),
    seed=st.one_of(st.none(), st.integers(10**16, 10 * WAD)),
    max_sample_rise=st.integers(10**16, 2 * WAD),
    max_rise_per_hour=st.integers(10**16, WAD),
    steps=st.lists(st.tuples(gaps, answers), min_size=2, max_size=6),
)
def test_ewma_sequence_matches_reference(
    adapter,
    vol_asset,
    deployer,
    keeper,
    chain,
    lam,
    seed,
    max_sample_rise,
    max_rise_per_hour,
    steps,
):
    token, feed = vol_asset
    with chain.isolate():
        params = asset_params(
            feed,
            minPrice=1,
            maxPrice=10**38,
            volInterval=INTERVAL,
            volLambda=lam,
            volStaleAfter=STALE_AFTER,
            maxStaleness=MAX_STALENESS,
            breakerThresholdBps=5_000,
            volMaxSampleRise=max_sample_rise,
            volMaxRisePerHour=max_rise_per_hour,
        )
        adapter.setAssetConfig(token, params, sender=deployer)
        model = model_for(adapter, token)
        if seed is not None:
            tx = adapter.seedVolatility(token, seed, sender=deployer)
            model.seed(seed, chain.blocks[tx.block_number].timestamp)
        for gap, answer in steps:
            _, now = poke_at(chain, adapter, feed, token, deployer, keeper, answer, gap)
            model.poke(answer * 10**10, now)
            assert_matches(adapter, token, model, now)
