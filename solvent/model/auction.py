"""Reference model of the Dutch-auction liquidator (contracts/liquidation), on exact integers.

Every function repeats the contract's arithmetic step by step, with the same rounding:
curve prices are floored, what a taker owes is rounded up (the taker pays for the protocol),
collateral handed out for a capped payment is rounded down, rewards are rounded down.

Units: prices are WAD USD per whole token; tabs, debts, penalties and rewards are quote-token
units; lots are collateral-token units. `scale = 10**(token_decimals + 18 - quote_decimals)`
converts `amount * price` into quote units.
"""

from __future__ import annotations

from dataclasses import dataclass

from solvent.model.fixed_point import WAD, mul_div_down, mul_div_up


class DustRemainder(Exception):
    """A partial take would leave 0 < tab < chost and the tab cannot be cut (tab <= chost)."""


def wad_pow(x: int, n: int) -> int:
    """x**n for a WAD fraction x <= WAD, floored at every step exactly as `WadPow.pow`."""
    z = x if n & 1 else WAD
    n >>= 1
    while n:
        x = x * x // WAD
        if x == 0:
            return 0
        if n & 1:
            z = z * x // WAD
        n >>= 1
    return z


def linear_price(start_price: int, elapsed: int, tau: int) -> int:
    """LinearDecrease: start_price * (tau - elapsed) / tau, floored; 0 from tau on."""
    if elapsed >= tau:
        return 0
    return mul_div_down(start_price, tau - elapsed, tau)


def exponential_price(start_price: int, elapsed: int, cut: int) -> int:
    """ExponentialDecrease: start_price * cut**elapsed (per second)."""
    return start_price * wad_pow(cut, elapsed) // WAD


