"""Crash replays (docs/predictive-margin.md, "Crash replays"): one population through a real crash
under reactive and predictive margin. On Anvil: the predictive run held at least the reactive
margin sigma at every hour (the max rule), every forecast the chain accepted respected the
steward's bounds as read back from the contract, every push the keeper sent landed, and the
table's figures are the run's own books (the chain's Liquidated events)."""

import numpy as np
import pytest

from solvent.forecast.risk_keeper import WINDOW_HOURS, forecast_sigma, forecast_sigmas
from solvent.price_history import hourly, utc
from solvent.sim import crash_replay, history
from solvent.sim.campaign import CampaignOptions
from solvent.sim.paths import PricePath

WAD = 10**18
# 10 October 2025 at 30-minute blocks after a 3-hour lead-in: 103 blocks per mode, 12 accounts.
OPTIONS = crash_replay.ReplayOptions(
    accounts=12, seed=7, step_seconds=1800, lead_hours=3, campaign=CampaignOptions(seed=7)
)
WINDOW = "real_october_2025"


@pytest.fixture(scope="module")
def replay(project, networks):
    window = crash_replay.replay_window(project, networks, WINDOW, OPTIONS)
    return window, crash_replay.window_summary(window)


def test_predictive_margin_is_never_below_reactive(replay):
    _, summary = replay
    reactive = summary["modes"]["reactive"]["hourly_margin_sigma"]
    predictive = summary["modes"]["predictive"]["hourly_margin_sigma"]
    lifted = 0
    for key in ("WETH", "WBTC"):
        hours = min(len(reactive[key]), len(predictive[key]))
        assert hours >= 48
        for r, p in zip(reactive[key][:hours], predictive[key][:hours], strict=True):
            assert p >= r
            lifted += p > r
    assert lifted > 0  # the forecast did lift the margin sigma at some hour: not a no-op


def test_every_accepted_forecast_respected_the_stewards_bounds(replay):
    window, summary = replay
    onchain = summary["onchain"]["predictive"]
    assert summary["onchain"]["reactive"]["pushes"] == []
    pushes = onchain["pushes"]
    decisions = window.runs["predictive"].decisions
    hours = len(crash_replay.push_steps(len(window.replay.paths["WETH"].prices), 1800))
    assert len(decisions) == 2 * hours >= 2 * 48  # the keeper decided every hour, both assets
    assert {p["asset"] for p in pushes} == {"WETH", "WBTC"}
    last_at: dict[str, int] = {}
    for push in pushes:
        b = onchain["bounds"][push["asset"]]
        assert b["floor"] <= push["sigma"] <= b["ceiling"]
        assert (
            abs(push["sigma"] - push["reference"]) * 10_000
            <= push["reference"] * b["max_change_bps"]
        )
        at = push["expiry"] - b["ttl"]
        if push["asset"] in last_at:
            assert at - last_at[push["asset"]] >= b["min_delay"]
        last_at[push["asset"]] = at
    # every push the keeper decided on landed, in order, with the value it chose
    sent = [(d["asset"], d["pushed_wad"]) for d in decisions if d["pushed_wad"] is not None]
    assert [(p["asset"], p["sigma"]) for p in pushes] == sent


def test_the_table_is_the_runs_own_books(replay):
    _, summary = replay
    table = crash_replay.markdown_table([summary]).splitlines()
    for mode in crash_replay.MODES:
        figures = summary["modes"][mode]
        chain = summary["onchain"][mode]
        assert figures["liquidations"] == chain["liquidations"]
        assert figures["liquidated_accounts"] == chain["liquidated_accounts"]
        assert figures["liquidated_notional_usd"] == pytest.approx(
            chain["liquidated_notional_wad"] / WAD, abs=0.01
        )
        row = next(line for line in table if f"| {mode} |" in line)
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[4] == f"${figures['bad_debt_usd']:,.0f}"
        assert cells[6] == str(chain["liquidations"])
        assert cells[7] == f"${chain['liquidated_notional_wad'] / WAD:,.0f}"
        assert cells[8] == str(chain["liquidated_accounts"])
        assert cells[12] == str(len(chain["pushes"]))
    # the crash is inside the window, after the lead-in, and margin is read before it
    crash = summary["crash"]
    assert OPTIONS.lead_hours * 3600 // OPTIONS.step_seconds <= crash["peak_step"]
    assert crash["peak_step"] < crash["trough_step"]


def test_the_forecast_is_the_risk_keepers_model_on_past_data_only():
    """At a refit origin the replay's forecast is `forecast_sigma` (what `ape run risk_keeper`
    computes) on the same trailing returns, and data after the last origin changes nothing."""
    times, returns = hourly("WETH").hourly_log_returns()
    t0 = utc("2022-11-08T00:00")
    origins = [t0, t0 + 3600, t0 + 7200]
    full = forecast_sigmas(times, returns, origins)
    keep = times <= origins[-1]
    truncated = forecast_sigmas(times[keep], returns[keep], origins)
    assert full == truncated
    hi = int(np.searchsorted(times, t0, side="right"))
    assert full[0] == pytest.approx(forecast_sigma(returns[hi - WINDOW_HOURS : hi]), rel=1e-12)
    assert full[1] != full[0]  # the next hour's return moved the filtered forecast


def test_crash_point_is_the_peak_before_the_deepest_fall_after_the_lead_in():
    paths = {
        # the lead-in (3 steps) holds a higher peak: it does not count
        "WETH": PricePath("x", 600, (100.0, 120.0, 100.0, 100.0, 104.0, 90.0, 70.0, 80.0)),
        "WBTC": PricePath("x", 600, (100.0, 100.0, 100.0, 100.0, 99.0, 95.0, 90.0, 95.0)),
    }
    crash = crash_replay.crash_point(paths, 3)
    assert crash == {"asset": "WETH", "peak_step": 4, "trough_step": 6, "drawdown": 0.3269}


def test_pushes_land_once_an_hour_from_the_first_block():
    assert crash_replay.push_steps(20, 600) == [1, 7, 13, 19]
    assert crash_replay.push_steps(5, 3600) == [1, 2, 3, 4]
    with pytest.raises(ValueError):
        crash_replay.ReplayOptions(step_seconds=700)


def test_the_lead_in_joins_the_window_at_its_first_price():
    replay = crash_replay.replay_path(WINDOW, 1800, 3)
    window = history.REAL_SCENARIOS[WINDOW].windows["WETH"]
    prices = replay.paths["WETH"].prices
    assert replay.real_start == window.start - 3 * 3600
    assert len(prices) == 6 + len(window.sample(1800))
    scale = prices[6] / window.sample(1800)[0][1]
    # the window's own prices follow the lead-in, rescaled by the same factor
    assert prices[7] == pytest.approx(window.sample(1800)[1][1] * scale)
