"""The engine's `autoDeleverage` against its reference model (solvent/model/adl.py), to the wei:
on the real deployment (config/local.yaml), the model reads the chain's views (markets,
positions, ledger, borrow state, oracle price, maintenance equity), plans the keeper's list
(ranking by profit x leverage), and its run (each cut's size and realized PnL, the factor before
and after, the books after) equals the engine's `AutoDeleveraged` / `AdlExecuted` events and state.

Exactness: the engine runs at the block's timestamp, so the model must read the state the
transaction saw at that time. Each comparison sends the call, records what it emitted and left,
rewinds, mines an empty block at the same timestamp and reads the views there (the same state,
the same accruals), then runs the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.desk import Desk
from solvent.governance import govern
from solvent.model import adl

WAD = 10**18
USDC = 10**6
MAX = 2**256 - 1
ETH = "WETH"
DAY = 86_400


@pytest.fixture(scope="module")
def actors(accounts) -> dict[str, Any]:
    return {
        "lp": accounts[1],
        "keeper": accounts[4],
        "traders": [accounts[i] for i in (3, 5, 6, 7)],
    }


@pytest.fixture(scope="module")
def desk(system, chain, deployer) -> Desk:
    return Desk(system, chain, deployer)


@dataclass(frozen=True)
class ChainView:
    book: adl.Book
    positions: dict[int, adl.Position]
    pool_value: int
    equity: dict[int, int]
    params: adl.AdlParams
    others: int  # every other market's traders' profit (`others_profit`)
    short: int  # the residual shortfall


def _book(system: Any, market: int, now: int) -> adl.Book:
    stored = system.admin.markets(market)
    return adl.book_from_market(stored, int(system.oracle.price(stored.asset)), now)


def read_view(system: Any, market: int, accounts: list[int], now: int) -> ChainView:
    """What `autoDeleverage` reads at `now`, from the latest block's views (exact when `now` is
    that block's timestamp)."""
    admin = system.admin
    ledger = admin.ledger()
    insurance = int(system.fund.totalAssets()) if int(ledger.debtInAuction) else 0
    positions = {a: adl.position_from_view(admin.positions(a, market)) for a in accounts}
    health = admin.healthOf(accounts)
    params = system.engine.adlParams()
    pool = adl.ledger_from_views(ledger, admin.borrowState(), insurance)
    # The engine reads no price for a market without open interest (its PnL is 0).
    others = [
        _book(system, m, now)
        for m in system.market_ids.values()
        if m != market and any(_aggregates(system, m))
    ]
    return ChainView(
        _book(system, market, now),
        {a: p for a, p in positions.items() if p.size},
        adl.pool_value_without_pnl(pool),
        {a: int(h.equity) for a, h in zip(accounts, health, strict=True)},
        adl.AdlParams(int(params.trigger), int(params.target), bool(params.armed)),
        adl.others_profit(others),
        adl.shortfall(pool),
    )


@dataclass(frozen=True)
class Observed:
    """What the engine's call emitted and left behind."""

    timestamp: int
    factors: tuple[int, int]
    cuts: list[tuple[int, int, int, int]]  # (account, sizeDelta, price, realizedPnl)
    positions: dict[int, adl.Position]
    quote: dict[int, int]
    aggregates: tuple[int, int, int]
    unpaid: int
    armed: bool


def _aggregates(system: Any, market: int) -> tuple[int, int, int]:
    m = system.admin.markets(market)
    net = int(m.longOpenInterest) - int(m.shortOpenInterest)
    return (net, int(m.netOpenNotional), int(m.fundingEntrySum))


