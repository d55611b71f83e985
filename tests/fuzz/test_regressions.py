"""Failures the campaign found, replayed step by step so a fresh clone (with no Hypothesis
example database) keeps checking them."""

from __future__ import annotations

import pytest

from solvent.fuzz.machine import ProtocolMachine
from solvent.fuzz.model import account_margin
from solvent.model import margin as ref


@pytest.fixture
def machine(fast_driver, fuzz_system):
    """The campaign's machine on the fuzz deployment, torn down after the replay."""
    bound = ProtocolMachine.bind(fast_driver, fuzz_system)()
    try:
        yield bound
    finally:
        bound.teardown()


def replay(machine: ProtocolMachine, steps: list) -> None:
    """Runs the steps in order, checking every promise after each, as the campaign does."""
    for step in steps:
        step()
        machine.protocol_keeps_its_promises()


def test_write_off_without_collateral_books_the_keeper_reward(machine):
    """Deep campaign, seed 85921637746194754806252689578711916069: a quote-only account wiped out
    by a 50% drop is written off by the engine itself, which pays the keeper through the fund
    with no liquidator event. The model had booked rewards from the liquidator's events only, so
    the fund's balance drifted from it by the reward."""
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
    replay(machine, steps)
    counts = machine.shadow.counts
    assert counts.get("BadDebtWrittenOff", 0) == 1 and counts.get("HandedToAuction", 0) == 0
    assert counts.get("KeeperRewardPaid", 0) == 1


@pytest.mark.parametrize(
    "opening",
    [
        # ci campaign: the last opening trade, judged at gapped prices (initial health 0.99998)
        {"weth": 35_232, "quote": 8_491, "withdraw_share": 0},
        # deep campaign, second run: the opening withdrawal, judged at gapped prices (0.48)
        {"weth": 10_000, "quote": 6_763, "withdraw_share": 500_000},
    ],
)
def test_opening_risk_is_judged_before_the_opening_gap(machine, opening):
    """With `crash=True` the set-up step opened positions (and maybe withdrew), then gapped the
    prices against them before the step's invariant ran, so the risk increases were judged at
    the gapped prices instead of the prices they were taken at."""
    machine.open_positions(leverage=2, long=False, crash=True, **opening)
    machine.protocol_keeps_its_promises()
    assert machine.branches.get("orders.settleOrder:ok", 0) == 2
    assert machine.shadow.counts.get("OrderSettled", 0) == 2
    assert machine.branches.get("engine.withdraw:ok", 0) == (1 if opening["withdraw_share"] else 0)


def test_a_liquidation_that_empties_a_market_restarts_its_funding(machine):
    """ci campaign after issue 14's M3 (the engine restarts a market's funding clock and index
    when its last position closes): trader 2 is long BTC alone for 105 days (the rate at its +1%
    bound), BTC halves and the liquidation closes the market. The replay of the step computed the
    accrual up to the recorded time, which an emptied market sets to 0. The model now accrues to
    the transaction's block time and expects the rate kept and the index and clock at 0."""
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
    replay(machine, steps)
    market = machine.state.markets[1]
    assert machine.shadow.counts.get("Liquidated", 0) == 1
    assert (market.lastFundingTime, market.fundingIndex) == (0, 0)
    assert market.fundingRate > 0  # the longs' rate survives the restart


def test_a_batch_settles_each_fill_against_the_skew_before_it(machine):
    """`settleOrders` (issue 14's batch settlement): three traders' orders in one market, priced
    by one round, settled in one call. Each fill moves the skew the next one is priced at; the
    shadow checks every settlement against the skew before its own fill, in log order."""
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


