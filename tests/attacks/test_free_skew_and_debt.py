"""Issue 14, "Free skew" and "Free debt", replayed on the real deployment (config/local.yaml).

- Free debt: $83,960 of quote debt parked in an account backed by WETH (no positions, health at
  maximum). On the landed code (before issue 14) it was unchanged after 365 days: debt carried no
  interest (the issue's figure). Now the borrow index grows it by the configured kinked rate.
- Free skew: the pool carried the traders' net position at no charge, so a trader hedged elsewhere
  held a position here for free. Now velocity funding charges the majority side, and the pool,
  which takes the other side of the skew, receives it.

Until the order book lands, a test account is set as the engine's order book to open positions
and to create the debt (`fillOrder`, `chargeOrderFee`), as the order book will.
"""

from __future__ import annotations

import pytest
from conftest import USDC, WAD

from solvent.model import funding as fm
from solvent.model.ledger import EngineBooks, MarketBook

DAY = 86_400
DEBT = 83_960 * USDC


@pytest.fixture(scope="module")
def book(system, accounts, deployer):
    """A test account as the order book (the real one replaces it)."""
    book = accounts[9]
    system.admin.setOrderBook(book, sender=deployer)
    return book


def borrow_params(config) -> fm.BorrowParams:
    b = config.borrow
    return fm.BorrowParams(b.base_rate, b.optimal_utilization, b.max_rate)


def read_books(system, config, accounts: list[int]) -> EngineBooks:
    admin = system.admin
    ledger, borrow = admin.ledger(), admin.borrowState()
    markets = {}
    for key, market_id in system.market_ids.items():
        m = admin.markets(market_id)
        markets[market_id] = MarketBook(
            params=fm.FundingParams(
                m.skewScale, m.maxFundingVelocity, m.fundingDeadband, m.maxFundingRate
            ),
            insurance_fee_share=m.insuranceFeeShare,
            state=fm.FundingState(m.fundingRate, m.fundingIndex, m.lastFundingTime),
        )
        del key
    books = EngineBooks(
        markets=markets,
        borrow=fm.BorrowState(borrow.index, borrow.lastTime, borrow.pendingInterest),
        borrow_params=borrow_params(config),
        pool_cash=ledger.poolCash,
        account_debt=ledger.accountDebt,
        debt_in_auction=ledger.debtInAuction,
        insurance_fees=ledger.insuranceFees,
    )
    for account in accounts:
        books.quote[account] = admin.accounts(account).quoteBalance
    return books


def test_parked_debt_grows_by_the_borrow_rate(system, config, attack, accounts, book):
    """$83,960 owed by a WETH-backed account with no positions, left 365 days: the next touch
    (a repayment of 1 USDC) charges a year of interest at the kinked rate, to the wei of the model,
    and the pool counted the interest in its assets before anyone touched the account."""
    lp, parker, sink = accounts[2], accounts[3], accounts[4]
    attack.fund_pool(lp, 1_000_000)
    account = attack.open_account(parker)
    attack.deposit(parker, account, "WETH", 100 * WAD)  # $200,000 of WETH
    books = read_books(system, config, [account])
    tx = system.engine.chargeOrderFee(account, DEBT, sink, sender=book)
    books.charge_order_fee(account, DEBT, tx.timestamp)
    assert system.admin.accounts(account).quoteBalance == -DEBT
    assert attack.health(account).health > 0  # backed by the WETH

    attack.advance(365 * DAY)
    now = attack.chain.blocks.head.timestamp
    _, due = system.admin.pendingCharges(account, 0)
    year = fm.accrue_borrow(
        books.borrow, books.pool_cash, books.account_debt, now, books.borrow_params
    )
    assert due == fm.interest(DEBT, books.borrow_index_of[account], year.index)
    assert due > 0  # was 0 on the landed code: the debt never grew
    rate = fm.borrow_rate(books.pool_cash, books.account_debt, books.borrow_params)
    assert rate > 0
    # A year (and the seconds of the blocks) of simple interest at the rate of the pool's
    # utilization, up to the index's rounding: about 0.99%/yr at 7.7% utilization.
    elapsed = now - books.borrow.last_time
    assert abs(due - DEBT * rate * elapsed // (fm.YEAR * WAD)) <= 1

    attack.mint(parker, "quote", USDC)
    system.quote.approve(system.engine, 2**256 - 1, sender=parker)
    tx = system.engine.deposit(account, system.quote, USDC, sender=parker)
    books.deposit_quote(account, USDC, tx.timestamp)
    charged = tx.events.filter(system.engine.InterestCharged)[0].amount
    assert charged == books.interest_paid  # the model, at the repayment's block time
    assert due <= charged <= due + due // 10**6  # the view a few seconds earlier
    assert (
        system.admin.accounts(account).quoteBalance
        == -DEBT - charged + USDC
        == books.quote[account]
    )
    assert system.admin.ledger().accountDebt == books.account_debt


def test_a_hedged_pair_pays_funding_as_modelled(system, config, attack, accounts, book):
    """A trader long 5,000 ETH here (hedged elsewhere) and another short 1,000: the pool carries a
    4,000 ETH skew (1.1% of the 350,000 ETH scale). For 30 days the rate climbs and the long pays;
    the short, on the minority side, receives. Both settle exactly what the model says, and the
    pool receives what they pay net."""
    lp, long_owner, short_owner = accounts[2], accounts[5], accounts[6]
    attack.fund_pool(lp, 5_000_000)
    long_id = attack.open_account(long_owner)
    short_id = attack.open_account(short_owner)
    attack.deposit(long_owner, long_id, "quote", 3_000_000 * USDC)
    attack.deposit(short_owner, short_id, "quote", 1_000_000 * USDC)
    eth = system.market_ids["WETH"]
    price = system.oracle.price(system.tokens["WETH"])
    books = read_books(system, config, [long_id, short_id])
    for account, size in ((long_id, 5_000 * WAD), (short_id, -1_000 * WAD)):
        tx = system.engine.fillOrder(account, eth, size, price, 0, sender=book)
        books.fill(account, eth, size, price, 0, price, tx.timestamp)
    attack.advance(30 * DAY)
    attack.set_price("WETH", 2_000)  # the feeds' heartbeat: a fresh round at the same price
    assert system.oracle.price(system.tokens["WETH"]) == price
    settled = {}
    for account, size in ((long_id, -5_000 * WAD), (short_id, 1_000 * WAD)):
        tx = system.engine.fillOrder(account, eth, size, price, 0, sender=book)
        settled[account] = books.fill(account, eth, size, price, 0, price, tx.timestamp)
        [event] = tx.events.filter(system.engine.FundingSettled)
        assert event.amount == settled[account]
    assert settled[long_id] > 0 > settled[short_id]  # the majority side pays, the other receives
    # 4,000 ETH of skew for 30 days at up to 1%/day of $2,000: tens of thousands of dollars.
    assert settled[long_id] > 100_000 * USDC
    assert system.admin.markets(eth).fundingRate == config.assets[0].market.max_funding_rate
    assert system.admin.ledger().poolCash == books.pool_cash
    for account in (long_id, short_id):
        assert system.admin.accounts(account).quoteBalance == books.quote[account]
    market = books.markets[eth]
    surplus = books.funding_paid * fm.FUNDING_QUOTE_DIVISOR - market.aggregate_owed
    assert 0 <= surplus < market.settlements * fm.FUNDING_QUOTE_DIVISOR
