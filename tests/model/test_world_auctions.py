"""The campaign world's liquidator (solvent/model/auctions.py) on constructed lots: the split by
value, the start price and the keeper's reward, a take that pays the tab and returns the rest,
one that exhausts the lot and leaves bad debt, the reset budget, and the caps it refuses."""

import pytest

from solvent import config as configs
from solvent.model.auctions import Liquidator, OutOfScope
from solvent.model.world import Rules

WAD = 10**18
ETH = 10**18
PRICE = 2_000 * WAD


def liquidator() -> Liquidator:
    rules = Rules.from_config(configs.load("local"))
    return Liquidator(dict(rules.lots), rules.global_hole)


def test_start_splits_debt_and_penalty_by_value_and_rewards_the_keeper():
    liq = liquidator()
    btc = 10**8  # 1 WBTC at $60,000 against 3 WETH at $2,000: values 60,000 : 6,000
    owed = liq.start(7, [("WETH", 3 * ETH, PRICE), ("WBTC", btc, 60_000 * WAD)], 1_000, 101, 50)
    eth, wbtc = liq.auctions
    assert (eth.debt, wbtc.debt) == (1_000 * 6_000 // 66_000, 1_000 - 1_000 * 6_000 // 66_000)
    assert eth.tab + wbtc.tab == 1_101 and eth.tab == 90 + 101 * 6_000 // 66_000
    assert eth.start_price == 2_200 * WAD and eth.start_time == 50  # oracle x buf 1.10
    # max tip (5 USDC) + chip 0.1% of each tab, floored, at most the penalty
    assert owed == min(5_000_000 + eth.tab // 1_000 + wbtc.tab // 1_000, 101)
    assert liq.global_dirt == 1_101


def test_a_take_paying_the_tab_returns_the_rest_and_one_exhausting_the_lot_leaves_bad_debt():
    liq = liquidator()
    liq.start(1, [("WETH", ETH, PRICE)], 1_000_000_000, 50_000_000, 0)
    a = liq.auctions[0]
    price, stale = liq.status(a, 600)  # 10 steps of 60 s at cut 0.99
    assert not stale and 2_200 * WAD * 9_043 // 10_000 < price < 2_200 * WAD * 9_044 // 10_000
    event, settlement = liq.take(a, ETH, price, 600)
    assert settlement.ended and settlement.bad_debt == 0
    assert settlement.debt_repaid == 1_000_000_000 and settlement.penalty_paid == 50_000_000
    assert settlement.returned == ETH - event.slice > 0 and not liq.auctions

    liq.start(2, [("WETH", ETH // 1_000, PRICE)], 1_000_000_000, 50_000_000, 0)  # $2 of ETH
    b = liq.auctions[0]
    price, _ = liq.status(b, 600)
    event, settlement = liq.take(b, ETH, price, 600)
    assert settlement.ended and settlement.returned == 0
    assert settlement.bad_debt == 1_000_000_000 - settlement.debt_repaid > 0
    assert liq.global_dirt == 0


def test_a_take_refused_when_stale_or_above_the_limit_and_resets_within_the_penalty():
    liq = liquidator()
    liq.start(1, [("WETH", ETH, PRICE)], 1_000_000_000, 8_000_000, 0)
    a = liq.auctions[0]
    price, _ = liq.status(a, 60)
    assert liq.take(a, ETH, price - 1, 60) is None  # above the taker's limit
    assert liq.reset(a, PRICE, 60) is None  # not stale yet
    assert liq.take(a, ETH, 10**30, 3_001) is None  # older than tail: needs a reset
    owed = liq.reset(a, PRICE, 3_001)
    assert owed == min(5_000_000 + a.tab // 1_000, a.tab - a.debt)  # the penalty part, 8 USDC
    assert a.start_time == 3_001 and a.start_price == 2_200 * WAD


def test_a_lot_above_the_room_under_the_caps_is_out_of_scope():
    liq = liquidator()
    liq.global_dirt = liq.global_hole - 10
    with pytest.raises(OutOfScope, match="queued"):
        liq.start(1, [("WETH", ETH, PRICE)], 1_000, 100, 0)
