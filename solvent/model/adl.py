"""Reference model of auto-deleveraging (issue 15 item 4; docs/pool.md, "Auto-deleveraging"): the
engine's `autoDeleverage(marketId, accountIds)` (contracts/engine/MarginEngineLiquidation.sol) on
exact integers with its rounding, and the keeper's advisory ranking.

The contract is the specification. For a run on market m, in WAD USD:

- G, the pool's value without the traders' PnL: `(poolCash + accountDebt + debtInAuction +
  pendingInterest - shortfall) * 1e12`, the pending interest accrued to the block,
  `shortfall = max(debtInAuction - insuranceFund.totalAssets(), 0)`;
- T, the market's net traders' PnL at the oracle price p and the funding index I accrued to the
  block: `ceil(net * p / 1e18) - netOpenNotional - (floor(net * I / 1e9) - fundingEntrySum)`;
- O, the other markets' traders' profit: the sum over every other market k of max(T_k, 0) (a market
  with open interest reads its price; an empty one counts 0);
- `rest = G - T` and O, held constant through a run (a close at the oracle price moves PnL into
  quote one for one, and the run cuts market m only), and
  `factor(T) = (O + max(T, 0)) / (rest + T)`: 0 when the numerator is 0, MAX if rest + T <= 0,
  else rounded up. So the factor is the whole pool's: P / G with P = sum over markets of
  max(T_k, 0).

A run needs `factor > trigger`, or `factor > target` while a residual shortfall remains (debt
in auction beyond the insurance fund) or while `armed` (`AdlNotTriggered`); a run that ends above
the target arms the next, one that ends at or below it disarms; and T > 0 (`AdlMarketNotInProfit`:
cutting a market whose traders are not in profit would raise the factor). Each listed account in
order must find the factor still above the target and T > 0 (`AdlOvercut`), hold a position on
the net side (`AdlWrongSide`) in profit (`AdlPositionNotInProfit`), and is cut in full when that
leaves the factor above the target and T > 0, else by the bisection's smallest size after which
either ends. The fill is at the oracle price without fee; the profit is credited as far as the
pool's cash pays it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from solvent.model import funding as fm
from solvent.model import margin
from solvent.model.ledger import EngineBooks

WAD = margin.WAD
WAD_PER_QUOTE = margin.WAD_PER_QUOTE
TRIGGER_FACTOR = 85 * WAD // 100  # GMX v2 maxPnlFactorForAdl: ADL only while factor > 0.85
TARGET_FACTOR = 77 * WAD // 100  # GMX v2 minPnlFactorAfterAdl: reduce until factor <= 0.77
MAX_FACTOR = 2**256 - 1  # traders in profit against a pool worth nothing without it
MAX_LEVERAGE = 2**256 - 1  # an account with equity <= 0


class AdlError(StrEnum):
    """Why the contract refuses a call: its custom errors, same names."""

    NOT_TRIGGERED = "AdlNotTriggered"  # the pool's factor is not above the trigger
    MARKET_NOT_IN_PROFIT = "AdlMarketNotInProfit"  # the market's traders' PnL T <= 0
    OVERCUT = "AdlOvercut"  # an entry listed after the factor reached the target
    WRONG_SIDE = "AdlWrongSide"  # no position, or one against the market's net side
    POSITION_NOT_IN_PROFIT = "AdlPositionNotInProfit"  # toQuoteFloor(pnl) - funding owed <= 0


class AdlRefused(Exception):
    """The contract's revert: `error`, naming `account` for the per-entry errors."""

    def __init__(self, error: AdlError, account: int | None = None) -> None:
        super().__init__(error.value if account is None else f"{error.value}({account})")
        self.error = error
        self.account = account


@dataclass(frozen=True)
class AdlParams:
    """`adlParams()`: the thresholds, and `armed` (a run ended above the target)."""

    trigger: int = TRIGGER_FACTOR
    target: int = TARGET_FACTOR
    armed: bool = False


@dataclass(frozen=True)
class Position:
    size: int = 0  # WAD, long > 0
    open_notional: int = 0  # WAD USD
    entry: int = 0  # funding index at the last settlement


