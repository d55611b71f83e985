"""The keeper's side of two-step orders (contracts/orders/OrderBook.sol, docs/orders.md): which
orders are pending, which can be settled now and with which feed round, which have expired.

Everything here is pure (no RPC): the bot feeds it the order book's events and each market's
latest feed round, and asks it for work. The round search walks back from the latest round through
a `fetch` callback the bot answers with one batched JSON-RPC request per walk step.

The settlement rule mirrored here: an order committed at `commitTime` settles with the first round
of its market's primary feed (in the proxy's order: phase, then aggregator round) whose
`updatedAt >= commitTime + settlementDelay` (its target time), while `block.timestamp <= target +
settlementWindow` (its expiry); after expiry anyone may cancel it. Order ids are
`accountId << 8 | marketId`: one pending order per account and market, and a commit after expiry
replaces the expired order (the book emits `OrderCancelled` then `OrderCommitted`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

PHASE_OFFSET = 64
AGGREGATOR_ROUND_MASK = 2**PHASE_OFFSET - 1
WALK_BATCH = 8  # rounds read per request when walking back (doubling each step)

# Chainlink's AggregatorV3 (proxy) functions the keeper reads, plus the proxy's phase lookup:
# enough to read any push feed, mock or real, without the mock's ABI.
_ROUND_OUTPUTS = [
    {"name": "roundId", "type": "uint80"},
    {"name": "answer", "type": "int256"},
    {"name": "startedAt", "type": "uint256"},
    {"name": "updatedAt", "type": "uint256"},
    {"name": "answeredInRound", "type": "uint80"},
]
AGGREGATOR_ABI = [
    {
        "type": "function",
        "name": "latestRoundData",
        "stateMutability": "view",
        "inputs": [],
        "outputs": _ROUND_OUTPUTS,
    },
    {
        "type": "function",
        "name": "getRoundData",
        "stateMutability": "view",
        "inputs": [{"name": "roundId", "type": "uint80"}],
        "outputs": _ROUND_OUTPUTS,
    },
    {
        "type": "function",
        "name": "phaseAggregators",
        "stateMutability": "view",
        "inputs": [{"name": "phaseId", "type": "uint16"}],
        "outputs": [{"name": "", "type": "address"}],
    },
]


def order_id(account_id: int, market_id: int) -> int:
    return account_id << 8 | market_id


def market_of(oid: int) -> int:
    return oid & 0xFF


def parse_round_id(rid: int) -> tuple[int, int]:
    """(phase, aggregator round) of a proxy round id."""
    return rid >> PHASE_OFFSET, rid & AGGREGATOR_ROUND_MASK


def round_id(phase: int, aggregator_round: int) -> int:
    return phase << PHASE_OFFSET | aggregator_round


@dataclass(frozen=True)
class PendingOrder:
    order_id: int
    account_id: int
    market_id: int
    target_time: int  # commitTime + settlementDelay: the first round at or after it settles it
    commit_block: int


@dataclass(frozen=True)
class Round:
    round_id: int
    updated_at: int


@dataclass
class OrderIndex:
    """Pending orders, kept from the order book's events applied in chain order."""

    windows: dict[int, int] = field(default_factory=dict)  # market id -> settlement window (s)
    pending: dict[int, PendingOrder] = field(default_factory=dict)

    def committed(self, order: PendingOrder) -> None:
        self.pending[order.order_id] = order

    def closed(self, oid: int) -> None:
        """Settled (filled, or cancelled at settlement) or cancelled after expiry."""
        self.pending.pop(oid, None)

    def expiry(self, order: PendingOrder) -> int | None:
        window = self.windows.get(order.market_id)
        return None if window is None else order.target_time + window

    def due(
        self, head_timestamp: int, latest: dict[int, Round | None]
    ) -> tuple[list[PendingOrder], list[PendingOrder]]:
        """(orders whose price exists, orders expired) at a head with `head_timestamp`, given the
        latest round of each market's primary feed (None: unreadable). The next block is later
        than the head, and the keeper simulates at the head: an order is priced once the latest
        round has reached its target time while the head is before its expiry (a settlement
        needs `block.timestamp <= expiry`), expired once the head is past its expiry (a cancel
        needs `block.timestamp > expiry`); at its expiry exactly it is left for the next block.
        Orders of a market whose window is unknown are never expired. Both lists are in
        order-id order."""
        priced, expired = [], []
        for oid in sorted(self.pending):
            order = self.pending[oid]
            expiry = self.expiry(order)
            if expiry is not None and head_timestamp > expiry:
                expired.append(order)
                continue
            if expiry is not None and head_timestamp >= expiry:
                continue
            last = latest.get(order.market_id)
            if last is not None and last.updated_at >= order.target_time:
                priced.append(order)
        return priced, expired


# fetch(round ids) -> {round id: updatedAt}; a round the feed does not have is left out
RoundFetch = Callable[[list[int]], dict[int, int]]
# phase_last(phase) -> that ended phase's last round, None when it has none (or no such phase)
PhaseLast = Callable[[int], Round | None]


def determining_rounds(
    latest: Round, targets: Iterable[int], fetch: RoundFetch, phase_last: PhaseLast
) -> dict[int, int]:
    """For each target time reached by `latest`, the id of the first round at or after it: the
    round whose `updatedAt >= target` and whose predecessor's is earlier (or that has none). Walks
    back from `latest` once for all targets (rounds are in time order), reading `WALK_BATCH`
    rounds per `fetch` and doubling, and crosses into an ended phase through `phase_last`."""
    wanted = sorted({t for t in targets if t <= latest.updated_at}, reverse=True)
    found: dict[int, int] = {}
    if not wanted:
        return found
    walk = _Walk(latest, fetch, phase_last)
    newer = latest  # the earliest round seen so far at or after every remaining target
    for previous in walk:
        while wanted and previous.updated_at < wanted[0]:
            found[wanted.pop(0)] = newer.round_id
        if not wanted:
            return found
        newer = previous
    for target in wanted:  # the feed's first round is the determining one
        found[target] = newer.round_id
    return found


class _Walk:
    """The rounds before `latest`, newest first, read in batches."""

    def __init__(self, latest: Round, fetch: RoundFetch, phase_last: PhaseLast) -> None:
        self.latest = latest
        self.fetch = fetch
        self.phase_last = phase_last

    def __iter__(self):  # type: ignore[no-untyped-def]
        current = self.latest
        batch = WALK_BATCH
        while True:
            phase, aggregator_round = parse_round_id(current.round_id)
            if aggregator_round <= 1:
                previous = self._earlier_phase(phase)
                if previous is None:
                    return
                yield previous
                current = previous
                continue
            ids = [
                round_id(phase, r)
                for r in range(aggregator_round - 1, max(aggregator_round - 1 - batch, 0), -1)
            ]
            times = self.fetch(ids)
            for rid in ids:
                if rid not in times:
                    return  # a gap: the feed cannot say what came before
                current = Round(rid, times[rid])
                yield current
            batch *= 2

    def _earlier_phase(self, phase: int) -> Round | None:
        for earlier in range(phase - 1, -1, -1):
            last = self.phase_last(earlier)
            if last is not None:
                return last
        return None
