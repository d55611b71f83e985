"""The pool's cash, replayed transaction by transaction (issue 15): the engine's `poolCash` and
the traders' quote balances, moved by each event as the engine moves them, so that every profit
credit and every exposure check can be judged at the pool's cash of its own moment, not only at
the reads between steps.

Rules mirrored (contracts/engine/EngineBase.sol):
- `_moveQuote`: `poolCash -= Δmax(q, 0)` (the debt side is `accountDebt`, which the model does
  not need here);
- `_moveQuotePaying` (a fill's PnL less fees and funding, a liquidation's closure, a
  liquidation's funding): a positive change credits the account's gain in positive quote only up
  to `max(poolCash, 0)`, the rest is `ProfitUnpaid`;
- `_requireExposureBound`: a risk-increasing fill that grows |net| must keep
  `notional(net, fillPrice) <= max(poolCash, 0) * 1e12 * maxExposureRatio / 1e18`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solvent.model import margin as ref

WAD = 10**18


@dataclass(frozen=True)
class Exposure:
    """A fill's exposure check: the traders' net notional after it and the bound (WAD USD)."""

    exposure: int
    bound: int

    @property
    def exceeded(self) -> bool:
        return self.exposure > self.bound


def exposure_check(
    size_before: int, net_before: int, size_delta: int, price: int, pool_cash: int, ratio: int
) -> Exposure | None:
    """`_requireExposureBound` for a fill of `size_delta` at `price` of a position of
    `size_before` in a market whose traders' net size is `net_before`; None when the engine does
    not check (the fill does not increase the account's risk or does not grow |net|)."""
    if not ref.increases_risk(size_before, size_before + size_delta):
        return None
    net = net_before + size_delta
    if abs(net) <= abs(net_before):
        return None
    bound = max(pool_cash, 0) * ref.WAD_PER_QUOTE * ratio // WAD
    return Exposure(ref.notional(net, price), bound)


@dataclass
class CashReplay:
    """`poolCash` and the quote balances, from a read, moved by the events of the transactions
    since. `credits` records every profit credit as (cash before, gain asked, gain paid)."""

    pool_cash: int
    quotes: dict[int, int]
    credits: list[tuple[int, int, int]] = field(default_factory=list)
    unpaid: list[int] = field(default_factory=list)  # each profit credit's unpaid part, in order

    def move(self, account: int, delta: int) -> None:
        """`_moveQuote`."""
        before = self.quotes[account]
        after = before + delta
        self.pool_cash -= max(after, 0) - max(before, 0)
        self.quotes[account] = after

    def pay(self, account: int, delta: int) -> int:
        """`_moveQuotePaying`; returns the part not credited (`ProfitUnpaid`, 0 when none)."""
        unpaid = 0
        if delta > 0:
            before = self.quotes[account]
            gain = max(before + delta, 0) - max(before, 0)
            cash = max(self.pool_cash, 0)
            unpaid = max(gain - cash, 0)
            delta -= unpaid
            self.credits.append((self.pool_cash, gain, gain - unpaid))
            self.unpaid.append(unpaid)
        self.move(account, delta)
        return unpaid

    def lend(self, amount: int) -> None:
        """Quote leaving the pool's cash (a settlement fee paid to its settler, the insurance
        cut of a trade fee, an LP redemption) or entering it (negative)."""
        self.pool_cash -= amount
