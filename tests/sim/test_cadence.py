"""The Chainlink round history and the settlement waits it implies for committed orders."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solvent.sim.cadence import (
    PHASE_SHIFT,
    FeedHistory,
    load_history,
    settlement_waits,
    wait_profile,
)


@pytest.fixture(scope="module", params=["ETH/USD", "BTC/USD"])
def history(request: pytest.FixtureRequest) -> FeedHistory:
    return load_history(request.param)


def test_history_is_every_round_of_phase_6(history: FeedHistory) -> None:
    expected_rounds = {"ETH/USD": 11_106, "BTC/USD": 10_691}[history.feed]
    assert len(history.round_ids) == expected_rounds
    assert {round_id >> PHASE_SHIFT for round_id in history.round_ids} == {6}
    aggregator_rounds = [round_id & (2**PHASE_SHIFT - 1) for round_id in history.round_ids]
    assert aggregator_rounds == list(range(1, expected_rounds + 1))


def test_no_gap_exceeds_the_heartbeat_plus_two_minutes(history: FeedHistory) -> None:
    gaps = [b - a for a, b in zip(history.updated_at, history.updated_at[1:], strict=False)]
    assert max(gaps) <= 3_720


def test_a_minute_window_expires_most_orders_and_a_heartbeat_window_none(
    history: FeedHistory,
) -> None:
    """Synthetix's 60 s window is built for a pull oracle; on a push feed the determining round is
    up to a heartbeat away, so the window must cover the longest gap (3,720 s)."""
    short = wait_profile(history, delay=15, window=60, every=600)
    covering = wait_profile(history, delay=15, window=4_500, every=600)
    assert short.expired_share > 0.8
    assert covering.expired_share == 0
    assert 1_200 < covering.p50 < 1_800
    assert covering.max <= 3_720 + 15


def _brute_force_round(updated_at: list[int], commit_time: int, delay: int) -> int | None:
    for index, published in enumerate(updated_at):
        if published >= commit_time + delay:
            return index
    return None


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=4_000), min_size=1, max_size=40),
    commit_offset=st.integers(min_value=-100, max_value=100_000),
    delay=st.integers(min_value=0, max_value=120),
)
def test_determining_round_is_the_first_at_or_after_the_target(
    gaps: list[int], commit_offset: int, delay: int
) -> None:
    updated_at = []
    now = 1_700_000_000
    for gap in gaps:
        now += gap
        updated_at.append(now)
    history = FeedHistory(
        feed="test",
        round_ids=tuple(range(1, len(updated_at) + 1)),
        updated_at=tuple(updated_at),
        answers=tuple(1 for _ in updated_at),
    )
    commit_time = updated_at[0] + commit_offset
    index = history.determining_round(commit_time, delay)
    assert index == _brute_force_round(updated_at, commit_time, delay)
    if index is not None and index > 0:
        # The predecessor is earlier than the target: the round is fully determined.
        assert history.updated_at[index - 1] < commit_time + delay
        assert settlement_waits(history, delay, [commit_time]) == [updated_at[index] - commit_time]


def test_rounds_with_the_same_timestamp_settle_at_the_first() -> None:
    history = FeedHistory("test", (1, 2, 3), (100, 200, 200), (1, 2, 3))
    assert history.determining_round(150, 10) == 1
    assert history.publications_between(100, 200) == [100]


def test_unknown_feed_and_bad_profiles_are_refused(history: FeedHistory) -> None:
    with pytest.raises(ValueError, match="no round history"):
        load_history("DOGE/USD")
    with pytest.raises(ValueError, match="positive"):
        wait_profile(history, delay=15, window=0)
    with pytest.raises(ValueError, match="out of time order"):
        FeedHistory("test", (1, 2), (200, 100), (1, 1))
