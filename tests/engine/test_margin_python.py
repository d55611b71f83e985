"""Properties of the Python reference model itself (no chain): fills, fees, the partial fraction."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from engine_helpers import LIQ
from hypothesis import given
from hypothesis import strategies as st

from solvent.model import margin as model
from solvent.model.fixed_point import WAD

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
    # Not more than needed, beyond rounding: the target requirement and the penalty round up and
    # the variable target down (each against the account, by under 1 wei), so the fraction exceeds
    # the exact one by at most 3 wei of shortfall or relief, each worth WAD / relief, plus 1 (a
    # fixed two-ulp bound failed on wei-sized books: equity 7, requirement and target 1 + 1e-18).
    relief = t * requirement - p * total_notional
    exact = (t * requirement - equity) / relief
    assert x - exact <= (3 / relief + Fraction(1, WAD))


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


@given(
    equity=st.integers(min_value=-(10**24), max_value=10**24),
    variable=st.integers(min_value=WAD, max_value=10**24),
    positions=st.integers(min_value=1, max_value=8),
    minimum=st.integers(min_value=0, max_value=1_000 * WAD),
    notional_ratio=st.integers(min_value=2, max_value=50),
    penalty_rate=st.integers(min_value=0, max_value=WAD // 5),
    target=st.integers(min_value=WAD, max_value=2 * WAD),
)
def test_fraction_with_minimum_margins_restores_the_target(
    equity, variable, positions, minimum, notional_ratio, penalty_rate, target
):
    """The per-position minimum margins F stay while the positions stay open: the fraction must
    reach T·((1 - f)·(R - F) + F) (issue 12)."""
    fixed = positions * minimum
    requirement = variable + fixed
    total_notional = variable * notional_ratio
    f = model.liquidation_fraction(equity, requirement, total_notional, penalty_rate, target, fixed)
    assert 0 < f <= WAD
    if f == WAD:
        return
    x = Fraction(f, WAD)
    t, p = Fraction(target, WAD), Fraction(penalty_rate, WAD)
    assert equity - x * p * total_notional >= t * ((1 - x) * variable + fixed)
    # Not more than needed, beyond rounding: the target requirement and the penalty round up and
    # the variable target down (each against the account, by under 1 wei), so the fraction exceeds
    # the exact one by at most 3 wei of shortfall or relief, each worth WAD / relief, plus 1.
    relief = t * variable - p * total_notional
    exact = (t * (variable + fixed) - equity) / relief
    assert x - exact <= (3 / relief + Fraction(1, WAD))


@given(
    closed=st.integers(min_value=0, max_value=10**30),
    debt=st.integers(min_value=0, max_value=10**15),
    rate=st.integers(min_value=WAD // 200, max_value=WAD // 5),
    fee=st.integers(min_value=WAD // 1000, max_value=WAD // 5),
)
def test_penalty_is_rate_plus_fee_at_least_the_tip(closed, debt, rate, fee):
    tip = 5 * 10**6
    charged = model.penalty(closed, rate, debt, fee, tip)
    if closed == 0 and debt == 0:
        assert charged == 0
        return
    exact = Fraction(closed * rate, WAD * model.WAD_PER_QUOTE) + Fraction(debt * fee, WAD)
    assert charged >= max(exact, tip)
    assert charged < max(exact, tip) + 2  # two parts, each rounded up once


def _liq(**over: int) -> model.LiquidationParams:
    """The engine tests' liquidation parameters (engine_helpers.LIQ), with `over` changed."""
    return dataclasses.replace(LIQ, **over)


ETH = model.MarketParams(65 * WAD // 1000, 8 * WAD // 100, 3 * WAD, 15385 * WAD // 10000)
WBTC = model.CollateralParams(8, 75 * WAD // 100, 8 * WAD // 10)


def _long_eth(quote: int, price: int | None, wbtc_price: int | None) -> model.Portfolio:
    """300 ETH long opened at $2,000, 1 satoshi of WBTC, `quote` USDC units."""
    return model.Portfolio(
        quote,
        [model.CollateralHolding(1, wbtc_price, WBTC)],
        [model.PositionState(300 * WAD, 600_000 * WAD, price, 8 * WAD // 10, ETH)],
    )


def test_unpriceable_collateral_counts_zero_and_defers_the_hand_off():
    priced = model.margin(_long_eth(100_000 * 10**6, 1_600 * WAD, 60_000 * WAD), 50 * WAD)
    unpriced = model.margin(_long_eth(100_000 * 10**6, 1_600 * WAD, None), 50 * WAD)
    assert unpriced.maintenance_equity == priced.maintenance_equity - 480 * 10**12  # 1 sat, 80%
    assert unpriced.maintenance_requirement == priced.maintenance_requirement
    assert priced.minimum_margin == 50 * WAD
    plan = model.plan_liquidation(_long_eth(100_000 * 10**6, 1_600 * WAD, None), _liq())
    assert plan is not None and plan.deferred and not plan.handed_off
    assert plan.penalty == 12_000 * 10**6  # 2.5% of $480,000, no fee: no debt is recovered
    plan = model.plan_liquidation(_long_eth(100_000 * 10**6, 1_600 * WAD, 60_000 * WAD), _liq())
    assert plan is not None and plan.handed_off and not plan.deferred
    debt = -plan.quote_after_pnl
    assert plan.penalty == 12_000 * 10**6 + model.mul_div_up(debt, 2 * WAD // 100, WAD)


def test_unpriceable_market_is_left_out_and_nothing_to_close_raises():
    folio = _long_eth(-1_000 * 10**6, None, None)
    m = model.margin(folio, 50 * WAD)
    assert (m.maintenance_requirement, m.notional, m.minimum_margin) == (0, 0, 0)
    try:
        model.plan_liquidation(folio, _liq())
    except model.PriceUnavailableError:
        pass
    else:
        raise AssertionError("an account with nothing priceable to close must raise")
