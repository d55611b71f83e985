"""The keeper's side of auto-deleveraging (docs/pool.md, "Auto-deleveraging"): from the engine's
views, is a market's traders' PnL above the trigger, and which accounts to list.

Pure, like `solvent.keeper.lp_requests`: the bot reads the views in batches and this module runs
the reference model (solvent/model/adl.py) on them. The contract checks every entry and sizes
every cut itself; the list is the model's plan (ranking by profit x leverage, net side, in
profit, stopping at the account whose cut reaches the target), computed at the head the
simulation runs on.
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
    params: adl.AdlParams


def snapshot(ledger: Any, borrow: Any, params: Any, insurance_assets: int) -> AdlSnapshot:
    """From `ledger()`, `borrowState()` (accrued to the head), `adlParams()` and the insurance
    fund's `totalAssets()` (0 when no debt is under auction)."""
    return AdlSnapshot(
        adl.pool_value_without_pnl(adl.ledger_from_views(ledger, borrow, insurance_assets)),
        adl.AdlParams(int(params.trigger), int(params.target), bool(params.armed)),
    )


def due(market: Any, price: int, now: int, pool: AdlSnapshot) -> adl.Book | None:
    """The market's book when its factor is above the trigger (ADL is due), else None."""
    book = adl.book_from_market(market, price, now)
    if adl.factor(book, pool.pool_value) <= pool.params.trigger:
        return None
    return book


def accounts_to_list(
    book: adl.Book,
    positions: Mapping[int, Any],
    equity: Mapping[int, int],
    pool: AdlSnapshot,
) -> list[int]:
    """The plan: `positions` are `positions(account, market)` views, `equity` each account's
    maintenance equity (`healthOf`)."""
    held = {a: adl.position_from_view(p) for a, p in positions.items()}
    held = {a: p for a, p in held.items() if p.size}
    return adl.plan(book, held, pool.pool_value, equity, pool.params)


def decode_call(data: str) -> tuple[int, list[int]]:
    """(market, accounts) of `autoDeleverage` calldata (the engine's stub names no arguments)."""
    market, accounts = decode(["uint256", "uint256[]"], bytes.fromhex(data.removeprefix("0x")[8:]))
    return int(market), [int(a) for a in accounts]
