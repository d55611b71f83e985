"""The real update cadence of Chainlink's ETH/USD and BTC/USD feeds, and what it means for orders.

A committed order settles at the first round published at or after `commitTime + settlementDelay`
(docs/orders.md). On a push feed that round comes when the market moves past the deviation
threshold or the heartbeat expires, so the cadence decides how long an order waits and how long
its settlement window must be. The history is every round of phase 6 of the mainnet proxies,
April 2023 to January 2024 (data/chainlink/README.md).
"""

from __future__ import annotations

import bisect
import csv
import gzip
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "chainlink"
FEED_FILES = {
    "ETH/USD": "chainlink_eth_usd_rounds.csv.gz",
    "BTC/USD": "chainlink_btc_usd_rounds.csv.gz",
}
ANSWER_DECIMALS = 8
PHASE_SHIFT = 64


@dataclass(frozen=True)
class FeedHistory:
    """Every round of one feed in publication order: proxy round ids, updatedAt, raw answers."""

    feed: str
    round_ids: tuple[int, ...]
    updated_at: tuple[int, ...]
    answers: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.round_ids:
            raise ValueError(f"{self.feed}: no rounds")
        if not len(self.round_ids) == len(self.updated_at) == len(self.answers):
            raise ValueError(f"{self.feed}: columns of different lengths")
        if any(b < a for a, b in zip(self.updated_at, self.updated_at[1:], strict=False)):
            raise ValueError(f"{self.feed}: rounds out of time order")

    @property
    def start(self) -> int:
        return self.updated_at[0]

    @property
    def end(self) -> int:
        return self.updated_at[-1]

    def determining_round(self, commit_time: int, delay: int) -> int | None:
        """Index of the round an order committed at `commit_time` settles at: the first with
        `updatedAt >= commit_time + delay` (its predecessor is earlier), or None if none yet."""
        index = bisect.bisect_left(self.updated_at, commit_time + delay)
        return index if index < len(self.updated_at) else None

    def publications_between(self, start: int, end: int) -> list[int]:
        """updatedAt of every round in [start, end), in order: the times a replay publishes."""
        low = bisect.bisect_left(self.updated_at, start)
        high = bisect.bisect_left(self.updated_at, end)
        return list(self.updated_at[low:high])

    def price(self, index: int) -> float:
        return self.answers[index] / 10**ANSWER_DECIMALS


def load_history(feed: str, data_dir: Path = DATA_DIR) -> FeedHistory:
    """The vendored round history of `feed` ("ETH/USD" or "BTC/USD")."""
    try:
        name = FEED_FILES[feed]
    except KeyError:
        raise ValueError(f"no round history for {feed!r}; known: {sorted(FEED_FILES)}") from None
    with gzip.open(data_dir / name, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return FeedHistory(
        feed=feed,
        round_ids=tuple(int(row["round_id"]) for row in rows),
        updated_at=tuple(int(row["updated_at_s"]) for row in rows),
        answers=tuple(int(row["answer"]) for row in rows),
    )


def settlement_waits(history: FeedHistory, delay: int, commit_times: Iterable[int]) -> list[int]:
    """Seconds from each commit to the publication of its determining round (commits whose round
    lies beyond the history are left out)."""
    waits = []
    for commit_time in commit_times:
        index = history.determining_round(commit_time, delay)
        if index is not None:
            waits.append(history.updated_at[index] - commit_time)
    return waits


def _percentile(sorted_values: Sequence[int], fraction: float) -> int:
    """Nearest-rank percentile of an ascending sequence."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class WaitProfile:
    """How long orders committed uniformly over the history wait for their price, in seconds,
    and the share that a settlement window of `window` seconds (after the delay) lets expire."""

    feed: str
    delay: int
    window: int
    orders: int
    mean: float
    p50: int
    p90: int
    p99: int
    max: int
    expired_share: float

    def as_dict(self) -> dict[str, float | int | str]:
        return dict(self.__dict__)


def wait_profile(history: FeedHistory, delay: int, window: int, every: int = 60) -> WaitProfile:
    """Commits every `every` seconds from the first round to the last; an order expires when its
    round is published after `commit + delay + window`."""
    if every <= 0 or delay < 0 or window <= 0:
        raise ValueError("every and window must be positive, delay non-negative")
    commits = range(history.start, history.end - delay, every)
    waits = sorted(settlement_waits(history, delay, commits))
    if not waits:
        raise ValueError(f"{history.feed}: history too short for delay {delay}")
    expired = sum(1 for wait in waits if wait > delay + window)
    return WaitProfile(
        feed=history.feed,
        delay=delay,
        window=window,
        orders=len(waits),
        mean=sum(waits) / len(waits),
        p50=_percentile(waits, 0.50),
        p90=_percentile(waits, 0.90),
        p99=_percentile(waits, 0.99),
        max=waits[-1],
        expired_share=expired / len(waits),
    )