@dataclass(frozen=True)
class Book:
    """A market's books as `autoDeleverage` reads them (`AdlBook`): the aggregates, the funding
    index accrued to the block and the oracle price."""

    net_size: int
    net_open_notional: int
    entry_sum: int
    index: int
    price: int


@dataclass(frozen=True)
class PoolLedger:
    """What G is made of (quote units): the engine's ledger, the pending interest accrued to the
    block, and the insurance fund's assets (`totalAssets()`, read only while debt is in
    auction)."""

    pool_cash: int
    account_debt: int
    debt_in_auction: int
    pending_interest: int
    insurance_assets: int = 0


@dataclass(frozen=True)
class Deleveraged:
    """One `AutoDeleveraged` event, and what the account's quote is credited before the pool's
    cash caps it (quote units: `toQuoteFloor(realizedPnl) - funding`)."""

    account: int
    size_delta: int
    price: int
    realized_pnl: int  # WAD USD
    funding: int  # quote units owed by the position up to the block (settled by the fill)
    credit: int


@dataclass(frozen=True)
class Run:
    """One `AdlExecuted` event and its cuts, and the market's books after."""

    factor_before: int
    factor_after: int
    cuts: tuple[Deleveraged, ...]
    book: Book
    positions: Mapping[int, Position]


@dataclass(frozen=True)
class Ranked:
    account: int
    size: int
    profit: int  # WAD USD, > 0: the contract's in-profit measure, in WAD
    notional: int  # WAD USD
    leverage: int  # WAD
    score: int  # profit x leverage, WAD USD


# ------------------------------------------------------------------ the measures


def shortfall(ledger: PoolLedger) -> int:
    """The residual shortfall (quote units): debt in auction the insurance fund cannot cover."""
    return max(ledger.debt_in_auction - ledger.insurance_assets, 0)


def trigger_of(params: AdlParams, short: int) -> int:
    """The factor a run must exceed: the trigger, or the target while a shortfall remains or an
    earlier run ended above the target (`armed`)."""
    return params.target if short > 0 or params.armed else params.trigger


def pool_value_without_pnl(ledger: PoolLedger) -> int:
    """G (WAD USD): `_poolValueWithoutPnl`."""
    value = (
        ledger.pool_cash
        + ledger.account_debt
        + ledger.debt_in_auction
        + ledger.pending_interest
        - shortfall(ledger)
    )
    return value * WAD_PER_QUOTE


def market_pnl(book: Book) -> int:
    """T (WAD USD): `_adlPnl`, the market's term of `_traderPnlAndNetNotional` (price term up,
    the funding the traders owe the pool down)."""
    owed = book.net_size * book.index // fm.FUNDING_INDEX_PER_WAD - book.entry_sum
    return (
        margin.signed_mul_div_ceil(book.net_size, book.price, WAD) - book.net_open_notional - owed
    )


def others_profit(books: Iterable[Book]) -> int:
    """O (WAD USD): `_adlOthers`, the other markets' traders' profit, each market's PnL counted
    only when positive."""
    return sum(max(market_pnl(b), 0) for b in books)


