"""MarginMath's multiply-divide helpers are exact: the 256-bit fast path and the 512-bit fallback
(Math.mulDiv) give floor / ceil of the rational x·y/d, and revert where the result overflows."""

from __future__ import annotations

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

MAX = 2**256 - 1
# Small operands take the fast path; large ones overflow x·y and take the fallback.
uint = st.one_of(
    st.integers(min_value=0, max_value=2**96),
    st.integers(min_value=0, max_value=MAX),
    st.sampled_from([0, 1, 2**128, MAX]),
)
denominator = st.one_of(
    st.integers(min_value=1, max_value=2**64),
    st.integers(min_value=1, max_value=MAX),
    st.sampled_from([1, 10**18, 10**30]),
)
signed = st.integers(min_value=-(2**200), max_value=2**200)


@pytest.fixture(scope="module")
def harness(project, deployer):
    return deployer.deploy(project.MarginMathHarness)


@settings(max_examples=200, deadline=None)
@given(x=uint, y=uint, d=denominator)
def test_unsigned_mul_div_is_exact(harness, x, y, d):
    down, up = x * y // d, -(-(x * y) // d)
    if down <= MAX:
        assert harness.mulDivDown(x, y, d) == down
    else:
        with ape.reverts():
            harness.mulDivDown(x, y, d)
    if up <= MAX:
        assert harness.mulDivUp(x, y, d) == up
    else:
        with ape.reverts():
            harness.mulDivUp(x, y, d)


@settings(max_examples=100, deadline=None)
@given(x=signed, y=st.integers(min_value=0, max_value=2**50), d=denominator)
def test_signed_mul_div_rounds_toward_the_named_infinity(harness, x, y, d):
    assert harness.mulDivFloor(x, y, d) == (x * y) // d
    assert harness.mulDivCeil(x, y, d) == -((-x * y) // d)


def test_zero_denominator_reverts(harness):
    for fn in (harness.mulDivDown, harness.mulDivUp):
        with ape.reverts():
            fn(3, 5, 0)
        with ape.reverts():
            fn(MAX, MAX, 0)
