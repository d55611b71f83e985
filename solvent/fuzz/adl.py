"""Auto-deleveraging as the engine runs it (issue 15; contracts/engine/MarginEngineLiquidation.sol,
`autoDeleverage(marketId, accountIds)`), on exact integers: the fuzz shadow's prediction of a
keeper's call and the check of what the chain did (invariant 17, docs/fuzzing.md).

Computed here rather than in `solvent.model.adl`, whose per-side specification (the factor of
one side over `poolAssets()`, a keeper-supplied cut) is not the one the engine landed with:

- G = (poolCash + accountDebt + debtInAuction + pendingInterest - max(debtInAuction -
  fund assets, 0)) * 1e12, the pool's value without the traders' PnL;
- T = ceil(net * p / 1e18) - netOpenNotional - (floor(net * I / 1e9) - fundingEntrySum), the
  market's traders' PnL at the oracle price p and the funding index I accrued to the block;
- rest = G - T at the start, held through the call (a close at the oracle price moves PnL into
  quote one for one); factor(T) = 0 if T <= 0, MAX if rest + T <= 0, else ceil(T * 1e18 /
  (rest + T));
- above the trigger, each listed account in order: `AdlOvercut` once the factor is at or below
  the target, `AdlWrongSide` off the market's net side, `AdlPositionNotInProfit` unless
  toQuoteFloor(full-close PnL) - funding owed > 0; cut in full while the factor after a full
  close stays above the target, else by the bisection's smallest cut.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from solvent import margin as ref
from solvent.model import funding as fm

WAD = ref.WAD
MAX_FACTOR = 2**256 - 1


@dataclass(frozen=True)
class Book:
    """The market's aggregates as the call reads them (WAD), and the pool's value without the
    traders' PnL (`rest`, fixed through the call)."""

    net: int
    net_open_notional: int
    entry_sum: int
    index: int
    price: int
    rest: int

    def pnl(self) -> int:
        owed = self.net * self.index // fm.FUNDING_INDEX_PER_WAD - self.entry_sum
        return ref.signed_mul_div_ceil(self.net, self.price, WAD) - self.net_open_notional - owed

    def factor(self) -> int:
        return factor(self.pnl(), self.rest)

    def after(self, position: Position, size_delta: int) -> Book:
        """The book after the engine's fill of `size_delta` of `position` at the oracle price
        (`_updateMarket`, `_adlFactorAfter`)."""
        new_open, _ = ref.apply_fill(position.size, position.open_notional, size_delta, self.price)
        new_size = position.size + size_delta
        return replace(
            self,
            net=self.net + size_delta,
            net_open_notional=self.net_open_notional + new_open - position.open_notional,
            entry_sum=self.entry_sum
            + fm.entry_share(new_size, self.index)
            - fm.entry_share(position.size, position.entry),
        )


@dataclass(frozen=True)
class Position:
    size: int
    open_notional: int
    entry: int


@dataclass(frozen=True)
class Cut:
    """One `AutoDeleveraged`: the account, the fill's size delta and its realized PnL (WAD), and
    the funding the close settled (quote units)."""

    account: int
    size_delta: int
    realized_pnl: int
    funding: int
    full: bool  # the whole position


@dataclass(frozen=True)
class Outcome:
    """The call's outcome: `error` with its arguments, or the cuts and the factors."""

    error: str | None
    args: tuple[int, ...] = ()
    cuts: tuple[Cut, ...] = ()
    factor_before: int = 0
    factor_after: int = 0


