"""The forecasters see only the past, the margin tests are the textbook likelihood ratios, and the
backtest reads the vendored history as the CSV says."""

from __future__ import annotations

import csv
import gzip
import math

import numpy as np
import pytest
from scipy.stats import binom

from solvent import config as configs
from solvent.forecast import backtest, models, stats
from solvent.price_history import DATA_DIR, HOURLY_FILES, Hourly, hourly, utc

SPEC = configs.load("local").asset("WETH")


def truncated(series: Hourly, until: int) -> Hourly:
    keep = series.times <= until
    return Hourly(series.asset, series.times[keep], series.closes[keep])


@pytest.fixture(scope="module")
def eth() -> Hourly:
    return hourly("WETH")


def test_kupiec_is_the_binomial_likelihood_ratio():
    for hits, n in ((0, 250), (2, 250), (5, 250), (13, 1000), (40, 3000)):
        reference = 2 * (binom.logpmf(hits, n, hits / n) - binom.logpmf(hits, n, 0.01))
        assert stats.kupiec(hits, n, 0.01).statistic == pytest.approx(reference, rel=1e-9)
    assert stats.kupiec(10, 1000, 0.01).p_value == pytest.approx(1.0)
    assert stats.kupiec(25, 1000, 0.01).rejects() and not stats.kupiec(12, 1000, 0.01).rejects()
    with pytest.raises(ValueError):
        stats.kupiec(3, 2, 0.01)


def test_christoffersen_rejects_clustered_hits_and_accepts_spread_ones():
    clustered = np.zeros(1000, dtype=bool)
    clustered[500:520] = True
    spread = np.zeros(1000, dtype=bool)
    spread[::50] = True  # the same 20 hits, never two in a row
    assert stats.christoffersen(clustered).rejects(0.001)
    assert not stats.christoffersen(spread).rejects()


def test_the_loader_reads_the_csv_and_skips_returns_across_gaps(eth):
    with gzip.open(DATA_DIR / HOURLY_FILES["WETH"], "rt") as f:
        rows = list(csv.reader(f))[1:]
    assert len(eth.times) == len(rows)
    assert int(eth.times[123]) == int(rows[123][0]) and eth.closes[123] == float(rows[123][1])
    times, returns = eth.hourly_log_returns()
    gaps = int(np.sum(np.diff(eth.times) != 3600))
    assert gaps > 0 and len(returns) == len(eth.times) - 1 - gaps
    i = eth.index_at(int(times[10]))
    assert returns[10] == pytest.approx(math.log(eth.closes[i] / eth.closes[i - 1]))


def test_realized_moves_are_the_closes_24_hours_apart(eth):
    start = utc("2020-03-01")
    outcome = backtest.realized(truncated(eth, utc("2020-04-01")), start)
    assert all(o % 86_400 == 0 for o in outcome.origins)
    k = int(np.searchsorted(outcome.origins, utc("2020-03-12")))
    i = eth.index_at(int(outcome.origins[k]))
    j = eth.index_at(int(outcome.origins[k]) + 86_400)
    assert outcome.move[k] == pytest.approx(eth.closes[j] / eth.closes[i] - 1)
    assert outcome.move[k] < -0.3  # 12 March 2020


@pytest.mark.parametrize("model", ["onchain_ewma", "ewma", "garch_t"])
def test_no_forecast_uses_data_after_its_origin(eth, model):
    origins = np.arange(utc("2019-01-01"), utc("2019-03-01"), 86_400)
    k = 40

    def forecast(series: Hourly) -> models.Forecasts:
        if model == "onchain_ewma":
            return models.onchain_ewma(SPEC, series, origins[: k + 1])
        if model == "ewma":
            return models.ewma(series, origins[: k + 1])
        return models.garch_t(series, origins[: k + 1], refit_days=30)[0]

    full = forecast(eth)
    cut = forecast(truncated(eth, int(origins[k])))
    assert full.variance[k] == cut.variance[k] and full.margin[k] == cut.margin[k]


def test_historical_scaling_uses_only_ended_horizons(eth):
    start = utc("2019-01-01")
    outcome = backtest.realized(truncated(eth, utc("2020-06-01")), start)
    base = models.ewma(eth, outcome.origins)
    scaled = backtest.historical_scaling(base, outcome, min_history=100)
    k = 300
    moved = backtest.Realized(outcome.origins, outcome.move.copy(), outcome.variance)
    moved.move[k:] *= 5  # the future changes; the margin at k must not
    again = backtest.historical_scaling(base, moved, min_history=100)
    assert again.margin[k] == scaled.margin[k] and again.margin[k + 1] != scaled.margin[k + 1]


def test_garch_horizon_variance_sums_the_expected_hourly_variances():
    p = models.GarchParams(omega=2e-6, alpha=0.1, beta=0.85, nu=5.0)
    next_variance, total = 4e-5, 0.0
    expected = next_variance
    for _ in range(24):
        total += expected
        expected = p.omega + p.persistence * expected
    assert p.horizon_variance(next_variance) == pytest.approx(total, rel=1e-12)


def test_predictive_margin_is_never_below_the_onchain_rule(eth):
    origins = np.arange(utc("2020-02-01"), utc("2020-04-01"), 86_400)
    onchain = models.onchain_ewma(SPEC, eth, origins)
    garch, _ = models.garch_t(eth, origins)
    steward = models.predictive(SPEC, onchain, garch)
    assert np.all(steward.margin >= onchain.margin)
    assert np.any(steward.margin > onchain.margin)  # the forecast tightened it somewhere


def test_the_backtest_of_a_crash_year_reports_every_forecaster_and_the_window():
    result = backtest.run_asset("WETH", utc("2020-01-01"), utc("2020-12-31"))
    names = set(result["models"])
    assert {"flat", "onchain_ewma", "ewma", "garch_t", "predictive", "garch_t_fhs"} <= names
    march = result["models"]["flat"]["march_2020"]
    assert march["horizons"] == 14 and march["exceedances"] >= 1  # 10% flat margin, -30% day
    for entry in result["models"].values():
        assert 0 <= entry["confidence_now"] <= 1
        assert entry["all"]["horizons"] == len(result["_series"]["origins"])
