"""Properties of the Python reference model itself (no chain): the rules the contract copies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.auction import (
    DustRemainder,
    keeper_reward,
    needs_reset,
    reset_reward,
    split_by_value,
    take,
)

WAD = 10**18
SCALE = 10**30
AMOUNTS = st.integers(min_value=0, max_value=10**30)


@settings(max_examples=200, deadline=None)
@given(amount=AMOUNTS, values=st.lists(st.integers(0, 10**30), min_size=1, max_size=6))
def test_split_sums_exactly_and_follows_value(amount, values):
    parts = split_by_value(amount, values)
    assert sum(parts) == amount and min(parts) >= 0
    total = sum(values)
    for part, value in zip(parts[:-1], values[:-1], strict=True):
        assert part == (amount * value // total if total else 0)


@settings(max_examples=200, deadline=None)
@given(
    tip=st.integers(0, 10**10),
    chip=st.integers(0, WAD // 20),
    tabs=st.lists(st.integers(0, 10**15), min_size=1, max_size=4),
    penalty=st.integers(0, 10**14),
)
def test_rewards_never_exceed_the_penalty(tip, chip, tabs, penalty):
    n = len(tabs)
    assert keeper_reward([tip] * n, [chip] * n, tabs, penalty) <= penalty
    debt = tabs[0] // 2
    assert reset_reward(tabs[0], debt, 10**20, 0, tip, chip) <= tabs[0] - debt


def test_reset_reward_none_on_dust():
    assert reset_reward(99, 0, 10**9, 100, 5, 0) == 0
    assert reset_reward(10**9, 0, 99, 100, 5, 0) == 0
    assert reset_reward(10**9, 0, 100, 100, 5, 0) == 5


def test_needs_reset_boundaries():
    assert not needs_reset(price=50, start=100, elapsed=10, tail=10, cusp=WAD // 2)
    assert needs_reset(price=49, start=100, elapsed=10, tail=10, cusp=WAD // 2)
    assert needs_reset(price=100, start=100, elapsed=11, tail=10, cusp=WAD // 2)


@settings(max_examples=300, deadline=None)
@given(
    lot=st.integers(1, 10**24),
    tab=st.integers(1, 10**13),
    debt_share=st.integers(0, 100),
    price=st.integers(1, 10**24),
    max_amount=st.integers(1, 10**25),
    chost=st.integers(0, 10**9),
)
def test_take_rules(lot, tab, debt_share, price, max_amount, chost):
    debt = tab * debt_share // 100
    try:
        r = take(lot, tab, debt, price, SCALE, max_amount, chost)
    except DustRemainder:
        assert tab <= chost and min(lot, max_amount) < lot
        return
    assert 0 <= r.slice <= min(lot, max_amount) and 0 <= r.owe <= tab
    assert r.owe * SCALE >= r.slice * price  # never sold below the price
    assert r.tab_left == 0 or r.lot_left == 0 or r.tab_left >= chost
    assert r.debt_repaid == min(r.owe, debt)  # debt first
    assert r.debt_repaid + r.penalty_paid == r.owe


def test_dust_remainder_example():
    with pytest.raises(DustRemainder):
        take(lot=10, tab=50, debt=50, price=SCALE, scale=SCALE, max_amount=1, chost=100)
