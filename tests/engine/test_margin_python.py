"""Properties of the Python reference model itself (no chain): fills, fees, the partial fraction."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from solvent import margin as model
from solvent.fixed_point import WAD

prices = st.integers(min_value=10**15, max_value=10**24)
sizes = st.integers(min_value=-(10**24), max_value=10**24).filter(bool)


@given(size=sizes, p_open=prices, p_close=prices)
def test_round_trip_realizes_exactly_the_price_move_rounded_against_the_account(
    size, p_open, p_close
):
    notional, realized = model.apply_fill(0, 0, size, p_open)
    assert realized == 0
    _, realized = model.apply_fill(size, notional, -size, p_close)
    exact = Fraction(size * (p_close - p_open), WAD)
    assert exact - 2 <= realized <= exact


@given(size=sizes, price=prices)
def test_partial_reductions_sum_to_the_full_close(size, price):
    notional, _ = model.apply_fill(0, 0, size, price)
    part = -size // 3 if size > 0 else -(size // 3)
    if part == 0 or abs(part) >= abs(size):
        return
    n1, r1 = model.apply_fill(size, notional, part, price)
    n2, r2 = model.apply_fill(size + part, n1, -(size + part), price)
    _, whole = model.apply_fill(size, notional, -size, price)
    assert n2 == 0
    assert r1 + r2 <= whole + 2  # splitting a close never pays the account more


@given(
    equity=st.integers(min_value=-(10**24), max_value=10**24),
    requirement=st.integers(min_value=WAD, max_value=10**24),  # at least $1 of margin
    notional_ratio=st.integers(min_value=2, max_value=50),
    penalty_rate=st.integers(min_value=0, max_value=WAD // 5),
    target=st.integers(min_value=WAD, max_value=2 * WAD),
)
def test_liquidation_fraction_is_the_smallest_that_restores_the_target(
    equity, requirement, notional_ratio, penalty_rate, target
):
    total_notional = requirement * notional_ratio
    f = model.liquidation_fraction(equity, requirement, total_notional, penalty_rate, target)
    assert 0 < f <= WAD
    if f == WAD:
        return
    x = Fraction(f, WAD)
    t, p = Fraction(target, WAD), Fraction(penalty_rate, WAD)
    after = equity - x * p * total_notional
    assert after >= t * (1 - x) * requirement
    smaller = Fraction(f - 2, WAD)  # ceil plus rounded terms: two ulps below never suffices
    assert equity - smaller * p * total_notional < t * (1 - smaller) * requirement


@given(debt=st.integers(min_value=0, max_value=10**15), penalty=st.integers(0, 10**12))
def test_keeper_reward_never_exceeds_the_penalty(debt, penalty):
    reward = model.keeper_reward(debt, penalty, 5 * 10**6, WAD // 1000)
    assert 0 <= reward <= penalty


def test_health_edges():
    assert model.health(0, 0, False) == model.MAX_HEALTH
    assert model.health(0, 0, True) == 0
    assert model.health(-1, 0, False) == 0
    assert model.health(5, 0, True) == model.MAX_HEALTH
    assert model.health(3, 2, False) == 3 * WAD // 2
    assert model.increases_risk(5, -1) and not model.increases_risk(5, 0)
    assert model.increases_risk(-5, -6) and not model.increases_risk(-5, -4)
