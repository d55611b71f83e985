"""Issue 14 — trades that cannot front-run the oracle — replayed as an attacker would on the real
deployment (config/local.yaml: WETH $2,000, skewScale 350,000 ETH, settlement delay 15 s,
window 4,500 s, taker 5 bps, maker 2 bps, settlement fee $2).

A deviation-triggered push feed publishes only after the market moved past its threshold, so the
next print is predictable. On the landed code a trade filled in its own transaction at the current
print: a trader could buy before a known +0.5% print and sell after it, or close before a known
drop. Now every trade is committed first and settles at the first round published at or after
`commitTime + 15 s`; neither the trader nor the settler chooses the round, and nobody can cancel
before the order expires.

The issue's second and third attacks, "Free skew" and "Free debt", on the same deployment:

- Free debt: $83,960 of quote debt parked in an account backed by WETH (no positions, health at
  maximum). On the landed code (before issue 14) it was unchanged after 365 days: debt carried no
  interest (the issue's figure). Now the borrow index grows it by the configured kinked rate.
- Free skew: the pool carried the traders' net position at no charge, so a trader hedged elsewhere
  held a position here for free. Now velocity funding charges the majority side, and the pool,
  which takes the other side of the skew, receives it.

These two replay the engine's side exactly: a test account stands in for the order book and makes
the calls the order book makes (`fillOrder` at the oracle price without fees, `chargeOrderFee`), so
the figures compare to the engine's Python books (solvent/model/ledger.py) to the wei, free of the
fill premium and fees the order book adds (tests/orders covers those against their model).
"""

from __future__ import annotations

from typing import Any

import ape
import pytest

from solvent import orders
from solvent.governance import govern
from solvent.model import funding as fm
from solvent.model.ledger import EngineBooks

WAD = 10**18
USDC = 10**6
ETH = "WETH"
SIZE = 4_900 * WAD
# The trader posted $1M; the 0.7% skew premium of a 4,900 ETH buy (2,450 / 350,000) marks
# the fill $68,600 under the oracle, so the same position now needs $1.1M to pass initial margin.
MARGIN_USD = 1_100_000


@pytest.fixture
def actors(accounts) -> dict[str, Any]:
    return {"lp": accounts[1], "trader": accounts[2], "keeper": accounts[3]}


def _setup(attack, actors) -> int:
    attack.fund_pool(actors["lp"], 20_000_000)
    account = attack.open_account(actors["trader"])
    attack.deposit(actors["trader"], account, "quote", MARGIN_USD * USDC)
    return account


def _quote(system, account: int) -> int:
    return int(system.admin.accounts(account).quoteBalance)


def _settle(system, keeper, oid: int) -> Any:
    """Settles at the determined round (found by scanning the feed) and returns the event."""
    receipt = orders.settle(system, keeper, oid, ETH)
    settled = list(receipt.events.filter(system.orders.OrderSettled))
    assert settled, f"not filled: {list(receipt.events.filter(system.orders.OrderCancelled))}"
    return settled[0]


def _wait_for_target(attack, oid: int) -> int:
    target, _ = orders.settlement_times(attack.system, oid)
    attack.chain.mine(timestamp=max(target, attack.chain.pending_timestamp))
    return target


@pytest.mark.parametrize("update_lands", ["within_the_delay", "after_the_target"])
def test_front_running_a_known_print_gains_nothing(system, attack, actors, update_lands):
    """The issue's front-run. ETH trades +0.5% on exchanges; the feed's deviation update ($2,010)
    is on its way. The trader buys 4,900 ETH before it lands, then sells after.

    Landed code (`engine.trade`, measured): bought at $2,000, sold at $2,010: trader +$39,175.50,
    pool -$41,140.40 (the issue's +$39,175 / -$41,140).
    Now the buy is committed before the print and settles at the first round at or after
    commit + 15 s: the print itself when it lands after the target, or the next round when it
    lands inside the delay — at $2,010 either way. The round trip's skew premium cancels out
    (bought at 2,010 x 1.007, sold at 2,010 x 1.007 as the sell reduces the skew), so the trader
    keeps -fees (and a little funding) and the pool loses nothing."""
    trader, keeper = actors["trader"], actors["keeper"]
    account = _setup(attack, actors)
    quote_before = _quote(system, account)
    pool_before = int(system.pool.totalAssets())

    orders.commit(system, trader, account, ETH, SIZE)  # before the print, at $2,000
    oid = orders.order_id(account, system.market_ids[ETH])
    if update_lands == "within_the_delay":
        attack.advance(5)
        attack.set_price(ETH, 2_010)  # the deviation update, before the target
        _wait_for_target(attack, oid)
        orders.publish_current_round(system, ETH, attack.deployer)  # the next round
    else:
        _wait_for_target(attack, oid)
        attack.set_price(ETH, 2_010)  # the deviation update is the first round after the target
    opened = _settle(system, keeper, oid)
    assert opened.oraclePrice == 2_010 * WAD  # the post-print price, not the $2,000 it saw

    orders.commit(system, trader, account, ETH, -SIZE)
    _wait_for_target(attack, oid)
    orders.publish_current_round(system, ETH, attack.deployer)
    closed = _settle(system, keeper, oid)
    assert int(system.admin.positions(account, 0).size) == 0

    fees = opened.tradeFee + closed.tradeFee + opened.settlementFee + closed.settlementFee
    pnl = _quote(system, account) - quote_before
    assert pnl <= -fees
    assert int(system.pool.totalAssets()) >= pool_before


