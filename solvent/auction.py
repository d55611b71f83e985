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

from solvent.fixed_point import WAD, mul_div_down, mul_div_up


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


def reset_reward(tab: int, debt: int, value: int, chost: int, tip: int, chip: int) -> int:
    """Reward for a reset: none on dust (tab or lot value below chost), else
    min(tip + chip * tab, tab - debt) so a reset never pays more than the auction's penalty part."""
    if tab < chost or value < chost:
        return 0
    return min(tip + mul_div_down(chip, tab, WAD), tab - debt)


@dataclass(frozen=True)
class TakeResult:
    slice: int
    owe: int
    debt_repaid: int
    penalty_paid: int
    lot_left: int
    tab_left: int
    debt_left: int


def take(
    lot: int, tab: int, debt: int, price: int, scale: int, max_amount: int, chost: int
) -> TakeResult:
    """One take at `price`: buys min(lot, max_amount), pays at most the tab, never leaves
    0 < tab < chost on a partial take (Maker's chost rule). Debt is repaid before penalty."""
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
    return TakeResult(
        slice=slice_,
        owe=owe,
        debt_repaid=debt_repaid,
        penalty_paid=owe - debt_repaid,
        lot_left=lot - slice_,
        tab_left=tab - owe,
        debt_left=debt - debt_repaid,
    )
