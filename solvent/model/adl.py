"""Reference model of auto-deleveraging (issue 15 item 4; docs/pool.md, "Auto-deleveraging"): the
specification the engine's `adl(...)` mirrors, on exact integers with the contracts' rounding.

A *side* is one market's longs or shorts. Its PnL-to-pool factor is the side's unrealized PnL
(the engine's aggregate form, `_traderPnlAndNetNotional` restricted to the side) over the pool's
value (`poolAssets()`, less any shortfall the insurance fund cannot cover). Above the trigger,
profitable positions of the side are closed at the oracle price, best score (PnL x leverage)
first, until the factor is at or below the target; the last one by the smallest size that gets
there. Closing at the oracle price moves the position's PnL from the side's unrealized PnL into
the trader's quote, paid by the pool's cash: the pool's value stays the same up to rounding, and
the factor falls. Every close is the engine's own fill (`EngineBooks.fill`, fee 0), so the books
after a cut, and the factor measured on them, are exactly the engine's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from solvent import margin
from solvent.model import funding as fm
from solvent.model.ledger import EngineBooks

WAD = margin.WAD
WAD_PER_QUOTE = margin.WAD_PER_QUOTE
TRIGGER_FACTOR = 85 * WAD // 100  # GMX v2 maxPnlFactorForAdl: ADL only while factor > 0.85
TARGET_FACTOR = 77 * WAD // 100  # GMX v2 minPnlFactorAfterAdl: reduce until factor <= 0.77
MAX_FACTOR = 2**256 - 1  # a side in profit against a pool worth nothing
MAX_LEVERAGE = 2**256 - 1  # an account with equity <= 0


class AdlError(StrEnum):
    """Why `check` refuses a keeper's list: the future contract's custom errors, same names."""

    NOT_TRIGGERED = "AdlNotTriggered"  # the side's factor is not above the trigger
    WRONG_SIDE = "AdlWrongSide"  # no position of the ADL'd market on the ADL'd side
    INVALID_CUT = "AdlInvalidCut"  # a zero size delta, or one that grows the position
    CUT_EXCEEDS_POSITION = "AdlCutExceedsPosition"  # |sizeDelta| > |size|
    POSITION_NOT_IN_PROFIT = "AdlPositionNotInProfit"  # the position's PnL <= 0 before its cut
    OVERCUT = "AdlOvercut"  # an entry after the target was met, or a last cut 1 wei too large
    TARGET_NOT_REACHED = "AdlTargetNotReached"  # the factor after every cut is above target


@dataclass(frozen=True)
class Side:
    market: int
    is_long: bool


@dataclass(frozen=True)
class AdlParams:
    trigger: int = TRIGGER_FACTOR
    target: int = TARGET_FACTOR


@dataclass(frozen=True)
class Cut:
    """One entry of an ADL call: the fill's signed size delta (a long is cut by a negative one)."""

    account: int
    market: int
    size_delta: int


@dataclass(frozen=True)
class Ranked:
    account: int
    market: int
    size: int
    pnl: int  # WAD USD, > 0
    notional: int  # WAD USD
    leverage: int  # WAD
    score: int  # pnl x leverage, WAD USD


@dataclass(frozen=True)
class Plan:
    cuts: tuple[Cut, ...]
    factor_before: int
    factor_after: int
    reaches_target: bool  # False only when every profitable position is closed and it is not


# ------------------------------------------------------------------ measures


def funding_index(books: EngineBooks, market_id: int, price: int, now: int) -> int:
    """The market's funding index now, as a view reads it (`_fundingIndexNow`)."""
    market = books.markets[market_id]
    return fm.view_index(market.state, market.net_size, price, now, market.params)


def _on_side(size: int, side: Side) -> bool:
    return size > 0 if side.is_long else size < 0


def side_pnl(books: EngineBooks, side: Side, price: int, now: int) -> int:
    """The side's unrealized PnL (WAD USD): `_traderPnlAndNetNotional`'s market term with the
    side's aggregates instead of the net ones (size, open notional, funding entry sum), rounded
    as it is (price term up, the funding the side owes down: the side's profit is not
    understated, so the factor is not either)."""
    size = open_notional = entry_sum = 0
    for (_, market_id), position in books.positions.items():
        if market_id == side.market and _on_side(position.size, side):
            size += position.size
            open_notional += position.open_notional
            entry_sum += fm.entry_share(position.size, position.entry)
    index = funding_index(books, side.market, price, now)
    owed = fm.traders_unsettled_funding_wad(size, index, entry_sum)
    return margin.signed_mul_div_ceil(size, price, WAD) - open_notional - owed


