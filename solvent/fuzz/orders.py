"""The order book's part of the shadow model: the rounds each primary feed published, the orders
committed and not yet settled or cancelled, and the round that each order's commit determines.

The price of a settlement is fully determined by the commit: the first round of the market's
primary feed whose `updatedAt` is at or after `targetTime = commitTime + settlementDelay`
(docs/orders.md). The model keeps every round the feeds published (the machine is the only one
publishing), so it names that round itself and checks the chain settled at it, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solvent.abi import Record
from solvent.fuzz.system import OrderParams
from solvent.model import orders as order_ref
from solvent.orders import order_id

__all__ = ["OrderShadow", "PendingOrder", "Round", "order_id"]


@dataclass(frozen=True)
class Round:
    round_id: int
    answer: int  # in the feed's decimals
    updated_at: int


@dataclass(frozen=True)
class PendingOrder:
    order_id: int
    account: int
    market: int
    size_delta: int
    acceptable_price: int
    commit_time: int
    target_time: int

    @classmethod
    def of(cls, a: Record) -> PendingOrder:
        """From an `OrderCommitted` event's arguments."""
        return cls(
            a.orderId,
            a.accountId,
            a.marketId,
            a.sizeDelta,
            a.acceptablePrice,
            a.commitTime,
            a.targetTime,
        )


@dataclass
class OrderShadow:
    """Rounds by market and the pending orders, advanced by the machine's reads and the events."""

    params: dict[int, OrderParams]
    rounds: dict[int, list[Round]]  # market id -> its primary feed's rounds, oldest first
    pending: dict[int, PendingOrder] = field(default_factory=dict)

    def expiry(self, order: PendingOrder) -> int:
        """The last second it can settle; after it anyone may cancel it."""
        return order.target_time + self.params[order.market].settlement_window

    def see_round(self, market: int, latest: Round) -> None:
        """Records the primary feed's latest round if it is new (read after every step: the
        machine publishes at most one round per feed and step)."""
        known = self.rounds[market]
        if not known or latest.round_id != known[-1].round_id:
            known.append(latest)

    def determined(self, order: PendingOrder) -> Round | None:
        """The round the commit determined (solvent.model.orders), None while unpublished."""
        rounds = self.rounds[order.market]
        chosen = order_ref.determining_round(
            [(r.round_id, r.updated_at) for r in rounds], order.target_time
        )
        return next((r for r in rounds if r.round_id == chosen), None)

    def latest(self, market: int) -> Round:
        return self.rounds[market][-1]
