"""The keeper's order bookkeeping without a chain (solvent/keeper/orders.py): which round settles
an order, found by walking back from the latest round in batches and across proxy phases, and
which orders are due or expired at a head."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.keeper.orders import (
    OrderIndex,
    PendingOrder,
    Round,
    determining_rounds,
    order_id,
    round_id,
)


class Feed:
    """A proxy's history: phases of consecutive rounds, each (proxy round id, updatedAt)."""

    def __init__(self, phases: list[list[int]]):
        self.rounds = [
            Round(round_id(phase, i + 1), t)
            for phase, times in enumerate(phases)
            for i, t in enumerate(times)
        ]
        self.by_id = {r.round_id: r.updated_at for r in self.rounds}
        self.phases = phases
        self.fetches = 0

    def fetch(self, ids: list[int]) -> dict[int, int]:
        self.fetches += 1
        return {i: self.by_id[i] for i in ids if i in self.by_id}

    def phase_last(self, phase: int) -> Round | None:
        times = self.phases[phase] if phase < len(self.phases) else []
        return Round(round_id(phase, len(times)), times[-1]) if times else None

    def first_at_or_after(self, target: int) -> int | None:
        return next((r.round_id for r in self.rounds if r.updated_at >= target), None)


def test_the_first_round_at_or_after_the_target_settles_not_the_latest():
    feed = Feed([[100, 112, 124, 136, 148]])
    latest = feed.rounds[-1]
    found = determining_rounds(latest, [113, 124, 150, 90], feed.fetch, feed.phase_last)
    assert found == {113: round_id(0, 3), 124: round_id(0, 3), 90: round_id(0, 1)}
    assert 150 not in found  # no round has reached it yet


def test_a_long_history_is_walked_in_one_pass_of_doubling_batches():
    feed = Feed([list(range(0, 12 * 1_000, 12))])
    latest = feed.rounds[-1]
    found = determining_rounds(latest, [1], feed.fetch, feed.phase_last)
    assert found == {1: round_id(0, 2)}
    assert feed.fetches <= 8  # 8 + 16 + ... rounds per request: ~log2(1000 / 8) + 1 requests


def test_the_walk_crosses_into_an_ended_phase():
    feed = Feed([[100, 110, 120], [130, 140], [], [150, 160]])
    latest = feed.rounds[-1]
    found = determining_rounds(latest, [105, 121, 145, 131], feed.fetch, feed.phase_last)
    assert found == {
        105: round_id(0, 2),
        121: round_id(1, 1),
        131: round_id(1, 2),
        145: round_id(3, 1),  # phase 2 never published: its predecessor is phase 1's last
    }


@settings(max_examples=200, deadline=None)
@given(
    phases=st.lists(
        st.lists(st.integers(0, 30), min_size=0, max_size=40), min_size=1, max_size=4
    ).filter(lambda p: any(p) and p[-1]),
    targets=st.lists(st.integers(0, 3_000), min_size=1, max_size=10),
)
def test_the_walk_finds_what_a_scan_of_every_round_finds(phases, targets):
    # gaps between rounds (>= 0 s: rounds in one block share a timestamp), cumulated into times
    clock, timed = 0, []
    for gaps in phases:
        times = []
        for gap in gaps:
            clock += gap
            times.append(clock)
        timed.append(times)
    feed = Feed(timed)
    latest = feed.rounds[-1]
    found = determining_rounds(latest, targets, feed.fetch, feed.phase_last)
    expected = {t: feed.first_at_or_after(t) for t in targets if t <= latest.updated_at}
    assert found == expected


def _order(account: int, market: int, target: int) -> PendingOrder:
    return PendingOrder(order_id(account, market), account, market, target, commit_block=1)


def test_orders_are_due_once_priced_and_expire_only_after_their_window():
    index = OrderIndex(windows={0: 100, 1: 100})
    a, b, c = _order(1, 0, 1_000), _order(2, 0, 1_050), _order(3, 1, 1_000)
    for order in (a, b, c):
        index.committed(order)
    latest = {0: Round(round_id(0, 7), 1_020), 1: None}
    assert index.due(1_030, latest) == ([a], [])  # b's price does not exist yet; c's feed failed
    assert index.due(1_099, latest) == ([a], [])  # the next block can still settle a (<= 1,100)
    assert index.due(1_100, latest) == ([], [])  # at its expiry: neither settle nor cancel
    assert index.due(1_101, latest) == ([], [a, c])  # past it: anyone may cancel
    index.closed(a.order_id)
    assert index.due(1_101, {0: Round(round_id(0, 8), 1_101), 1: None}) == ([b], [c])


def test_a_market_without_a_known_window_never_expires_an_order():
    index = OrderIndex(windows={})
    order = _order(1, 0, 1_000)
    index.committed(order)
    assert index.due(10**9, {0: Round(1, 1_000)}) == ([order], [])