def factor(pnl: int, rest: int) -> int:
    """`_adlFactor`: pnl / (rest + pnl) (WAD, up); 0 without profit, MAX against value <= 0."""
    if pnl <= 0:
        return 0
    value = rest + pnl
    if value <= 0:
        return MAX_FACTOR
    return -(-pnl * WAD // value)


def pool_value_without_pnl(
    pool_cash: int, account_debt: int, in_auction: int, pending_interest: int, insurance: int
) -> int:
    """`_poolValueWithoutPnl` (WAD USD): the debt under auction the fund cannot cover is out."""
    shortfall = max(in_auction - insurance, 0) if in_auction else 0
    value = pool_cash + account_debt + in_auction + pending_interest - shortfall
    return value * ref.WAD_PER_QUOTE


def open_book(
    net: int, net_open_notional: int, entry_sum: int, index: int, price: int, value: int
) -> Book:
    """The call's book: `rest` = the pool's value without PnL less the market's PnL now."""
    book = Book(net, net_open_notional, entry_sum, index, price, 0)
    return replace(book, rest=value - book.pnl())


def position_profit(position: Position, book: Book) -> int:
    """What `_adlDelta` requires > 0: the full close's PnL floored to quote units, less the
    funding owed at the call's index (up)."""
    _, full = ref.apply_fill(position.size, position.open_notional, -position.size, book.price)
    return ref.to_quote_floor(full) - fm.funding_owed(position.size, position.entry, book.index)


def on_net_side(position: Position, book: Book) -> bool:
    """`_adlDelta`'s side check (a flat market counts as short, as `net > 0` reads it)."""
    return position.size != 0 and (position.size > 0) == (book.net > 0)


def _delta(position: Position, amount: int) -> int:
    return -amount if position.size > 0 else amount


def smallest_cut(position: Position, book: Book, target: int) -> int:
    """`_adlCut`: the whole position while closing it leaves the factor above `target`, else the
    bisection's smallest cut (low = 0, high = |size|; mid up when still above the target)."""
    held = abs(position.size)
    if book.after(position, _delta(position, held)).factor() > target:
        return held
    low, high = 0, held
    while high - low > 1:
        mid = (low + high) // 2
        if book.after(position, _delta(position, mid)).factor() > target:
            low = mid
        else:
            high = mid
    return high


def predict(
    book: Book,
    positions: dict[int, Position],
    accounts: list[int],
    trigger: int,
    target: int,
) -> Outcome:
    """The engine's `autoDeleverage` on `book` (the market's positions by account)."""
    before = book.factor()
    if before <= trigger:
        return Outcome("AdlNotTriggered", (before, trigger))
    positions = dict(positions)
    current = before
    cuts = []
    for account in accounts:
        if current <= target:
            return Outcome("AdlOvercut", (account,))
        position = positions.get(account, Position(0, 0, 0))
        if not on_net_side(position, book):
            return Outcome("AdlWrongSide", (account,))
        if position_profit(position, book) <= 0:
            return Outcome("AdlPositionNotInProfit", (account,))
        amount = smallest_cut(position, book, target)
        delta = _delta(position, amount)
        new_open, realized = ref.apply_fill(
            position.size, position.open_notional, delta, book.price
        )
        funding = fm.funding_owed(position.size, position.entry, book.index)
        cuts.append(Cut(account, delta, realized, funding, amount == abs(position.size)))
        book = book.after(position, delta)
        positions[account] = Position(position.size + delta, new_open, book.index)
        current = book.factor()
    return Outcome(None, (), tuple(cuts), before, current)


def violations(
    book: Book,
    positions: dict[int, Position],
    accounts: list[int],
    trigger: int,
    target: int,
    executed: tuple[int, int],
    deleveraged: list[tuple[int, int]],
) -> list[str]:
    """Invariant 17 on one `AdlExecuted` (factors `executed`) and its `AutoDeleveraged` events
    ((account, sizeDelta), in log order), judged on the book the call read: the trigger held;
    every listed account was cut, on the market's net side and in profit, each by the whole
    position only while the factor after it stayed above the target (or by the bisection's
    smallest cut), the last by the bisection's cut unless all were full; the factor after is
    at or below the target unless every listed account was cut in full."""
    found = []
    factor_before, factor_after = executed
    if factor_before <= trigger or factor_before != book.factor():
        found.append(f"ADL ran at factor {factor_before} (book {book.factor()}), trigger {trigger}")
    if [a for a, _ in deleveraged] != list(accounts):
        found.append(f"ADL cut {deleveraged}, listed {accounts}")
        return found
    positions = dict(positions)
    all_full = True
    for account, delta in deleveraged:
        position = positions.get(account, Position(0, 0, 0))
        if not on_net_side(position, book) or position_profit(position, book) <= 0:
            found.append(f"ADL cut account {account} off the net side or not in profit")
            return found
        amount = abs(delta)
        if _delta(position, amount) != delta or amount > abs(position.size):
            found.append(f"ADL cut {delta} of account {account}'s {position.size}")
            return found
        if amount != smallest_cut(position, book, target):
            found.append(f"ADL cut {amount} of account {account}, beyond what the target needed")
        all_full = all_full and amount == abs(position.size)
        new_open, _ = ref.apply_fill(position.size, position.open_notional, delta, book.price)
        book = book.after(position, delta)
        positions[account] = Position(position.size + delta, new_open, book.index)
    if factor_after != book.factor() or (factor_after > target and not all_full):
        found.append(f"ADL stopped at {factor_after} (book {book.factor()}), target {target}")
    return found
