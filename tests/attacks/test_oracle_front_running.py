"""Issue 14 — trades that cannot front-run the oracle — replayed as an attacker would on the real
deployment (config/local.yaml: WETH $2,000, skewScale 350,000 ETH, settlement delay 15 s,
window 4,500 s, taker 5 bps, maker 2 bps, settlement fee $2).

A deviation-triggered push feed publishes only after the market moved past its threshold, so the
next print is predictable. On the landed code a trade filled in its own transaction at the current
print: a trader could buy before a known +0.5% print and sell after it, or close before a known
drop. Now every trade is committed first and settles at the first round published at or after
`commitTime + 15 s`; neither the trader nor the settler chooses the round, and nobody can cancel
before the order expires."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from solvent import orders

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
