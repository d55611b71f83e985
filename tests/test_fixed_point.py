"""The Python fixed-point helpers against exact rational arithmetic."""

from fractions import Fraction
from math import ceil, floor

from hypothesis import given
from hypothesis import strategies as st

from solvent.model.fixed_point import (
    isqrt,
    mul_div_down,
    mul_div_up,
    signed_mul_div_toward_neg_inf,
)

uint = st.integers(min_value=0, max_value=2**200)
positive = st.integers(min_value=1, max_value=2**128)
signed = st.integers(min_value=-(2**200), max_value=2**200)


@given(uint, uint, positive)
def test_mul_div_rounds_as_named(x, y, d):
    exact = Fraction(x * y, d)
    assert mul_div_down(x, y, d) == floor(exact)
    assert mul_div_up(x, y, d) == ceil(exact)


@given(signed, signed, positive)
def test_signed_mul_div_rounds_toward_negative_infinity(x, y, d):
    assert signed_mul_div_toward_neg_inf(x, y, d) == floor(Fraction(x * y, d))


@given(uint)
def test_isqrt_is_floor_sqrt(x):
    r = isqrt(x)
    assert r * r <= x < (r + 1) * (r + 1)