def test_a_settler_cannot_choose_the_round(system, attack, actors):
    """Three rounds after the target ($2,010, $1,990, $2,030), one before it and one in a new proxy
    phase ($1,980): only the first one at or after the target settles; any other is refused with a
    named error, including the first round of the new phase and a round that does not exist.

    Landed code: no choice to make, the trade filled at the print of its own block; the settler's
    choice is new with two-step orders, and the adapter's round rule removes it."""
    trader, keeper = actors["trader"], actors["keeper"]
    account = _setup(attack, actors)
    feed = system.feeds[ETH]
    orders.commit(system, trader, account, ETH, 100 * WAD)
    oid = orders.order_id(account, system.market_ids[ETH])
    attack.advance(2)
    attack.set_price(ETH, 2_005)
    before_target = int(feed.roundId())
    _wait_for_target(attack, oid)
    rounds = []
    for usd in (2_010, 1_990, 2_030):
        attack.advance(1)
        # The backup feed stays at the first round's price: the settlement's deviation check
        # compares the round with the backup's price at settlement time.
        attack.set_price(ETH, usd, secondary=usd == 2_010)
        rounds.append(int(feed.roundId()))
    feed.startNewPhase(sender=attack.deployer)
    attack.advance(1)
    attack.set_price(ETH, 1_980, secondary=False)
    new_phase_first = int(feed.roundId())
    assert new_phase_first == (1 << 64) | 1

    book, oracle = system.orders, system.oracle
    with ape.reverts(oracle.RoundBeforeTarget, roundId=before_target):
        book.settleOrder(oid, before_target, sender=keeper)
    for later in rounds[1:]:
        with ape.reverts(oracle.NotFirstRound, roundId=later, predecessor=later - 1):
            book.settleOrder(oid, later, sender=keeper)
    with ape.reverts(oracle.NotFirstRound, roundId=new_phase_first, predecessor=rounds[-1]):
        book.settleOrder(oid, new_phase_first, sender=keeper)
    with ape.reverts(oracle.RoundUnavailable):
        book.settleOrder(oid, rounds[-1] + 1, sender=keeper)
    # The trader, settling its own order, has no more choice than anyone.
    with ape.reverts(oracle.NotFirstRound):
        book.settleOrder(oid, rounds[1], sender=trader)
    assert orders.find_round(feed, orders.settlement_times(system, oid)[0]) == rounds[0]
    event = _settle(system, keeper, oid)
    assert event.oraclePrice == 2_010 * WAD


def test_the_trader_cannot_cancel_before_expiry(system, attack, actors):
    """The free option: the trader commits a buy, sees the price fall before anyone settles and
    tries to walk away. `cancelOrder` reverts `OrderNotExpired` (for anyone) until the window has
    passed, a new commit reverts `OrderPending`, and the order settles at the lower print."""
    trader, keeper = actors["trader"], actors["keeper"]
    account = _setup(attack, actors)
    orders.commit(system, trader, account, ETH, 1_000 * WAD)
    oid = orders.order_id(account, system.market_ids[ETH])
    _, expiry = orders.settlement_times(system, oid)
    _wait_for_target(attack, oid)
    attack.set_price(ETH, 1_950)  # the determined round: -2.5%
    with ape.reverts(system.orders.OrderNotExpired, orderId=oid, expiry=expiry):
        system.orders.cancelOrder(oid, sender=trader)
    with ape.reverts(system.orders.OrderPending, orderId=oid):
        orders.commit(system, trader, account, ETH, -1_000 * WAD)
    event = _settle(system, keeper, oid)
    assert event.oraclePrice == 1_950 * WAD
    assert int(system.admin.positions(account, 0).size) == 1_000 * WAD


