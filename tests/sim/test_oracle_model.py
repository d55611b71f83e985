"""The oracle model publishes exactly when its rule says: every block; on a deviation from the
last answer or the heartbeat's expiry; at the real rounds' times; and with a lag."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solvent.sim import scenarios
from solvent.sim.cadence import FeedHistory
from solvent.sim.oracle_model import CADENCE, DEVIATION, EVERY_STEP, OracleModel, Publisher
from solvent.sim.paths import PricePath

T0 = 1_000_000
STEP = 300


def _publisher(model, eth, btc=None, last_round=T0, histories=None):
    paths = {"WETH": PricePath("t", STEP, tuple(eth))}
    if btc is not None:
        paths["WBTC"] = PricePath("t", STEP, tuple(btc))
    return Publisher(model, paths, T0, dict.fromkeys(paths, last_round), histories)


def _run(publisher, blocks):
    """What each block publishes, blocks 1..`blocks` (one step apart)."""
    return [publisher.publish(T0 + STEP * block) for block in range(1, blocks + 1)]


def test_every_step_publishes_every_asset_at_the_path_price():
    eth, btc = [100.0, 101.0, 99.0], [10.0, 10.0, 10.0]
    out = _run(_publisher(OracleModel(), eth, btc), 3)
    assert out == [
        {"WETH": 101.0, "WBTC": 10.0},
        {"WETH": 99.0, "WBTC": 10.0},
        {"WETH": 99.0, "WBTC": 10.0},  # after the path: its last price
    ]


def test_deviation_publishes_at_half_a_percent_from_the_last_answer_not_before():
    # 100 -> 100.4 (0.4%: no) -> 100.5 (0.5% exactly: yes) -> 100.9 (0.398% from 100.5: no)
    # -> 100.0 (0.498%: no) -> 99.99 (0.507%: yes) -> 99.5 (0.49% from 99.99: no)
    eth = [100.0, 100.4, 100.5, 100.9, 100.0, 99.99, 99.5]
    publisher = _publisher(OracleModel(kind=DEVIATION), eth)
    out = _run(publisher, 6)
    assert out == [{}, {"WETH": 100.5}, {}, {}, {"WETH": 99.99}, {}]
    assert publisher.rounds == {"WETH": 2}
    assert publisher.answer == {"WETH": 99.99}


def test_each_asset_has_its_own_threshold_and_state():
    model = OracleModel(kind=DEVIATION, deviation={"WETH": 0.01, "WBTC": 0.002})
    out = _run(_publisher(model, [100.0, 100.5, 101.0], [10.0, 10.03, 10.03]), 2)
    assert out == [{"WBTC": 10.03}, {"WETH": 101.0}]


def test_heartbeat_publishes_exactly_when_an_hour_has_passed_since_the_last_round():
    flat = [100.0] * 40
    # the feeds last published 600 s before the path: the first heartbeat is at block 10 (3600 s)
    publisher = _publisher(OracleModel(kind=DEVIATION), flat, last_round=T0 - 600)
    out = _run(publisher, 34)
    published = [block for block, prices in enumerate(out, start=1) if prices]
    assert published == [10, 22, 34]
    assert all(out[b - 1] == {"WETH": 100.0} for b in published)


def test_a_deviation_round_restarts_the_heartbeat():
    path = [100.0, 100.0, 101.0] + [101.0] * 20
    out = _run(_publisher(OracleModel(kind=DEVIATION), path), 22)
    published = [block for block, prices in enumerate(out, start=1) if prices]
    assert published == [2, 14]  # the move at block 2, then 3600 s after it


@given(
    moves=st.lists(st.floats(min_value=-0.02, max_value=0.02), min_size=1, max_size=80),
    last_round_age=st.integers(min_value=0, max_value=3_600),
)
def test_every_round_is_called_for_and_no_call_is_missed(moves, last_round_age):
    """The rule as invariants over any path: a block publishes iff the price moved by at least the
    threshold from the last answer, or the heartbeat expired."""
    prices = [100.0]
    for move in moves:
        prices.append(prices[-1] * (1 + move))
    publisher = _publisher(OracleModel(kind=DEVIATION), prices, last_round=T0 - last_round_age)
    answer, last = 100.0, T0 - last_round_age
    for block in range(1, len(prices)):
        now = T0 + STEP * block
        due = abs(prices[block] - answer) >= 0.005 * answer or now - last >= 3_600
        assert publisher.publish(now) == ({"WETH": prices[block]} if due else {})
        if due:
            answer, last = prices[block], now


def test_a_lagging_oracle_publishes_the_price_lag_seconds_ago():
    eth = [100.0, 110.0, 120.0, 130.0, 140.0]
    out = _run(_publisher(OracleModel(lag_seconds=600), eth), 5)
    # at block b (time T0 + 300 b) it sees the path at T0 + 300 (b - 2): two steps behind
    assert [o["WETH"] for o in out] == [100.0, 100.0, 110.0, 120.0, 130.0]
    lagging = _run(_publisher(OracleModel(kind=DEVIATION, lag_seconds=450), eth), 3)
    # 450 s behind: block 1 sees step 0 (no move), block 2 step 0, block 3 step 1
    assert lagging == [{}, {}, {"WETH": 110.0}]


def test_cadence_publishes_in_the_blocks_that_contain_a_real_round():
    start = 1_700_000_000
    history = FeedHistory(
        "ETH/USD", (1, 2, 3, 4), (start, start + 250, start + 900, start + 1_200), (1,) * 4
    )
    publisher = _publisher(
        OracleModel(kind=CADENCE), [100.0, 90.0, 80.0, 70.0], histories={"WETH": history}
    )
    # block 1 covers (start, start + 300]: round 2; block 2 (start + 300, start + 600]: none;
    # block 3 (start + 600, start + 900]: round 3 (round 4 falls in block 4)
    assert _run(publisher, 4) == [{"WETH": 90.0}, {}, {"WETH": 70.0}, {"WETH": 70.0}]
    assert publisher.rounds == {"WETH": 3}


def test_cadence_replays_the_vendored_rounds_from_the_offset():
    model = OracleModel(kind=CADENCE, cadence_offset_seconds=86_400)
    publisher = _publisher(model, [100.0] * 300)
    out = _run(publisher, 288)  # one day of 300 s blocks
    rounds = sum(1 for o in out if o)
    history = publisher.histories["WETH"]
    day_start = history.start + 86_400
    real = {
        (t - day_start - 1) // STEP
        for t in history.publications_between(day_start + 1, day_start + 86_401)
    }
    assert rounds == len(real) and 24 <= rounds < 288


def test_a_run_beyond_the_history_is_refused():
    history = FeedHistory("ETH/USD", (1,), (T0,), (1,))
    publisher = _publisher(OracleModel(kind=CADENCE), [1.0, 1.0], histories={"WETH": history})
    with pytest.raises(ValueError, match="outlasts"):
        publisher.publish(T0 + STEP)


def test_labels_round_trip_and_bad_models_are_refused():
    for model in (OracleModel(kind=DEVIATION), OracleModel(kind=CADENCE, lag_seconds=60)):
        assert OracleModel.parse(model.label) == model
    assert OracleModel().is_default and OracleModel().label == EVERY_STEP
    with pytest.raises(ValueError, match="unknown oracle model"):
        OracleModel(kind="pyth")
    with pytest.raises(ValueError):
        OracleModel(lag_seconds=-1)
    with pytest.raises(ValueError):
        OracleModel(kind=DEVIATION, deviation={"WETH": 1.5})
    with pytest.raises(ValueError, match="bad oracle label"):
        OracleModel.parse("deviation_lagX")


def test_scenario_names_carry_the_oracle_model():
    scenario = scenarios.build("gap_50+deviation_lag60", 1, 10, ())
    assert scenario.name == "gap_50+deviation_lag60_no_keepers"
    assert scenario.oracle == OracleModel(kind=DEVIATION, lag_seconds=60)
    assert scenarios.with_oracle("gap_50_no_keepers", scenario.oracle) == scenario.name
    assert scenarios.build("gap_50", 1, 10, ()).oracle.is_default
    assert scenarios.with_oracle("gap_50", OracleModel()) == "gap_50"
    with pytest.raises(KeyError):
        scenarios.build("nope+deviation", 1, 10, ())