def deleverage_and_compare(
    system: Any, chain: Any, keeper: Any, market: int, accounts: list[int]
) -> tuple[adl.Run, ChainView]:
    """The keeper's list from the model at the head, the engine's call, and the model's run at the
    call's own block state: equal to the wei. Returns the model's run and view."""
    head = chain.blocks.head.timestamp
    plan_view = read_view(system, market, accounts, head)
    plan = adl.plan(
        plan_view.book,
        plan_view.positions,
        plan_view.pool_value,
        plan_view.equity,
        plan_view.params,
        plan_view.others,
        plan_view.short,
    )
    assert plan, "the set-up must trigger ADL"
    quote_before = {a: int(system.admin.accounts(a).quoteBalance) for a in accounts}
    snapshot = chain.snapshot()
    receipt = system.engine.autoDeleverage(market, plan, sender=keeper)
    [executed] = receipt.events.filter(system.engine.AdlExecuted)
    observed = Observed(
        chain.blocks[receipt.block_number].timestamp,
        (int(executed.factorBefore), int(executed.factorAfter)),
        [
            (int(e.accountId), int(e.sizeDelta), int(e.price), int(e.realizedPnl))
            for e in receipt.events.filter(system.engine.AutoDeleveraged)
        ],
        {a: adl.position_from_view(system.admin.positions(a, market)) for a in accounts},
        {a: int(system.admin.accounts(a).quoteBalance) - quote_before[a] for a in accounts},
        _aggregates(system, market),
        sum(int(e.amount) for e in receipt.events.filter(system.engine.ProfitUnpaid)),
        bool(system.engine.adlParams().armed),
    )
    chain.restore(snapshot)
    chain.mine(timestamp=observed.timestamp)
    v = read_view(system, market, accounts, observed.timestamp)
    assert (
        adl.plan(v.book, v.positions, v.pool_value, v.equity, v.params, v.others, v.short) == plan
    )
    run = adl.run(v.book, v.positions, v.pool_value, plan, v.params, v.others, v.short)
    assert observed.factors == (run.factor_before, run.factor_after)
    assert observed.cuts == [(c.account, c.size_delta, c.price, c.realized_pnl) for c in run.cuts]
    assert observed.aggregates == (
        run.book.net_size,
        run.book.net_open_notional,
        run.book.entry_sum,
    )
    for account in accounts:
        assert observed.positions[account] == run.positions.get(
            account, v.positions.get(account, adl.Position())
        )
    # every set-up's pool has the cash: each account is credited the model's figure in full
    credits = {c.account: c.credit for c in run.cuts}
    assert observed.unpaid == 0
    assert observed.quote == {a: credits.get(a, 0) for a in accounts}
    # the run ends at the target, or when its market's profit is gone (the next run is armed)
    assert run.factor_after <= v.params.target or adl.market_pnl(run.book) <= 0
    assert observed.armed == (run.factor_after > v.params.target)
    return run, v


def set_adl(system: Any, trigger: int, target: int) -> None:
    """Governance's thresholds (WAD), through the timelock (before any position: the delay
    passes on the chain)."""
    govern(system, [(system.engine, "setAdlParams", trigger, target)])


# ------------------------------------------------------------------ set-ups


def test_one_long_at_the_default_thresholds(system, chain, desk, actors):
    """Issue 15's set-up (tests/attacks, `test_adl_stops_the_payout_...`): a $1M pool, one long
    400 ETH, ETH $2,000 → $2,200, the LP redeems to the reserve, ETH → $2,400: the factor is above
    0.85; the model's cut, factor after and books equal the engine's."""
    desk.fund_pool(actors["lp"], 1_000_000)
    trader = actors["traders"][0]
    account = desk.trader(trader, 0, 200_000, ETH, 400 * WAD)
    market = system.market_ids[ETH]
    desk.set_price(ETH, 2_200)
    desk.advance(60)
    desk.redeem_to_reserve(actors["lp"])
    desk.set_price(ETH, 2_400)
    desk.advance(60)
    run, v = deleverage_and_compare(system, chain, actors["keeper"], market, [account])
    assert v.params == adl.AdlParams()
    [cut] = run.cuts
    assert 0 < -cut.size_delta < 400 * WAD  # a partial cut: the bisection's
    assert run.factor_after == adl.TARGET_FACTOR or (
        adl.TARGET_FACTOR - 10**12 < run.factor_after <= adl.TARGET_FACTOR
    )


