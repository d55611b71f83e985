"""The hourly ETH/USD and BTC/USD closes vendored in data/prices/ (provenance in its README):
timestamps are candle ends in Unix seconds, a missing hour is a missing row."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "prices"
HOURLY_FILES = {"WETH": "eth_usd_1h.csv.gz", "WBTC": "btc_usd_1h.csv.gz"}
HOUR = 3_600


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


def load(asset: str, folder: Path = DATA_DIR) -> Hourly:
    """The vendored hourly series of `asset` (a key of HOURLY_FILES)."""
    with gzip.open(folder / HOURLY_FILES[asset], "rt") as f:
        header = f.readline().strip()
        if header != "timestamp_utc_s,close":
            raise ValueError(f"{HOURLY_FILES[asset]}: unexpected header {header!r}")
        rows = np.loadtxt(f, delimiter=",", dtype=np.float64)
    return Hourly(asset, rows[:, 0].astype(np.int64), rows[:, 1])
