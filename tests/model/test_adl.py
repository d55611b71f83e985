"""Auto-deleveraging's reference model (solvent/model/adl.py), before its contract: worked examples
with hand-computed figures (issue 15's attack-4 set-up among them) and properties on exact
integers (the plan passes the contract's check and stops at the target, the ranking is sorted by
its score, a wrong list gets the contract's named error). Pure Python: no chain."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from solvent import margin
from solvent.model import adl
from solvent.model import funding as fm
from solvent.model.adl import AdlError, Cut, Side
from solvent.model.ledger import EngineBooks, MarketBook

WAD = 10**18
USDC = 10**6
ETH = 0
BTC = 1
T0 = 1_000
LONG_ETH = Side(ETH, True)
SHORT_ETH = Side(ETH, False)
# config/local.yaml's ETH market: 5 bps taker fee, 20% of it to the insurance fund
TAKER_FEE = 5 * WAD // 10_000
INSURANCE_SHARE = WAD // 5
LOCAL_BORROW = fm.BorrowParams(WAD // 10, 85 * WAD // 100, WAD)
LOCAL_FUNDING = fm.FundingParams(350_000 * WAD, 9 * WAD, WAD // 1_000, WAD // 100)


def books_with_pool(pool_cash_usd: int, funding: fm.FundingParams = LOCAL_FUNDING) -> EngineBooks:
    market = MarketBook(
        params=funding, insurance_fee_share=INSURANCE_SHARE, state=fm.FundingState()
    )
    btc = MarketBook(params=funding, insurance_fee_share=INSURANCE_SHARE, state=fm.FundingState())
    return EngineBooks(
        markets={ETH: market, BTC: btc},
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


def attack4_books() -> EngineBooks:
    """Issue 15's attack 4: a $100k pool, one trader long $1.8M of ETH at $2,000 (900 ETH)."""
    books = books_with_pool(100_000)
    open_position(books, 1, ETH, 900 * WAD, 2_000 * WAD, T0, 200_000 * USDC)
    return books


def eth_at(price_usd: int) -> dict[int, int]:
    return {ETH: price_usd * WAD, BTC: 60_000 * WAD}


def equity_of(books: EngineBooks, prices: dict[int, int], now: int) -> dict[int, int]:
    return {a: adl.quote_equity(books, a, prices, now) for a in books.quote}


# ------------------------------------------------------------------ worked examples


