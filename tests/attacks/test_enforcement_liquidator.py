"""Issue 12, liquidator side, replayed on the real deployment (config/local.yaml): a liquidation
never waits for the auction (caps full, breaker, unconfigured collateral), reset rewards cannot be
farmed beyond an auction's penalty, and a dust lot cannot keep an auction alive."""

from __future__ import annotations

from typing import Any

import ape
import pytest

WAD = 10**18
USDC = 10**6
MAX = 2**256 - 1
ETH = 10**18
SMALL_HOLE = 10_000 * USDC  # the "Hole full": GlobalCapExceeded(123000e6, 10000e6)


@pytest.fixture
def actors(accounts):
    return {"lp": accounts[5], "trader": accounts[6], "keeper": accounts[7], "taker": accounts[8]}


def _crash(attack: Any, actors: dict[str, Any], weth: int, size: int, crash_to: float) -> int:
    """An LP funds the pool; the trader posts `weth` WETH, goes long `size` ETH-PERP at $2,000;
    ETH falls to `crash_to`. Returns the trader's account."""
    attack.fund_pool(actors["lp"], 5_000_000)
    attack.fund_insurance(actors["lp"], 200_000)
    trader = actors["trader"]
    account = attack.open_account(trader)
    attack.deposit(trader, account, "WETH", weth)
    attack.trade(trader, account, "WETH", size)
    attack.set_price("WETH", crash_to)
    return account


def _position(attack: Any, account: int) -> int:
    market = attack.system.market_ids["WETH"]
    return int(attack.system.admin.positions(account, market).size)


def _fill_taker(attack: Any, taker: Any, usd: int) -> None:
    attack.mint(taker, "quote", usd * USDC)
    attack.system.quote.approve(attack.system.liquidator, MAX, sender=taker)


def test_capped_hole_liquidation_closes_the_position(attack, actors):
    """On the landed code, with Hole lowered to $10k, `liquidate` reverted
    `GlobalCapExceeded(123187.5e6, 10000e6)` (the issue: 123000e6) and the 150 ETH position
    stayed open: equity -$67,225 at $1,210 went on to -$86,475 at $1,110 and kept falling.
    Now the position closes at once, a $10k piece of the lot starts within the room, the rest
    waits in the queue, and the next piece starts (anyone may start it) when the first one's
    tab is repaid."""
    s = attack.system
    s.liquidator.setGlobalHole(SMALL_HOLE, sender=attack.deployer)
    account = _crash(attack, actors, 50 * ETH, 150 * ETH, 1_210)
    assert attack.health(account).health < WAD

    tx = s.engine.liquidate(account, actors["keeper"], sender=actors["keeper"])
    assert _position(attack, account) == 0  # closed: the loss stops growing
    [started] = tx.events.filter(s.liquidator.AuctionStarted)
    [queued] = tx.events.filter(s.liquidator.LotQueued)
    [dequeued] = tx.events.filter(s.liquidator.LotDequeued)
    assert started.tab == SMALL_HOLE  # the part that fits the room (dog.bark's rule)
    assert dequeued.tabLeft == queued.tab - SMALL_HOLE > 0
    assert queued.tab > 120_000 * USDC  # the whole tab, as in the issue
    assert s.liquidator.globals().dirt == SMALL_HOLE <= s.liquidator.globals().hole
    equity = attack.health(account).equity
    attack.set_price("WETH", 1_110)
    assert attack.health(account).equity == equity  # no position left to lose on

    # Room is full: nothing more can start until the piece sells.
    with ape.reverts(s.liquidator.NoRoom):
        s.liquidator.startQueued(queued.queueId, sender=actors["taker"])
    _fill_taker(attack, actors["taker"], 50_000)
    s.liquidator.take(started.id, MAX, MAX, actors["taker"], b"", sender=actors["taker"])
    tx = s.liquidator.startQueued(queued.queueId, sender=actors["taker"])
    [second] = tx.events.filter(s.liquidator.AuctionStarted)
    assert second.tab == SMALL_HOLE and s.liquidator.globals().dirt == SMALL_HOLE


