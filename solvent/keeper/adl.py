"""The keeper's side of auto-deleveraging (docs/pool.md, "Auto-deleveraging"; docs/keeper.md): from
the engine's views, is the pool's factor above the trigger, which market to cut and which accounts
to list.

The factor is the whole pool's: every market's traders' profit (each market's net PnL T_k counted
when positive) over the pool's value without the traders' PnL G. So the keeper reads every market's
book at the head, picks the market with the largest T_k (cutting it lowers the factor most per
dollar, and a market not in profit cannot be cut: `AdlMarketNotInProfit`) and passes the other
markets' profit O to the model. A run that ends above the target (the market's traders ran out of
profit first) arms the next: the next check sees the remaining markets, still above the target,
and continues on the next largest.

Pure, like `solvent.keeper.lp_requests`: the bot reads the views in batches and this module runs
the reference model (solvent/model/adl.py) on them. The contract checks every entry and sizes
every cut itself; the list is the model's plan (ranking by profit x leverage, net side, in
profit, stopping at the account whose cut reaches the target), computed at the head.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import decode

from solvent.model import adl


@dataclass(frozen=True)
class AdlSnapshot:
    """The pool's side of the factor, shared by every market of one step."""

    pool_value: int  # G, WAD USD
    params: adl.AdlParams  # the thresholds and `armed`
    short: int = 0  # the residual shortfall (quote units): debt in auction beyond the fund

    @property
    def trigger(self) -> int:
        """The factor a run must exceed now (the target while short or armed)."""
        return adl.trigger_of(self.params, self.short)


@dataclass(frozen=True)
class Due:
    """The market to deleverage now: its book and the other markets' profit O (WAD USD)."""

    market: int
    book: adl.Book
    others: int
    factor: int  # the pool's factor (WAD)


def snapshot(ledger: Any, borrow: Any, params: Any, insurance_assets: int) -> AdlSnapshot:
    """From `ledger()`, `borrowState()` (accrued to the head), `adlParams()` and the insurance
    fund's `totalAssets()` (0 when no debt is under auction)."""
    pool = adl.ledger_from_views(ledger, borrow, insurance_assets)
    return AdlSnapshot(
        adl.pool_value_without_pnl(pool),
        adl.AdlParams(int(params.trigger), int(params.target), bool(params.armed)),
        adl.shortfall(pool),
    )


def books(
    markets: Mapping[int, Any], prices: Mapping[int, int | None], now: int
) -> dict[int, adl.Book] | None:
    """Every market's book at `now` from its `markets(id)` view and its oracle price; None when a
    market with open interest has no price (the contract's run reads every such market's price
    and would revert). Without open interest the net size is 0, so T does not depend on the
    price (the engine skips the read when the market's aggregates are all 0)."""
    out = {}
    for market_id, market in markets.items():
        price = prices.get(market_id)
        if price is not None:
            out[market_id] = adl.book_from_market(market, price, now)
        elif int(market.longOpenInterest) or int(market.shortOpenInterest):
            return None
        else:
            out[market_id] = adl.Book(
                0, int(market.netOpenNotional), int(market.fundingEntrySum), 0, 0
            )
    return out


def profits(books: Mapping[int, adl.Book]) -> dict[int, int]:
    """Each market's traders' PnL T (WAD USD)."""
    return {m: adl.market_pnl(b) for m, b in books.items()}


def pool_factor(books: Mapping[int, adl.Book], pool: AdlSnapshot) -> int:
    """The pool's factor P / G (WAD, the contract's rounding up): the same whichever market's run
    measures it, since that market's `rest + T` is G and its `others + max(T, 0)` is P."""
    return adl.pnl_factor(0, pool.pool_value, adl.others_profit(books.values()))


def candidates(books: Mapping[int, adl.Book], pool: AdlSnapshot) -> list[Due]:
    """The markets a run may cut now, largest traders' PnL first (ties by market id): [] when the
    pool's factor is at or below the trigger (the target while short or armed); else every market
    whose traders are in profit, each with the other markets' profit."""
    pnls = profits(books)
    profit = sum(max(p, 0) for p in pnls.values())
    due = []
    for market in sorted((m for m, p in pnls.items() if p > 0), key=lambda m: (-pnls[m], m)):
        others = profit - pnls[market]
        current = adl.factor(books[market], pool.pool_value, others)
        if current <= pool.trigger:
            return []  # the same pool factor for every market: none is due
        due.append(Due(market, books[market], others, current))
    return due


def accounts_to_list(
    due: Due,
    positions: Mapping[int, Any],
    equity: Mapping[int, int],
    pool: AdlSnapshot,
) -> list[int]:
    """The plan for `due.market`: `positions` are `positions(account, market)` views, `equity`
    each account's maintenance equity (`healthOf`)."""
    held = {a: adl.position_from_view(p) for a, p in positions.items()}
    held = {a: p for a, p in held.items() if p.size}
    return adl.plan(due.book, held, pool.pool_value, equity, pool.params, due.others, pool.short)


def decode_call(data: str) -> tuple[int, list[int]]:
    """(market, accounts) of `autoDeleverage` calldata (the engine's stub names no arguments)."""
    market, accounts = decode(["uint256", "uint256[]"], bytes.fromhex(data.removeprefix("0x")[8:]))
    return int(market), [int(a) for a in accounts]