def position_pnl(books: EngineBooks, account: int, market_id: int, price: int, now: int) -> int:
    """One position's PnL (WAD USD) as the margin check reads it (`EngineBase._margin`): price PnL
    down, funding owed up in quote units (against the account)."""
    position = books.positions[(account, market_id)]
    index = funding_index(books, market_id, price, now)
    owed = fm.funding_owed(position.size, position.entry, index)
    return (
        margin.unrealized_pnl(position.size, position.open_notional, price) - owed * WAD_PER_QUOTE
    )


def pool_value(books: EngineBooks, prices: Mapping[int, int], now: int, shortfall: int = 0) -> int:
    """The value the factor is measured against (WAD USD): `poolAssets()` (clamped at 0, as the
    engine reports it) less `shortfall`, the quote the pool is owed that the insurance fund
    cannot cover (`max(debtInAuction - fund assets, 0)`: counted at face value in poolAssets).
    May be negative."""
    return (books.pool_assets(dict(prices), now) - shortfall) * WAD_PER_QUOTE


def pnl_factor(pnl: int, value: int) -> int:
    """`max(pnl, 0) / value` (WAD, up: against the profitable traders, for the pool);
    MAX_FACTOR for a side in profit against a pool worth <= 0."""
    if pnl <= 0:
        return 0
    if value <= 0:
        return MAX_FACTOR
    return margin.mul_div_up(pnl, WAD, value)


def factor(
    books: EngineBooks, side: Side, prices: Mapping[int, int], now: int, shortfall: int = 0
) -> int:
    """The side's PnL-to-pool factor (WAD)."""
    pnl = side_pnl(books, side, prices[side.market], now)
    return pnl_factor(pnl, pool_value(books, prices, now, shortfall))


# ------------------------------------------------------------------ ranking


def leverage(notional: int, equity: int) -> int:
    """Position notional / account equity (WAD, down); MAX_LEVERAGE when equity <= 0."""
    if equity <= 0:
        return MAX_LEVERAGE
    return margin.mul_div_down(notional, WAD, equity)


def rank(
    books: EngineBooks,
    side: Side,
    prices: Mapping[int, int],
    now: int,
    equity: Mapping[int, int],
) -> list[Ranked]:
    """The side's profitable positions, highest PnL x leverage first, ties by (account, market).
    `equity`: each account's maintenance equity (WAD USD, `margin(...).maintenance_equity`, or
    its risk model's) as the engine's margin reads it. Advisory: the contract does not check the
    order, only each entry (`check`)."""
    price = prices[side.market]
    ranked = []
    for (account, market_id), position in books.positions.items():
        if market_id != side.market or not _on_side(position.size, side):
            continue
        pnl = position_pnl(books, account, market_id, price, now)
        if pnl <= 0:
            continue
        notional = margin.notional(position.size, price)
        lev = leverage(notional, equity[account])
        score = margin.mul_div_down(pnl, lev, WAD)
        ranked.append(Ranked(account, market_id, position.size, pnl, notional, lev, score))
    ranked.sort(key=lambda r: (-r.score, r.account, r.market))
    return ranked


# ------------------------------------------------------------------ closing


def close(books: EngineBooks, cut: Cut, prices: Mapping[int, int], now: int) -> EngineBooks:
    """The books after the engine's fill of `cut` at the oracle price, without fee (a copy)."""
    after = books.copy()
    price = prices[cut.market]
    after.fill(cut.account, cut.market, cut.size_delta, price, 0, price, now)
    return after


def _cut(account: int, market_id: int, size: int, amount: int) -> Cut:
    """The fill closing `amount` (> 0) of a position of `size`."""
    return Cut(account, market_id, -amount if size > 0 else amount)


def smallest_cut(
    books: EngineBooks,
    side: Side,
    account: int,
    prices: Mapping[int, int],
    now: int,
    target: int,
    shortfall: int = 0,
) -> int:
    """The amount c (size units, 1 wei of size) to close from the position, given that closing
    all of it reaches `target` and closing nothing does not: factor(c) <= target and
    factor(c - 1) > target (c - 1 = 0: no cut). Rounding (the quote unit of the pool's value, the
    wei of the aggregates) makes the factor only nearly monotone in c at the wei scale, so
    "smallest" is this boundary, which the contract verifies with one hypothetical close of
    c - 1 (`check`); bisection finds one."""
    size = books.positions[(account, side.market)].size

    def reached(amount: int) -> bool:
        after = close(books, _cut(account, side.market, size, amount), prices, now)
        return factor(after, side, prices, now, shortfall) <= target

    low, high = 0, abs(size)  # not reached at low (no cut), reached at high
    while high - low > 1:
        mid = (low + high) // 2
        if reached(mid):
            high = mid
        else:
            low = mid
    return high