def test_stopped_auctions_do_not_stop_liquidation(attack, actors):
    """Breaker level 1 (stop starts) made `liquidate` revert `AuctionsStopped(1)` on the landed
    code (same account as above, position left open); now it
    stops auctions only: the position closes and the whole lot waits."""
    s = attack.system
    s.liquidator.setStopped(1, sender=attack.deployer)
    account = _crash(attack, actors, 50 * ETH, 150 * ETH, 1_210)
    tx = s.engine.liquidate(account, actors["keeper"], sender=actors["keeper"])
    assert _position(attack, account) == 0
    assert list(tx.events.filter(s.liquidator.AuctionStarted)) == []
    [queued] = tx.events.filter(s.liquidator.LotQueued)
    assert s.liquidator.queuedLotIds() == [queued.queueId]
    s.liquidator.setStopped(0, sender=attack.deployer)
    tx = s.liquidator.startQueued(queued.queueId, sender=actors["taker"])
    [started] = tx.events.filter(s.liquidator.AuctionStarted)
    assert started.tab == queued.tab and started.lot == queued.lot


def _small_auction(attack: Any, actors: dict[str, Any]) -> Any:
    """A small account (1/24 WETH, long 1/6 ETH-PERP) liquidated after a 13% fall: its
    collateral goes to a ~$50 auction. Returns its AuctionStarted event."""
    s = attack.system
    account = _crash(attack, actors, ETH // 24, ETH // 6, 1_740)
    tx = s.engine.liquidate(account, actors["keeper"], sender=actors["keeper"])
    [started] = tx.events.filter(s.liquidator.AuctionStarted)
    return started


def test_reset_farm_earns_at_most_the_penalty(attack, actors):
    """On the landed code, 11 resets of this auction (tab $50.750001, penalty part $7.25) paid
    11 x $5.05075 = $55.55825 from the insurance fund (the issue: $55.55): more than the
    auction could ever repay it.
    Now all resets together earn at most the auction's penalty part."""
    s = attack.system
    started = _small_auction(attack, actors)
    penalty_part = started.tab - started.debt
    assert started.tab >= 50 * USDC and penalty_part < 11 * (5 * USDC + started.tab // 1_000)
    farmer = actors["keeper"]
    before = s.quote.balanceOf(farmer)
    paid = 0
    for _ in range(11):
        attack.advance(3_001)  # past `tail`
        attack.set_price("WETH", 1_740)  # fresh feeds
        tx = s.liquidator.reset(started.id, farmer, sender=farmer)
        [event] = tx.events.filter(s.liquidator.AuctionReset)
        paid += event.rewardPaid
    assert s.quote.balanceOf(farmer) - before == paid == penalty_part


def test_dust_auction_ends_at_once(attack, actors):
    """On the landed code a take of all but 1 wei of the lot left an auction with a 1-wei lot and
    a $56,637.50 tab that lingered (active, counted at par: Dirt $56,637.50) and used up Hole.
    Now that take ends it: the 1 wei goes with the slice and the rest of the debt is booked as
    bad debt."""
    s = attack.system
    account = _crash(attack, actors, 50 * ETH, 150 * ETH, 1_210)
    tx = s.engine.liquidate(account, actors["keeper"], sender=actors["keeper"])
    [started] = tx.events.filter(s.liquidator.AuctionStarted)
    taker = actors["taker"]
    _fill_taker(attack, taker, 200_000)
    tx = s.liquidator.take(started.id, started.lot - 1, MAX, taker, b"", sender=taker)
    [take] = tx.events.filter(s.liquidator.Take)
    assert take.lotLeft == 0 and take.tabLeft > 50_000 * USDC
    assert len(list(tx.events.filter(s.liquidator.DustLotCleared))) == 1
    assert not s.liquidator.status(started.id).active
    assert s.liquidator.globals().dirt == 0
    assert len(list(tx.events.filter(s.engine.BadDebtWrittenOff))) == 1
