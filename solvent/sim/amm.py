"""The simulator's exchange: constant-product pools (contracts/mocks/MockAmm.sol), one per
collateral token against the quote token, re-centred every block at the path's price with a finite
depth (arbitrageurs against a deeper outside market). A keeper that sells what it took within one
block moves the price along the curve: the slippage of a liquidator dumping seized collateral.
Exact integers, the contract's rounding."""

from __future__ import annotations

from dataclasses import dataclass

BPS = 10_000
WAD = 10**18


@dataclass(frozen=True)
class ExchangeSpec:
    """Each collateral's pool: `depth_usd` of quote against as much of the token at the path's
    price, re-centred every block; `fee_bps` taken on the input (Uniswap v2: 30)."""

    depth_usd: float = 5_000_000
    fee_bps: int = 30


@dataclass(frozen=True)
class Pool:
    token_reserve: int
    quote_reserve: int


def scale(token_decimals: int, quote_decimals: int) -> int:
    """Token units · WAD price / scale = quote units."""
    return 10 ** (token_decimals + 18 - quote_decimals)


def synced(price_wad: int, quote_depth: int, scale_: int) -> Pool:
    """`MockAmm.sync`: `quote_depth` against the token amount worth as much at `price_wad`."""
    return Pool(quote_depth * scale_ // price_wad, quote_depth)


def quote_out(pool: Pool, amount_in: int, fee_bps: int) -> int:
    """`MockAmm.quoteOut`: x·y = k with the fee taken on the input, rounded down."""
    after_fee = amount_in * (BPS - fee_bps)
    return pool.quote_reserve * after_fee // (pool.token_reserve * BPS + after_fee)


def after_sale(pool: Pool, amount_in: int, fee_bps: int) -> Pool:
    out = quote_out(pool, amount_in, fee_bps)
    return Pool(pool.token_reserve + amount_in, pool.quote_reserve - out)


def largest_profitable_amount(
    pool: Pool, fee_bps: int, price_wad: int, scale_: int, margin: float, limit: int
) -> int:
    """The largest amount (≤ `limit`) whose sale on `pool` returns at least (1 + margin) times
    what buying it at `price_wad` costs: the proceeds are concave in the amount and the cost
    linear, so the profitable amounts are [0, a*]; a* by bisection on exact integers."""
    if limit <= 0 or price_wad <= 0:
        return 0

    def pays(amount: int) -> bool:
        cost = -(-amount * price_wad // scale_)  # the auction rounds the owed quote up
        return quote_out(pool, amount, fee_bps) * BPS >= cost * round(BPS * (1 + margin))

    if pays(limit):
        return limit
    low, high = 0, limit  # pays(low) (vacuously for 0), not pays(high)
    while high - low > 1:
        mid = (low + high) // 2
        if pays(mid):
            low = mid
        else:
            high = mid
    return low
