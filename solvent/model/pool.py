"""Reference model of the LP pool's and the insurance fund's share prices (docs/pool.md), exact
integers with the contracts' rounding: `contracts/engine/LPPool.sol` (request execution) and
`contracts/insurance/InsuranceFund.sol` (request payouts, the exit-ready bound)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WAD = 10**18
DECIMALS_OFFSET = 6  # both vaults' extra share decimals
VIRTUAL_SHARES = 10**DECIMALS_OFFSET
EXIT_READY_DIVISOR = 9  # InsuranceFund.MAX_EXIT_READY_DIVISOR: window * 9 <= cooldown


def _trunc_div(a: int, b: int) -> int:
    """Solidity's signed division: rounds toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@dataclass(frozen=True)
class MarketMark:
    """One market's net trader size (WAD, long > 0), its current oracle price and the price of
    the request's determining round (WAD USD)."""

    net_size: int
    current_price: int
    round_price: int


def execution_value(
    pool_assets: int, wad_per_quote: int, marks: Iterable[MarketMark], round_up: bool
) -> int:
    """`LPPool._valueAt`: the engine's pool value (quote units) with each market's net trader
    position re-marked from the current price to the round's; up for a deposit (against the
    depositor), down for a redemption; 0 when not positive."""
    value = pool_assets * wad_per_quote
    for mark in marks:
        if mark.net_size:
            value += _trunc_div(mark.net_size * (mark.current_price - mark.round_price), WAD)
    if value <= 0:
        return 0
    return -(-value // wad_per_quote) if round_up else value // wad_per_quote


def deposit_shares(net_assets: int, supply: int, value: int) -> int:
    """Shares an executed deposit of `net_assets` (after the fee) buys, rounded down."""
    return net_assets * (supply + VIRTUAL_SHARES) // (value + 1)


def redeem_assets(shares: int, supply: int, value: int) -> int:
    """Assets an executed redemption of `shares` pays before the fee, rounded down."""
    return shares * (value + 1) // (supply + VIRTUAL_SHARES)


def execution_fee(amount: int, fee: int) -> int:
    """The executor's fee, capped by the request's assets."""
    return min(fee, amount)


@dataclass(frozen=True)
class Execution:
    """What one executed request moves: shares minted or burnt, assets credited to or paid by
    the pool's books, the executor's fee, and the claimable assets."""

    shares: int
    pool_assets_delta: int
    fee: int
    claimable_assets: int


def execute_deposit(assets: int, supply: int, value: int, fee: int) -> Execution:
    """`LPPool.executeDeposit` after the value: the fee first, shares for the rest."""
    paid = execution_fee(assets, fee)
    net = assets - paid
    return Execution(deposit_shares(net, supply, value), net, paid, assets)


def execute_redeem(shares: int, supply: int, value: int, fee: int) -> Execution:
    """`LPPool.executeRedeem` after the value: the shares' assets, the fee out of them."""
    assets = redeem_assets(shares, supply, value)
    paid = execution_fee(assets, fee)
    return Execution(shares, -assets, paid, assets - paid)


# ------------------------------------------------------------------ insurance fund


def convert_to_assets(shares: int, total_assets: int, supply: int) -> int:
    """ERC-4626 with the virtual offset, rounded down."""
    return shares * (total_assets + 1) // (supply + VIRTUAL_SHARES)


def insurance_payout(
    shares: int, total_assets: int, supply: int, request_assets: int, request_shares: int
) -> int:
    """`InsuranceFund.payoutOf`: the lower of the shares' value now and their pro-rata part of
    the value fixed at the request."""
    if request_shares == 0:
        return 0
    return min(
        convert_to_assets(shares, total_assets, supply),
        request_assets * shares // request_shares,
    )


def window_allowed(cooldown: int, window: int) -> bool:
    """`InsuranceFund._setCooldown`'s exit-ready bound: window / (cooldown + window) <= 10%."""
    return window * EXIT_READY_DIVISOR <= cooldown


def exit_ready_share_ppm(cooldown: int, window: int) -> int:
    """Share of a stake (ppm) a staker keeps exit-ready under rolling requests: W / (C + W)."""
    return window * 1_000_000 // (cooldown + window)