def stairstep_price(start_price: int, elapsed: int, cut: int, step: int) -> int:
    """StairstepExponentialDecrease: start_price * cut**(elapsed // step)."""
    return start_price * wad_pow(cut, elapsed // step) // WAD


def start_price(oracle_price: int, buf: int) -> int:
    """Auction start price oracle * buf, rounded up (a higher start favours the account)."""
    return mul_div_up(oracle_price, buf, WAD)


def needs_reset(price: int, start: int, elapsed: int, tail: int, cusp: int) -> bool:
    """Stale (older than tail) or decayed below cusp * start price (compared without rounding)."""
    return elapsed > tail or price * WAD < cusp * start


def split_by_value(amount: int, values: list[int]) -> list[int]:
    """Split `amount` in proportion to `values`, floored, the last part taking the remainder.

    With a zero total value (every lot worthless at the oracle), the last lot takes it all.
    """
    total = sum(values)
    parts = [0 if total == 0 else mul_div_down(amount, v, total) for v in values[:-1]]
    parts.append(amount - sum(parts))
    return parts


def lot_value(lot: int, price: int, scale: int) -> int:
    """Quote value of a lot at `price`, floored."""
    return mul_div_down(lot, price, scale)


def keeper_reward(tips: list[int], chips: list[int], tabs: list[int], penalty: int) -> int:
    """Reward for starting auctions, paid once per liquidation:
    min(max_i tip_i + sum_i chip_i * tab_i, penalty), each chip product floored."""
    chip_part = sum(mul_div_down(c, t, WAD) for c, t in zip(chips, tabs, strict=True))
    return min(max(tips) + chip_part, penalty)


def reset_reward(
    tab: int, debt: int, value: int, chost: int, tip: int, chip: int, paid_before: int = 0
) -> int:
    """Reward for a reset: none on dust (tab or lot value below chost), else
    min(tip + chip * tab, (tab - debt) - paid_before): all resets of one auction together never
    pay more than its penalty part (`paid_before` is what its earlier resets were paid)."""
    if tab < chost or value < chost:
        return 0
    return min(tip + mul_div_down(chip, tab, WAD), max(tab - debt - paid_before, 0))


def room(global_hole: int, global_dirt: int, hole: int, dirt: int) -> int:
    """Tab that may start now: min(Hole - Dirt, hole - dirt), 0 when a cap is full (or was
    lowered below what already runs)."""
    return min(max(global_hole - global_dirt, 0), max(hole - dirt, 0))


@dataclass(frozen=True)
class Piece:
    lot: int
    tab: int
    debt: int


NO_PIECE = Piece(0, 0, 0)


def piece(lot: int, tab: int, debt: int, room_: int, chost: int) -> Piece:
    """The part of a waiting lot that starts within `room_` (Maker's dog.bark `room` rule).

    All of it when tab <= room; else t = room, cut to tab - chost when the rest would be below
    chost; nothing when t < chost (or 0) or the lot share floor(lot * t / tab) is 0 (NO_PIECE).
    The debt share floor(debt * t / tab) keeps debt <= tab for what keeps waiting."""
    if tab <= room_:
        return Piece(lot, tab, debt)
    t = room_
    if tab - t < chost:
        t = tab - chost if tab > chost else 0
    if t == 0 or t < chost:
        return NO_PIECE
    share = mul_div_down(lot, t, tab)
    if share == 0:
        return NO_PIECE
    return Piece(share, t, mul_div_down(debt, t, tab))


def dust_left(lot: int, tab: int, slice_: int, owe: int, price: int, scale: int, chost: int) -> int:
    """Lot a take leaves when it is dust: worth less than max(chost, 1) quote units at the take's
    price while tab is left. The take then clears it (to its receiver) and the auction ends,
    booking its remaining debt as bad debt; 0 when the auction goes on (or is over anyway)."""
    left = lot - slice_
    if left == 0 or owe >= tab:
        return 0
    return left if lot_value(left, price, scale) < max(chost, 1) else 0


@dataclass
class QueuedLot:
    """A handed-off lot waiting for room: what still waits, pieces running, leftover kept."""

    lot: int
    tab: int
    debt: int
    pieces: int = 0
    leftover: int = 0

    def start(self, p: Piece) -> None:
        """Moves piece `p` out of the waiting lot into a running auction."""
        self.lot -= p.lot
        self.tab -= p.tab
        self.debt -= p.debt
        self.pieces += 1

    def end_piece(self, returned: int) -> tuple[bool, int]:
        """A piece ended leaving `returned` collateral (tab paid). Returns (ended, returned to the
        account): the engine hears of the end, with every leftover, only when this was the last
        piece and nothing still waits; before that the leftover is kept."""
        self.pieces -= 1
        self.leftover += returned
        if self.pieces == 0 and self.lot == 0:
            return True, self.leftover
        return False, 0


@dataclass(frozen=True)
class TakeResult:
    slice: int
    owe: int
    debt_repaid: int
    penalty_paid: int
    lot_left: int
    tab_left: int
    debt_left: int
    dust: int = 0  # lot cleared with the slice (to the receiver) because it was dust


def take(
    lot: int, tab: int, debt: int, price: int, scale: int, max_amount: int, chost: int
) -> TakeResult:
    """One take at `price`: buys min(lot, max_amount), pays at most the tab, never leaves
    0 < tab < chost on a partial take (Maker's chost rule). Debt is repaid before penalty. A lot
    left worth less than max(chost, 1) at `price` while tab is left is dust: the take clears it
    too (`dust`, to the receiver) and the auction ends with `lot_left == 0`."""
    slice_ = min(lot, max_amount)
    owe = mul_div_up(slice_, price, scale)
    if owe > tab:
        owe = tab
        slice_ = mul_div_down(owe, scale, price)
    elif owe < tab and slice_ < lot and tab - owe < chost:
        if tab <= chost:
            raise DustRemainder
        owe = tab - chost
        slice_ = mul_div_down(owe, scale, price)
    debt_repaid = min(owe, debt)
    dust = dust_left(lot, tab, slice_, owe, price, scale, chost)
    return TakeResult(
        slice=slice_,
        owe=owe,
        debt_repaid=debt_repaid,
        penalty_paid=owe - debt_repaid,
        lot_left=lot - slice_ - dust,
        tab_left=tab - owe,
        debt_left=debt - debt_repaid,
        dust=dust,
    )
