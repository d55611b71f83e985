"""The Python reference itself: rounding directions and identities the contract relies on."""

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from solvent.model import oracle_math
from solvent.model.fixed_point import WAD


@given(st.integers(0, 2**200))
def test_ceil_sqrt_is_the_smallest_root_not_below(x):
    root = oracle_math.ceil_sqrt(x)
    assert root * root >= x
    assert root == 0 or (root - 1) * (root - 1) < x


@given(st.integers(10**16, 10 * WAD))
def test_seeded_sigma_reads_back_at_least_the_seed(sigma):
    read_back = oracle_math.annualized_sigma(oracle_math.variance_from_sigma(sigma))
    assert sigma <= read_back <= sigma + 10**10


@given(st.integers(1, 2**128), st.integers(1, 2**128), st.integers(1, 10**6))
def test_variance_sample_rounds_up_within_a_few_wei(prev, price, dt):
    sample = oracle_math.variance_sample(prev, price, dt)
    exact_r = min(Fraction(abs(price - prev), prev), Fraction(100))
    exact = exact_r * exact_r * WAD / dt  # exact variance per second, WAD
    assert exact <= sample  # never below the exact value
    # ceil(r * 1e18) adds <= 1 wei, so r^2 / 1e18 grows by <= 2r + 1e-18; each later ceil adds < 1.
    assert sample <= exact + (2 * exact_r + 2) / dt + 1


def test_annualization_of_a_known_variance():
    # 80% a year is 0.64 / 31,536,000 variance per second.
    variance = 64 * 10**16 // oracle_math.SECONDS_PER_YEAR
    sigma = oracle_math.annualized_sigma(variance)
    assert abs(sigma - 8 * 10**17) < 10**9


@given(st.integers(0, 10**30), st.integers(0, 10**30), st.integers(5 * 10**17, 9_999 * 10**14))
def test_ewma_lies_between_its_inputs(variance, sample, lam):
    updated = oracle_math.ewma(variance, sample, lam)
    assert min(variance, sample) <= updated <= max(variance, sample)


def test_deviation_and_breaker_boundaries():
    assert oracle_math.within_deviation(100, 102, 200)
    assert not oracle_math.within_deviation(100, 103, 200)
    assert oracle_math.within_deviation(102, 100, 200)
    assert not oracle_math.moved_beyond(100, 110, 1_000)
    assert oracle_math.moved_beyond(100, 111, 1_000)
    assert oracle_math.moved_beyond(100, 89, 1_000)


LAMBDAS = st.integers(5 * 10**17, 9_999 * 10**14)


@given(LAMBDAS, st.integers(60, 86_400), st.integers(0, 10**6))
def test_decay_is_lambda_to_the_elapsed_intervals(lam, interval, extra):
    dt = interval + extra
    weight = oracle_math.decay(lam, dt, interval)
    exact = math.exp(dt / interval * math.log(lam / WAD))
    assert 0 <= weight <= lam  # at least one interval: never more than one interval's weight
    # Relative error ~1e-12 where the weight is meaningful; absolute within a few wei per step.
    assert abs(weight / WAD - exact) <= 2e-12 * exact + 64 / WAD


@given(LAMBDAS, st.integers(60, 86_400), st.integers(1, 40))
def test_decay_of_whole_intervals_is_the_plain_power(lam, interval, intervals):
    assert oracle_math.decay(lam, interval * intervals, interval) == oracle_math.pow_down(
        lam, intervals
    )
    assert oracle_math.decay(lam, interval, interval) == lam


@given(LAMBDAS, st.integers(60, 86_400), st.integers(0, 86_400), st.integers(1, 86_400))
def test_decay_never_grows_with_time(lam, interval, extra, later):
    dt = interval + extra
    assert oracle_math.decay(lam, dt + later, interval) <= oracle_math.decay(lam, dt, interval)


@given(LAMBDAS)
def test_ln_inverse_matches_the_logarithm(lam):
    assert abs(oracle_math.ln_inverse(lam) / WAD - math.log(WAD / lam)) < 1e-15


@given(st.integers(0, WAD - 1))
def test_exp_neg_stays_in_range_and_matches(y):
    value = oracle_math.exp_neg(y)
    assert 0 < value <= WAD
    assert abs(value / WAD - math.exp(-y / WAD)) < 1e-15


@given(st.integers(0, 10**24), st.integers(10**16, 2 * WAD))
def test_sample_cap_never_lowers_the_variance_and_bounds_sigma(variance, rise):
    cap = oracle_math.sample_cap(variance, rise)
    assert cap >= variance
    sigma = oracle_math.annualized_sigma(variance)
    assert sigma + rise <= oracle_math.annualized_sigma(cap) <= sigma + rise + 10**10


@given(
    st.integers(0, 10 * WAD),
    st.integers(0, 10 * WAD),
    st.integers(10**16, WAD),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
)
def test_ramp_rises_at_most_at_its_rate(start, target, rate, t1, gap):
    first = oracle_math.ramped_sigma(start, target, rate, t1)
    second = oracle_math.ramped_sigma(start, target, rate, t1 + gap)
    assert first <= second <= max(start, target)
    assert second - first <= oracle_math.ceil_div(rate * gap, 3_600) + 1
    assert oracle_math.ramped_sigma(start, target, rate, 0) == min(start, target)


@given(
    seed=st.integers(10**16, 10 * WAD),
    rate=st.integers(10**16, WAD),
    rise=st.integers(10**16, 2 * WAD),
    steps=st.lists(
        st.tuples(st.integers(1, 20_000), st.integers(50 * WAD, 200 * WAD)), min_size=1, max_size=12
    ),
)
def test_no_poke_moves_the_margin_sigma_up(seed, rate, rise, steps):
    """The margin sigma never jumps up at a poke, and over any stretch rises at most at its rate
    (one wei of rounding per restart of the ramp), whatever prices and timing a poker chooses."""
    state = oracle_math.VolatilityState(
        interval=300,
        lam=94 * 10**16,
        stale_after=3_600,
        max_sample_rise=rise,
        max_rise_per_hour=rate,
    )
    now = 1_000_000
    state.seed(seed, now)
    state.poke(100 * WAD, now)
    start_sigma, start_time = state.margin_sigma(now), now
    for restarts, (gap, price) in enumerate(steps, start=1):
        now += gap
        before = state.margin_sigma(now)
        sampled_before = state.last_sample_time
        state.poke(price, now)
        after = state.margin_sigma(now)
        if state.last_sample_time == sampled_before:  # early: no sample, nothing moves
            assert after == before
        else:  # a sample restarts the ramp where it stood, or lower (a decrease applies at once)
            assert after == min(before, state.ramp_target)
        bound = start_sigma + oracle_math.ceil_div(rate * (now - start_time), 3_600) + restarts
        assert after <= bound