def plan(
    books: EngineBooks,
    side: Side,
    prices: Mapping[int, int],
    now: int,
    equity: Mapping[int, int],
    shortfall: int = 0,
    params: AdlParams = AdlParams(),
) -> Plan | None:
    """What a keeper sends: None if the side's factor is not above the trigger; otherwise the
    ranking's positions closed in full while the factor stays above the target after them, and
    the next one cut by `smallest_cut`."""
    before = factor(books, side, prices, now, shortfall)
    if before <= params.trigger:
        return None
    cuts: list[Cut] = []
    state = books
    current = before
    for entry in rank(books, side, prices, now, equity):
        full = _cut(entry.account, entry.market, entry.size, abs(entry.size))
        closed = close(state, full, prices, now)
        closed_factor = factor(closed, side, prices, now, shortfall)
        if closed_factor > params.target:
            cuts.append(full)
            state, current = closed, closed_factor
            continue
        amount = smallest_cut(state, side, entry.account, prices, now, params.target, shortfall)
        last = _cut(entry.account, entry.market, entry.size, amount)
        cuts.append(last)
        state = close(state, last, prices, now)
        return Plan(tuple(cuts), before, factor(state, side, prices, now, shortfall), True)
    return Plan(tuple(cuts), before, current, current <= params.target)


# ------------------------------------------------------------------ what the contract checks


def check(
    books: EngineBooks,
    side: Side,
    cuts: Sequence[Cut],
    prices: Mapping[int, int],
    now: int,
    shortfall: int = 0,
    params: AdlParams = AdlParams(),
) -> AdlError | None:
    """The contract's verdict on a keeper's list (None: accepted), in the contract's order:
    the trigger; per entry, in list order on the books the previous entries left: the position is
    of the ADL'd market and side, the cut reduces it by at most its size, it is in profit, and the
    factor is still above the target before it; after every entry, the factor is at or below the
    target; and the last cut is the smallest: closing 1 wei less would leave the factor above the
    target. The ranking is not checked (the keeper's order is tested against `rank`)."""
    if factor(books, side, prices, now, shortfall) <= params.trigger:
        return AdlError.NOT_TRIGGERED
    price = prices[side.market]
    state = books
    last_before = books
    for cut in cuts:
        position = state.positions.get((cut.account, cut.market))
        if cut.market != side.market or position is None or not _on_side(position.size, side):
            return AdlError.WRONG_SIDE
        if cut.size_delta == 0 or (cut.size_delta > 0) == (position.size > 0):
            return AdlError.INVALID_CUT
        if abs(cut.size_delta) > abs(position.size):
            return AdlError.CUT_EXCEEDS_POSITION
        if position_pnl(state, cut.account, cut.market, price, now) <= 0:
            return AdlError.POSITION_NOT_IN_PROFIT
        if factor(state, side, prices, now, shortfall) <= params.target:
            return AdlError.OVERCUT
        last_before = state
        state = close(state, cut, prices, now)
    if factor(state, side, prices, now, shortfall) > params.target:
        return AdlError.TARGET_NOT_REACHED
    last = cuts[-1]
    if abs(last.size_delta) > 1:
        size = last_before.positions[(last.account, last.market)].size
        smaller = _cut(last.account, last.market, size, abs(last.size_delta) - 1)
        if factor(close(last_before, smaller, prices, now), side, prices, now, shortfall) <= (
            params.target
        ):
            return AdlError.OVERCUT
    return None


# ------------------------------------------------------------------ helpers for callers


def quote_equity(books: EngineBooks, account: int, prices: Mapping[int, int], now: int) -> int:
    """Maintenance equity (WAD USD) of an account holding only quote and positions, as the
    engine's `_margin` reads it: quote less the interest it owes and has not been charged, plus
    each position's PnL (no collateral)."""
    quote = books.quote.get(account, 0)
    if quote < 0:
        borrow = fm.accrue_borrow(
            books.borrow, books.pool_cash, books.account_debt, now, books.borrow_params
        )
        quote -= fm.interest(-quote, books.borrow_index_of.get(account, 0), borrow.index)
    equity = quote * WAD_PER_QUOTE
    for (holder, market_id), position in books.positions.items():
        if holder == account and position.size:
            equity += position_pnl(books, account, market_id, prices[market_id], now)
    return equity
