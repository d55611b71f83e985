"""Price curves against the Python reference, exactly, and their monotonicity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.model.auction import exponential_price, linear_price, stairstep_price, wad_pow
from solvent.testing import deploy_reverts

WAD = 10**18
START_PRICES = st.integers(min_value=0, max_value=2**128 - 1)
ELAPSED = st.integers(min_value=0, max_value=10**7)
CUTS = st.integers(min_value=1, max_value=WAD - 1)


@pytest.fixture(scope="module")
def curves(project, deployer):
    return {
        "linear": deployer.deploy(project.LinearDecrease, 7_200),
        "exp": deployer.deploy(project.ExponentialDecrease, 999_900_000_000_000_000),
        "stair": deployer.deploy(project.StairstepExponentialDecrease, 990_000_000_000_000_000, 90),
        # Extreme cut close to 1: rounding is the largest share of each step.
        "exp_slow": deployer.deploy(project.ExponentialDecrease, WAD - 3),
    }


@settings(max_examples=50, deadline=None)
@given(top=START_PRICES, elapsed=ELAPSED)
def test_linear_matches_reference(curves, top, elapsed):
    assert curves["linear"].price(top, elapsed) == linear_price(top, elapsed, 7_200)


@settings(max_examples=50, deadline=None)
@given(top=START_PRICES, elapsed=ELAPSED)
def test_exponential_matches_reference(curves, top, elapsed):
    assert curves["exp"].price(top, elapsed) == exponential_price(top, elapsed, 999_900 * 10**12)


@settings(max_examples=50, deadline=None)
@given(top=START_PRICES, elapsed=ELAPSED)
def test_stairstep_matches_reference(curves, top, elapsed):
    expected = stairstep_price(top, elapsed, 990 * 10**15, 90)
    assert curves["stair"].price(top, elapsed) == expected


@settings(max_examples=30, deadline=None)
@given(cut=CUTS, n=st.integers(min_value=0, max_value=2**64))
def test_wad_pow_never_exceeds_exact_power(cut, n):
    # Floored at every step: never above the exact power (checked on small exponents exactly).
    result = wad_pow(cut, n)
    assert 0 <= result <= WAD
    if n < 64:
        assert result * WAD**n <= cut**n * WAD


@settings(max_examples=40, deadline=None)
@given(top=START_PRICES, elapsed=ELAPSED, delta=st.integers(min_value=1, max_value=5_000))
def test_curves_never_increase(curves, top, elapsed, delta):
    for curve in curves.values():
        assert curve.price(top, elapsed + delta) <= curve.price(top, elapsed)


@settings(max_examples=40, deadline=None)
@given(cut=CUTS, step=st.integers(min_value=1, max_value=600), top=START_PRICES, t=ELAPSED)
def test_reference_curves_never_increase(cut, step, top, t):
    assert exponential_price(top, t + 1, cut) <= exponential_price(top, t, cut)
    assert stairstep_price(top, t + step, cut, step) <= stairstep_price(top, t, cut, step)


def test_curves_start_at_start_price_and_reach_zero(curves):
    top = 2_400 * WAD
    for curve in curves.values():
        assert curve.price(top, 0) == top
    assert curves["linear"].price(top, 7_200) == 0
    assert curves["linear"].price(top, 3_600) == top // 2
    assert curves["stair"].price(top, 89) == top
    assert curves["stair"].price(top, 90) == top * 99 // 100
    assert curves["exp"].price(top, 10**9) == 0


def test_curve_constructors_reject_bad_parameters(project, chain, deployer):
    linear, exponential = project.LinearDecrease, project.ExponentialDecrease
    stairstep = project.StairstepExponentialDecrease
    deploy_reverts(chain, deployer, linear.InvalidDuration, linear, 0)
    for cut in (0, WAD, WAD + 1):
        deploy_reverts(chain, deployer, exponential.InvalidCut, exponential, cut)
        deploy_reverts(chain, deployer, stairstep.InvalidCut, stairstep, cut, 60)
    deploy_reverts(chain, deployer, stairstep.InvalidStep, stairstep, WAD // 2, 0)
