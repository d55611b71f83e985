"""The harness's one way to trade: every position the demo, the simulator, the keeper tests and
the keeper benchmark open or change goes through `trade`.

With an order book in the deployment (docs/orders.md) a trade is two steps, as for any trader:
each request is committed (`commitOrder`), a round is published on the traded markets' feeds at or
after the orders' target time (the mock feeds' current answers again, as a heartbeat would), and
the orders are settled at that round: by a keeper when the caller passes one (`settle_with`), or
by the harness itself (`settleOrder` from the operator, naming the round it just published: no
round was published between the commits and their target time, so it is the determining one).
Without an order book (deployments from before it) the engine's immediate `trade` is used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode

from solvent.fastpath import Tx
from solvent.harness.world import (
    MAX_UINT,
    OPERATOR,
    Outcome,
    SetupFailed,
    World,
    raise_failures,
)

# The protocol's refusals of a trade for the account's risk: a planned position that would breach
# initial margin (at commit: the order book's pre-check; at settlement: the engine's check) or a
# market's open-interest cap is not opened; the account keeps its collateral. A fill price beyond
# the acceptable price is refused the same way, and so is a fill that would take the pool's exposure
# in the market past its bound (issue 15, docs/pool.md "Exposure bound").
POOL_EXPOSURE_EXCEEDED = "PoolExposureExceeded"
REFUSALS = frozenset(
    {
        POOL_EXPOSURE_EXCEEDED,
        "InsufficientMargin",
        "OpenInterestCapExceeded",
        "InsufficientMarginForOrder",
        "AcceptablePrice",
        "FillPriceOutOfRange",
    }
)
TRADE_GAS = 1_500_000
COMMIT_GAS = 500_000
SETTLE_GAS = 1_500_000
SETTLER = OPERATOR  # who settles when no keeper does (earns the settlement fees)
# IOrderBook.CancelReason, by value
CANCEL_REASONS = ("Expired", "AcceptablePrice", "FillPriceOutOfRange", "FillRefused")
FILL_REFUSED = CANCEL_REASONS.index("FillRefused")  # the engine refused the fill: its error follows


@dataclass(frozen=True)
class TradeRequest:
    owner: int  # dev account that owns (or operates) the account
    account_id: int
    market: str  # asset key of the market
    size: int  # signed size delta, WAD
    acceptable_price: int | None = None  # WAD; None: any price


# settle_with(world, order ids): settles the committed orders once their round is published
Settler = Callable[[World, list[int]], None]


def trade(
    world: World, requests: list[TradeRequest], settle_with: Settler | None = None
) -> list[Outcome]:
    """Executes every request and returns one outcome each, in order: a fill, or the protocol's
    refusal named in `Outcome.error` (one of `REFUSALS`). Any other failure raises `SetupFailed`
    with its decoded reason. At most one request per account and market per call (the order
    book keeps one pending order per pair)."""
    if "order_book" not in world.codecs:
        raise SetupFailed("the deployment has no order book: every trade is a committed order")
    pairs = [(r.account_id, r.market) for r in requests]
    if len(set(pairs)) != len(pairs):
        raise ValueError("one request per account and market per trade() call")
    return _trade_through_orders(world, requests, settle_with)


def _trade_through_orders(
    world: World, requests: list[TradeRequest], settle_with: Settler | None
) -> list[Outcome]:
    commits, committed, targets = commit_orders(world, requests)
    live = [i for i, o in enumerate(committed) if o.ok]
    if not live:
        return committed
    markets = sorted({requests[i].market for i in live})
    first_block = publish_rounds(world, markets, max(targets.values()))
    oids = list(targets)
    if settle_with is not None:
        settle_with(world, oids)
    else:
        settle_orders(world, oids, markets)
    ends = order_ends(world, oids, first_block)
    outcomes = list(committed)
    for i, oid in zip(live, oids, strict=True):
        receipt, error = ends.get(oid, ({}, "not settled"))
        outcomes[i] = Outcome(commits[i], receipt, error)
    raise_failures(world, [o for o in outcomes if not o.ok and o.error not in REFUSALS], len(live))
    return outcomes


def commit_orders(
    world: World, requests: list[TradeRequest]
) -> tuple[list[Tx], list[Outcome], dict[int, int]]:
    """Commits one order per request: (the commit transactions, their outcomes, and order id ->
    target time of each order committed, in request order). A commit refused for the account's
    risk is an outcome with its error; any other failure raises `SetupFailed`."""
    book = world.c("order_book")
    commits = commit_txs(world, requests)
    committed = world.send_all(commits)
    raise_failures(
        world, [o for o in committed if not o.ok and o.error not in REFUSALS], len(commits)
    )
    targets: dict[int, int] = {}
    for outcome in committed:
        if outcome.ok:
            [event] = book.events("OrderCommitted", outcome.receipt)
            targets[int(event["orderId"])] = int(event["targetTime"])
    return commits, committed, targets


def commit_txs(world: World, requests: list[TradeRequest]) -> list[Tx]:
    """The `commitOrder` transactions of `requests` (for a caller that mines them in a block of
    its own, as the demo does mid-crash; `trade` and `commit_orders` send them themselves)."""
    book = world.c("order_book")
    return [
        world.tx(
            r.owner,
            book,
            "commitOrder",
            r.account_id,
            world.market_ids[r.market],
            r.size,
            _acceptable(r),
            gas=COMMIT_GAS,
        )
        for r in requests
    ]


def publish_rounds(world: World, markets: list[str], not_before: int) -> int:
    """Mock feeds: a new round at each feed's current answer for `markets`, mined in one block at
    `not_before` or later; returns that block's number."""
    feeds = world.feeds
    codecs = [feed for market in markets for feed in feeds[market]]
    answers = world.read_many([(feed, "latestRoundData", ()) for feed in codecs])
    txs = [
        world.tx(OPERATOR, feed, "setAnswer", int(answer[1]), gas=150_000)
        for feed, answer in zip(codecs, answers, strict=True)
    ]
    number, timestamp = world.block()
    automine = bool(world.rpc.call("anvil_getAutomine"))
    if automine:  # the writes must share one block at the set time
        world.set_automine(False)
    try:
        world.send_block(txs, max(not_before, timestamp + 1))
    finally:
        if automine:
            world.set_automine(True)
    return number + 1


