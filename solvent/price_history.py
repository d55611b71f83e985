"""The real ETH/USD and BTC/USD closes vendored in data/prices/ (provenance in its README): one
reader for the forecasters and their backtest (solvent/forecast/), the simulator's real paths and
calibration (solvent/sim/) and the crash replays.

Every file has the header `timestamp_utc_s,close`, the timestamp being the END of the candle (the
instant the close refers to), in Unix seconds; a missing candle is a missing row. Two views of a
file: `Hourly` (numpy arrays, for fits over the whole 2017-2026 history) and `Candles` (the last
close at or before any time, for resampling a window to a simulation step).
"""

from __future__ import annotations

import bisect
import gzip
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "prices"
HOURLY_FILES = {"WETH": "eth_usd_1h.csv.gz", "WBTC": "btc_usd_1h.csv.gz"}
HEADER = "timestamp_utc_s,close"
HOUR = 3_600


def utc(text: str) -> int:
    """Unix seconds of an ISO time or day read as UTC ("2020-03-12T00:00", "2020-03-12")."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M")


@cache
def read(file: str, data_dir: Path = DATA_DIR) -> tuple[np.ndarray, np.ndarray]:
    """(candle ends, closes) of a vendored file, read once (the hourly files have 80k rows); the
    arrays are read-only, shared by every caller."""
    with gzip.open(data_dir / file, "rt") as handle:
        header = handle.readline().strip()
        if header != HEADER:
            raise ValueError(f"{file}: unexpected header {header!r}")
        rows = np.loadtxt(handle, delimiter=",", dtype=np.float64, ndmin=2)
    if len(rows) == 0:
        raise ValueError(f"{file}: empty")
    times, closes = rows[:, 0].astype(np.int64), rows[:, 1]
    if np.any(np.diff(times) <= 0):
        raise ValueError(f"{file}: timestamps not strictly ascending")
    times.flags.writeable = False
    closes.flags.writeable = False
    return times, closes


@dataclass(frozen=True)
class Hourly:
    """One asset's hourly closes: `times[i]` (candle end, s) and `closes[i]` (USD)."""

    asset: str
    times: np.ndarray
    closes: np.ndarray

    def index_at(self, timestamp: int) -> int | None:
        """The row whose candle ends exactly at `timestamp`, or None (a missing hour)."""
        i = int(np.searchsorted(self.times, timestamp))
        return i if i < len(self.times) and int(self.times[i]) == timestamp else None

    def hourly_log_returns(self) -> tuple[np.ndarray, np.ndarray]:
        """(end times, log returns) of consecutive closes exactly one hour apart: a return over
        a gap is left out, not spread over the hours it spans."""
        whole = np.diff(self.times) == HOUR
        returns = np.diff(np.log(self.closes))
        return self.times[1:][whole], returns[whole]


def hourly(asset: str, data_dir: Path = DATA_DIR) -> Hourly:
    """The vendored hourly series of `asset` (a key of HOURLY_FILES)."""
    times, closes = read(HOURLY_FILES[asset], data_dir)
    return Hourly(asset, times, closes)


@dataclass(frozen=True)
class Candles:
    """Closes of one file, ascending by candle end."""

    file: str
    times: tuple[int, ...]
    closes: tuple[float, ...]

    def close_at(self, time: int) -> tuple[int, float]:
        """The last candle ending at or before `time`: (its end, its close)."""
        index = bisect.bisect_right(self.times, time) - 1
        if index < 0:
            raise ValueError(f"{self.file}: no close at or before {iso(time)}")
        return self.times[index], self.closes[index]


@cache
def candles(file: str, data_dir: Path = DATA_DIR) -> Candles:
    """A vendored file as `Candles` (any resolution: the hourly files or a crash window's)."""
    times, closes = read(file, data_dir)
    return Candles(file, tuple(int(t) for t in times), tuple(float(c) for c in closes))
