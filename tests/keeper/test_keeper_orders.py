"""The keeper settles two-step orders on the real deployment: it follows `OrderCommitted`, sends
nothing while an order's price does not exist, settles every order (batched) in the block after
the round that determines it is published, naming that round, and cancels an order only once it
has expired. Chain time only: every block's timestamp is set by the test."""

from __future__ import annotations

from solvent.bench.keeper_bench import orders_per_settle_transaction
from solvent.harness.nodes import crowd
from solvent.harness.population import Trader, weth_longs
from solvent.harness.trading import TradeRequest, commit_orders, publish_rounds
from solvent.harness.world import KEEPER, World

ORDERS = 24
CANCEL_EXPIRED = 0  # IOrderBook.CancelReason.Expired


def _ready(node, template, accounts: int = ORDERS):
    """A crowd, a synced keeper that has approved and poked, and the accounts' owners."""
    w, traders = crowd(node, template, weth_longs(accounts, leverage=(0.5, 1.5)))
    assert all(t.positions for t in traders)
    keeper = w.keeper()
    keeper.sync()
    for _ in range(2):
        w.mine_block()
        keeper.step()
    return w, keeper, traders


def _reductions(w: World, traders: list[Trader]) -> list[TradeRequest]:
    """A tenth of each account's position off (reductions: no commit pre-check to refuse)."""
    markets = w.market_ids
    held = [(t, m) for t in traders for m in t.positions]
    sizes = w.read_many([(w.admin, "positions", (t.account_id, markets[m])) for t, m in held])
    return [
        TradeRequest(t.owner, t.account_id, m, -(int(size[0]) // 10))
        for (t, m), size in zip(held, sizes, strict=True)
    ]


def _determined_round(w: World, market: str, target: int) -> int:
    """The first round of the market's primary feed with updatedAt >= target, by a scan of every
    round of the feed (phase 0 on the local mocks)."""
    feed = w.feeds[market][0]
    latest = int(w.read(feed, "latestRoundData")[0])
    rounds = w.read_many([(feed, "getRoundData", (r,)) for r in range(1, latest + 1)])
    return next(int(r[0]) for r in rounds if int(r[3]) >= target)


def test_every_order_is_settled_in_the_block_after_its_round_is_published(node, template):
    w, keeper, traders = _ready(node, template)
    requests = _reductions(w, traders)
    _, committed, targets = commit_orders(w, requests)
    assert all(o.ok for o in committed) and len(targets) == len(requests) == ORDERS
    assert len({int(o.receipt["blockNumber"], 16) for o in committed}) == 1  # one block

    w.mine_block(seconds=1)  # before the target time, and no new round: nothing to settle
    early = keeper.step()
    assert early.orders_pending == ORDERS and early.settlements_sent == 0

    published = publish_rounds(w, ["WETH", "WBTC"], max(targets.values()))
    report = keeper.step()
    assert report.settlements_sent == ORDERS  # all in one batch, at the first step that sees it
    settled_at = w.mine_block()
    done = keeper.step()
    assert done.settlements_mined == ORDERS and done.orders_pending == 0
    assert done.settle_latencies == [1] * ORDERS  # the block right after the round's
    assert settled_at == published + 1

    events = w.logs("order_book", "OrderSettled", published)
    assert sorted(e["orderId"] for e in events) == sorted(targets)
    assert {e["settler"] for e in events} == {w.address(KEEPER)}
    by_market = {oid & 0xFF: target for oid, target in targets.items()}
    names = {v: k for k, v in w.market_ids.items()}
    for event in events:
        market = names[event["orderId"] & 0xFF]
        assert event["roundId"] == _determined_round(w, market, by_market[event["orderId"] & 0xFF])
    exposition = keeper.metrics.exposition()
    assert f'solvent_keeper_order_settlements_total{{outcome="mined"}} {float(ORDERS)}' in (
        exposition
    )
    assert "solvent_keeper_orders_pending 0.0" in exposition
    # The settlement fees are the keeper's: counted as its profit.
    fees = sum(e["settlementFee"] for e in events)
    assert fees > 0 and keeper.metrics.profit_quote._value.get() >= fees


def test_an_order_nobody_could_settle_is_cancelled_only_after_it_expires(node, template):
    w, keeper, traders = _ready(node, template, accounts=4)
    requests = _reductions(w, traders)[:2]
    _, _, targets = commit_orders(w, requests)
    oid, target = next(iter(targets.items()))
    _, expiry = w.read("order_book", "settlementTimes", oid)
    assert expiry > target
    keeper.step()
    # No round is published: at the expiry exactly, nothing can be done.
    _, now = w.block()
    w.mine_at(expiry)
    at_expiry = keeper.step()
    assert at_expiry.order_cancels_sent == 0 and at_expiry.settlements_sent == 0
    assert now < expiry
    w.mine_block(seconds=1)  # past it: the keeper cancels both
    past = keeper.step()
    assert past.order_cancels_sent == len(targets)
    w.mine_block()
    after = keeper.step()
    assert after.orders_pending == 0
    cancelled = w.logs("order_book", "OrderCancelled", 0)
    ours = [e for e in cancelled if e["orderId"] in targets]
    assert len(ours) == len(targets)
    assert all(e["reason"] == CANCEL_EXPIRED and e["settler"] == w.address(KEEPER) for e in ours)
    assert keeper.metrics.order_cancels.labels("mined")._value.get() == len(targets)


def test_a_restarted_keeper_finds_the_pending_orders_in_the_logs_and_settles_them(node, template):
    w, keeper, traders = _ready(node, template, accounts=6)
    requests = _reductions(w, traders)
    _, _, targets = commit_orders(w, requests)
    published = publish_rounds(w, ["WETH", "WBTC"], max(targets.values()))
    del keeper  # gone before it saw the round
    restarted = w.keeper()
    restarted.sync()
    assert set(restarted.order_index.pending) == set(targets)
    assert restarted.step().settlements_sent == len(targets)
    w.mine_block()
    assert restarted.step().orders_pending == 0
    settled = w.logs("order_book", "OrderSettled", published)
    assert sorted(e["orderId"] for e in settled) == sorted(targets)


def test_orders_of_one_market_and_round_settle_in_one_batch_and_a_failed_batch_splits(
    node, template
):
    """24 orders in two markets, one round each: two `settleOrders` calls. An order whose batch
    failed its simulation (put in `settle_alone` as the keeper does) is then settled in a call of
    its own, and the rest of its market still in one."""
    w, keeper, traders = _ready(node, template)
    requests = _reductions(w, traders)
    _, _, targets = commit_orders(w, requests)
    alone = min(targets)
    keeper.settle_alone.add(alone)
    published = publish_rounds(w, ["WETH", "WBTC"], max(targets.values()))
    assert keeper.step().settlements_sent == ORDERS
    w.mine_block()
    assert keeper.step().orders_pending == 0
    per_tx = orders_per_settle_transaction(w, published)
    markets = {oid & 0xFF for oid in targets}
    assert sorted(per_tx.values()) == sorted(
        [1] + [sum(1 for o in targets if o & 0xFF == m and o != alone) for m in markets]
    )
    assert sum(per_tx.values()) == ORDERS
    settled = w.logs("order_book", "OrderSettled", published)
    assert sorted(e["orderId"] for e in settled) == sorted(targets)
    assert keeper.settle_alone == set()  # forgotten once the order left the book