def test_attack4_factor_rises_with_eth_and_triggers_between_2051_and_2052():
    """Pool cash after the open: 100,000 + 900 fee - 180 insurance cut = $100,720 (C). The side's
    PnL F = 900·(p - 2000); the pool's value V = C - F; factor F/V > 0.85 ⇔ F > 0.85·C/1.85 =
    $46,276.76 ⇔ ETH > $2,051.42."""
    books = attack4_books()
    assert books.pool_cash == 100_720 * USDC
    assert adl.side_pnl(books, LONG_ETH, 2_051 * WAD, T0) == 45_900 * WAD
    assert adl.pool_value(books, eth_at(2_051), T0) == 54_820 * WAD
    assert adl.factor(books, LONG_ETH, eth_at(2_051), T0) == -(-45_900 * WAD // 54_820)  # 0.8373
    assert adl.plan(books, LONG_ETH, eth_at(2_051), T0, {1: WAD}) is None
    assert adl.check(books, LONG_ETH, [], eth_at(2_051), T0) == AdlError.NOT_TRIGGERED
    # $2,052: F = 46,800, V = 53,920, factor 0.8680 > 0.85
    assert adl.factor(books, LONG_ETH, eth_at(2_052), T0) == -(-46_800 * WAD // 53_920)
    assert adl.factor(books, SHORT_ETH, eth_at(2_052), T0) == 0  # no shorts


def test_attack4_at_2060_cuts_300_43_eth_and_the_pool_value_is_unchanged():
    """At $2,060: F = $54,000, V = $46,720, factor 1.1558. Target F' ≤ 0.77·46,720 = $35,974.40:
    $18,025.60 of PnL to realize at $60 per ETH = 300.42666… ETH, rounded up to the wei:
    300,426,666,666,666,666,667. Realized 60·c = 18,025.600…02e18 → the trader gets $18,025.60
    (floor), F' = 54,000e18 - 60·c = 35,974.399…98e18 → ⌈F'/1e12⌉ = $35,974.40: V' = 100,720 -
    18,025.60 - 35,974.40 = $46,720 (unchanged), factor ⌈F'/V'⌉ = 0.77 exactly; one wei less
    leaves F' 60 wei higher: factor 0.77 + 1 wei."""
    books = attack4_books()
    prices = eth_at(2_060)
    assert adl.factor(books, LONG_ETH, prices, T0) == -(-54_000 * WAD // 46_720)
    plan = adl.plan(books, LONG_ETH, prices, T0, equity_of(books, prices, T0))
    assert plan is not None and plan.reaches_target
    assert plan.cuts == (Cut(1, ETH, -300_426_666_666_666_666_667),)
    assert plan.factor_after == adl.TARGET_FACTOR
    after = adl.close(books, plan.cuts[0], prices, T0)
    assert after.quote[1] == books.quote[1] + 18_025_600_000
    assert after.pool_cash == books.pool_cash - 18_025_600_000
    assert adl.pool_value(after, prices, T0) == adl.pool_value(books, prices, T0) == 46_720 * WAD
    assert adl.check(books, LONG_ETH, plan.cuts, prices, T0) is None
    one_less = Cut(1, ETH, -300_426_666_666_666_666_666)
    assert adl.check(books, LONG_ETH, [one_less], prices, T0) == AdlError.TARGET_NOT_REACHED
    one_more = Cut(1, ETH, -300_426_666_666_666_666_668)
    assert adl.check(books, LONG_ETH, [one_more], prices, T0) == AdlError.OVERCUT


def test_attack4_adl_at_every_1pct_print_keeps_the_pool_solvent_to_2400():
    """ETH climbs $20 a print from $2,000 to $2,400; a keeper runs the plan after each print.
    ADL first runs at $2,060 (300.43 ETH), then at every print but $2,380; at $2,400 the trader
    holds 16.485 ETH, its quote went from $199,100 to $284,662.16 (it kept $85,562.16 of profit),
    the pool's cash is $15,157.84 and its value $8,563.75: solvent, the factor at (or a few wei
    below) 0.77 after each run. Without ADL the pool owes $360,000 against $100,720 (-$259,280)."""
    books = attack4_books()
    runs = 0
    for step in range(1, 21):
        prices = eth_at(2_000 + 20 * step)
        plan = adl.plan(books, LONG_ETH, prices, T0, equity_of(books, prices, T0))
        if plan is None:
            assert adl.factor(books, LONG_ETH, prices, T0) <= adl.TRIGGER_FACTOR
            continue
        runs += 1
        assert adl.check(books, LONG_ETH, plan.cuts, prices, T0) is None
        assert plan.factor_after <= adl.TARGET_FACTOR
        for cut in plan.cuts:
            books = adl.close(books, cut, prices, T0)
        assert books.pool_cash > 0 and adl.pool_value(books, prices, T0) > 0
    assert runs == 17  # every print from $2,060 on but $2,380 (factor 0.8171 there)
    assert books.positions[(1, ETH)].size == 16_485_218_610_000_000_000
    assert books.quote[1] == 284_662_162_628
    assert books.pool_cash == 15_157_837_372
    assert adl.pool_value(books, eth_at(2_400), T0) == 8_563_749_928 * 10**12


def test_attack4_one_print_jump_of_20pct_closes_everything_but_cannot_restore_solvency():
    """ETH jumps $2,000 → $2,400 in one print: F = $360,000 > C, poolAssets clamps to 0, the factor
    is MAX. ADL closes all 900 ETH (factor 0 after), but the profit is already owed: the pool's
    cash becomes -$259,280. ADL at the oracle price only stops further exposure; a jump needs the
    exposure bound (issue 15 item 3)."""
    books = attack4_books()
    prices = eth_at(2_400)
    assert adl.pool_value(books, prices, T0) == 0
    assert adl.factor(books, LONG_ETH, prices, T0) == adl.MAX_FACTOR
    plan = adl.plan(books, LONG_ETH, prices, T0, equity_of(books, prices, T0))
    assert plan is not None and plan.cuts == (Cut(1, ETH, -900 * WAD),)
    assert plan.factor_after == 0
    after = adl.close(books, plan.cuts[0], prices, T0)
    assert after.pool_cash == -259_280 * USDC


def test_shortfall_lowers_the_pool_value_and_triggers_adl():
    """At $2,051 the factor is 0.8373 (no ADL); an auction's $5,000 the insurance fund cannot cover
    lowers V to $49,820: 45,900/49,820 = 0.9213 > 0.85."""
    books = attack4_books()
    prices = eth_at(2_051)
    assert adl.plan(books, LONG_ETH, prices, T0, {1: WAD}) is None
    assert adl.pool_value(books, prices, T0, shortfall=5_000 * USDC) == 49_820 * WAD
    assert adl.factor(books, LONG_ETH, prices, T0, 5_000 * USDC) == -(-45_900 * WAD // 49_820)
    plan = adl.plan(books, LONG_ETH, prices, T0, {1: WAD}, shortfall=5_000 * USDC)
    assert plan is not None
    assert adl.check(books, LONG_ETH, plan.cuts, prices, T0, 5_000 * USDC) is None


def three_longs() -> tuple[EngineBooks, dict[int, int]]:
    """Three longs from $2,000, ETH at $2,200 ($200 per ETH), a $60k pool (cash $60,360 after
    the fees less the insurance cuts), and a short that loses $10,000. Account 1: 100 ETH on a
    $40k deposit; account 2: 100 ETH on $400k; account 3: 200 ETH on $40k; account 4: short 50
    ETH on $40k."""
    books = books_with_pool(60_000)
    open_position(books, 1, ETH, 100 * WAD, 2_000 * WAD, T0, 40_000 * USDC)
    open_position(books, 2, ETH, 100 * WAD, 2_000 * WAD, T0, 400_000 * USDC)
    open_position(books, 3, ETH, 200 * WAD, 2_000 * WAD, T0, 40_000 * USDC)
    open_position(books, 4, ETH, -50 * WAD, 2_000 * WAD, T0, 40_000 * USDC)
    return books, eth_at(2_200)


def test_ranking_is_pnl_times_leverage_and_skips_losers_and_the_other_side():
    """PnL: $20,000, $20,000, $40,000. Equity (quote after the $100 / $200 fees + PnL): $59,900,
    $419,900, $79,800; notional $220,000, $220,000, $440,000; score = PnL·notional/equity:
    3: 40,000·5.5138 = $220,551; 1: 20,000·3.6728 = $73,456; 2: 20,000·0.5239 = $10,479."""
    books, prices = three_longs()
    equity = equity_of(books, prices, T0)
    assert equity == {1: 59_900 * WAD, 2: 419_900 * WAD, 3: 79_800 * WAD, 4: 29_950 * WAD}
    ranked = adl.rank(books, LONG_ETH, prices, T0, equity)
    assert [r.account for r in ranked] == [3, 1, 2]
    assert ranked[0].leverage == 440_000 * WAD * WAD // (79_800 * WAD)
    assert ranked[0].score == 40_000 * WAD * ranked[0].leverage // WAD
    assert [r.account for r in adl.rank(books, SHORT_ETH, prices, T0, equity)] == []
    # equity <= 0 ranks first (leverage MAX); equal scores break ties by account id
    assert [r.account for r in adl.rank(books, LONG_ETH, prices, T0, {**equity, 2: 0})] == [2, 3, 1]
    same = {1: WAD, 2: WAD, 3: WAD}  # accounts 1 and 2 tie: by account id
    assert [r.account for r in adl.rank(books, LONG_ETH, prices, T0, same)] == [3, 1, 2]


def test_plan_closes_the_top_ranked_in_full_and_cuts_the_next():
    """F = $80,000 (longs); the short's -$10,000 is the pool's gain. With $90k more in the pool:
    C = $150,360, V = 150,360 - 70,000 = $80,360, factor 0.9955. Target F' ≤ 0.77·80,360 =
    $61,877.20: $18,122.80 to realize. Closing account 3 ($40,000) would overshoot, so it is cut
    by 18,122.80 / 200 = 90.614 ETH (exact: the factor lands on 0.77) and nobody else is
    touched."""
    books, prices = three_longs()
    books.pool_cash += 90_000 * USDC
    assert adl.pool_value(books, prices, T0) == 80_360 * WAD
    plan = adl.plan(books, LONG_ETH, prices, T0, equity_of(books, prices, T0))
    assert plan is not None and plan.cuts == (Cut(3, ETH, -90_614_000_000_000_000_000),)
    assert plan.factor_after <= adl.TARGET_FACTOR
    # $30k less: V = $50,360, F must fall to $38,777.20: account 3 in full ($40,000 realized,
    # F = $40,000 → 0.7943 > 0.77), then account 1 by 1,222.80 / 200 = 6.114 ETH
    books.pool_cash -= 30_000 * USDC
    plan = adl.plan(books, LONG_ETH, prices, T0, equity_of(books, prices, T0))
    assert plan is not None
    assert plan.cuts == (Cut(3, ETH, -200 * WAD), Cut(1, ETH, -6_114_000_000_000_000_000))
    assert adl.check(books, LONG_ETH, plan.cuts, prices, T0) is None


def test_check_names_every_refusal():
    books, prices = three_longs()
    books.pool_cash += 60_000 * USDC  # V = $50,360, factor 1.5886
    good = adl.plan(books, LONG_ETH, prices, T0, equity_of(books, prices, T0))
    assert good is not None and adl.check(books, LONG_ETH, good.cuts, prices, T0) is None
    full3, cut1 = good.cuts

    def verdict(cuts: list[Cut]) -> AdlError | None:
        return adl.check(books, LONG_ETH, cuts, prices, T0)

    assert verdict([Cut(4, ETH, 50 * WAD), *good.cuts]) == AdlError.WRONG_SIDE  # the short
    assert verdict([Cut(1, BTC, -WAD), *good.cuts]) == AdlError.WRONG_SIDE  # another market
    assert verdict([Cut(9, ETH, -WAD)]) == AdlError.WRONG_SIDE  # no position
    assert verdict([Cut(3, ETH, 0)]) == AdlError.INVALID_CUT
    assert verdict([Cut(3, ETH, WAD)]) == AdlError.INVALID_CUT  # would grow the long
    assert verdict([Cut(3, ETH, -200 * WAD - 1)]) == AdlError.CUT_EXCEEDS_POSITION
    assert verdict([full3]) == AdlError.TARGET_NOT_REACHED  # stops short
    assert verdict([full3, cut1, Cut(2, ETH, -WAD)]) == AdlError.OVERCUT  # after the target
    bigger = Cut(1, ETH, cut1.size_delta - 1)
    assert verdict([full3, bigger]) == AdlError.OVERCUT  # 1 wei more than needed
    assert verdict([full3, Cut(1, ETH, -100 * WAD)]) == AdlError.OVERCUT  # a full close
    # a position that lost is never cut, even when the rest of the side is in profit
    books.fill(5, ETH, 10 * WAD, 2_300 * WAD, 0, 2_300 * WAD, T0)  # bought at $2,300
    assert verdict([Cut(5, ETH, -WAD), *good.cuts]) == AdlError.POSITION_NOT_IN_PROFIT
    calm = books_with_pool(10_000_000)
    open_position(calm, 1, ETH, WAD, 2_000 * WAD, T0, 1_000 * USDC)
    assert adl.check(calm, LONG_ETH, [Cut(1, ETH, -WAD)], prices, T0) == AdlError.NOT_TRIGGERED


def test_funding_owed_by_the_side_lowers_its_pnl_and_settles_on_the_cut():
    """Funding over a day at a skew above the dead-band: the longs owe the pool. The side's PnL is
    the price PnL less what it owes (the aggregate form, floor); a position's PnL (margin form)
    less its own owed funding (ceil, quote units). A full close settles it into the pool's cash."""
    fast = fm.FundingParams(1_000 * WAD, 9 * WAD, WAD // 1_000, WAD // 100)
    books = books_with_pool(50_000, fast)
    open_position(books, 1, ETH, 100 * WAD, 2_000 * WAD, T0, 40_000 * USDC)
    now = T0 + 86_400
    prices = eth_at(2_200)
    index = adl.funding_index(books, ETH, prices[ETH], now)
    assert index > 0
    owed_wad = 100 * WAD * index // 10**9
    assert adl.side_pnl(books, LONG_ETH, prices[ETH], now) == 20_000 * WAD - owed_wad
    owed_quote = fm.funding_owed(100 * WAD, 0, index)
    pnl = adl.position_pnl(books, 1, ETH, prices[ETH], now)
    assert pnl == 20_000 * WAD - owed_quote * 10**12
    after = adl.close(books, Cut(1, ETH, -100 * WAD), prices, now)
    assert after.quote[1] == books.quote[1] + 20_000 * USDC - owed_quote
    assert adl.side_pnl(after, LONG_ETH, prices[ETH], now) == 0


# ------------------------------------------------------------------ properties


@dataclass(frozen=True)
class Scenario:
    books: EngineBooks
    prices: dict[int, int]
    now: int
    side: Side
    shortfall: int


WHOLE_AND_WEI = st.tuples(st.integers(1, 2_000), st.integers(0, WAD - 1)).map(
    lambda t: t[0] * WAD + t[1]
)
POSITION = st.tuples(
    WHOLE_AND_WEI,  # size
    st.booleans(),  # long
    st.integers(1_800 * WAD, 2_200 * WAD),  # entry price (ETH; x30 for BTC)
    st.integers(0, 7_200),  # seconds after the previous fill
    st.sampled_from([0, 1, 1_000 * USDC, 2_000_000 * USDC]),  # deposit (0, 1: in debt for the fee)
    st.sampled_from([ETH, ETH, BTC]),
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
    move = draw(st.integers(-40 * WAD // 100, 40 * WAD // 100))  # ETH's move from $2,000
    prices = {ETH: 2_000 * WAD + 2_000 * move, BTC: 60_000 * WAD}
    long, short = Side(ETH, True), Side(ETH, False)
    # mostly the side in more profit: the interesting one
    hotter = max(long, short, key=lambda side: adl.factor(books, side, prices, now))
    side = draw(st.sampled_from([hotter, hotter, long, short]))
    shortfall = draw(st.sampled_from([0, 0, 1_000 * USDC]))
    return Scenario(books, prices, now, side, shortfall)


def _plan(s: Scenario) -> adl.Plan | None:
    equity = equity_of(s.books, s.prices, s.now)
    return adl.plan(s.books, s.side, s.prices, s.now, equity, s.shortfall)


PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


@PROPERTY
@given(scenarios())
def test_no_plan_and_every_list_refused_when_the_trigger_does_not_hold(s: Scenario):
    plan = _plan(s)
    triggered = adl.factor(s.books, s.side, s.prices, s.now, s.shortfall) > adl.TRIGGER_FACTOR
    assert (plan is not None) == triggered
    if not triggered:
        anyone = [Cut(a, m, -p.size) for (a, m), p in s.books.positions.items() if p.size]
        for cuts in ([], anyone[:1], anyone):
            verdict = adl.check(s.books, s.side, cuts, s.prices, s.now, s.shortfall)
            assert verdict == AdlError.NOT_TRIGGERED


@PROPERTY
@given(scenarios())
def test_the_plan_passes_the_check_stops_at_the_target_and_no_earlier(s: Scenario):
    plan = _plan(s)
    assume(plan is not None)
    assert plan is not None and plan.factor_before > adl.TRIGGER_FACTOR
    verdict = adl.check(s.books, s.side, plan.cuts, s.prices, s.now, s.shortfall)
    if not plan.reaches_target:  # every profitable position closed and still above (V <= 0)
        assert verdict == AdlError.TARGET_NOT_REACHED
        assert plan.factor_after > adl.TARGET_FACTOR
        assert len(plan.cuts) == len(adl.rank(s.books, s.side, s.prices, s.now, _eq(s)))
        return
    assert verdict is None
    state = s.books
    factors = []
    for cut in plan.cuts:
        factors.append(adl.factor(state, s.side, s.prices, s.now, s.shortfall))
        state = adl.close(state, cut, s.prices, s.now)
    after = adl.factor(state, s.side, s.prices, s.now, s.shortfall)
    assert after == plan.factor_after <= adl.TARGET_FACTOR
    assert all(f > adl.TARGET_FACTOR for f in factors)  # above the target before every cut
    # without the last cut the factor is above the target; 1 wei less of it too
    last = plan.cuts[-1]
    assert factors[-1] > adl.TARGET_FACTOR
    if abs(last.size_delta) > 1:
        smaller = Cut(
            last.account, last.market, last.size_delta + (1 if last.size_delta < 0 else -1)
        )
        verdict = adl.check(
            s.books, s.side, [*plan.cuts[:-1], smaller], s.prices, s.now, s.shortfall
        )
        assert verdict == AdlError.TARGET_NOT_REACHED
    # 1 wei more on the last cut (when the position has it) over-cuts
    if abs(s.books.positions[(last.account, last.market)].size) > abs(last.size_delta):
        bigger = Cut(
            last.account, last.market, last.size_delta + (-1 if last.size_delta < 0 else 1)
        )
        verdict = adl.check(
            s.books, s.side, [*plan.cuts[:-1], bigger], s.prices, s.now, s.shortfall
        )
        assert verdict == AdlError.OVERCUT


def _eq(s: Scenario) -> dict[int, int]:
    return equity_of(s.books, s.prices, s.now)


@PROPERTY
@given(scenarios())
def test_the_ranking_is_the_sides_profitable_positions_sorted_by_score(s: Scenario):
    ranked = adl.rank(s.books, s.side, s.prices, s.now, _eq(s))
    expected = {
        (a, m)
        for (a, m), p in s.books.positions.items()
        if m == s.side.market
        and (p.size > 0 if s.side.is_long else p.size < 0)
        and adl.position_pnl(s.books, a, m, s.prices[m], s.now) > 0
    }
    assert sorted((r.account, r.market) for r in ranked) == sorted(expected)
    assert len(ranked) == len(expected)  # a permutation: no position twice
    keys = [(-r.score, r.account, r.market) for r in ranked]
    assert keys == sorted(keys)
    for r in ranked:
        assert r.score == r.pnl * r.leverage // WAD and r.pnl > 0


@PROPERTY
@given(scenarios(), st.integers(1, WAD))
def test_closing_at_the_oracle_price_moves_the_pool_value_by_rounding_only(s: Scenario, part: int):
    """The trader's realized PnL and settled funding leave the pool's cash as the side's
    unrealized PnL falls by the same amount: poolAssets moves by 0 to 2 quote units, always up
    (the realized PnL floors, the funding settled and traderPnl ceil: each in the pool's favour),
    for a full close and for a part of the position (`part`, WAD), while the pool is solvent;
    plus, for an account in debt, the interest its fill charges beyond the pool's pending interest
    (the engine's clamp)."""
    before = s.books.pool_assets(s.prices, s.now)
    assume(before > 0)
    borrow = fm.accrue_borrow(
        s.books.borrow, s.books.pool_cash, s.books.account_debt, s.now, s.books.borrow_params
    )
    for (account, market), position in s.books.positions.items():
        if not position.size:
            continue
        # the fill charges an account in debt its interest (up) out of the pending interest
        # (down), clamped at 0: the excess is booked as debt, a gain of the pool's value
        charged = fm.interest(
            -s.books.quote[account], s.books.borrow_index_of.get(account, 0), borrow.index
        )
        clamp = max(charged - borrow.pending_interest, 0)
        for amount in (abs(position.size), max(1, abs(position.size) * part // WAD)):
            delta = -amount if position.size > 0 else amount
            after = adl.close(s.books, Cut(account, market, delta), s.prices, s.now)
            assert 0 <= after.pool_assets(s.prices, s.now) - before <= 2 + clamp


@PROPERTY
@given(scenarios())
def test_the_two_sides_add_up_to_the_engines_trader_pnl_within_rounding(s: Scenario):
    """The sides' PnL summed (from the positions) against the market's term of the engine's
    `_traderPnlAndNetNotional` (from the engine's incremental aggregates): each side rounds its
    price term up and its funding down, the net once, so the sum exceeds it by 0 to 2 wei."""
    price = s.prices[ETH]
    market = s.books.markets[ETH]
    index = adl.funding_index(s.books, ETH, price, s.now)
    net = (
        margin.signed_mul_div_ceil(market.net_size, price, WAD)
        - market.net_open_notional
        - fm.traders_unsettled_funding_wad(market.net_size, index, market.entry_sum)
    )
    sides = adl.side_pnl(s.books, LONG_ETH, price, s.now) + adl.side_pnl(
        s.books, SHORT_ETH, price, s.now
    )
    assert 0 <= sides - net <= 2
