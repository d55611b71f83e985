"""Batch settlement (`OrderBook.settleOrders`) on the real deployment (config/local.yaml): each
order settles exactly as `settleOrder` would (fills equal to solvent/model/orders.py to the wei,
each priced at the skew the previous ones left), a cancelled order does not stop the batch, every
reject path has its named error, and the gas rows of issue 14's settlement target."""

from __future__ import annotations

import ape
import pytest

from solvent import orders
from solvent.model import orders as model

from .conftest import MAX, USDC, WAD, open_funded_account

ETH = "WETH"
BTC = "WBTC"
BATCH = 10


def _live_market_with_orders(
    system, chain, deployer, trader, keeper, sizes: list[int]
) -> list[int]:
    """As `orders.settle_open`'s set-up: another account holds a 50 ETH short (the market's slots
    exist and funding accrues), a minute passes, then one fresh account per size commits an
    order, a second apart; the clock passes the last target time and one round is published,
    the determining round of every order. Returns the order ids, in commit order."""
    other = open_funded_account(system, deployer, trader, 1_000_000, len(sizes))
    orders.trade(system, chain, trader, other, ETH, -50 * WAD, settler=keeper, publisher=deployer)
    chain.mine(timestamp=chain.pending_timestamp + 60)
    accounts = [
        open_funded_account(system, deployer, trader, 1_000_000, i) for i in range(len(sizes))
    ]
    oids = []
    for account, size in zip(accounts, sizes, strict=True):
        orders.commit(system, trader, account, ETH, size)
        oids.append(orders.order_id(account, system.market_ids[ETH]))
    target, _ = orders.settlement_times(system, oids[-1])
    chain.mine(timestamp=target + 5)
    orders.publish_current_round(system, ETH, deployer)
    system.quote.mint(keeper, 1 * USDC, sender=deployer)  # a keeper holds quote already
    return oids


def _expected_fills(system, config, sizes: list[int], skew: int, scale: int, oracle_price: int):
    spec = config.asset(ETH).orders
    fills = []
    for size in sizes:
        fills.append(
            model.settle(
                oracle_price,
                skew,
                scale,
                size,
                orders.unlimited_price(size),
                spec.maker_fee_rate,
                spec.taker_fee_rate,
            )
        )
        skew += size
    return fills