def test_closing_before_a_known_drop_gains_nothing(system, attack, actors):
    """The same attack from the other side. The trader holds 4,900 ETH long at $2,010; ETH trades
    -0.5% on exchanges and the feed's update ($1,999.95) is on its way; the trader closes first.

    Landed code (`engine.trade`, measured): the close filled at $2,010 for the $4,924.50 fee,
    dodging the $49,245 loss the print brought (which the pool, on the other side, would have
    earned). Now the close settles at the first round at or after commit + 15 s, the print: the
    trader bears the drop, the pool earns it."""
    trader, keeper = actors["trader"], actors["keeper"]
    account = _setup(attack, actors)
    attack.set_price(ETH, 2_010)
    quote_before = _quote(system, account)
    pool_before = int(system.pool.totalAssets())
    orders.commit(system, trader, account, ETH, SIZE)
    oid = orders.order_id(account, system.market_ids[ETH])
    _wait_for_target(attack, oid)
    orders.publish_current_round(system, ETH, attack.deployer)
    opened = _settle(system, keeper, oid)
    assert opened.oraclePrice == 2_010 * WAD

    orders.commit(system, trader, account, ETH, -SIZE)  # before the print
    attack.advance(5)
    attack.set_price(ETH, 1_999.95)  # the print lands inside the delay
    _wait_for_target(attack, oid)
    orders.publish_current_round(system, ETH, attack.deployer)
    closed = _settle(system, keeper, oid)
    assert closed.oraclePrice == 199_995 * WAD // 100  # the print, not the $2,010 it saw

    # Over the round trip the trader realizes the drop (times the premium factor 1.007: both
    # fills carry it) and pays the fees; the pool, on the other side, earns it.
    drop = 4_900 * (2_010 * USDC - 1_999_950_000)  # $49,245
    fees = opened.tradeFee + closed.tradeFee + opened.settlementFee + closed.settlementFee
    assert _quote(system, account) - quote_before <= -drop - fees
    assert int(system.pool.totalAssets()) - pool_before >= drop


# ---------------------------------------------------------------- free debt and free skew
DAY = 86_400
DEBT = 83_960 * USDC


@pytest.fixture
def book(system, accounts, deployer):
    """A test account in the order book's role, for this test only (isolation reverts it)."""
    book = accounts[9]
    govern(system, [(system.admin, "setOrderBook", book)])
    return book


def borrow_params(config) -> fm.BorrowParams:
    b = config.borrow
    return fm.BorrowParams(b.base_rate, b.optimal_utilization, b.max_rate)


def read_books(system, config, accounts: list[int]) -> EngineBooks:
    return EngineBooks.from_chain(system.admin, borrow_params(config), accounts)


def test_parked_debt_grows_by_the_borrow_rate(system, config, attack, accounts, book):
    """$83,960 owed by a WETH-backed account with no positions, left 365 days: the next touch
    (a repayment of 1 USDC) charges a year of interest at the kinked rate, to the wei of the model,
    and the pool counted the interest in its assets before anyone touched the account."""
    lp, parker, sink = accounts[2], accounts[3], accounts[4]
    attack.fund_pool(lp, 1_000_000)
    account = attack.open_account(parker)
    attack.deposit(parker, account, "WETH", 100 * WAD)  # $200,000 of WETH
    books = read_books(system, config, [account])
    tx = system.admin.chargeOrderFee(account, DEBT, sink, sender=book)
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
    attack.allow_exposure("2.5")  # 5,000 ETH ($10M) against the $5M pool
    attack.fund_pool(lp, 5_000_000)
    long_id = attack.open_account(long_owner)
    short_id = attack.open_account(short_owner)
    attack.deposit(long_owner, long_id, "quote", 3_000_000 * USDC)
    attack.deposit(short_owner, short_id, "quote", 1_000_000 * USDC)
    eth = system.market_ids["WETH"]
    price = system.oracle.price(system.tokens["WETH"])
    books = read_books(system, config, [long_id, short_id])
    for account, size in ((long_id, 5_000 * WAD), (short_id, -1_000 * WAD)):
        tx = system.engine.fillOrder(account, eth, size, price, 0, 0, book, sender=book)
        books.fill(account, eth, size, price, 0, price, tx.timestamp)
    attack.advance(30 * DAY)
    attack.set_price("WETH", 2_000)  # the feeds' heartbeat: a fresh round at the same price
    assert system.oracle.price(system.tokens["WETH"]) == price
    settled, rates = {}, []
    for account, size in ((long_id, -5_000 * WAD), (short_id, 1_000 * WAD)):
        tx = system.engine.fillOrder(account, eth, size, price, 0, 0, book, sender=book)
        settled[account] = books.fill(account, eth, size, price, 0, price, tx.timestamp)
        [event] = tx.events.filter(system.engine.FundingSettled)
        assert event.amount == settled[account]
        rates.append(system.admin.markets(eth).fundingRate)
    assert settled[long_id] > 0 > settled[short_id]  # the majority side pays, the other receives
    # 4,000 ETH of skew for 30 days at up to 1%/day of $2,000: tens of thousands of dollars.
    assert settled[long_id] > 100_000 * USDC
    # 30 days at the full skew pinned the rate to its bound; the second close may come a second
    # later, when the short's remaining skew has started to pull it down: as the model says.
    assert rates[0] == config.assets[0].market.max_funding_rate
    assert rates[1] == books.markets[eth].state.rate
    assert system.admin.ledger().poolCash == books.pool_cash
    for account in (long_id, short_id):
        assert system.admin.accounts(account).quoteBalance == books.quote[account]
    market = books.markets[eth]
    surplus = books.funding_paid * fm.FUNDING_QUOTE_DIVISOR - market.aggregate_owed
    assert 0 <= surplus < market.settlements * fm.FUNDING_QUOTE_DIVISOR
