"""Real ETH/USD and BTC/USD prices (data/prices/, read by solvent.price_history) as simulator paths.

A window is resampled to the simulation step: the price at step k is the last close at or before
`start + k * step` (a step that falls in a gap, or between two candles of a coarser file, holds the
previous close). It is then rescaled so it starts at the scenario's start price: every price is
multiplied by `start_price / real_start`, so every return of the resampled path is the real one.
"""

from __future__ import annotations

from dataclasses import dataclass

from solvent.price_history import HOURLY_FILES, candles, iso, utc
from solvent.sim.paths import PricePath


@dataclass(frozen=True)
class Window:
    """One asset's real prices over [start, end] from one file."""

    file: str
    start: int
    end: int
    note: str = ""

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a window ends after it starts")

    def sample(self, step_seconds: int) -> list[tuple[int, float]]:
        """(candle end, close) of the last close at or before each step time, start to end."""
        closes = candles(self.file)
        if closes.times[-1] < self.end:
            raise ValueError(f"{self.file} ends at {iso(closes.times[-1])}, before {iso(self.end)}")
        steps = (self.end - self.start) // step_seconds + 1
        return [closes.close_at(self.start + k * step_seconds) for k in range(steps)]

    def path(self, name: str, start_price: float, step_seconds: int) -> PricePath:
        closes = [close for _, close in self.sample(step_seconds)]
        return PricePath(name, step_seconds, rescale(closes, start_price))

    def inputs(self, step_seconds: int) -> dict[str, object]:
        """What the report shows about the window: file, span, real start and end prices."""
        samples = self.sample(step_seconds)
        return {
            "file": self.file,
            "window_utc": [iso(self.start), iso(self.end)],
            "real_start_price": samples[0][1],
            "real_end_price": samples[-1][1],
            "real_low": min(close for _, close in samples),
            "resolution": _resolution(self.file),
            **({"note": self.note} if self.note else {}),
        }


def rescale(closes: list[float], start_price: float) -> tuple[float, ...]:
    """The closes multiplied by `start_price / closes[0]`: same returns, starting at start_price."""
    factor = start_price / closes[0]
    return (start_price, *(close * factor for close in closes[1:]))


def _resolution(file: str) -> str:
    return next(r for r in ("1h", "1m", "5m") if f"_{r}" in file)


@dataclass(frozen=True)
class RealScenario:
    """A named historical window for both markets."""

    name: str
    description: str
    windows: dict[str, Window]  # asset key -> window, all over the same span


def _pair(start: str, end: str, eth: str, btc: str, eth_note: str = "") -> dict[str, Window]:
    return {
        "WETH": Window(eth, utc(start), utc(end), eth_note),
        "WBTC": Window(btc, utc(start), utc(end)),
    }


REAL_SCENARIOS: dict[str, RealScenario] = {
    scenario.name: scenario
    for scenario in (
        RealScenario(
            "real_march_2020",
            "Black Thursday: Kraken hourly closes, 11 to 14 March 2020 (no minute data exists)",
            _pair(
                "2020-03-11T00:00", "2020-03-14T00:00", HOURLY_FILES["WETH"], HOURLY_FILES["WBTC"]
            ),
        ),
        RealScenario(
            "real_may_2021",
            "19 May 2021: Binance spot 1-minute closes (USDT), 18 May 12:00 to 20 May 12:00",
            _pair(
                "2021-05-18T12:00",
                "2021-05-20T12:00",
                "eth_usdt_1m_2021-05-18_20.csv.gz",
                "btc_usdt_1m_2021-05-18_20.csv.gz",
            ),
        ),
        RealScenario(
            "real_june_2022",
            "18 June 2022 (3AC/Celsius): BTC Binance spot 1-minute (USDT); ETH from the hourly "
            "file (no ETH minute data was found), 17 June 00:00 to 19 June 00:00",
            _pair(
                "2022-06-17T00:00",
                "2022-06-19T00:00",
                HOURLY_FILES["WETH"],
                "btc_usdt_1m_2022-06-15_19.csv.gz",
                eth_note="hourly CCCAGG closes: no ETH minute data for June 2022",
            ),
        ),
        RealScenario(
            "real_ftx_2022",
            "FTX, 8-9 November 2022: Binance spot 5-minute closes (USDT), 8 Nov 00:00 to 10 Nov "
            "00:00",
            _pair(
                "2022-11-08T00:00",
                "2022-11-10T00:00",
                "eth_usdt_5m_2022-11-07_11.csv.gz",
                "btc_usdt_5m_2022-11-07_11.csv.gz",
            ),
        ),
        RealScenario(
            "real_october_2025",
            "10 October 2025: Binance USDT-M perpetual 5-minute closes, 10 Oct 00:00 to 12 Oct "
            "00:00",
            _pair(
                "2025-10-10T00:00",
                "2025-10-12T00:00",
                "eth_usdtperp_5m_2025-10-09_12.csv.gz",
                "btc_usdtperp_5m_2025-10-09_12.csv.gz",
            ),
        ),
    )
}


def real_paths(
    name: str, start_prices: dict[str, float], step_seconds: int
) -> tuple[dict[str, PricePath], dict[str, object]]:
    """The scenario's paths, rescaled to `start_prices`, and its inputs for the report."""
    scenario = REAL_SCENARIOS[name]
    paths = {
        key: window.path(name, start_prices[key], step_seconds)
        for key, window in scenario.windows.items()
    }
    inputs: dict[str, object] = {
        "path": "historical",
        "description": scenario.description,
        "step_seconds": step_seconds,
        "resampling": "last close at or before each step time (gaps hold the previous close)",
        "assets": {
            key: {**window.inputs(step_seconds), "start_price": start_prices[key]}
            for key, window in scenario.windows.items()
        },
    }
    return paths, inputs