def test_several_longs_with_funding_owed(system, chain, desk, actors):
    """Three longs (200, 150, 100 ETH on $60k, $200k, $25k) and a short of 20 ETH in a $1M pool,
    thresholds 6% / 3%: the net 430 ETH is above the funding dead-band (350 ETH), so a day
    accrues funding the longs owe; ETH $2,000 → $2,200. The run closes in full and cuts the last
    listed to the wei of the model's bisection, settling each position's funding."""
    set_adl(system, 6 * WAD // 100, 3 * WAD // 100)
    desk.fund_pool(actors["lp"], 1_000_000)
    t = actors["traders"]
    accounts = [
        desk.trader(t[0], 0, 60_000, ETH, 200 * WAD),
        desk.trader(t[1], 0, 200_000, ETH, 150 * WAD),
        desk.trader(t[2], 0, 25_000, ETH, 100 * WAD),
        desk.trader(t[3], 0, 40_000, ETH, -20 * WAD),
    ]
    market = system.market_ids[ETH]
    desk.advance(DAY)
    desk.set_price(ETH, 2_100)
    desk.advance(60)
    desk.set_price(ETH, 2_200)
    desk.advance(60)
    run, v = deleverage_and_compare(system, chain, actors["keeper"], market, accounts)
    assert v.book.index != 0 and all(c.funding > 0 for c in run.cuts)
    assert len(run.cuts) >= 2 and accounts[3] not in {c.account for c in run.cuts}
    assert all(c.size_delta < 0 for c in run.cuts)


def test_several_shorts_in_a_short_net_market(system, chain, desk, actors):
    """Short-net: three shorts (150, 150, 100 ETH) and a long of 30 ETH, thresholds 5% / 2%, half
    a day of funding, ETH $2,000 → $1,800: the shorts are the net side and in profit."""
    set_adl(system, 5 * WAD // 100, 2 * WAD // 100)
    desk.fund_pool(actors["lp"], 1_000_000)
    t = actors["traders"]
    accounts = [
        desk.trader(t[0], 0, 50_000, ETH, -150 * WAD),
        desk.trader(t[1], 0, 300_000, ETH, -150 * WAD),
        desk.trader(t[2], 0, 30_000, ETH, -100 * WAD),
        desk.trader(t[3], 0, 40_000, ETH, 30 * WAD),
    ]
    market = system.market_ids[ETH]
    desk.advance(DAY // 2)
    desk.set_price(ETH, 1_900)
    desk.advance(60)
    desk.set_price(ETH, 1_800)
    desk.advance(60)
    run, v = deleverage_and_compare(system, chain, actors["keeper"], market, accounts)
    assert v.book.net_size < 0 and all(c.size_delta > 0 for c in run.cuts)
    assert accounts[3] not in {c.account for c in run.cuts}
    # the engine refuses the long by name, as the model does
    refused = adl.refusal(v.book, v.positions, v.pool_value, [accounts[3]], v.params)
    assert refused is not None and refused.error == adl.AdlError.WRONG_SIDE
    with ape.reverts(system.engine.AdlWrongSide, accountId=accounts[3]):
        system.engine.autoDeleverage(market, [accounts[3]], sender=actors["keeper"])


def test_two_markets_together_are_cut_one_after_the_other(system, chain, desk, actors):
    """Two markets that outgrow the pool only together: a $100k pool, a long of 450 ETH and one of
    15 BTC (exposure bound raised to 10x: the set-up is the pool's worst case, not a fill it would
    accept); ETH $2,000 → $2,100 and BTC $60,000 → $63,000 give each market's traders $45,000,
    0.45 of the pool alone, 0.89 together. The engine refuses nothing it must not and equals the
    model: the ETH run closes the long (its market's profit gone, the factor still above the
    target: armed), the BTC run then starts above the target and ends at it (disarmed)."""
    desk.allow_exposure("10")
    desk.fund_pool(actors["lp"], 100_000)
    t = actors["traders"]
    eth = desk.trader(t[0], 2, 200_000, ETH, 450 * WAD)
    btc = desk.trader(t[1], 2, 200_000, "WBTC", 15 * WAD)
    for step in (2_050, 2_100):
        desk.set_price(ETH, step)
        desk.set_price("WBTC", step * 30)
        desk.advance(60)
    eth_market, btc_market = system.market_ids[ETH], system.market_ids["WBTC"]
    alone = read_view(system, eth_market, [eth], chain.blocks.head.timestamp)
    assert adl.factor(alone.book, alone.pool_value) < alone.params.trigger
    assert adl.factor(alone.book, alone.pool_value, alone.others) > alone.params.trigger
    first, _ = deleverage_and_compare(system, chain, actors["keeper"], eth_market, [eth, btc])
    system.engine.autoDeleverage(eth_market, [eth], sender=actors["keeper"])
    assert [c.size_delta for c in first.cuts] == [-450 * WAD]
    assert bool(system.engine.adlParams().armed)
    with ape.reverts(system.engine.AdlMarketNotInProfit, marketId=eth_market):
        system.engine.autoDeleverage(eth_market, [eth], sender=actors["keeper"])
    second, v = deleverage_and_compare(system, chain, actors["keeper"], btc_market, [eth, btc])
    assert v.params.armed and second.factor_before < v.params.trigger
    assert second.factor_after <= v.params.target


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sizes=st.lists(st.integers(20, 150), min_size=1, max_size=3),
    long=st.booleans(),
    move=st.integers(5, 10),
    hours=st.integers(0, 24),
)
def test_engine_equals_model_on_random_books(system, chain, desk, actors, sizes, long, move, hours):
    """Random books (1-3 accounts on the net side and one against it), a move of 5-10% in their
    favour, 0-24 h of funding, thresholds 0.04% / 0.02% (a $1M pool: every draw triggers): the
    engine's run equals the model's."""
    snapshot = chain.snapshot()
    try:
        set_adl(system, WAD // 2_500, WAD // 5_000)
        desk.fund_pool(actors["lp"], 1_000_000)
        t = actors["traders"]
        sign = 1 if long else -1
        accounts = [
            desk.trader(t[i], 1, 20_000 + 1_000 * size, ETH, sign * size * WAD)
            for i, size in enumerate(sizes)
        ]
        accounts.append(desk.trader(t[3], 1, 40_000, ETH, -sign * 10 * WAD))
        desk.advance(hours * 3_600)
        desk.set_price(ETH, 2_000 * (100 + sign * move) / 100)
        desk.advance(60)
        market = system.market_ids[ETH]
        v = read_view(system, market, accounts, chain.blocks.head.timestamp)
        assert adl.factor(v.book, v.pool_value) > v.params.trigger
        deleverage_and_compare(system, chain, actors["keeper"], market, accounts)
    finally:
        chain.restore(snapshot)
