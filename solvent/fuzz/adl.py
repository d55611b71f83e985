"""Auto-deleveraging in the fuzz shadow (issue 15; contracts/engine/MarginEngineLiquidation.sol,
`autoDeleverage(marketId, accountIds)`): what a call reads, read off the shadow's state, its
predicted outcome and invariant 17's check of what the chain did (docs/fuzzing.md).

The arithmetic is the reference model's (`solvent.model.adl`, the contract's mirror to the wei:
the market's PnL T, the pool's factor (O + max(T, 0)) / (rest + T), `_adlCut`'s bisection, the
run); this module only gathers its inputs from a `State` and states the invariant:

- G, the pool's value without the traders' PnL, from the ledger of the read before the call, the
  pending interest of the call's block and the insurance fund's assets (the residual shortfall);
- the market's book at its oracle price, its funding accrued to the block (`_accrueFunding`);
- O, every other market's traders' profit at the block (`_adlOthers`: an empty market, with no
  aggregates, reads no price and counts 0; any other needs its price, else the call reverts);
- `adlParams()`: the trigger, the target and `armed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from solvent.abi import Record
from solvent.fuzz.state import State
from solvent.fuzz.system import TRADERS, FuzzSystem
from solvent.model import adl as model
from solvent.model import funding as fm

# The refusals whose argument is an account id.
ACCOUNT_ERRORS = frozenset(
    {model.AdlError.OVERCUT, model.AdlError.WRONG_SIDE, model.AdlError.POSITION_NOT_IN_PROFIT}
)


@dataclass(frozen=True)
class Reading:
    """What one `autoDeleverage(market, ...)` reads at its block: the market's book and positions,
    G (`pool_value`), O (`others`), the residual shortfall (quote units) and `adlParams()`."""

    market: int
    book: model.Book
    positions: Mapping[int, model.Position]
    pool_value: int
    others: int
    short: int
    params: model.AdlParams

    @property
    def pnl(self) -> int:
        """T, the market's traders' PnL (WAD USD)."""
        return model.market_pnl(self.book)

    @property
    def rest(self) -> int:
        """G - T, held through the run."""
        return self.pool_value - self.pnl

    @property
    def trigger(self) -> int:
        """The factor a run must exceed (the target while a shortfall remains or `armed`)."""
        return model.trigger_of(self.params, self.short)

    def factor(self) -> int:
        """The pool's factor before the run (WAD)."""
        return model.factor(self.book, self.pool_value, self.others)


@dataclass(frozen=True)
class Verdict:
    """The predicted outcome: `error` (the contract's name) with its arguments, or the run."""

    error: str | None
    args: tuple[int, ...] = ()
    run: model.Run | None = None
    full: tuple[bool, ...] = field(default=())  # each cut took the whole position


def params_of(state: State) -> model.AdlParams:
    """`adlParams()` as of the read."""
    p = state.adl
    return model.AdlParams(int(p.trigger), int(p.target), bool(p.armed))


def positions_of(state: State, market: int) -> dict[int, model.Position]:
    """Every trader's position in `market` as the call reads it."""
    positions = {a: state.positions[(a, market)] for a in TRADERS}
    return {a: model.Position(p.size, p.openNotional, p.fundingEntry) for a, p in positions.items()}


def _is_empty(m: Record) -> bool:
    """`_marketTraderPnl`'s early exit: no aggregates, no price read."""
    net = m.longOpenInterest - m.shortOpenInterest
    return net == 0 and m.netOpenNotional == 0 and m.fundingEntrySum == 0


def others_at(
    state: State, system: FuzzSystem, market: int, prices: Mapping[str, int | None], now: int
) -> int | None:
    """O at time `now` (`_adlOthers`): the markets' stored books of `state`, each accrued as a view
    (`_fundingIndexNow`) at its price in `prices`. None when a market with aggregates has none
    (the call reverts with the oracle's error)."""
    books = []
    for k in system.markets:
        m = state.markets[k]
        if k == market or _is_empty(m):
            continue
        price = prices[system.markets[k].asset]
        if price is None:
            return None
        params = fm.FundingParams(
            m.skewScale, m.maxFundingVelocity, m.fundingDeadband, m.maxFundingRate
        )
        funding = fm.FundingState(m.fundingRate, m.fundingIndex, m.lastFundingTime)
        net = m.longOpenInterest - m.shortOpenInterest
        index = fm.view_index(funding, net, price, now, params)
        books.append(model.Book(net, m.netOpenNotional, m.fundingEntrySum, index, price))
    return model.others_profit(books)


