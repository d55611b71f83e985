"""The one Python path for trading through the OrderBook (docs/orders.md): commit an order, find
the round that settles it, settle it; and, on local chains with mock feeds, the whole trade in one
call (`trade`) for tests, the demo, the simulator and the fuzz driver.

Contract handles are ape ContractInstances (`Protocol.orders`, `Protocol.feeds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solvent.model.orders import PHASE_OFFSET, parse_round_id, round_id

MAX_UINT = 2**256 - 1
AGGREGATOR_ROUND_MASK = 2**PHASE_OFFSET - 1


def order_id(account_id: int, market_id: int) -> int:
    """The order id of an account's order in a market (one pending order per pair)."""
    return account_id << 8 | market_id


def unlimited_price(size_delta: int) -> int:
    """The acceptable price that accepts any fill: no limit for a buy, zero for a sell."""
    return MAX_UINT if size_delta > 0 else 0


def commit(
    protocol: Any,
    owner: Any,
    account_id: int,
    market: str,
    size_delta: int,
    acceptable_price: int | None = None,
) -> Any:
    """Commits an order for `account_id` (sent by its owner or an operator). Returns the receipt."""
    limit = unlimited_price(size_delta) if acceptable_price is None else acceptable_price
    return protocol.orders.commitOrder(
        account_id, protocol.market_ids[market], size_delta, limit, sender=owner
    )


def settlement_times(protocol: Any, oid: int) -> tuple[int, int]:
    """(target time, expiry) of a pending order; (0, 0) when none is pending."""
    target, expiry = protocol.orders.settlementTimes(oid)
    return int(target), int(expiry)


@dataclass(frozen=True)
class RoundInfo:
    round_id: int
    updated_at: int


def _round(feed: Any, rid: int) -> RoundInfo:
    data = feed.getRoundData(rid)
    return RoundInfo(rid, int(data[3]))


def _last_of_earlier_phase(feed: Any, phase: int) -> RoundInfo | None:
    """The last round of the latest phase before `phase` that published (None: no earlier one)."""
    for earlier in range(phase - 1, -1, -1):
        try:
            aggregator = feed.phaseAggregators(earlier)
        except Exception:  # not a proxy: no earlier phase
            return None
        if int(aggregator, 16) == 0:
            return None
        latest = _at(feed, aggregator).latestRoundData()
        if int(latest[3]) == 0:
            continue
        return RoundInfo(round_id(earlier, int(latest[0]) & AGGREGATOR_ROUND_MASK), int(latest[3]))
    return None


def _at(feed: Any, address: str) -> Any:
    """A handle on another aggregator with the feed's ABI (only `latestRoundData` is called)."""
    from ape import Contract

    return Contract(address, contract_type=feed.contract_type)


def _predecessor(feed: Any, rid: int) -> RoundInfo | None:
    phase, aggregator_round = parse_round_id(rid)
    if aggregator_round > 1:
        return _round(feed, rid - 1)
    return _last_of_earlier_phase(feed, phase)


def find_round(feed: Any, target_time: int) -> int | None:
    """The round that settles an order whose target time is `target_time`: the first round of
    `feed`, in the proxy's order, published at or after it (walking back from the latest through
    getRoundData and across phases). None when no round has reached the target yet."""
    latest = feed.latestRoundData()
    current = RoundInfo(int(latest[0]), int(latest[3]))
    if current.updated_at < target_time:
        return None
    while True:
        previous = _predecessor(feed, current.round_id)
        if previous is None or previous.updated_at < target_time:
            break
        current = previous
    # The contract also requires the previous phase's last round to be earlier (an old aggregator
    # that kept publishing after the switch): then the first round is in that phase.
    phase, _ = parse_round_id(current.round_id)
    earlier = _last_of_earlier_phase(feed, phase) if phase > 0 else None
    if earlier is not None and earlier.updated_at >= target_time:
        return _first_in_phase_from(feed, earlier, target_time)
    return current.round_id


def _first_in_phase_from(feed: Any, start: RoundInfo, target_time: int) -> int:
    current = start
    while True:
        previous = _predecessor(feed, current.round_id)
        if previous is None or previous.updated_at < target_time:
            return current.round_id
        current = previous


def settle(protocol: Any, settler: Any, oid: int, market: str, rid: int | None = None) -> Any:
    """Settles order `oid` with round `rid` (found on the market's primary feed when not given)."""
    if rid is None:
        target, _ = settlement_times(protocol, oid)
        rid = find_round(protocol.feeds[market], target)
        if rid is None:
            raise LookupError(f"no round of the {market} feed at or after {target} yet")
    return protocol.orders.settleOrder(oid, rid, sender=settler)


def settle_batch(protocol: Any, settler: Any, oids: list[int], market: str) -> Any:
    """Settles orders `oids` of one market in one `settleOrders` call, named by the determining
    round of the first order's target time (it must determine every order's price: no round
    published between their target times)."""
    target, _ = settlement_times(protocol, oids[0])
    rid = find_round(protocol.feeds[market], target)
    if rid is None:
        raise LookupError(f"no round of the {market} feed at or after {target} yet")
    return protocol.orders.settleOrders(oids, rid, sender=settler)


def publish_current_round(protocol: Any, market: str, publisher: Any) -> None:
    """Mock feeds only: publishes the primary (and secondary) feed's current answer again, now —
    a fresh round at the current price, as a heartbeat would."""
    feeds = [protocol.feeds[market]]
    if market in protocol.secondary_feeds:
        feeds.append(protocol.secondary_feeds[market])
    for feed in feeds:
        feed.setAnswer(int(feed.latestRoundData()[1]), sender=publisher)


def trade(
    protocol: Any,
    chain: Any,
    owner: Any,
    account_id: int,
    market: str,
    size_delta: int,
    *,
    settler: Any,
    publisher: Any,
    acceptable_price: int | None = None,
) -> Any:
    """Local chains with mock feeds: commit, let the settlement delay pass, publish a fresh round at
    the current price, settle. Returns the settlement's receipt (OrderSettled or OrderCancelled)."""
    commit(protocol, owner, account_id, market, size_delta, acceptable_price)
    oid = order_id(account_id, protocol.market_ids[market])
    target, _ = settlement_times(protocol, oid)
    chain.mine(timestamp=max(target, chain.pending_timestamp))
    publish_current_round(protocol, market, publisher)
    return settle(protocol, settler, oid, market)


class OrderCancelled(AssertionError):
    """The order book cancelled a settled order instead of filling it: its `reason` code and the
    engine's refusal (`engine_error`, ABI-encoded; empty when the book refused it itself)."""

    def __init__(self, receipt: Any, order_id: int, reason: int, engine_error: bytes) -> None:
        super().__init__(f"order {order_id} cancelled: reason {reason}, 0x{engine_error.hex()}")
        self.receipt, self.order_id, self.reason, self.engine_error = (
            receipt,
            order_id,
            reason,
            engine_error,
        )


def trade_filled(
    protocol: Any,
    chain: Any,
    owner: Any,
    account_id: int,
    market: str,
    size_delta: int,
    operator: Any,
) -> Any:
    """`trade` with `operator` publishing the round and settling (it earns the settlement fee);
    raises `OrderCancelled` when the order book cancelled the order instead of filling it.
    Returns the settlement's receipt."""
    receipt = trade(
        protocol, chain, owner, account_id, market, size_delta, settler=operator, publisher=operator
    )
    for event in receipt.events.filter(protocol.orders.OrderCancelled):
        raise OrderCancelled(
            receipt, int(event.orderId), int(event.reason), bytes(event.engineError)
        )
    return receipt