def test_accounts_on_the_portfolio_model_trade_withdraw_switch_and_are_liquidated(machine):
    """Issue 18 through the machine: trader 1 chooses the portfolio model while idle, opens 2x
    long ETH on WETH collateral and withdraws under it; trader 3's 5x long passes the standard
    margin but not the grid's 30% move, so its switch is refused (`InsufficientMargin`) until it
    brings quote; after ETH -15% only the model's account is liquidatable (the grid's move is
    larger than the standard maintenance ratio), and it is liquidated by the model's fraction.
    Every step is checked by the shadow, which margins both models to the wei."""
    steps = [
        lambda: machine.open_positions(
            weth=10_000,
            quote=0,
            leverage=2,
            long=True,
            crash=False,
            withdraw_share=0,
            on_portfolio=True,
        ),
        lambda: machine.withdraw(trader=1, asset="WETH", share=10_000),
        lambda: machine.deposit(trader=3, asset="quote", usd=20_000),
        lambda: machine.trade_now(3, 0, machine.size_for(0, 100_000, long=True)),
        lambda: machine.choose_model(trader=3, portfolio=True),  # refused
        lambda: machine.deposit(trader=3, asset="quote", usd=20_000),
        lambda: machine.choose_model(trader=3, portfolio=True),
        lambda: machine.choose_model(trader=3, portfolio=False),  # and back
        lambda: machine.move_price(asset="WETH", factor=8_500),
        lambda: machine.liquidate(trader=2),  # standard, healthy: refused
        lambda: standard_healthy_model_not(machine, 1),
        lambda: machine.liquidate(trader=1),
    ]
    replay(machine, steps)
    branches, counts = machine.branches, machine.shadow.counts
    assert branches.get("admin.setRiskModel:InsufficientMargin", 0) == 1
    assert branches.get("admin.setRiskModel:ok", 0) == 3
    assert counts.get("portfolio:Traded", 0) == 1
    assert counts.get("portfolio:Withdrawn", 0) == 1
    assert counts.get("portfolio:Liquidated", 0) == 1 == counts.get("Liquidated", 0)
    assert machine.shadow.models == {1: True, 2: False, 3: False, 4: False}
    # The liquidation invariant saw the model's account under water and `liquidate` accept it.
    assert branches.get("liquidatable-check:ok", 0) >= 1


def test_an_lp_deposit_request_is_executed_at_its_round_and_claimed(machine):
    """The LP's ERC-7540 deposit through the machine: request, a minute later a fresh round on
    every market, the keeper's execution at the determining rounds (checked against the model by
    the rule itself), then the LP's claim (`pool.deposit`). The campaign's draws reach the claim
    on some machines and not others, so it is required here, on every run."""
    steps = [
        lambda: machine.lp_request_deposit(usd=10_000),
        lambda: machine.pass_time(seconds=60),
        lambda: machine.refresh_feeds(),
        lambda: machine.lp_execute(deposit=True),
    ]
    replay(machine, steps)
    assert machine.branches.get("pool.requestDeposit:ok", 0) == 1
    assert machine.branches.get("pool.executeDeposit:ok", 0) == 1
    assert machine.branches.get("pool.deposit:ok", 0) == 1


def standard_healthy_model_not(machine: ProtocolMachine, trader: int) -> None:
    """The account is liquidatable under its model and would not be under the standard one."""
    state, system = machine.state, machine.system
    debt = state.accounts[trader].quoteBalance < 0
    healths = []
    for model in (False, True):
        m = account_margin(state, system, trader, lenient=True, model=model)
        assert m is not None
        healths.append(ref.health(m.maintenance_equity, m.maintenance_requirement, debt))
    assert healths[0] >= 10**18 > healths[1], healths


@pytest.mark.parametrize("leverage", [2, 5])
def test_the_pool_cash_bounds_the_exposure_and_pays_the_profit(machine, leverage):
    """Issue 15 through the machine (`squeeze=True`): two traders long ETH and BTC, the LP
    redeems 99.9% of what the pool may pay out, so the cash left is about a tenth of the traders'
    net notional. The second trader's 10% addition grows |net| beyond `maxExposureRatio` x the
    cash: refused `PoolExposureExceeded`, with the exposure and bound the shadow computes at the
    cash the fill saw. Both prices rise 30% and the first trader closes: its profit is above the
    cash, which pays what it holds; the rest is `ProfitUnpaid`, the amount the replay predicts.
    Every step checks the replayed pool cash and quotes against the chain's to the unit."""
    machine.open_positions(
        weth=100_000,
        quote=0,
        leverage=leverage,
        long=True,
        crash=False,
        withdraw_share=0,
        squeeze=True,
    )
    machine.protocol_keeps_its_promises()
    counts = machine.shadow.counts
    assert machine.branches.get("pool.executeRedeem:ok", 0) == 1
    assert counts.get("fill:PoolExposureExceeded", 0) == 1
    assert counts.get("FillRefused:PoolExposureExceeded", 0) == 1
    assert counts.get("ProfitUnpaid:fill", 0) == 1 == counts.get("ProfitUnpaid", 0)
    assert counts.get("credit:capped", 0) == 1
    assert counts.get("exposure:bound-held", 0) == 2  # the two opening fills
    assert counts.get("cash:replayed", 0) >= 5
    ledger = machine.state.ledger
    assert ledger.poolCash == 0  # the close took every unit of the pool's cash, no more


