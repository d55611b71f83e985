"""Failures the campaign found, replayed step by step so a fresh clone (with no Hypothesis
example database) keeps checking them."""

from __future__ import annotations

import pytest

from solvent.fuzz.machine import ProtocolMachine


def test_write_off_without_collateral_books_the_keeper_reward(fast_driver, fuzz_system):
    """Deep campaign, seed 85921637746194754806252689578711916069: a quote-only account wiped out
    by a 50% drop is written off by the engine itself, which pays the keeper through the fund
    with no liquidator event. The model had booked rewards from the liquidator's events only, so
    the fund's balance drifted from it by the reward."""
    machine = ProtocolMachine.bind(fast_driver, fuzz_system)()
    try:
        steps = [
            lambda: machine.open_positions(
                weth=10_000, quote=0, leverage=2, long=False, crash=False, withdraw_share=0
            ),
            # $797 in the original campaign; the $50 minimum position margin (issue 12) raised the
            # initial requirement of the $7,819 trade to $832, so the account now brings $850.
            lambda: machine.deposit(asset="quote", trader=4, usd=850),
            lambda: machine.trade_now(4, 0, machine.size_for(0, 7_819, long=True)),
            lambda: machine.move_price(asset="WETH", factor=5_000),
            lambda: machine.liquidate(trader=4),
        ]
        for step in steps:
            step()
            machine.protocol_keeps_its_promises()
        counts = machine.shadow.counts
        assert counts.get("BadDebtWrittenOff", 0) == 1 and counts.get("HandedToAuction", 0) == 0
        assert counts.get("KeeperRewardPaid", 0) == 1
    finally:
        machine.teardown()


@pytest.mark.parametrize(
    "opening",
    [
        # ci campaign: the last opening trade, judged at gapped prices (initial health 0.99998)
        {"weth": 35_232, "quote": 8_491, "withdraw_share": 0},
        # deep campaign, second run: the opening withdrawal, judged at gapped prices (0.48)
        {"weth": 10_000, "quote": 6_763, "withdraw_share": 500_000},
    ],
)
def test_opening_risk_is_judged_before_the_opening_gap(fast_driver, fuzz_system, opening):
    """With `crash=True` the set-up step opened positions (and maybe withdrew), then gapped the
    prices against them before the step's invariant ran, so the risk increases were judged at
    the gapped prices instead of the prices they were taken at."""
    machine = ProtocolMachine.bind(fast_driver, fuzz_system)()
    try:
        machine.open_positions(leverage=2, long=False, crash=True, **opening)
        machine.protocol_keeps_its_promises()
        assert machine.branches.get("orders.settleOrder:ok", 0) == 2
        assert machine.shadow.counts.get("OrderSettled", 0) == 2
        assert machine.branches.get("engine.withdraw:ok", 0) == (
            1 if opening["withdraw_share"] else 0
        )
    finally:
        machine.teardown()


def test_a_liquidation_that_empties_a_market_restarts_its_funding(fast_driver, fuzz_system):
    """ci campaign after issue 14's M3 (the engine restarts a market's funding clock and index
    when its last position closes): trader 2 is long BTC alone for 105 days (the rate at its +1%
    bound), BTC halves and the liquidation closes the market. The replay of the step computed the
    accrual up to the recorded time, which an emptied market sets to 0. The model now accrues to
    the transaction's block time and expects the rate kept and the index and clock at 0."""
    machine = ProtocolMachine.bind(fast_driver, fuzz_system)()
    try:
        steps = [
            lambda: machine.open_positions(
                weth=10_000,
                quote=0,
                leverage=4,
                long=True,
                crash=False,
                withdraw_share=0,
                hole_full=False,
                pending_withdraw_share=0,
            ),
            lambda: machine.close(market=0, trader=1),
            *[machine.pass_cooldown] * 11,
            lambda: machine.settle(pick=0),
            lambda: machine.settle(pick=0),
            *[machine.pass_cooldown] * 4,
            lambda: machine.move_price(asset="WBTC", factor=5_000),
            lambda: machine.liquidate(trader=2),
        ]
        for step in steps:
            step()
            machine.protocol_keeps_its_promises()
        market = machine.state.markets[1]
        assert machine.shadow.counts.get("Liquidated", 0) == 1
        assert (market.lastFundingTime, market.fundingIndex) == (0, 0)
        assert market.fundingRate > 0  # the longs' rate survives the restart
    finally:
        machine.teardown()


def test_a_batch_settles_each_fill_against_the_skew_before_it(fast_driver, fuzz_system):
    """`settleOrders` (issue 14's batch settlement): three traders' orders in one market, priced
    by one round, settled in one call. Each fill moves the skew the next one is priced at; the
    shadow checks every settlement against the skew before its own fill, in log order."""
    machine = ProtocolMachine.bind(fast_driver, fuzz_system)()
    try:
        machine.open_positions(
            weth=10_000, quote=20_000, leverage=2, long=True, crash=False, withdraw_share=0
        )
        machine.protocol_keeps_its_promises()
        for trader in (1, 2, 3, 4):
            machine.deposit(asset="quote", trader=trader, usd=5_000)
        for trader, long in ((1, True), (2, True), (3, False)):
            size = machine.size_for(0, 3_000, long=long)
            assert machine._commit(trader, 0, size, 2**256 - 1 if long else 0).ok
        machine.trade_now(4, 0, machine.size_for(0, 3_000, long=True))  # the fourth joins them
        machine.protocol_keeps_its_promises()
        assert machine.branches.get("orders.settleOrders:ok", 0) == 1
        assert machine.shadow.counts.get("OrderSettled", 0) >= 4 + 2  # the batch + the opening
        assert not machine.shadow.orders.pending
    finally:
        machine.teardown()
