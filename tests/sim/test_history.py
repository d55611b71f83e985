"""Real price windows as simulator paths: the loader against the raw CSV rows, resampling, gaps
and the rescaling to the scenario's start prices."""

from __future__ import annotations

import csv
import gzip
import hashlib
import itertools
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solvent.price_history import DATA_DIR, iso, utc
from solvent.sim import scenarios
from solvent.sim.history import REAL_SCENARIOS, Window, real_paths, rescale

WINDOWS = [
    (name, key, window)
    for name, scenario in REAL_SCENARIOS.items()
    for key, window in scenario.windows.items()
]


def _raw_rows(file: str) -> list[tuple[int, str]]:
    with gzip.open(DATA_DIR / file, "rt", newline="") as handle:
        return [(int(row["timestamp_utc_s"]), row["close"]) for row in csv.DictReader(handle)]


def _last_row_at_or_before(rows: list[tuple[int, str]], time: int) -> tuple[int, float]:
    stamp, close = max((row for row in rows if row[0] <= time), key=lambda row: row[0])
    return stamp, float(close)


@pytest.mark.parametrize(
    ("name", "key", "window"), WINDOWS, ids=[f"{n}-{k}" for n, k, _ in WINDOWS]
)
def test_each_window_has_its_length_and_the_raw_start_and_end_closes(name, key, window):
    step = 300
    samples = window.sample(step)
    assert len(samples) == (window.end - window.start) // step + 1
    rows = _raw_rows(window.file)
    assert samples[0] == _last_row_at_or_before(rows, window.start)
    assert samples[-1] == _last_row_at_or_before(rows, window.end)
    # every window starts on a candle's end: its first price is that candle's close
    assert samples[0][0] == window.start
    path = window.path(name, 1_000.0, step)
    assert path.steps == len(samples)
    assert path.prices[0] == 1_000.0


EXPECTED = {  # scenario -> (steps at 300 s, real ETH start, real BTC start), from the raw rows
    "real_march_2020": (865, 200.15, 7886.9),
    "real_may_2021": (577, 3533.89, 45321.02),
    "real_june_2022": (577, 1067.1, 20401.31),
    "real_ftx_2022": (577, 1568.1, 20591.13),
    "real_october_2025": (577, 4365.83, 121579.3),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenarios_start_at_the_start_prices_and_record_the_real_window(name):
    scenario = scenarios.build(name, 1, 10, ())
    steps, eth, btc = EXPECTED[name]
    assert scenario.steps == steps
    assert scenario.paths["WETH"].prices[0] == scenarios.ETH0
    assert scenario.paths["WBTC"].prices[0] == scenarios.BTC0
    assets = scenario.inputs["assets"]
    assert (assets["WETH"]["real_start_price"], assets["WBTC"]["real_start_price"]) == (eth, btc)
    assert assets["WETH"]["start_price"] == scenarios.ETH0
    window = REAL_SCENARIOS[name].windows["WETH"]
    assert assets["WETH"]["window_utc"] == [iso(window.start), iso(window.end)]


def test_june_2022_says_eth_comes_from_the_hourly_file():
    assets = scenarios.build("real_june_2022", 1, 10, ()).inputs["assets"]
    assert assets["WETH"]["resolution"] == "1h" and "hourly" in assets["WETH"]["note"]
    assert assets["WBTC"]["resolution"] == "1m"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rescaled_paths_keep_every_real_return(name):
    step = 300
    paths, _ = real_paths(name, {"WETH": 2_000.0, "WBTC": 60_000.0}, step)
    for key, window in REAL_SCENARIOS[name].windows.items():
        closes = [close for _, close in window.sample(step)]
        factor = paths[key].prices[0] / closes[0]
        # every price is the real close times one factor: the returns are the real ones
        assert paths[key].prices[1:] == tuple(close * factor for close in closes[1:])
        for (a, b), (x, y) in zip(
            itertools.pairwise(closes), itertools.pairwise(paths[key].prices), strict=True
        ):
            assert y / x == pytest.approx(b / a, rel=1e-12)


@given(
    st.lists(st.floats(min_value=0.01, max_value=1e6), min_size=2, max_size=50),
    st.floats(min_value=1.0, max_value=1e5),
)
def test_rescale_starts_at_the_start_price_and_preserves_returns(closes, start):
    out = rescale(closes, start)
    assert out[0] == start and len(out) == len(closes)
    for (a, b), (x, y) in zip(itertools.pairwise(closes), itertools.pairwise(out), strict=True):
        assert math.log(y / x) == pytest.approx(math.log(b / a), abs=1e-12)


def test_a_gap_holds_the_previous_close():
    """ETH's hourly file misses 2 hours on 24 October 2020 (Kraken): steps inside the gap hold
    the last close before it."""
    rows = _raw_rows("eth_usd_1h.csv.gz")
    day = [row for row in rows if utc("2020-10-24T00:00") <= row[0] < utc("2020-10-25T00:00")]
    before, after = next((a, b) for a, b in itertools.pairwise(day) if b[0] - a[0] > 3600)
    samples = Window("eth_usd_1h.csv.gz", before[0], after[0]).sample(3600)
    assert [s for s, _ in samples] == [before[0]] * (len(samples) - 1) + [after[0]]
    assert samples[1][1] == float(before[1])


def test_a_five_minute_file_at_one_minute_steps_holds_each_close_for_five_steps():
    window = Window(
        "eth_usdt_5m_2022-11-07_11.csv.gz", utc("2022-11-08T00:00"), utc("2022-11-08T01:00")
    )
    stamps = [stamp for stamp, _ in window.sample(60)]
    assert stamps[:6] == [stamps[0]] * 5 + [stamps[0] + 300]


def test_a_window_beyond_its_file_is_refused():
    with pytest.raises(ValueError, match="ends at"):
        Window(
            "eth_usdt_5m_2022-11-07_11.csv.gz", utc("2022-11-11T00:00"), utc("2022-11-13T00:00")
        ).sample(300)
    with pytest.raises(ValueError, match="no close at or before"):
        Window(
            "eth_usdt_5m_2022-11-07_11.csv.gz", utc("2022-11-06T00:00"), utc("2022-11-08T00:00")
        ).sample(300)


def test_vendored_files_match_the_checksums_in_the_readme():
    readme = (DATA_DIR / "README.md").read_text()
    listed = dict(re.findall(r"\|\s*`([^`]+\.csv\.gz)`\s*\|[^\n]*`([0-9a-f]{64})`", readme))
    files = sorted(p.name for p in DATA_DIR.glob("*.csv.gz"))
    assert sorted(listed) == files
    for name in files:
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == listed[name]
