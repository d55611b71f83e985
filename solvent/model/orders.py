"""Reference model of the order book (contracts/orders/OrderMath.sol, OrderBook.sol): exact
integers, the contracts' rounding (always against the trader), and the rule that picks the round
settling an order.

Units: prices, sizes and notionals are WADs; fees are quote units (6 decimals). A buy's fill price
rounds up and a sell's down; every fee rounds up (docs/orders.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from solvent.model.fixed_point import BPS, WAD, mul_div_down, mul_div_up

WAD_TIMES_WAD_PER_QUOTE = 10**30
WAD_PER_QUOTE = 10**12
PHASE_OFFSET = 64


def fill_price(oracle_price: int, skew: int, skew_scale: int, size_delta: int) -> int | None:
    """`oracle * (1 + (skew + size/2) / skewScale)` as `oracle * (2S + 2s + δ) / 2S`, one rounding
    (up for a buy, down for a sell); None when the premium takes the price to zero or below."""
    if skew_scale == 0:
        return oracle_price
    numerator = 2 * skew_scale + 2 * skew + size_delta
    if numerator <= 0:
        return None
    rounding = mul_div_up if size_delta > 0 else mul_div_down
    price = rounding(oracle_price, numerator, 2 * skew_scale)
    return price if price != 0 else None


def maker_taker_sizes(skew: int, size_delta: int) -> tuple[int, int]:
    """The part of a fill that reduces |skew| (maker) and the part that extends it (taker)."""
    size = abs(size_delta)
    against = (skew > 0 and size_delta < 0) or (skew < 0 and size_delta > 0)
    maker = min(size, abs(skew)) if against else 0
    return maker, size - maker


def notional(size: int, price: int) -> int:
    """size * price (WAD, up)."""
    return mul_div_up(size, price, WAD)


def fee(notional_wad: int, rate: int) -> int:
    """notional * rate in quote units (up)."""
    return mul_div_up(notional_wad, rate, WAD_TIMES_WAD_PER_QUOTE)


def trade_fee(skew: int, size_delta: int, price: int, maker_rate: int, taker_rate: int) -> int:
    """Each part of the fill at its rate, on its notional at the fill price."""
    maker, taker = maker_taker_sizes(skew, size_delta)
    return fee(notional(maker, price), maker_rate) + fee(notional(taker, price), taker_rate)


def commit_margin(
    size: int, reference_price: int, commit_margin_bps: int, taker_rate: int, settlement_fee: int
) -> int:
    """The commit pre-check's margin (WAD USD) for a risk-increasing order."""
    order_notional = notional(size, reference_price)
    return (
        mul_div_up(order_notional, commit_margin_bps, BPS)
        + mul_div_up(order_notional, taker_rate, WAD)
        + settlement_fee * WAD_PER_QUOTE
    )


@dataclass(frozen=True)
class Settlement:
    """What a settlement does with an order: the fill price (None: not priceable) and its fee."""

    fill_price: int | None
    trade_fee: int
    acceptable: bool


def settle(
    oracle_price: int,
    skew: int,
    skew_scale: int,
    size_delta: int,
    acceptable_price: int,
    maker_rate: int,
    taker_rate: int,
) -> Settlement:
    """The fill price and fee of a settlement, and whether the acceptable price holds (a buy fills
    at most at it, a sell at least)."""
    price = fill_price(oracle_price, skew, skew_scale, size_delta)
    if price is None:
        return Settlement(None, 0, False)
    ok = price <= acceptable_price if size_delta > 0 else price >= acceptable_price
    fee_due = trade_fee(skew, size_delta, price, maker_rate, taker_rate) if ok else 0
    return Settlement(price, fee_due, ok)


# ------------------------------------------------------------------ rounds


def round_id(phase: int, aggregator_round: int) -> int:
    """Chainlink proxy round id: phaseId << 64 | aggregatorRoundId."""
    return phase << PHASE_OFFSET | aggregator_round


def parse_round_id(rid: int) -> tuple[int, int]:
    return rid >> PHASE_OFFSET, rid & (2**PHASE_OFFSET - 1)


def determining_round(rounds: Sequence[tuple[int, int]], target_time: int) -> int | None:
    """The round that settles an order with `target_time`: the first, in the proxy's order
    (phase, then aggregator round), with updatedAt >= target. `rounds` is (roundId, updatedAt) in
    that order; None when no round has reached the target yet."""
    for rid, updated_at in rounds:
        if updated_at >= target_time:
            return rid
    return None
