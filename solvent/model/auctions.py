"""The Dutch-auction liquidator as the campaign's exact world drives it
(contracts/liquidation/DutchAuctionLiquidator.sol): lots started by a liquidation's hand-off,
takes, resets and the settlement each sends the engine. Every formula is solvent.model.auction's;
this module keeps the running auctions and orders the steps as the contract does.

Not modelled: queued lots (a lot whose tab exceeds the room under the caps; the campaign's books
are far below the local caps and `start` refuses one that is not), cancels, the breaker levels,
take callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solvent.config import AuctionSpec
from solvent.model import auction as ref

WAD = ref.WAD


class OutOfScope(RuntimeError):
    """The episode reached a part of the liquidator the model does not cover (a queued lot)."""


@dataclass(frozen=True)
class LotRules:
    """One collateral's auction parameters (`DutchAuctionLiquidator.collaterals`)."""

    token: str  # asset key
    scale: int  # 10**(token decimals + 18 - quote decimals)
    buf: int
    tail: int
    cusp: int
    chip: int
    tip: int
    chost: int
    hole: int
    cut: int  # stairstep curve: cut per `step` seconds
    step: int

    @classmethod
    def of(cls, key: str, spec: AuctionSpec, token_decimals: int, quote_decimals: int) -> LotRules:
        if spec.curve.kind != "stairstep":
            raise OutOfScope(f"{key}: the model prices the stairstep curve only")
        return cls(
            key,
            10 ** (token_decimals + 18 - quote_decimals),
            spec.buf,
            spec.tail,
            spec.cusp,
            spec.chip,
            spec.tip,
            spec.chost,
            spec.hole,
            spec.curve.cut,
            spec.curve.step,
        )

    def price(self, start_price: int, elapsed: int) -> int:
        return ref.stairstep_price(start_price, elapsed, self.cut, self.step)


@dataclass
class Auction:
    account: int
    token: str
    lot: int
    tab: int
    debt: int
    start_price: int
    start_time: int
    reset_paid: int = 0  # rewards its resets were paid so far (`ResetBook.paid`)


@dataclass(frozen=True)
class Settlement:
    """What a take sends the engine (`IAuctionSettlement.Settlement`)."""

    account: int
    token: str
    released: int
    debt_repaid: int
    penalty_paid: int
    bad_debt: int = 0
    returned: int = 0
    ended: bool = False


@dataclass(frozen=True)
class TakeEvent:
    """A `Take` event's fields that the referee compares (with the auction's account, token)."""

    account: int
    token: str
    price: int
    slice: int
    owe: int


@dataclass
class Liquidator:
    lots: dict[str, LotRules]
    global_hole: int
    auctions: list[Auction] = field(default_factory=list)  # running, in start order
    global_dirt: int = 0
    dirt: dict[str, int] = field(default_factory=dict)

    def running(self, account: int, token: str) -> Auction | None:
        return next((a for a in self.auctions if (a.account, a.token) == (account, token)), None)

    def status(self, a: Auction, now: int) -> tuple[int, bool]:
        """(price now, needs a reset), as `status` reads them."""
        rules = self.lots[a.token]
        elapsed = now - a.start_time
        price = rules.price(a.start_price, elapsed)
        return price, ref.needs_reset(price, a.start_price, elapsed, rules.tail, rules.cusp)

    def start(
        self,
        account: int,
        lots: list[tuple[str, int, int]],
        debt: int,
        penalty: int,
        now: int,
    ) -> int:
        """`startAuctions`: `lots` are (token, amount, oracle price); debt and the unpaid penalty
        split over them by value (floored, the last takes the rest). Returns the keeper's reward
        owed (`min(max tip + Σ chip · tab, penalty)`), which the fund pays."""
        values = [ref.lot_value(amount, price, self.lots[t].scale) for t, amount, price in lots]
        debts = ref.split_by_value(debt, values)
        penalties = ref.split_by_value(penalty, values)
        tip, chips = 0, 0
        for (token, amount, price), d, p in zip(lots, debts, penalties, strict=True):
            rules = self.lots[token]
            tab = d + p
            tip = max(tip, rules.tip)
            chips += rules.chip * tab // WAD
            room = ref.room(self.global_hole, self.global_dirt, rules.hole, self.dirt.get(token, 0))
            if tab > room:
                raise OutOfScope(f"a lot of {token} waits for room under the caps (queued)")
            self.dirt[token] = self.dirt.get(token, 0) + tab
            self.global_dirt += tab
            start_price = ref.start_price(price, rules.buf)
            self.auctions.append(Auction(account, token, amount, tab, d, start_price, now))
        return min(tip + chips, penalty)

    def take(
        self, a: Auction, max_amount: int, max_price: int, now: int
    ) -> tuple[TakeEvent, Settlement] | None:
        """`take(id, max_amount, max_price, keeper, "")`; None where it reverts (needs a reset,
        zero price, above `max_price`, a dust remainder)."""
        rules = self.lots[a.token]
        price, stale = self.status(a, now)
        if stale or price == 0 or price > max_price:
            return None
        try:
            t = ref.take(a.lot, a.tab, a.debt, price, rules.scale, max_amount, rules.chost)
        except ref.DustRemainder:
            return None
        event = TakeEvent(a.account, a.token, price, t.slice, t.owe)
        ended = t.tab_left == 0 or t.lot_left == 0
        out = t.owe + t.tab_left if ended else t.owe
        self.dirt[a.token] -= out
        self.global_dirt -= out
        a.lot, a.tab, a.debt = t.lot_left, t.tab_left, t.debt_left
        settlement = Settlement(a.account, a.token, t.slice + t.dust, t.debt_repaid, t.penalty_paid)
        if ended:
            self.auctions.remove(a)
            if a.tab == 0:
                settlement = _ended(settlement, returned=a.lot)
            else:
                settlement = _ended(settlement, bad_debt=a.debt)
        return event, settlement

    def reset(self, a: Auction, oracle_price: int, now: int) -> int | None:
        """`reset(id, keeper)`: restarts a stale auction at the oracle times `buf`; returns the
        reward owed (the fund pays what it can: the caller books `paid`); None where it reverts
        (not resettable)."""
        rules = self.lots[a.token]
        if not self.status(a, now)[1]:
            return None
        a.start_time = now
        a.start_price = ref.start_price(oracle_price, rules.buf)
        value = ref.lot_value(a.lot, oracle_price, rules.scale)
        return ref.reset_reward(
            a.tab, a.debt, value, rules.chost, rules.tip, rules.chip, a.reset_paid
        )


def _ended(s: Settlement, returned: int = 0, bad_debt: int = 0) -> Settlement:
    return Settlement(
        s.account, s.token, s.released, s.debt_repaid, s.penalty_paid, bad_debt, returned, True
    )