def reading(
    state: State,
    system: FuzzSystem,
    market: int,
    prices: Mapping[str, int | None],
    now: int,
    pending_interest: int,
) -> Reading | None:
    """The call on `market` at time `now` on the books of `state` (the read just before it), the
    oracle's `prices` and the block's `pending_interest`; None when a price it needs is missing."""
    price = prices[system.markets[market].asset]
    others = others_at(state, system, market, prices, now)
    if price is None or others is None:
        return None
    ledger = state.ledger
    pool = model.PoolLedger(
        ledger.poolCash,
        ledger.accountDebt,
        ledger.debtInAuction,
        pending_interest,
        state.fund_assets,
    )
    return Reading(
        market,
        model.book_from_market(state.markets[market], price, now),
        positions_of(state, market),
        model.pool_value_without_pnl(pool),
        others,
        model.shortfall(pool),
        params_of(state),
    )


def predict(r: Reading, accounts: Sequence[int]) -> Verdict:
    """The engine's verdict on `autoDeleverage(r.market, accounts)` (`solvent.model.adl.run`),
    with the error's arguments as the contract encodes them."""
    try:
        done = model.run(r.book, r.positions, r.pool_value, accounts, r.params, r.others, r.short)
    except model.AdlRefused as refused:
        if refused.error == model.AdlError.NOT_TRIGGERED:
            return Verdict(refused.error.value, (r.factor(), r.trigger))
        if refused.error == model.AdlError.MARKET_NOT_IN_PROFIT:
            return Verdict(refused.error.value, (r.market,))
        assert refused.account is not None
        return Verdict(refused.error.value, (refused.account,))
    held = {a: abs(r.positions.get(a, model.Position()).size) for a in accounts}
    full = tuple(abs(c.size_delta) == held[c.account] for c in done.cuts)
    return Verdict(None, (), done, full)


def violations(
    r: Reading, accounts: Sequence[int], executed: tuple[int, int], cuts: list[tuple[int, int]]
) -> list[str]:
    """Invariant 17 on one `AdlExecuted` (factors `executed`) and its `AutoDeleveraged` events
    ((account, sizeDelta), in log order), judged on what the call read: the pool's factor was
    above the trigger (the target while a residual shortfall remains or `armed`) and the market's
    traders in profit; every listed account was cut, while the run had not ended (factor above
    the target, the market in profit), on the net side and in profit, by the whole position only
    while that left the run unended, else by the bisection's smallest cut (`cut_size`); the
    run stops where it ends unless every listed account was cut whole."""
    found = []
    target = r.params.target
    before, after = executed
    if before <= r.trigger or before != r.factor():
        found.append(f"ADL ran at factor {before} (read {r.factor()}), trigger {r.trigger}")
    if r.pnl <= 0:
        found.append(f"ADL ran on market {r.market} whose traders' PnL is {r.pnl}")
    if [a for a, _ in cuts] != list(accounts):
        found.append(f"ADL cut {cuts}, listed {list(accounts)}")
        return found
    book, positions, pnl, current = r.book, dict(r.positions), r.pnl, before
    all_full = True
    for account, delta in cuts:
        if current <= target or pnl <= 0:
            found.append(f"ADL cut account {account} after the run ended ({current}, T {pnl})")
        position = positions.get(account, model.Position())
        if not model.on_net_side(book, position) or model.position_profit(book, position) <= 0:
            found.append(f"ADL cut account {account} off the net side or not in profit")
            return found
        amount = abs(delta)
        if (delta < 0) != (position.size > 0) or amount > abs(position.size):
            found.append(f"ADL cut {delta} of account {account}'s {position.size}")
            return found
        if amount != model.cut_size(book, position, r.rest, target, r.others):
            found.append(f"ADL cut {amount} of account {account}, not what the target needed")
        all_full = all_full and amount == abs(position.size)
        book, positions[account] = model.book_after(book, position, amount)
        pnl = model.market_pnl(book)
        current = model.pnl_factor(pnl, r.rest, r.others)
    if after != current or (current > target and pnl > 0 and not all_full):
        found.append(f"ADL stopped at {after} (book {current}, T {pnl}), target {target}")
    return found