def test_a_liquidation_credits_its_profit_only_from_the_pool_cash(machine):
    """Issue 15, a liquidation's closure: after the squeeze (the pool's cash spent to 0 by the
    first trader's close), the second trader is 5x long BTC in profit on WETH collateral. BTC
    gives back most of its gain and WETH halves three times: the account falls under its
    maintenance margin (health 0.62) while its position is still in profit. The liquidation
    closes part of it at a positive realized PnL, which the pool's empty cash cannot pay: the
    whole credit is `ProfitUnpaid`, the amount the shadow predicts from the read before it,
    and the liquidation's fraction and penalty still equal the model's."""
    steps = [
        lambda: machine.open_positions(
            weth=100_000,
            quote=0,
            leverage=5,
            long=True,
            crash=False,
            withdraw_share=0,
            squeeze=True,
        ),
        lambda: machine.move_price(asset="WBTC", factor=8_500),
        lambda: machine.move_price(asset="WBTC", factor=9_500),
        *[lambda: machine.move_price(asset="WETH", factor=5_000)] * 3,
        lambda: machine.liquidate(trader=2),
    ]
    replay(machine, steps)
    counts = machine.shadow.counts
    assert counts.get("Liquidated", 0) == 1
    assert counts.get("ProfitUnpaid:liquidation", 0) == 1
    assert counts.get("ProfitUnpaid", 0) == 2  # the squeeze's close, then the liquidation


@pytest.mark.parametrize(
    ("long", "goal", "under_water"),
    [(True, 900, 1), (True, 1_500, 0), (False, 970, 1)],
)
def test_adl_set_up_reaches_every_verdict(machine, long, goal, under_water):
    """Issue 15's auto-deleveraging through the machine (`adl_pool`): the second trader's market
    is brought above the trigger (the pool's factor near `goal` per mille after the LP's
    redemption and a favourable move); a keeper lists the first trader's market, whose traders
    are not in profit at its unmoved price (`AdlMarketNotInProfit`), then on the second market a
    wrong-side account, a net-side account under water, one account too many, no account and
    the ranked accounts: four named refusals, an empty run that ends above the target (`armed`)
    and the cuts, started from the target since armed, each predicted to the wei (invariant 17,
    `armed` and the cash replay judge them). At 1.5 the pool's value without the market's PnL is
    negative: the run closes every profitable position whole and the pool's cash leaves part of
    the credits `ProfitUnpaid`."""
    machine.open_positions(
        weth=60_000,
        quote=0,
        leverage=3,
        long=long,
        crash=False,
        withdraw_share=0,
        adl_goal=goal,
    )
    machine.protocol_keeps_its_promises()
    b = machine.branches
    print(sorted(b.items()), sorted(machine.shadow.counts.items()))
    assert b.get("adl:AdlMarketNotInProfit", 0) == 1
    assert b.get("engine.autoDeleverage:AdlMarketNotInProfit", 0) == 1
    assert b.get("adl:AdlWrongSide", 0) == 1
    assert b.get("adl:AdlPositionNotInProfit", 0) == under_water
    assert b.get("adl:AdlOvercut", 0) == 1
    assert b.get("adl:ok", 0) == 2  # the empty run, then the ranked one
    assert b.get("adl:ended-armed", 0) == 1  # the empty run only
    assert b.get("adl:trigger-is-target", 0) == 1  # the ranked run, armed
    counts = machine.shadow.counts
    assert counts.get("adl:invariant-held", 0) == 2
    assert machine.shadow.adl_armed is False
    if goal < 1_000:  # the pool's value without the PnL stays positive: a partial last cut
        assert b.get("adl:cut-partial", 0) == 1
    else:  # negative: every profitable position closed whole, paid out of a thin cash
        assert b.get("adl:cut-full", 0) == 1
        assert counts.get("ProfitUnpaid:adl", 0) >= 1


def test_a_short_on_the_portfolio_model_is_handed_to_auction_after_the_cooldown(machine):
    """Deep campaign, session 10: trader 1 on the portfolio model, 2x short ETH on WETH
    collateral (wrong-way), became liquidatable after the cool-down; `liquidate` reverted with
    Panic(0x11) inside the auction start of its hand-off: the model's bridge had written back
    its own (empty) unpriced asset over the one the liquidation's stale read had found, so the
    hand-off priced the WETH lot at UNPRICED. Now the liquidation waits for the price
    (`PriceUnavailable`, the account's own state), as a standard account's does."""
    machine.open_positions(
        weth=10_000,
        quote=0,
        leverage=2,
        long=False,
        crash=False,
        withdraw_share=0,
        hole_full=False,
        pending_withdraw_share=0,
        on_portfolio=True,
        squeeze=False,
        adl_goal=0,
    )
    machine.protocol_keeps_its_promises()
    machine.pass_cooldown()
    machine.protocol_keeps_its_promises()
    # Both unhealthy accounts (1 on the model, 2 on the standard margin) wait for the price.
    assert machine.branches.get("liquidatable-check:PriceUnavailable", 0) == 2
    assert machine.shadow.models[1] is True
