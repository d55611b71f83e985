"""Velocity funding and the borrow rate on quote debt: the engine against `solvent.model` to the
wei, over hand-written and random sequences of fills and time steps; the reject paths of the new
parameters. A test account plays the order book."""

from __future__ import annotations

import ape
import pytest
from engine_helpers import ETH_MARKET, ETH_PRICE, USDC, WAD, ledger_sum, market_tuple
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.model import funding as fm
from solvent.model import margin
from solvent.model.ledger import EngineBooks

MAX = 2**256 - 1
DAY = 86_400
# A small skew scale, so that test-sized positions move the rate: 10 ETH of skew is 1%.
FUNDING = fm.FundingParams(
    skew_scale=1_000 * WAD, max_velocity=9 * WAD, deadband=WAD // 1000, max_rate=WAD // 100
)
BORROW = fm.BorrowParams(base_rate=WAD // 10, optimal_utilization=85 * WAD // 100, max_rate=WAD)


def funding_tuple(p: fm.FundingParams) -> tuple:
    return (p.skew_scale, p.max_velocity, p.deadband, p.max_rate)


@pytest.fixture(scope="module")
def book(accounts, admin, deployer, configured):
    book = accounts[6]
    admin.setOrderBook(book, sender=deployer)
    admin.setMarketParams(
        0, market_tuple(ETH_MARKET, funding=funding_tuple(FUNDING)), sender=deployer
    )
    admin.setBorrowParams(
        BORROW.base_rate, BORROW.optimal_utilization, BORROW.max_rate, sender=deployer
    )
    return book


@pytest.fixture(scope="module")
def traders(engine, usdc, weth, deployer, accounts, book):
    """Account ids: a USDC-funded trader and a WETH-only one, whose fees and losses are debt."""
    cash, collateral = accounts[7], accounts[8]
    usdc.mint(cash, 500_000 * USDC, sender=deployer)
    usdc.approve(engine, MAX, sender=cash)
    engine.openAccount(0, sender=cash)
    weth.mint(collateral, 200 * WAD, sender=deployer)
    weth.approve(engine, MAX, sender=collateral)
    engine.openAccount(0, sender=collateral)
    ids = (engine.accountIdOf(cash, 0), engine.accountIdOf(collateral, 0))
    engine.deposit(ids[0], usdc, 500_000 * USDC, sender=cash)
    engine.deposit(ids[1], weth, 200 * WAD, sender=collateral)
    return ids


def read_books(admin, traders) -> EngineBooks:
    """The model, started from the chain (no position open yet)."""
    return EngineBooks.from_chain(admin, BORROW, traders)


def assert_books(admin, engine, usdc, books: EngineBooks, traders, now: int) -> None:
    ledger = admin.ledger()
    assert (ledger.poolCash, ledger.accountDebt, ledger.insuranceFees) == (
        books.pool_cash,
        books.account_debt,
        books.insurance_fees,
    )
    borrow = admin.borrowState()
    assert (borrow.index, borrow.pendingInterest) == (
        books.borrow.index,
        books.borrow.pending_interest,
    )
    for account in traders:
        assert admin.accounts(account).quoteBalance == books.quote[account]
        if books.quote[account] < 0:
            assert admin.borrowIndexOf(account) == books.borrow_index_of[account]
        for market_id in books.markets:
            p = admin.positions(account, market_id)
            want = books.positions.get((account, market_id))
            got = (p.size, p.openNotional, p.fundingEntry)
            assert got == ((want.size, want.open_notional, want.entry) if want else (0, 0, 0))
    for market_id, market in books.markets.items():
        m = admin.markets(market_id)
        assert (m.fundingRate, m.fundingIndex, m.lastFundingTime, m.fundingEntrySum) == (
            market.state.rate,
            market.state.index,
            market.state.last_time,
            market.entry_sum,
        )
        assert (m.longOpenInterest, m.shortOpenInterest, m.netOpenNotional) == (
            market.long_oi,
            market.short_oi,
            market.net_open_notional,
        )
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def fill(engine, book, books, oracle, weth, account, delta, price, fee, settlement_fee=2 * USDC):
    """A fill with a settlement fee paid to `book` (playing the settler), both in the engine and
    in the model."""
    tx = engine.fillOrder(account, 0, delta, price, fee, settlement_fee, book, sender=book)
    now = tx.timestamp
    owed = books.fill(account, 0, delta, price, fee, oracle.prices(weth), now, settlement_fee)
    settled = [e.amount for e in tx.events.filter(engine.FundingSettled)]
    assert settled == ([owed] if owed else [])
    return tx


def test_a_skewed_market_charges_the_majority_side_as_modelled(
    engine, admin, usdc, weth, oracle, chain, book, traders
):
    """Two longs against no short: the rate climbs at the velocity of the skew, the longs pay the
    index's growth, and the pool receives exactly what they pay."""
    books = read_books(admin, traders)
    cash, collateral = traders
    fill(engine, book, books, oracle, weth, cash, 60 * WAD, ETH_PRICE, 90 * USDC)
    fill(engine, book, books, oracle, weth, collateral, 40 * WAD, ETH_PRICE + WAD, 60 * USDC)
    assert books.quote[collateral] < 0  # the fee is lent by the pool: it accrues interest
    chain.mine(timestamp=chain.pending_timestamp + DAY)
    fill(engine, book, books, oracle, weth, cash, -10 * WAD, ETH_PRICE, 0)
    market = admin.markets(0)
    # 100 ETH of skew is 10% of the scale: 0.9 per day per day, capped at 1% a day.
    assert market.fundingRate == FUNDING.max_rate
    chain.mine(timestamp=chain.pending_timestamp + 3 * DAY)
    fill(engine, book, books, oracle, weth, collateral, -40 * WAD, ETH_PRICE, 0)
    fill(engine, book, books, oracle, weth, cash, -50 * WAD, ETH_PRICE, 0)
    assert_books(admin, engine, usdc, books, traders, chain.blocks.head.timestamp)
    assert books.funding_paid > 0  # the longs paid
    assert books.interest_paid > 0  # the WETH-backed account's debt grew
    # All positions closed: the traders paid the index's aggregate (the pool's side, exact) plus
    # less than one quote unit per settlement: every rounding went to the pool.
    assert admin.markets(0).fundingEntrySum == 0
    market = books.markets[0]
    surplus = books.funding_paid * fm.FUNDING_QUOTE_DIVISOR - market.aggregate_owed
    assert 0 <= surplus < market.settlements * fm.FUNDING_QUOTE_DIVISOR


def test_unsettled_funding_and_interest_count_in_health_and_pool_assets(
    engine, admin, usdc, weth, oracle, chain, book, traders
):
    books = read_books(admin, traders)
    cash, collateral = traders
    fill(engine, book, books, oracle, weth, cash, 50 * WAD, ETH_PRICE, 10 * USDC)
    fill(engine, book, books, oracle, weth, collateral, -20 * WAD, ETH_PRICE, 10 * USDC)
    chain.mine(timestamp=chain.pending_timestamp + 2 * DAY)
    now = chain.blocks.head.timestamp
    funding, interest = admin.pendingCharges(cash, 0)
    position = books.positions[(cash, 0)]
    state = fm.accrue(
        books.markets[0].state, books.markets[0].net_size, oracle.prices(weth), now, FUNDING
    )
    assert funding == fm.funding_owed(position.size, position.entry, state.index) > 0
    assert interest == 0
    funding_short, interest_short = admin.pendingCharges(collateral, 0)
    assert funding_short < 0  # the short receives
    borrow = fm.accrue_borrow(books.borrow, books.pool_cash, books.account_debt, now, BORROW)
    assert (
        interest_short
        == fm.interest(-books.quote[collateral], books.borrow_index_of[collateral], borrow.index)
        > 0
    )
    # Health counts the funding due: the equity of the USDC-only trader is its quote minus the
    # funding owed now, plus its unrealized PnL.
    pnl = margin.unrealized_pnl(position.size, position.open_notional, oracle.prices(weth))
    equity = (books.quote[cash] - funding) * margin.WAD_PER_QUOTE + pnl
    assert admin.healthOf([cash])[0].equity == equity
    assert admin.initialHealthOf(cash).equity == equity
    prices = {0: oracle.prices(weth), 1: oracle.prices(admin.markets(1).asset)}
    assert admin.poolAssets() == books.pool_assets(prices, now)
    tx = engine.fillOrder(cash, 0, WAD, ETH_PRICE, 0, 0, book, sender=book)
    books.fill(cash, 0, WAD, ETH_PRICE, 0, oracle.prices(weth), tx.timestamp)
    assert_books(admin, engine, usdc, books, traders, tx.timestamp)


def test_parked_debt_grows_at_the_kinked_rate(
    engine, admin, usdc, weth, chain, book, traders, keeper
):
    """A WETH-backed account owing quote and holding nothing: its debt grows by the borrow index
    when it is touched, and the pool books the interest as income before that."""
    books = read_books(admin, traders)
    _, collateral = traders
    tx = admin.chargeOrderFee(collateral, 50_000 * USDC, keeper, sender=book)
    books.charge_order_fee(collateral, 50_000 * USDC, tx.timestamp)
    chain.mine(timestamp=chain.pending_timestamp + 365 * DAY)
    tx = admin.chargeOrderFee(collateral, 1, keeper, sender=book)
    books.charge_order_fee(collateral, 1, tx.timestamp)
    charged = tx.events.filter(engine.InterestCharged)[0].amount
    assert charged == books.interest_paid > 0
    assert_books(admin, engine, usdc, books, traders, tx.timestamp)


def test_borrow_params_are_bounded_and_governed(admin, deployer, other, book):
    with ape.reverts(admin.AccessControlUnauthorizedAccount):
        admin.setBorrowParams(0, WAD // 2, 0, sender=other)
    for bad in (
        (0, 0, 0),
        (0, WAD, 0),
        (2 * 10**12, WAD // 2, 10**12),  # base above max
        (0, WAD // 2, 10 * WAD + 10**12),  # max above 1000%/yr
        (10**12 + 1, WAD // 2, WAD),  # not a whole millionth
    ):
        with ape.reverts(admin.InvalidBorrowParams):
            admin.setBorrowParams(*bad, sender=deployer)
    tx = admin.setBorrowParams(WAD // 20, 9 * WAD // 10, WAD // 2, sender=deployer)
    event = tx.events.filter(admin.BorrowParamsSet)[0]
    assert (event.baseRate, event.optimalUtilization, event.maxRate) == (
        WAD // 20,
        9 * WAD // 10,
        WAD // 2,
    )
    assert admin.borrowParams() == (
        WAD // 20,
        9 * WAD // 10,
        WAD // 2,
    )


STEP = st.tuples(
    st.sampled_from((0, 1)),  # which trader
    st.integers(min_value=-30, max_value=30),  # ETH, 0 = only time passes
    st.integers(min_value=0, max_value=3 * DAY),  # seconds before the step
    st.integers(min_value=-50, max_value=50),  # fill price offset from the oracle, USD
)


# ~20 s alone: `make test-slow` (and CI) runs it; `make test` stays under 10 minutes
@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(STEP, min_size=1, max_size=8))
def test_random_fills_and_time_match_the_model(
    engine, admin, usdc, weth, oracle, chain, book, traders, steps
):
    """Random fills and time steps: rate, index, entries, quote, ledger and borrow state equal the
    model to the wei after every step; funding settled by traders is what the pool receives."""
    snapshot = chain.snapshot()
    try:
        books = read_books(admin, traders)
        for who, eth, wait, offset in steps:
            if wait:
                chain.mine(timestamp=chain.pending_timestamp + wait)
            if eth == 0:
                continue
            account = traders[who]
            fill(
                engine,
                book,
                books,
                oracle,
                weth,
                account,
                eth * WAD,
                ETH_PRICE + offset * WAD,
                USDC,
            )
            assert_books(admin, engine, usdc, books, traders, chain.blocks.head.timestamp)
        market = books.markets[0]
        unsettled = sum(
            fm.funding_owed(p.size, p.entry, market.state.index)
            for (_, m), p in books.positions.items()
            if m == 0 and p.size
        )
        # Settled and unsettled, the traders owe the aggregate plus their rounding (to the pool).
        surplus = (
            books.funding_paid + unsettled
        ) * fm.FUNDING_QUOTE_DIVISOR - market.aggregate_owed
        settled_or_open = market.settlements + sum(1 for p in books.positions.values() if p.size)
        assert 0 <= surplus < max(settled_or_open, 1) * fm.FUNDING_QUOTE_DIVISOR
    finally:
        chain.restore(snapshot)
