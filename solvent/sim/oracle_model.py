"""When the simulated feeds publish a round, and at what price.

* `every_step` (the default, the simulator's behaviour before this model): every feed publishes the
  path's price in every block.
* `deviation`: Chainlink's push rule. A feed publishes when the price moved from its last answer
  by at least its deviation threshold (0.5% for ETH/USD and BTC/USD on mainnet):
  |p - last| >= threshold * last, or when its heartbeat (3600 s) has expired since the last
  round: now - last_round >= heartbeat.
* `cadence`: the real publication times of the mainnet ETH/USD and BTC/USD rounds (phase 6,
  data/chainlink/, `solvent/sim/cadence.py`) replayed from `cadence_offset_seconds` after the
  history's first round: a feed publishes in a block when a real round's updatedAt falls between
  the previous block and this one (the simulation's time mapped onto the history's). The timing is
  real; the price written is the path's, so the replayed deviation rounds answer the market the
  history saw, not the path's.

With `lag_seconds` L, the price a feed sees and publishes at time t is the path's price at t - L
(the last step at or before it): the oracle trails the market by L seconds.

An asset's primary and secondary feeds publish together (the adapter checks that they agree, so
one updated alone would read as a disagreement that the real feeds, tracking the same market,
would not have).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from solvent.sim.cadence import FeedHistory, load_history
from solvent.sim.paths import PricePath

EVERY_STEP, DEVIATION, CADENCE = "every_step", "deviation", "cadence"
KINDS = (EVERY_STEP, DEVIATION, CADENCE)
MAINNET_DEVIATION = {"WETH": 0.005, "WBTC": 0.005}  # ETH/USD, BTC/USD on Ethereum mainnet
HEARTBEAT_SECONDS = 3600
CADENCE_FEEDS = {"WETH": "ETH/USD", "WBTC": "BTC/USD"}


@dataclass(frozen=True)
class OracleModel:
    kind: str = EVERY_STEP
    lag_seconds: int = 0
    heartbeat_seconds: int = HEARTBEAT_SECONDS
    deviation: Mapping[str, float] = field(default_factory=lambda: dict(MAINNET_DEVIATION))
    cadence_offset_seconds: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown oracle model {self.kind!r}: choose from {', '.join(KINDS)}")
        if self.lag_seconds < 0 or self.heartbeat_seconds <= 0 or self.cadence_offset_seconds < 0:
            raise ValueError("lag and offset must be non-negative, the heartbeat positive")
        if any(not 0 < t < 1 for t in self.deviation.values()):
            raise ValueError("deviation thresholds are fractions between 0 and 1")

    @property
    def is_default(self) -> bool:
        return self.kind == EVERY_STEP and self.lag_seconds == 0

    @property
    def label(self) -> str:
        """The model in a scenario name: `deviation`, `deviation_lag60`, `cadence`, ..."""
        return self.kind + (f"_lag{self.lag_seconds}" if self.lag_seconds else "")

    @classmethod
    def parse(cls, label: str) -> OracleModel:
        """The inverse of `label`."""
        kind, _, lag = label.partition("_lag")
        if lag and not lag.isdigit():
            raise ValueError(f"bad oracle label {label!r}: expected KIND or KIND_lagSECONDS")
        return cls(kind=kind, lag_seconds=int(lag or 0))

    def describe(self) -> dict[str, object]:
        """The model as the summary records it."""
        out: dict[str, object] = {"model": self.kind, "lag_seconds": self.lag_seconds}
        if self.kind == DEVIATION:
            out |= {"deviation": dict(self.deviation), "heartbeat_seconds": self.heartbeat_seconds}
        if self.kind == CADENCE:
            out |= {
                "cadence_feeds": dict(CADENCE_FEEDS),
                "cadence_offset_seconds": self.cadence_offset_seconds,
            }
        return out


class Publisher:
    """The feeds' state over one run: decides, block by block, which assets publish what."""

    def __init__(
        self,
        model: OracleModel,
        paths: Mapping[str, PricePath],
        path_start: int,
        last_round_at: Mapping[str, int],
        histories: Mapping[str, FeedHistory] | None = None,
    ) -> None:
        """`path_start` is the time of the path's step 0; `last_round_at` when each asset's feeds
        last published before the path (they hold the path's step-0 price)."""
        self.model = model
        self.paths = paths
        self.path_start = path_start
        self.answer = {key: path.prices[0] for key, path in paths.items()}
        self.published_at = dict(last_round_at)
        self.rounds = dict.fromkeys(paths, 0)
        self.previous_time = path_start
        self.histories: Mapping[str, FeedHistory] = {}
        if model.kind == CADENCE:
            self.histories = histories or {key: load_history(CADENCE_FEEDS[key]) for key in paths}

    def price_at(self, key: str, time: int) -> float:
        """The path's price at `time`: the last step at or before it (the first before the path,
        the last after it)."""
        path = self.paths[key]
        index = (time - self.path_start) // path.step_seconds
        return path.prices[min(max(index, 0), path.steps - 1)]

    def publish(self, now: int) -> dict[str, float]:
        """The assets whose feeds publish in the block at `now`, with the price they write."""
        out = {}
        for key in self.paths:
            price = self.price_at(key, now - self.model.lag_seconds)
            if self._due(key, price, now):
                out[key] = price
                self.answer[key] = price
                self.published_at[key] = now
                self.rounds[key] += 1
        self.previous_time = now
        return out

    def _due(self, key: str, price: float, now: int) -> bool:
        if self.model.kind == EVERY_STEP:
            return True
        if self.model.kind == DEVIATION:
            moved = abs(price - self.answer[key]) >= self.model.deviation[key] * self.answer[key]
            return moved or now - self.published_at[key] >= self.model.heartbeat_seconds
        history = self.histories[key]
        low, high = (
            self._history_time(history, self.previous_time),
            self._history_time(history, now),
        )
        if high > history.end:
            raise ValueError(f"the run outlasts the {history.feed} round history")
        return bool(history.publications_between(low + 1, high + 1))  # rounds in (low, high]

    def _history_time(self, history: FeedHistory, time: int) -> int:
        return history.start + self.model.cadence_offset_seconds + (time - self.path_start)