def test_a_batch_settles_each_order_as_alone(
    funded, chain, deployer, trader, keeper, config, gas, steady_clock
):
    """Ten opening orders committed a second apart (the steady clock: one second a block, so each
    has a target time of its own and the gas does not depend on the machine's speed) settle in one
    call at the one round that determines them all; each fill is the model's at the skew the
    previous fills left."""
    system = funded
    sizes = [(i + 1) * WAD if i % 3 else -(i + 1) * WAD for i in range(BATCH)]
    oids = _live_market_with_orders(system, chain, deployer, trader, keeper, sizes)
    skew, scale = system.admin.marketSkew(0)
    oracle_price = int(system.oracle.price(system.tokens[ETH]))
    keeper_before = system.quote.balanceOf(keeper)

    receipt = orders.settle_batch(system, keeper, oids, ETH)
    total = gas.record(f"orders.settle_batch_{BATCH}", receipt)
    gas.record_value("orders.settle_batch_per_order", total // BATCH)

    events = receipt.events.filter(system.orders.OrderSettled)
    assert [int(e.orderId) for e in events] == oids
    spec = config.asset(ETH).orders
    for event, expected, size in zip(
        events,
        _expected_fills(system, config, sizes, skew, scale, oracle_price),
        sizes,
        strict=True,
    ):
        assert expected.acceptable
        assert (event.fillPrice, event.tradeFee) == (expected.fill_price, expected.trade_fee)
        assert (event.oraclePrice, event.sizeDelta) == (oracle_price, size)
        assert event.settler == keeper.address
    assert system.quote.balanceOf(keeper) - keeper_before == BATCH * spec.settlement_fee
    assert system.admin.marketSkew(0)[0] == skew + sum(sizes)
    assert all(system.orders.orders(oid).targetTime == 0 for oid in oids)


def test_a_batch_of_one_costs_what_a_lone_settlement_costs(
    funded, chain, deployer, trader, keeper, config, gas, steady_clock
):
    """`orders.settle_open`'s set-up and order, settled through `settleOrders([id])`."""
    system = funded
    [oid] = _live_market_with_orders(system, chain, deployer, trader, keeper, [100 * WAD])
    skew, scale = system.admin.marketSkew(0)
    oracle_price = int(system.oracle.price(system.tokens[ETH]))

    receipt = orders.settle_batch(system, keeper, [oid], ETH)
    gas.record("orders.settle_batch_of_1", receipt)

    [event] = receipt.events.filter(system.orders.OrderSettled)
    [expected] = _expected_fills(system, config, [100 * WAD], skew, scale, oracle_price)
    assert (event.fillPrice, event.tradeFee) == (expected.fill_price, expected.trade_fee)


def test_a_cancelled_order_does_not_stop_the_batch(funded, chain, deployer, trader, keeper, config):
    """The middle order's acceptable price is below the fill: it is cancelled (the settler paid),
    and the orders around it fill."""
    system = funded
    other = open_funded_account(system, deployer, trader, 1_000_000, 3)
    orders.trade(system, chain, trader, other, ETH, -50 * WAD, settler=keeper, publisher=deployer)
    accounts = [open_funded_account(system, deployer, trader, 1_000_000, i) for i in range(3)]
    limits = [MAX, 1_000 * WAD, MAX]  # a buy at $1,000 at most: ETH trades at $2,000
    for account, limit in zip(accounts, limits, strict=True):
        orders.commit(system, trader, account, ETH, 5 * WAD, limit)
    oids = [orders.order_id(a, 0) for a in accounts]
    chain.mine(timestamp=orders.settlement_times(system, oids[-1])[0] + 1)
    orders.publish_current_round(system, ETH, deployer)
    keeper_before = system.quote.balanceOf(keeper)

    receipt = orders.settle_batch(system, keeper, oids, ETH)

    settled = [int(e.orderId) for e in receipt.events.filter(system.orders.OrderSettled)]
    [cancelled] = receipt.events.filter(system.orders.OrderCancelled)
    assert settled == [oids[0], oids[2]]
    assert int(cancelled.orderId) == oids[1]
    assert cancelled.reason == 1  # AcceptablePrice
    fee = config.asset(ETH).orders.settlement_fee
    assert system.quote.balanceOf(keeper) - keeper_before == 3 * fee
    sizes = [int(system.admin.positions(a, 0).size) for a in accounts]
    assert sizes == [5 * WAD, 0, 5 * WAD]


def test_settle_orders_rejects_bad_batches(funded, chain, deployer, trader, keeper):
    system = funded
    book = system.orders
    eth = [open_funded_account(system, deployer, trader, 1_000_000, i) for i in range(2)]
    for account in eth:
        orders.commit(system, trader, account, ETH, WAD)
    orders.commit(system, trader, eth[0], BTC, WAD // 100)
    eth_oids = [orders.order_id(a, 0) for a in eth]
    btc_oid = orders.order_id(eth[0], system.market_ids[BTC])
    target, _ = orders.settlement_times(system, eth_oids[0])
    # Too early: no round has reached the target yet, and the clock has not either.
    rid = int(system.feeds[ETH].roundId())
    with ape.reverts(book.SettlementTooEarly, orderId=eth_oids[0], targetTime=target):
        book.settleOrders(eth_oids, rid, sender=keeper)

    chain.mine(timestamp=orders.settlement_times(system, btc_oid)[0] + 1)
    orders.publish_current_round(system, ETH, deployer)
    rid = orders.find_round(system.feeds[ETH], target)
    with ape.reverts(book.EmptyBatch):
        book.settleOrders([], rid, sender=keeper)
    with ape.reverts(book.BatchMixesMarkets, orderId=btc_oid, marketId=0):
        book.settleOrders([eth_oids[0], btc_oid], rid, sender=keeper)
    # The same order twice: the second is no longer pending, and the whole batch reverts.
    with ape.reverts(book.OrderNotPending, orderId=eth_oids[0]):
        book.settleOrders([eth_oids[0], eth_oids[0]], rid, sender=keeper)
    # A round other than the determined one (the one before it) is refused for the whole batch.
    with ape.reverts(system.oracle.RoundBeforeTarget):
        book.settleOrders(eth_oids, rid - 1, sender=keeper)
    assert all(book.orders(oid).targetTime != 0 for oid in eth_oids)
    # An order that is not pending anywhere in the batch.
    book.settleOrders(eth_oids, rid, sender=keeper)
    with ape.reverts(book.OrderNotPending, orderId=eth_oids[1]):
        book.settleOrders([eth_oids[1]], rid, sender=keeper)
    # Expired orders are refused too (a commit, then past its window).
    orders.commit(system, trader, eth[0], ETH, WAD)
    _, expiry = orders.settlement_times(system, eth_oids[0])
    chain.mine(timestamp=expiry + 1)
    orders.publish_current_round(system, ETH, deployer)
    with ape.reverts(book.OrderExpired, orderId=eth_oids[0], expiry=expiry):
        book.settleOrders([eth_oids[0]], int(system.feeds[ETH].roundId()), sender=keeper)


# 20-50 s alone: `make test-slow` (and CI) runs it; `make test` stays nearer 10 minutes
@pytest.mark.slow
def test_a_batch_checks_the_round_for_every_target_time(
    funded, chain, deployer, trader, keeper, steady_clock
):
    """Round R determines orders b, c, d (their targets fall between round R0 and R); a: R0;
    e: no round yet. A batch in any order of b, c, d settles at R (one check for the first, the
    earlier target checked again, the one in between covered); R refuses a (`NotFirstRound`: R's
    predecessor R0 is not before a's target) and e (`RoundBeforeTarget`), and the whole batch
    reverts with it."""
    system = funded
    book = system.orders
    feed = system.feeds[ETH]
    accounts = [open_funded_account(system, deployer, trader, 100_000, i) for i in range(5)]
    a, b, c, d, e = (orders.order_id(x, 0) for x in accounts)
    orders.commit(system, trader, accounts[0], ETH, WAD)
    chain.mine(timestamp=orders.settlement_times(system, a)[0] + 1)
    orders.publish_current_round(system, ETH, deployer)
    r0 = int(feed.roundId())
    for account in accounts[1:4]:  # b, c, d: targets after R0
        orders.commit(system, trader, account, ETH, WAD)
    chain.mine(timestamp=orders.settlement_times(system, d)[0] + 1)
    orders.publish_current_round(system, ETH, deployer)
    r = int(feed.roundId())
    assert orders.find_round(feed, orders.settlement_times(system, b)[0]) == r
    orders.commit(system, trader, accounts[4], ETH, WAD)
    chain.mine(timestamp=orders.settlement_times(system, e)[0] + 1)

    with ape.reverts(system.oracle.NotFirstRound):
        book.settleOrders([d, a], r, sender=keeper)
    with ape.reverts(system.oracle.RoundBeforeTarget):
        book.settleOrders([b, c, d, e], r, sender=keeper)
    receipt = book.settleOrders([d, b, c], r, sender=keeper)
    events = receipt.events.filter(book.OrderSettled)
    assert [int(x.orderId) for x in events] == [d, b, c]
    assert {int(x.roundId) for x in events} == {r}
    assert len({int(x.oraclePrice) for x in events}) == 1
    book.settleOrders([a], r0, sender=keeper)
    assert all(book.orders(oid).targetTime == 0 for oid in (a, b, c, d))
    assert book.orders(e).targetTime != 0