def pnl_factor(pnl: int, rest: int, others: int = 0) -> int:
    """`_adlFactor`: `(others + max(pnl, 0)) / (rest + pnl)` (WAD, up); 0 without profit,
    MAX_FACTOR when the pool's value without the traders' PnL is not positive."""
    profit = others + max(pnl, 0)
    if profit <= 0:
        return 0
    value = rest + pnl
    if value <= 0:
        return MAX_FACTOR
    return -(-(profit * WAD) // value)


def factor(book: Book, pool_value: int, others: int = 0) -> int:
    """The pool's factor against G = `pool_value` (WAD), `book` one market and `others` the rest's
    profit (`others_profit`)."""
    return pnl_factor(market_pnl(book), pool_value - market_pnl(book), others)


def on_net_side(book: Book, position: Position) -> bool:
    """`_adlDelta`'s side rule: a position whose sign is the net size's (a flat market has none:
    `net > 0` is false, so only shorts pass, and a flat market's factor is 0 anyway)."""
    return position.size != 0 and (position.size > 0) == (book.net_size > 0)


def position_profit(book: Book, position: Position) -> int:
    """The contract's in-profit measure (quote units): `toQuoteFloor(full-close PnL) - funding
    owed` at the oracle price and the block's index."""
    _, full = margin.apply_fill(position.size, position.open_notional, -position.size, book.price)
    owed = fm.funding_owed(position.size, position.entry, book.index)
    return margin.to_quote_floor(full) - owed


def _delta(position: Position, cut: int) -> int:
    return -cut if position.size > 0 else cut


def book_after(book: Book, position: Position, cut: int) -> tuple[Book, Position]:
    """The market and the position after closing `cut` (wei of size) at the oracle price:
    `_updateMarket` on the aggregates, the entry at the block's index."""
    delta = _delta(position, cut)
    new_size = position.size + delta
    new_open, _ = margin.apply_fill(position.size, position.open_notional, delta, book.price)
    after = replace(
        book,
        net_size=book.net_size + delta,
        net_open_notional=book.net_open_notional + new_open - position.open_notional,
        entry_sum=book.entry_sum
        + fm.entry_share(new_size, book.index)
        - fm.entry_share(position.size, position.entry),
    )
    return after, (Position(new_size, new_open, book.index) if new_size else Position())


def factor_after(book: Book, position: Position, cut: int, rest: int, others: int = 0) -> int:
    """The factor after the hypothetical close of `cut`."""
    after, _ = book_after(book, position, cut)
    return pnl_factor(market_pnl(after), rest, others)


def wants_more(
    book: Book, position: Position, cut: int, rest: int, target: int, others: int
) -> bool:
    """`_adlWantsMore`: after the hypothetical close of `cut`, is the market's PnL still positive
    with the factor above `target`?"""
    after, _ = book_after(book, position, cut)
    pnl = market_pnl(after)
    return pnl > 0 and pnl_factor(pnl, rest, others) > target


def cut_size(book: Book, position: Position, rest: int, target: int, others: int = 0) -> int:
    """`_adlCut`: the whole position when closing it leaves the factor above `target` and the
    market in profit; else the bisection, over `bracket`'s bounds, for the boundary where either
    ends."""
    held = abs(position.size)
    if wants_more(book, position, held, rest, target, others):
        return held
    low, high = bracket(book, position, rest, target, others)
    while high - low > 1:
        mid = (low + high) // 2
        if wants_more(book, position, mid, rest, target, others):
            low = mid
        else:
            high = mid
    return high


def bracket(book: Book, position: Position, rest: int, target: int, others: int) -> tuple[int, int]:
    """`_adlBracket`: the analytic cut's neighbours (+-3 wei) when they bound the boundary, else
    (0, |size|). The market's PnL after a cut c is `T(|size|) + fullPnl * (|size| - c) / |size|`
    but for rounding, and the run ends once it is at most
    `max((target * rest - others * 1e18) / (1e18 - target), 0)` (Solidity's division truncates
    toward zero; the clamp makes floor and truncation agree)."""
    held = abs(position.size)
    _, full = margin.apply_fill(position.size, position.open_notional, -position.size, book.price)
    after, _ = book_after(book, position, held)
    pnl_held = market_pnl(after)
    threshold = max(_div_trunc(target * rest - others * WAD, WAD - target), 0)
    if full <= 0 or pnl_held >= threshold:
        return 0, held
    kept = (threshold - pnl_held) * held // full
    if kept >= held:
        return 0, held
    estimate = held - kept
    lower = estimate - 3 if estimate > 3 else 0
    upper = estimate + 3 if held - estimate > 3 else held
    if (lower == 0 or wants_more(book, position, lower, rest, target, others)) and not wants_more(
        book, position, upper, rest, target, others
    ):
        return lower, upper
    return 0, held


def _div_trunc(numerator: int, denominator: int) -> int:
    """Solidity's signed division: toward zero."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


# ------------------------------------------------------------------ the contract's run


def run(
    book: Book,
    positions: Mapping[int, Position],
    pool_value: int,
    accounts: Sequence[int],
    params: AdlParams = AdlParams(),
    others: int = 0,
    short: int = 0,
) -> Run:
    """`autoDeleverage(market, accounts)`: the events it emits, or `AdlRefused` with the error it
    reverts with. `positions`: the market's position of each account (absent: none); `others`
    the other markets' profit (`others_profit`); `short` the residual shortfall (`shortfall`)."""
    pnl = market_pnl(book)
    rest = pool_value - pnl
    before = pnl_factor(pnl, rest, others)
    if before <= trigger_of(params, short):
        raise AdlRefused(AdlError.NOT_TRIGGERED)
    if pnl <= 0:
        raise AdlRefused(AdlError.MARKET_NOT_IN_PROFIT)
    current = before
    held = dict(positions)
    cuts: list[Deleveraged] = []
    for account in accounts:
        if current <= params.target or pnl <= 0:
            raise AdlRefused(AdlError.OVERCUT, account)
        position = held.get(account, Position())
        if not on_net_side(book, position):
            raise AdlRefused(AdlError.WRONG_SIDE, account)
        if position_profit(book, position) <= 0:
            raise AdlRefused(AdlError.POSITION_NOT_IN_PROFIT, account)
        cut = cut_size(book, position, rest, params.target, others)
        delta = _delta(position, cut)
        _, realized = margin.apply_fill(position.size, position.open_notional, delta, book.price)
        funding = fm.funding_owed(position.size, position.entry, book.index)
        credit = margin.to_quote_floor(realized) - funding
        cuts.append(Deleveraged(account, delta, book.price, realized, funding, credit))
        book, held[account] = book_after(book, position, cut)
        pnl = market_pnl(book)
        current = pnl_factor(pnl, rest, others)
    return Run(before, current, tuple(cuts), book, held)


def refusal(
    book: Book,
    positions: Mapping[int, Position],
    pool_value: int,
    accounts: Sequence[int],
    params: AdlParams = AdlParams(),
    others: int = 0,
    short: int = 0,
) -> AdlRefused | None:
    """The contract's verdict on a call (None: it runs)."""
    try:
        run(book, positions, pool_value, accounts, params, others, short)
    except AdlRefused as refused:
        return refused
    return None


# ------------------------------------------------------------------ the keeper's ranking


def leverage(notional: int, equity: int) -> int:
    """Position notional / account equity (WAD, down); MAX_LEVERAGE when equity <= 0."""
    if equity <= 0:
        return MAX_LEVERAGE
    return margin.mul_div_down(notional, WAD, equity)


def rank(book: Book, positions: Mapping[int, Position], equity: Mapping[int, int]) -> list[Ranked]:
    """The positions the contract may cut (net side, in profit), highest profit x leverage first,
    ties by account id. `equity`: each account's maintenance equity (WAD USD, `healthOf`'s).
    Advisory: the contract checks each entry, not the order."""
    ranked = []
    for account, position in positions.items():
        if not on_net_side(book, position):
            continue
        profit = position_profit(book, position) * WAD_PER_QUOTE
        if profit <= 0:
            continue
        notional = margin.notional(position.size, book.price)
        lev = leverage(notional, equity.get(account, 0))
        score = margin.mul_div_down(profit, lev, WAD)
        ranked.append(Ranked(account, position.size, profit, notional, lev, score))
    ranked.sort(key=lambda r: (-r.score, r.account))
    return ranked


def plan(
    book: Book,
    positions: Mapping[int, Position],
    pool_value: int,
    equity: Mapping[int, int],
    params: AdlParams = AdlParams(),
    others: int = 0,
    short: int = 0,
) -> list[int]:
    """What a keeper sends for this market: [] when the factor is not above the trigger (the
    target while a shortfall remains) or the market's traders are not in profit; else the
    ranking's accounts up to the first whose cut ends the run (every ranked one when none does),
    skipping a position the net side left: a cut larger than the net size flips it, and the
    contract checks each entry's side against the net size after the cuts before it."""
    pnl = market_pnl(book)
    if pnl <= 0 or factor(book, pool_value, others) <= trigger_of(params, short):
        return []
    rest = pool_value - pnl
    chosen = []
    for entry in rank(book, positions, equity):
        position = positions[entry.account]
        if not on_net_side(book, position):
            continue
        chosen.append(entry.account)
        cut = cut_size(book, position, rest, params.target, others)
        book, _ = book_after(book, position, cut)
        pnl = market_pnl(book)
        if pnl <= 0 or pnl_factor(pnl, rest, others) <= params.target:
            break
    return chosen


# ------------------------------------------------------------------ from the engine's books


def book_from_books(books: EngineBooks, market_id: int, price: int, now: int) -> Book:
    """The market's `Book` in the ledger model at `now` (funding accrued as `_accrueFunding`)."""
    market = books.markets[market_id]
    index = fm.accrue(market.state, market.net_size, price, now, market.params).index
    return Book(market.net_size, market.net_open_notional, market.entry_sum, index, price)


def positions_from_books(books: EngineBooks, market_id: int) -> dict[int, Position]:
    return {
        account: Position(p.size, p.open_notional, p.entry)
        for (account, m), p in books.positions.items()
        if m == market_id and p.size
    }


def ledger_from_books(books: EngineBooks, now: int, insurance_assets: int = 0) -> PoolLedger:
    borrow = fm.accrue_borrow(
        books.borrow, books.pool_cash, books.account_debt, now, books.borrow_params
    )
    return PoolLedger(
        books.pool_cash,
        books.account_debt,
        books.debt_in_auction,
        borrow.pending_interest,
        insurance_assets,
    )


def apply(books: EngineBooks, market_id: int, done: Run, now: int) -> EngineBooks:
    """The ledger model after the run (a copy): each cut is the engine's fill at the oracle price
    without fee (`_touchBorrow`, `_movePosition`, `_creditPaying`)."""
    after = books.copy()
    for cut in done.cuts:
        after.fill(cut.account, market_id, cut.size_delta, cut.price, 0, cut.price, now)
    return after


def equity_from_books(
    books: EngineBooks, accounts: Iterable[int], prices: Mapping[int, int], now: int
) -> dict[int, int]:
    """Maintenance equity (WAD USD) of accounts holding only quote and positions, as `_margin`
    reads it: quote less the interest not yet charged, plus each position's PnL (price PnL down,
    funding owed up in quote units)."""
    borrow = fm.accrue_borrow(
        books.borrow, books.pool_cash, books.account_debt, now, books.borrow_params
    )
    equity = {}
    for account in accounts:
        quote = books.quote.get(account, 0)
        if quote < 0:
            quote -= fm.interest(-quote, books.borrow_index_of.get(account, 0), borrow.index)
        total = quote * WAD_PER_QUOTE
        for (holder, market_id), p in books.positions.items():
            if holder != account or not p.size:
                continue
            market = books.markets[market_id]
            index = fm.view_index(
                market.state, market.net_size, prices[market_id], now, market.params
            )
            total += margin.unrealized_pnl(p.size, p.open_notional, prices[market_id])
            total -= fm.funding_owed(p.size, p.entry, index) * WAD_PER_QUOTE
        equity[account] = total
    return equity


# ------------------------------------------------------------------ from the engine's views


def book_from_market(market: Any, price: int, now: int) -> Book:
    """The market's `Book` at `now` from the engine's `markets(id)` view (its stored funding state
    accrued as `_accrueFunding` does, exactly) and the oracle price."""
    net = int(market.longOpenInterest) - int(market.shortOpenInterest)
    state = fm.FundingState(
        int(market.fundingRate), int(market.fundingIndex), int(market.lastFundingTime)
    )
    params = fm.FundingParams(
        int(market.skewScale),
        int(market.maxFundingVelocity),
        int(market.fundingDeadband),
        int(market.maxFundingRate),
    )
    index = fm.accrue(state, net, price, now, params).index
    return Book(net, int(market.netOpenNotional), int(market.fundingEntrySum), index, price)


def position_from_view(position: Any) -> Position:
    """`positions(account, market)`'s struct."""
    return Position(int(position.size), int(position.openNotional), int(position.fundingEntry))


def ledger_from_views(ledger: Any, borrow: Any, insurance_assets: int = 0) -> PoolLedger:
    """From `ledger()` and `borrowState()` (accrued to the block the views read: exact for that
    block's run; the pending interest only moves while accounts owe quote)."""
    return PoolLedger(
        int(ledger.poolCash),
        int(ledger.accountDebt),
        int(ledger.debtInAuction),
        int(borrow.pendingInterest),
        insurance_assets,
    )
