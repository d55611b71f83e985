"""Properties of the Python reference model itself (no chain): the rules the contract copies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.model.auction import (
    NO_PIECE,
    DustRemainder,
    QueuedLot,
    dust_left,
    keeper_reward,
    needs_reset,
    piece,
    reset_reward,
    room,
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


@settings(max_examples=300, deadline=None)
@given(
    lot=st.integers(1, 10**24),
    tab=st.integers(0, 10**13),
    debt_share=st.integers(0, 1_000),
    room_=st.integers(0, 10**13),
    chost=st.integers(0, 10**9),
)
def test_a_piece_fits_the_room_and_leaves_a_startable_rest(lot, tab, debt_share, room_, chost):
    debt = tab * debt_share // 1_000
    p = piece(lot, tab, debt, room_, chost)
    if p == NO_PIECE:
        assert tab > room_  # a lot that fits always starts
        return
    assert p.tab <= room_ and 0 < p.lot <= lot and p.debt <= p.tab
    rest_tab, rest_debt = tab - p.tab, debt - p.debt
    assert rest_tab == 0 or (rest_tab >= chost and p.tab >= chost)  # never a dust part
    assert 0 <= rest_debt <= rest_tab and (rest_tab > 0) == (lot - p.lot > 0)


def test_room_is_the_smaller_cap_and_never_negative():
    assert room(100, 30, 50, 45) == 5
    assert room(100, 120, 50, 0) == 0  # Hole lowered below Dirt
    assert room(100, 0, 50, 60) == 0


@settings(max_examples=200, deadline=None)
@given(
    reset_count=st.integers(1, 30),
    tab=st.integers(0, 10**12),
    debt_share=st.integers(0, 1_000),
    tip=st.integers(0, 10**10),
    chip=st.integers(0, WAD // 20),
)
def test_reset_rewards_together_stay_within_the_penalty_part(
    reset_count, tab, debt_share, tip, chip
):
    debt = tab * debt_share // 1_000
    paid = 0
    for _ in range(reset_count):
        paid += reset_reward(tab, debt, tab, 0, tip, chip, paid)
    assert paid <= tab - debt


def test_dust_is_a_lot_worth_less_than_chost_with_tab_left():
    price = 2_000 * WAD
    assert dust_left(10**18, 1_000, 10**18 - 1, 500, price, SCALE, 50) == 1
    keep = 50 * SCALE // price  # 50 quote units at the price, exactly
    assert dust_left(10**18, 1_000, 10**18 - keep, 500, price, SCALE, 50) == 0
    assert dust_left(10**18, 1_000, 10**18 - 1, 1_000, price, SCALE, 50) == 0  # tab paid
    assert dust_left(10**18, 1_000, 10**18 - 1, 500, price, SCALE, 0) == 1  # worth 0: max(chost, 1)


def test_one_end_per_handed_lot():
    q = QueuedLot(lot=10, tab=100, debt=80)
    first = piece(10, 100, 80, 50, 10)
    q.start(first)
    assert q.end_piece(2) == (False, 0)  # the rest still waits
    q.start(piece(q.lot, q.tab, q.debt, 100, 10))
    assert q.lot == 0 and q.end_piece(3) == (True, 5)
