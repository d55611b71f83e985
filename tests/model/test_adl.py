"""Auto-deleveraging's reference model (solvent/model/adl.py), the mirror of the engine's
`autoDeleverage`: worked examples with hand-computed figures (one account long, several short, a
funding-owing position, the shortfall, every refusal by its error name), and properties on exact
integers (the keeper's plan passes the contract's checks, the factor after is at most the target,
each cut is the smallest reaching it, nothing runs below the trigger, the run is the ledger
model's fills). Pure Python: no chain (tests/pool/test_adl_engine.py compares it to the engine)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from solvent.model import adl
from solvent.model import funding as fm
from solvent.model.adl import AdlError, AdlRefused, Position
from solvent.model.ledger import EngineBooks, MarketBook

WAD = 10**18
USDC = 10**6
ETH = 0
BTC = 1
T0 = 1_000
# config/local.yaml's ETH market: 5 bps taker fee, 20% of it to the insurance fund
TAKER_FEE = 5 * WAD // 10_000
INSURANCE_SHARE = WAD // 5
LOCAL_BORROW = fm.BorrowParams(WAD // 10, 85 * WAD // 100, WAD)
LOCAL_FUNDING = fm.FundingParams(350_000 * WAD, 9 * WAD, WAD // 1_000, WAD // 100)
FAST_FUNDING = fm.FundingParams(1_000 * WAD, 9 * WAD, WAD // 1_000, WAD // 100)


def books_with_pool(pool_cash_usd: int, funding: fm.FundingParams = LOCAL_FUNDING) -> EngineBooks:
    def market() -> MarketBook:
        return MarketBook(
            params=funding, insurance_fee_share=INSURANCE_SHARE, state=fm.FundingState()
        )

    return EngineBooks(
        markets={ETH: market(), BTC: market()},
        borrow=fm.BorrowState(),
        borrow_params=None,
        pool_cash=pool_cash_usd * USDC,
    )


def open_position(
    books: EngineBooks, account: int, market: int, size: int, price: int, now: int, deposit: int
) -> None:
    """The account deposits `deposit` quote units and fills `size` at `price` (the oracle's),
    paying the taker fee, as the engine books it."""
    books.quote[account] = books.quote.get(account, 0) + deposit
    fee = -(-(abs(size) * price // WAD) * TAKER_FEE // (WAD * 10**12))
    books.fill(account, market, size, price, fee, price, now)


@dataclass(frozen=True)
class View:
    """The market as `autoDeleverage` reads it from the ledger model."""

    book: adl.Book
    positions: dict[int, Position]
    pool_value: int
    equity: dict[int, int]


def view(
    books: EngineBooks, price: int, now: int = T0, market: int = ETH, insurance: int = 0
) -> View:
    positions = adl.positions_from_books(books, market)
    prices = {ETH: price, BTC: 60_000 * WAD, market: price}
    return View(
        adl.book_from_books(books, market, price, now),
        positions,
        adl.pool_value_without_pnl(adl.ledger_from_books(books, now, insurance)),
        adl.equity_from_books(books, positions, prices, now),
    )


def aggregates(book: adl.Book) -> tuple[int, int, int]:
    return (book.net_size, book.net_open_notional, book.entry_sum)


def ceil_wad(numerator: int, denominator: int) -> int:
    return -(-numerator * WAD // denominator)


# ------------------------------------------------------------------ worked examples


def one_long() -> EngineBooks:
    """Issue 15's attack 4: a $100k pool, one trader long 900 ETH at $2,000 on $200k. The pool's
    cash after the open: 100,000 + $900 fee - $180 insurance cut = $100,720 = G."""
    books = books_with_pool(100_000)
    open_position(books, 1, ETH, 900 * WAD, 2_000 * WAD, T0, 200_000 * USDC)
    return books


def test_one_long_triggers_between_2095_and_2096():
    """T = 900·(p - 2,000), G = $100,720 (no debt, no auction); the factor is T / G before any
    cut (rest + T = G): above 0.85 ⇔ T > $85,612 ⇔ ETH > $2,095.12."""
    books = one_long()
    at_2095 = view(books, 2_095 * WAD)
    assert at_2095.pool_value == 100_720 * WAD
    assert adl.market_pnl(at_2095.book) == 85_500 * WAD
    assert adl.factor(at_2095.book, at_2095.pool_value) == ceil_wad(85_500, 100_720)  # 0.8489
    assert adl.plan(at_2095.book, at_2095.positions, at_2095.pool_value, at_2095.equity) == []
    with pytest.raises(AdlRefused) as refused:
        adl.run(at_2095.book, at_2095.positions, at_2095.pool_value, [1])
    assert refused.value.error == AdlError.NOT_TRIGGERED
    at_2096 = view(books, 2_096 * WAD)
    assert adl.factor(at_2096.book, at_2096.pool_value) == ceil_wad(86_400, 100_720)  # 0.8578
    assert adl.plan(at_2096.book, at_2096.positions, at_2096.pool_value, at_2096.equity) == [1]


def test_one_long_at_2100_is_cut_by_541_113_eth_to_exactly_the_target():
    """At $2,100: T = $90,000, factor 90,000 / 100,720 = 0.8936; rest = G - T = $10,720 stays.
    After a cut c the factor is T'/(rest + T') with T' = 100·(900 - c): at most 0.77 ⇔
    T' ≤ 0.77/0.23 · 10,720 = $35,888.6956… ⇔ c ≥ 541.1130434782608695652… ETH: the smallest
    wei is 541.113043478260869566 ETH, realizing $54,111.304347826086956600 (credited
    $54,111.304347, floor), and the factor lands on 0.77 exactly; one wei less stays above."""
    books = one_long()
    v = view(books, 2_100 * WAD)
    run = adl.run(v.book, v.positions, v.pool_value, [1])
    assert run.factor_before == ceil_wad(90_000, 100_720)
    [cut] = run.cuts
    assert cut.size_delta == -541_113_043_478_260_869_566
    assert cut.realized_pnl == 54_111_304_347_826_086_956_600
    assert cut.funding == 0 and cut.credit == 54_111_304_347
    assert run.factor_after == adl.TARGET_FACTOR
    rest = v.pool_value - adl.market_pnl(v.book)
    assert rest == 10_720 * WAD
    position = v.positions[1]
    assert adl.factor_after(v.book, position, -cut.size_delta - 1, rest) > adl.TARGET_FACTOR
    assert adl.plan(v.book, v.positions, v.pool_value, v.equity) == [1]
    # the ledger model's fill gives the same books, and the pool's value does not move
    after = adl.apply(books, ETH, run, T0)
    assert adl.book_from_books(after, ETH, 2_100 * WAD, T0) == run.book
    assert after.pool_cash == books.pool_cash - 54_111_304_347
    prices = {ETH: 2_100 * WAD, BTC: 60_000 * WAD}
    assert after.pool_assets(prices, T0) - books.pool_assets(prices, T0) in (0, 1)


def test_one_long_gap_past_the_pool_closes_everything_and_cannot_restore_it():
    """ETH $2,000 → $2,120: T = $108,000 > G = $100,720, factor 1.0723: rest = -$7,280, so after
    any partial cut T'/(rest + T') is MAX (T' ≤ $7,280) or above 1: only the full close (T' = 0,
    factor 0) reaches the target. The profit is owed already: the pool's cash pays $100,720 of
    it, $7,280 stays unpaid. ADL moves no value; it protects against the next move, not a gap
    already past the pool."""
    books = one_long()
    v = view(books, 2_120 * WAD)
    assert adl.factor(v.book, v.pool_value) == ceil_wad(108_000, 100_720)
    rest = v.pool_value - adl.market_pnl(v.book)
    assert adl.factor_after(v.book, v.positions[1], 899 * WAD, rest) == adl.MAX_FACTOR
    run = adl.run(v.book, v.positions, v.pool_value, [1])
    assert [c.size_delta for c in run.cuts] == [-900 * WAD] and run.factor_after == 0
    after = adl.apply(books, ETH, run, T0)
    assert after.pool_cash == 0 and after.profit_unpaid == 7_280 * USDC


def shorts() -> EngineBooks:
    """A $75k pool and a short-net market: accounts 1, 2, 3 short 100, 100, 200 ETH at $2,000 on
    $40k, $400k, $40k; account 4 long 50 ETH at $2,000 on $40k; account 5 short 10 ETH at $1,700
    on $40k. Fees $100 + $100 + $200 + $50 + $8.50, 80% to the pool: cash $75,366.80."""
    books = books_with_pool(75_000)
    for account, size, price, deposit in (
        (1, -100, 2_000, 40_000),
        (2, -100, 2_000, 400_000),
        (3, -200, 2_000, 40_000),
        (4, 50, 2_000, 40_000),
        (5, -10, 1_700, 40_000),
    ):
        open_position(books, account, ETH, size * WAD, price * WAD, T0, deposit * USDC)
    assert books.pool_cash == 75_366_800_000
    return books


def test_short_net_market_ranks_by_profit_times_leverage_and_cuts_the_second():
    """ETH at $1,800: the shorts from $2,000 gain $200 an ETH, the long loses $10,000 and the
    $1,700 short $1,000: T = 80,000 - 10,000 - 1,000 = $69,000 (net -360 ETH), factor
    69,000 / 75,366.80 = 0.9155. Ranking (profit · notional / equity): 3: 40,000 · 360,000 /
    79,800 = $180,451; 1: 20,000 · 180,000 / 59,900 = $60,100; 2: 20,000 · 180,000 / 419,900 =
    $8,573 (the long: wrong side; account 5: no profit). rest = $6,366.80: the target needs
    T' ≤ 0.77/0.23 · 6,366.80 = $21,314.9391…; account 3 in full leaves $29,000 (factor
    29,000/35,366.80 = 0.8200 > 0.77), then account 1 by 7,685.0608…/200 = 38.4253043478… ETH
    (38.425304347826086957, up to the wei); account 2 is untouched."""
    books = shorts()
    v = view(books, 1_800 * WAD)
    assert adl.market_pnl(v.book) == 69_000 * WAD
    assert adl.factor(v.book, v.pool_value) == ceil_wad(690_000, 753_668)
    ranked = adl.rank(v.book, v.positions, v.equity)
    assert [r.account for r in ranked] == [3, 1, 2]
    assert ranked[0].score == 40_000 * WAD * (360_000 * WAD * WAD // (79_800 * WAD)) // WAD
    plan = adl.plan(v.book, v.positions, v.pool_value, v.equity)
    assert plan == [3, 1]
    run = adl.run(v.book, v.positions, v.pool_value, plan)
    assert [(c.account, c.size_delta) for c in run.cuts] == [
        (3, 200 * WAD),
        (1, 38_425_304_347_826_086_957),
    ]
    assert run.cuts[0].credit == 40_000 * USDC
    assert run.factor_after == adl.TARGET_FACTOR
    # every refusal, by name and account, and nothing else is accepted
    for accounts, error, account in (
        ([4], AdlError.WRONG_SIDE, 4),  # the long
        ([9], AdlError.WRONG_SIDE, 9),  # no position
        ([5], AdlError.POSITION_NOT_IN_PROFIT, 5),  # the short from $1,700
        ([3, 1, 2], AdlError.OVERCUT, 2),  # listed after the target was reached
        ([3, 3], AdlError.WRONG_SIDE, 3),  # closed in full by its first entry
    ):
        refused = adl.refusal(v.book, v.positions, v.pool_value, accounts)
        assert refused is not None and (refused.error, refused.account) == (error, account)
    # listing account 2 before 1 is accepted (the ranking is advisory): it is cut instead
    other = adl.run(v.book, v.positions, v.pool_value, [3, 2])
    assert other.cuts[1].size_delta == 38_425_304_347_826_086_957


def test_funding_owed_lowers_the_pnl_and_is_settled_by_the_cut():
    """A $20k pool (cash $20,080), one long of 100 ETH from $2,000 in a market whose skew scale is
    1,000 ETH: after a day at $2,200 the rate went 0 → 1%/day (clamped), so the index grew by
    (0 + 0.01)/2 · 2,200 = $11 an ETH: the long owes $1,100. T = 100 · 200 - 1,100 = $18,900,
    factor 18,900 / 20,080 = 0.9412, rest = $1,180. The cut settles the funding, so what is left
    is price PnL only: 200 · (100 - c) ≤ 0.77/0.23 · 1,180 = $3,950.4347… ⇔ c ≥
    80.2478260869565217391… ETH (…740 wei); credited floor($16,049.565217…) - $1,100."""
    books = books_with_pool(20_000, FAST_FUNDING)
    open_position(books, 1, ETH, 100 * WAD, 2_000 * WAD, T0, 40_000 * USDC)
    now = T0 + fm.DAY
    v = view(books, 2_200 * WAD, now)
    assert v.book.index == 11 * 10**9
    assert adl.market_pnl(v.book) == 18_900 * WAD
    assert adl.position_profit(v.book, v.positions[1]) == 18_900 * USDC
    run = adl.run(v.book, v.positions, v.pool_value, [1])
    assert run.factor_before == ceil_wad(18_900, 20_080)
    [cut] = run.cuts
    assert cut.size_delta == -80_247_826_086_956_521_740
    assert cut.funding == 1_100 * USDC
    assert cut.credit == 16_049_565_217 - 1_100 * USDC
    assert run.factor_after == adl.TARGET_FACTOR
    after = adl.apply(books, ETH, run, now)
    assert adl.book_from_books(after, ETH, 2_200 * WAD, now) == run.book
    assert after.quote[1] == books.quote[1] + cut.credit


def test_debt_under_auction_counts_only_as_far_as_the_insurance_fund_covers_it():
    """G = cash + debt + debt in auction + pending interest - shortfall: $5,000 under auction with
    $2,000 in the insurance fund adds 5,000 - 3,000 = $2,000; with $5,000 in the fund, all of it.
    One long at $2,094: T = $84,600, factor 0.8400 without the auction (no run)."""
    ledger = adl.PoolLedger(100_720 * USDC, 0, 0, 0)
    assert adl.pool_value_without_pnl(ledger) == 100_720 * WAD
    short = adl.PoolLedger(100_720 * USDC, 0, 5_000 * USDC, 0, insurance_assets=2_000 * USDC)
    assert adl.pool_value_without_pnl(short) == 102_720 * WAD
    covered = adl.PoolLedger(100_720 * USDC, 0, 5_000 * USDC, 0, insurance_assets=5_000 * USDC)
    assert adl.pool_value_without_pnl(covered) == 105_720 * WAD
    debt = adl.PoolLedger(90_000 * USDC, 10_000 * USDC, 0, 720 * USDC)
    assert adl.pool_value_without_pnl(debt) == 100_720 * WAD
    v = view(one_long(), 2_094 * WAD)
    assert adl.factor(v.book, adl.pool_value_without_pnl(ledger)) == ceil_wad(84_600, 100_720)
    # $86k of the cash out, $5k under auction and the fund empty: the debt counts for nothing
    drained = adl.PoolLedger(14_720 * USDC, 0, 5_000 * USDC, 0)
    assert adl.pool_value_without_pnl(drained) == 14_720 * WAD
    assert adl.factor(v.book, 14_720 * WAD) == ceil_wad(84_600, 14_720)  # 5.75: above 1
    # a pool whose cash went negative (a profit paid past it before the cash cap): MAX
    assert adl.pool_value_without_pnl(adl.PoolLedger(-100 * USDC, 0, 0, 0)) == -100 * WAD
    assert adl.factor(v.book, -100 * WAD) == adl.MAX_FACTOR


def test_params_move_the_trigger_and_the_target():
    """At $2,096 (factor 0.8578) a trigger of 0.86 refuses; at 0.80/0.50 the cut is deeper."""
    v = view(one_long(), 2_096 * WAD)
    strict = adl.AdlParams(86 * WAD // 100, adl.TARGET_FACTOR)
    assert adl.refusal(v.book, v.positions, v.pool_value, [1], strict).error == (
        AdlError.NOT_TRIGGERED
    )
    deep = adl.run(v.book, v.positions, v.pool_value, [1], adl.AdlParams(8 * WAD // 10, WAD // 2))
    usual = adl.run(v.book, v.positions, v.pool_value, [1])
    assert deep.factor_after <= WAD // 2 < usual.factor_after <= adl.TARGET_FACTOR
    assert abs(deep.cuts[0].size_delta) > abs(usual.cuts[0].size_delta)


# ------------------------------------------------------------------ properties


@dataclass(frozen=True)
class Scenario:
    books: EngineBooks
    price: int
    now: int
    insurance: int


WHOLE_AND_WEI = st.tuples(st.integers(1, 2_000), st.integers(0, WAD - 1)).map(
    lambda t: t[0] * WAD + t[1]
)
POSITION = st.tuples(
    WHOLE_AND_WEI,  # size
    st.booleans(),  # long
    st.integers(1_800 * WAD, 2_200 * WAD),  # entry price (ETH; x30 for BTC)
    st.integers(0, 7_200),  # seconds after the previous fill
    st.sampled_from([0, 1, 1_000 * USDC, 2_000_000 * USDC]),  # deposit (0, 1: in debt for the fee)
    st.sampled_from([ETH, ETH, ETH, BTC]),
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    funding = fm.FundingParams(draw(st.sampled_from([1_000, 350_000])) * WAD, 9 * WAD, 0, WAD // 10)
    books = books_with_pool(draw(st.integers(1_000, 300_000)), funding)
    if draw(st.booleans()):  # config/local.yaml's borrow rate: accounts in debt pay interest
        books.borrow_params = LOCAL_BORROW
        books.borrow = fm.BorrowState(last_time=T0)
    now = T0
    for account, (size, long, price, dt, deposit, market) in enumerate(
        draw(st.lists(POSITION, min_size=1, max_size=6)), start=1
    ):
        now += dt
        if market == BTC:
            price *= 30
        open_position(books, account, market, size if long else -size, price, now, deposit)
    now += draw(st.integers(0, 86_400))
    books.debt_in_auction = draw(st.sampled_from([0, 0, 1_000 * USDC]))
    insurance = draw(st.sampled_from([0, 500 * USDC, 2_000 * USDC]))
    move = draw(st.integers(-40 * WAD // 100, 40 * WAD // 100))  # ETH's move from $2,000
    return Scenario(books, 2_000 * WAD + 2_000 * move, now, insurance)


def _view(s: Scenario) -> View:
    return view(s.books, s.price, s.now, insurance=s.insurance)


# Derandomized: the same 150 books on every run, so CI cannot draw a set that satisfies no
# assumption (a random draw once found none for the value check below).
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much],
)


@PROPERTY
@given(scenarios())
def test_nothing_runs_below_the_trigger(s: Scenario):
    v = _view(s)
    triggered = adl.factor(v.book, v.pool_value) > adl.TRIGGER_FACTOR
    plan = adl.plan(v.book, v.positions, v.pool_value, v.equity)
    ranked = adl.rank(v.book, v.positions, v.equity)
    assert (plan != []) == (triggered and ranked != [])
    if not triggered:
        for accounts in ([], list(v.positions)[:1], list(v.positions)):
            refused = adl.refusal(v.book, v.positions, v.pool_value, accounts)
            assert refused is not None and refused.error == AdlError.NOT_TRIGGERED


@PROPERTY
@given(scenarios())
def test_the_plan_passes_every_check_and_each_cut_is_the_smallest(s: Scenario):
    v = _view(s)
    plan = adl.plan(v.book, v.positions, v.pool_value, v.equity)
    assume(plan)
    run = adl.run(v.book, v.positions, v.pool_value, plan)  # refused: AdlRefused fails the test
    assert run.factor_before > adl.TRIGGER_FACTOR
    ranked = [r.account for r in adl.rank(v.book, v.positions, v.equity)]
    assert plan == [a for a in ranked if a in plan]  # in the ranking's order
    if run.factor_after > adl.TARGET_FACTOR:  # every cuttable position closed, still above
        assert plan == [a for a in ranked if adl.on_net_side(run.book, v.positions[a]) or a in plan]
        assert all(abs(c.size_delta) == abs(v.positions[c.account].size) for c in run.cuts)
    rest = v.pool_value - adl.market_pnl(v.book)
    book, target = v.book, adl.TARGET_FACTOR
    for cut in run.cuts:
        position = v.positions[cut.account]
        amount = abs(cut.size_delta)
        assert 0 < amount <= abs(position.size)
        assert adl.pnl_factor(adl.market_pnl(book), rest) > target  # above before each cut
        after = adl.factor_after(book, position, amount, rest)
        if amount < abs(position.size):  # a partial cut: the smallest reaching the target
            assert after <= target
            assert adl.factor_after(book, position, amount - 1, rest) > target
        elif cut is not run.cuts[-1]:
            assert after > target  # closed in full only while that stays above
        book, _ = adl.book_after(book, position, amount)
    assert run.book == book
    assert run.factor_after == adl.pnl_factor(adl.market_pnl(book), rest)


@PROPERTY
@given(scenarios())
def test_the_run_is_the_ledger_models_fills_and_moves_no_value(s: Scenario):
    """The run's books are the ledger model's after fills at the oracle price without fee; each
    credit is what that fill pays the account (before the cash cap); and the pool's value moves
    by rounding only (a few quote units in its favour, plus the interest a fill charges an
    account in debt beyond the pending interest: the engine's clamp)."""
    v = _view(s)
    plan = adl.plan(v.book, v.positions, v.pool_value, v.equity)
    assume(plan)
    run = adl.run(v.book, v.positions, v.pool_value, plan)
    after = adl.apply(s.books, ETH, run, s.now)
    # the aggregates (an emptied market's stored index restarts at 0; the run keeps the block's)
    assert aggregates(adl.book_from_books(after, ETH, s.price, s.now)) == aggregates(run.book)
    assert adl.positions_from_books(after, ETH) == {
        a: p for a, p in run.positions.items() if p.size
    }
    prices = {ETH: s.price, BTC: 60_000 * WAD}
    before = s.books.pool_assets(prices, s.now)
    if before > 0 and after.pool_cash > 0 and s.books.borrow_params is None:
        assert 0 <= after.pool_assets(prices, s.now) - before <= 2 * len(run.cuts)


@PROPERTY
@given(scenarios())
def test_the_ranking_is_the_net_sides_profitable_positions_sorted_by_score(s: Scenario):
    v = _view(s)
    ranked = adl.rank(v.book, v.positions, v.equity)
    expected = {
        a
        for a, p in v.positions.items()
        if adl.on_net_side(v.book, p) and adl.position_profit(v.book, p) > 0
    }
    assert sorted(r.account for r in ranked) == sorted(expected)
    keys = [(-r.score, r.account) for r in ranked]
    assert keys == sorted(keys)
    for r in ranked:
        assert r.profit > 0 and r.score == r.profit * r.leverage // WAD


def test_each_market_is_measured_alone_so_two_can_outgrow_the_pool_together():
    """A limit of the contract's per-market factor (reported, not fixed here: contracts/ is out of
    this change's scope): the pool is shared, but each market's T is measured against G alone.
    A $100k pool, a long of 450 ETH from $2,000 and one of 15 BTC from $60,000 ($450 of fees each,
    80% to the pool: G = $100,720): at ETH $2,130 and BTC $64,000, T = $58,500 and $60,000,
    factors 0.5808 and 0.5957 (no ADL), while together the traders' PnL ($118,500) exceeds the
    pool's value without it: `poolAssets` is 0."""
    books = books_with_pool(100_000)
    open_position(books, 1, ETH, 450 * WAD, 2_000 * WAD, T0, 200_000 * USDC)
    open_position(books, 2, BTC, 15 * WAD, 60_000 * WAD, T0, 200_000 * USDC)
    assert books.pool_cash == 100_720 * USDC
    value = adl.pool_value_without_pnl(adl.ledger_from_books(books, T0))
    eth = adl.book_from_books(books, ETH, 2_130 * WAD, T0)
    btc = adl.book_from_books(books, BTC, 64_000 * WAD, T0)
    assert (adl.market_pnl(eth), adl.market_pnl(btc)) == (58_500 * WAD, 60_000 * WAD)
    assert adl.factor(eth, value) == ceil_wad(58_500, 100_720) < adl.TRIGGER_FACTOR
    assert adl.factor(btc, value) == ceil_wad(60_000, 100_720) < adl.TRIGGER_FACTOR
    assert books.pool_assets({ETH: 2_130 * WAD, BTC: 64_000 * WAD}, T0) == 0