def keeper_settles(keeper: Any, max_blocks: int = 10) -> Settler:
    """A `Settler` that lets the production keeper settle: it steps the keeper (which sees the
    published round and sends the settlements) and mines a block, until none of the orders is
    pending any more in the keeper's index or `max_blocks` blocks have gone by."""

    def settle(world: World, oids: list[int]) -> None:
        automine = bool(world.rpc.call("anvil_getAutomine"))
        for _ in range(max_blocks):
            keeper.step()
            if not automine:
                world.mine_block()
            keeper.step()
            if not set(oids) & set(keeper.order_index.pending):
                return

    return settle


def settle_orders(world: World, oids: list[int], markets: list[str]) -> None:
    """Settles `oids` at each market's latest round (the one `publish_rounds` just published)."""
    feeds = world.feeds
    latest = world.read_many([(feeds[m][0], "latestRoundData", ()) for m in markets])
    round_of = {world.market_ids[m]: int(r[0]) for m, r in zip(markets, latest, strict=True)}
    book = world.c("order_book")
    txs: list[Tx] = [
        world.tx(SETTLER, book, "settleOrder", oid, round_of[oid & 0xFF], gas=SETTLE_GAS)
        for oid in oids
    ]
    world.send_ok(txs)


def order_ends(
    world: World, oids: list[int], from_block: int
) -> dict[int, tuple[dict[str, Any], str | None]]:
    """How each order ended since `from_block`: (the receipt of the transaction that ended it,
    None when it filled or the refusal's name)."""
    book = world.c("order_book")
    wanted = set(oids)
    raw = world.rpc.call(
        "eth_getLogs",
        {
            "address": book.address,
            "fromBlock": hex(from_block),
            "toBlock": "latest",
            "topics": [[book.topic("OrderSettled"), book.topic("OrderCancelled")]],
        },
    )
    ends: dict[int, tuple[dict[str, Any], str | None]] = {}
    hashes = []
    for item in raw:
        event = book.decode_log(item)
        if event is None or int(event.args["orderId"]) not in wanted:
            continue
        oid = int(event.args["orderId"])
        error = None if event.name == "OrderSettled" else _cancel_reason(world, event.args)
        ends[oid] = ({"transactionHash": item["transactionHash"]}, error)
        hashes.append(item["transactionHash"])
    receipts = dict(zip(hashes, world.sender.receipts(hashes), strict=True))
    return {oid: (receipts[r["transactionHash"]], e) for oid, (r, e) in ends.items()}


def _cancel_reason(world: World, args: dict[str, Any]) -> str:
    reason = CANCEL_REASONS[int(args["reason"])]
    data = bytes(args["engineError"])
    if reason != "FillRefused" or len(data) < 4:
        return reason
    if data[:4] == bytes.fromhex("08c379a0"):
        return f"Error: {abi_decode(['string'], data[4:])[0]}"
    return world.error_names.get(data[:4], "0x" + data.hex())


def _acceptable(request: TradeRequest) -> int:
    if request.acceptable_price is not None:
        return request.acceptable_price
    return MAX_UINT if request.size > 0 else 0
