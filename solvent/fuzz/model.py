"""The shadow model: what the invariants need beyond one read of the chain. It follows every
transaction's events, keeps its own positions (filled by solvent.model.margin's reference math),
the LP pool's book value and the insurance fund's balance, and checks the chain against them."""

from __future__ import annotations

from dataclasses import dataclass, field

from solvent.abi import Record
from solvent.fuzz import adl
from solvent.fuzz.cash import CashReplay, exposure_check
from solvent.fuzz.driver import Outcome, Reverted
from solvent.fuzz.orders import OrderShadow, PendingOrder, Round, order_id
from solvent.fuzz.state import TOKENS, State
from solvent.fuzz.system import ASSETS, TRADERS, FuzzSystem
from solvent.model import funding as fm
from solvent.model import margin as ref
from solvent.model import orders as order_ref
from solvent.model import portfolio as pm

WAD = 10**18
ZERO_ADDRESS = "0x" + "0" * 40


CANCEL_REASONS = ("Expired", "AcceptablePrice", "FillPriceOutOfRange", "FillRefused")
# What the engine may refuse a settled order's fill with (the order is cancelled, the settler paid).
FILL_REFUSALS = frozenset(
    {
        "InsufficientMargin",
        "OpenInterestCapExceeded",
        "PoolExposureExceeded",
        "RiskIncreasePaused",
        "RiskIncreaseBlockedByOracle",
        "AccountUnderAuction",
        "PriceUnavailable",
    }
)


# The engine's events the cash replay follows (solvent.fuzz.cash); any other engine event ends
# the replay until the next read (`Shadow.sync_cash`).
CASH_EVENTS = frozenset(
    {
        "InterestCharged",
        "FundingSettled",
        "ProfitUnpaid",
        "Traded",
        "OrderFeeCharged",
        "PoolDeposit",
        "PoolWithdrawal",
        "Deposited",
        "Withdrawn",
        "InsuranceFeesSwept",
        "RiskModelChosen",
        "AutoDeleveraged",
        "AdlExecuted",
    }
)
# Transactions whose every quote move the replay sees in the engine's events (others end it):
# `(target, function)`, or a target whose every function qualifies.
CASH_TARGETS = frozenset({"orders", "pool", "fund", "exchange", "feed.WETH", "feed.WBTC"})
CASH_TARGETS |= {"feed2.WETH", "feed2.WBTC"}
CASH_CALLS = frozenset(
    {
        ("engine", "deposit"),
        ("engine", "withdraw"),
        ("engine", "liquidate"),
        ("admin", "setRiskModel"),
        ("admin", "sweepInsuranceFees"),
        ("engine", "autoDeleverage"),
    }
)


def replays_cash(call: tuple[str, str] | None) -> bool:
    """Whether a transaction's quote moves are all in the engine events the replay follows."""
    return call is not None and (call[0] in CASH_TARGETS or call in CASH_CALLS)


def exposure_error_args(data: bytes) -> tuple[int, int, int]:
    """`PoolExposureExceeded(marketId, exposure, bound)`'s arguments (three static words)."""
    words = bytes(data)[4:]
    return tuple(int.from_bytes(words[32 * i : 32 * i + 32], "big") for i in range(3))  # type: ignore[return-value]


# The engine's events whose account's model the campaign counts (`portfolio:<event>`).
PORTFOLIO_STEPS = frozenset({"Traded", "Withdrawn", "Liquidated", "RiskModelChosen"})


class InvariantViolation(AssertionError):
    """The protocol broke one of its promises."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InvariantViolation(message)


def funding_index_now(state: State, system: FuzzSystem, market_id: int) -> int | None:
    """The market's funding index accrued to the read's time at its oracle price, as the engine's
    views compute it (solvent.model.funding); None without a price."""
    price = state.prices[system.markets[market_id].asset]
    if price is None:
        return None
    m = state.markets[market_id]
    params = fm.FundingParams(
        m.skewScale, m.maxFundingVelocity, m.fundingDeadband, m.maxFundingRate
    )
    funding = fm.FundingState(m.fundingRate, m.fundingIndex, m.lastFundingTime)
    net_size = m.longOpenInterest - m.shortOpenInterest
    return fm.view_index(funding, net_size, price, state.now, params)


def charges_due(state: State, system: FuzzSystem, account: int) -> int:
    """Quote units the account owes and has not settled: borrow interest on its debt at the index
    now, plus the funding of every priced position (negative: funding it receives)."""
    quote = state.accounts[account].quoteBalance
    due = fm.interest(-quote, state.borrow_index_of[account], state.borrow.index)
    for market_id in system.markets:
        p = state.positions[(account, market_id)]
        index = funding_index_now(state, system, market_id) if p.size else None
        if index is not None:
            due += fm.funding_owed(p.size, p.fundingEntry, index)
    return due


def portfolio(
    state: State,
    system: FuzzSystem,
    account: int,
    lenient: bool = False,
    quote: int | None = None,
) -> ref.Portfolio | None:
    """The account as solvent.model.margin sees it; None when a price it needs is unavailable,
    unless `lenient` (as a liquidation reads it: the price is left None). Its quote balance is net
    of the charges due (`charges_due`: the engine's margin counts them), unless `quote` is given."""
    holdings, positions = [], []
    for token in ASSETS:
        amount = state.collateral[(account, token)]
        if amount == 0:
            continue
        price = state.prices[token]
        if price is None and not lenient:
            return None
        im, mm = system.weights[token]
        params = ref.CollateralParams(system.decimals[token], im, mm)
        holdings.append(ref.CollateralHolding(amount, price, params))
    for market_id, info in system.markets.items():
        position = state.positions[(account, market_id)]
        if position.size == 0:
            continue
        price = state.prices[info.asset]
        if price is None and not lenient:
            return None
        params = ref.MarketParams(info.base_mmr, info.vol_factor, info.sigma_cap, info.im_scale)
        positions.append(
            ref.PositionState(
                position.size, position.openNotional, price, state.sigmas[info.asset], params
            )
        )
    if quote is None:
        quote = state.accounts[account].quoteBalance - charges_due(state, system, account)
    return ref.Portfolio(quote, holdings, positions)


def on_portfolio_model(state: State, system: FuzzSystem, account: int) -> bool:
    """Whether the account chose the deployed portfolio model (else: the standard margin)."""
    return state.risk_models[account] == system.codec.address("portfolio_model").lower()


def portfolio_book(state: State, system: FuzzSystem, account: int, quote: int) -> pm.Book:
    """The account as the engine hands it to the portfolio model: what has a price (a lenient
    read leaves the rest out, a strict one never gets here without every price). `quote` is net
    of every charge due, so the open notionals stay as stored: the engine folds the pending
    funding into them instead, which is the same equity to the wei (the shift is exact) and
    the same scenario losses and add-ons (they depend on size and price only)."""
    grid = system.grid
    holdings = []
    for token in ASSETS:
        amount, price = state.collateral[(account, token)], state.prices[token]
        if amount and price is not None:
            decimals = system.decimals[token]
            holdings.append(pm.Holding(token, amount, decimals, price, grid.haircuts[token]))
    positions = []
    for market_id, info in system.markets.items():
        p, price = state.positions[(account, market_id)], state.prices[info.asset]
        if p.size and price is not None:
            addon = grid.add_ons[info.asset]
            positions.append(pm.Position(info.asset, p.size, p.openNotional, price, addon))
    return pm.Book(quote, tuple(holdings), tuple(positions))


def model_verdict(
    state: State, system: FuzzSystem, account: int, folio: ref.Portfolio, model: bool | None
) -> ref.Margin | None:
    """The portfolio model's margin of `folio`'s account (solvent.model.portfolio on the deployed
    grid) when it is on that model (`model`: True or False to ask for one; None: the account's
    choice on chain); None for the standard margin."""
    if model is None:
        model = on_portfolio_model(state, system, account)
    if not model:
        return None
    book = portfolio_book(state, system, account, folio.quote_balance)
    return pm.margin(book, system.grid.params, state.sigmas)


def account_margin(
    state: State,
    system: FuzzSystem,
    account: int,
    lenient: bool = False,
    model: bool | None = None,
) -> ref.Margin | None:
    """The account's margin under its risk model (`model_verdict`), or the standard one; None
    when a price it needs is unavailable, unless `lenient` (see `portfolio`)."""
    folio = portfolio(state, system, account, lenient)
    if folio is None:
        return None
    verdict = model_verdict(state, system, account, folio, model)
    return verdict if verdict is not None else ref.margin(folio, min_position_margin(system))


def switch_refusal(
    state: State,
    system: FuzzSystem,
    account: int,
    to_portfolio: bool,
    gate: dict[str, int],
    paused: bool,
    restricted: bool,
) -> str | None:
    """The error `setRiskModel` (by the owner, to an approved model or the zero address) reverts
    with, judged on a read in its block; None: accepted. An idle account (no position, no debt,
    no auction) always switches; any other runs a trade's risk gate (`gate`: each asset's
    `riskIncreasePrice`, 0 when blocked; `restricted`: the sequencer's state, which alone gates a
    quote-only account), then needs initial health >= 1 under the rules it switches to."""
    a = state.accounts[account]
    if a.marketMask == 0 and a.quoteBalance >= 0 and a.activeAuctions == 0:
        return None
    if a.activeAuctions:
        return "AccountUnderAuction"
    if paused:
        return "RiskIncreasePaused"
    held = {t for t in ASSETS if state.collateral[(account, t)]}
    held |= {i.asset for m, i in system.markets.items() if state.positions[(account, m)].size}
    if (not held and restricted) or any(gate[t] == 0 for t in held):
        return "RiskIncreaseBlockedByOracle"
    m = account_margin(state, system, account, model=to_portfolio)
    require(m is not None, f"account {account}: every held asset passed the gate without a price")
    assert m is not None
    h = ref.health(m.initial_equity, m.initial_requirement, a.quoteBalance < 0)
    return "InsufficientMargin" if h < WAD else None


@dataclass(frozen=True)
class Plan:
    """The model's liquidation of an account: the closures of its open markets at their prices."""

    outcome: ref.LiquidationOutcome
    markets: list[int]
    prices: list[int | None]


UNPRICED = "unpriced"


def min_position_margin(system: FuzzSystem) -> int:
    return ref.LiquidationParams(*system.liquidation).min_position_margin


def plan_liquidation(
    state: State, system: FuzzSystem, account: int, quote: int | None = None
) -> Plan | str | None:
    """The model's liquidation; None when the account is healthy; UNPRICED where the engine
    reverts `PriceUnavailable` (nothing to close, and an asset without a price). `quote`: the
    account's quote once its interest and funding are settled (default: as due at the read)."""
    folio = portfolio(state, system, account, lenient=True, quote=quote)
    assert folio is not None
    # In the fuzz the portfolio model covers every asset, so its lenient read always answers
    # (the engine falls back to the standard margin only when the model reverts).
    verdict = model_verdict(state, system, account, folio, None)
    try:
        outcome = ref.plan_liquidation(folio, ref.LiquidationParams(*system.liquidation), verdict)
    except ref.PriceUnavailableError:
        return UNPRICED
    if outcome is None:
        return None
    markets = [m for m in system.markets if state.positions[(account, m)].size != 0]
    return Plan(outcome, markets, [p.price for p in folio.positions])


@dataclass(frozen=True)
class AdlCall:
    """A keeper's `autoDeleverage` as the shadow judges it (invariant 17): what the call read
    (`solvent.fuzz.adl.Reading`: the market's book and positions, the pool, `adlParams()`) and
    the list it was sent."""

    reading: adl.Reading
    accounts: list[int]


@dataclass
class Shadow:
    """Books the model keeps itself, advanced by each transaction's events."""

    system: FuzzSystem
    positions: dict[tuple[int, int], tuple[int, int]]
    book: int  # poolCash + accountDebt + debtInAuction, what the LP pool owns before trader PnL
    fund: int  # the insurance fund's quote balance
    orders: OrderShadow
    quotes: dict[int, int]  # the quote balances of the last read (a cancelled order's fee)
    models: dict[int, bool]  # each account's risk model: True for the portfolio model
    # Funding and interest the step's transactions settled: (event name, arguments).
    settled: list[tuple[str, Record]] = field(default_factory=list)
    previous: State | None = None  # the last read checked
    auction_prices: dict[int, tuple[int, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # The pool's cash and the quote balances replayed since the last read (None: a transaction
    # moved them in a way the replay does not follow; the next read starts it again).
    cash: CashReplay | None = None
    # Cash at the start of the order being settled (a refused fill's exposure check saw it).
    order_cash: int | None = None
    # Funding settled and profit left unpaid by a fill not yet booked (its `Traded` comes last).
    fill_funding: dict[int, int] = field(default_factory=dict)
    fill_unpaid: dict[int, int] = field(default_factory=dict)
    # The `autoDeleverage` call being booked (set by the machine before `apply`) and its cuts.
    adl_call: AdlCall | None = None
    adl_cuts: list[tuple[int, int]] = field(default_factory=list)
    # `adlParams().armed` as the runs left it: set by a run ending above the target, cleared by
    # one ending at or below it (None until the first read).
    adl_armed: bool | None = None

    @classmethod
    def start(cls, system: FuzzSystem, state: State) -> Shadow:
        ledger = state.ledger
        return cls(
            system=system,
            positions={k: (p.size, p.openNotional) for k, p in state.positions.items()},
            book=ledger.poolCash + ledger.accountDebt + ledger.debtInAuction,
            fund=state.balances["quote"][system.codec.address("fund").lower()],
            quotes={a: state.accounts[a].quoteBalance for a in TRADERS},
            models={a: on_portfolio_model(state, system, a) for a in TRADERS},
            orders=OrderShadow(
                system.orders,
                {m: [Round(*state.rounds[info.asset])] for m, info in system.markets.items()},
            ),
            cash=CashReplay(
                state.ledger.poolCash, {a: state.accounts[a].quoteBalance for a in TRADERS}
            ),
            adl_armed=bool(state.adl.armed),
        )

    def sync_cash(self, state: State) -> None:
        """The pool's cash and every quote balance replayed since the last read equal the chain's
        (when the replay followed every transaction since); then the replay restarts from
        `state`, which must be a read of the chain as it is now."""
        if self.cash is not None:
            got = (state.ledger.poolCash, {a: state.accounts[a].quoteBalance for a in TRADERS})
            want = (self.cash.pool_cash, {a: self.cash.quotes[a] for a in TRADERS})
            require(got == want, f"poolCash and quotes on chain {got}, replayed {want}")
            for _, gain, paid in self.cash.credits:
                self.count("credit:paid-in-full" if paid == gain else "credit:capped")
            self.count("cash:replayed")
        self.cash = CashReplay(
            state.ledger.poolCash, {a: state.accounts[a].quoteBalance for a in TRADERS}
        )
        self.order_cash, self.fill_funding, self.fill_unpaid = None, {}, {}

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    # ------------------------------------------------------------------ transactions

    def apply(
        self, outcome: Outcome, before: State | None = None, call: tuple[str, str] | None = None
    ) -> None:
        """Books a successful transaction's events. `before`: the read the transaction was sent
        on (a liquidation is planned from it and the charges the transaction settled); `call`:
        its (target, function), which says whether the cash replay can follow it."""
        if not replays_cash(call):
            self.cash = None
        self.order_cash = self.cash.pool_cash if self.cash is not None else None
        codec = self.system.codec
        engine, fund = codec.address("engine").lower(), codec.address("fund").lower()
        pool, liquidator = codec.address("pool").lower(), codec.address("liquidator").lower()
        book = codec.address("orders").lower()
        # A settlement is judged against the positions before its fill (the engine's `Traded`
        # comes first in the logs): the skew sets the fill price and the fee. In a batch
        # (`settleOrders`) each fill sees the skew the previous ones left, so each settlement is
        # checked when its own fill comes, in log order.
        settlements = [
            e.args for e in outcome.events if e.address == book and e.name == "OrderSettled"
        ]
        checked = 0
        for e in outcome.events:
            a = e.args
            if (
                e.address == engine
                and e.name == "Traded"
                and checked < len(settlements)
                and settlements[checked].orderId == order_id(a.accountId, a.marketId)
            ):
                self._check_settlement(settlements[checked])
                checked += 1
            if e.address == engine:
                self._replay_cash(e.name, a)
            if e.address == book and e.name == "OrderCommitted":
                self._committed(a)
            elif e.address == book and e.name == "OrderSettled":
                self.orders.pending.pop(a.orderId)
            elif e.address == book and e.name == "OrderCancelled":
                self._cancelled(a)
            elif e.address == engine and e.name == "Traded":
                self._fill(a)
            elif e.address == engine and e.name == "AutoDeleveraged":
                self._deleveraged(a)
            elif e.address == engine and e.name == "AdlExecuted":
                self._adl_executed(a)
            elif e.address == engine and e.name == "Liquidated":
                plan, replay = self._plan(outcome, a.accountId, before)
                self._liquidated(a, plan)
                self._liquidation_unpaid(outcome, a.accountId, plan, replay)
            elif e.address == engine and e.name == "ProfitUnpaid":
                # The part of a profit the pool's cash could not pay stays the pool's: the book
                # (invariant 8) moved by the whole profit where it was booked.
                self.book += a.amount
            elif e.address == engine and e.name == "RiskModelChosen":
                model = codec.address("portfolio_model").lower()
                require(str(a.model).lower() in (model, ZERO_ADDRESS), f"model {a.model} chosen")
                self.models[a.accountId] = str(a.model).lower() == model
            elif e.address == engine and e.name in ("FundingSettled", "InterestCharged"):
                # Settled against the pool, as any change of a trader's quote: what the trader
                # pays (funding owed, interest) is the pool's, what it receives leaves it.
                self.book += a.amount
                self.settled.append((e.name, a))
            elif e.address == engine and e.name == "PoolDeposit":
                self.book += a.amount
            elif e.address == engine and e.name == "PoolWithdrawal":
                self.book -= a.amount
            elif e.address == engine and e.name == "BadDebtWrittenOff":
                self.book -= a.socialized
                self.fund -= a.coveredByInsurance
                self._check_write_off(outcome)
            elif e.address == engine and e.name == "InsuranceFeesSwept":
                self.fund += a.amount
            elif e.address == fund and e.name == "KeeperRewardPaid":
                # Booked where the quote leaves the fund: the liquidator pays start and reset
                # rewards through it, and so does the engine when it writes off an account with
                # no collateral to auction (that path emits no liquidator event).
                self.fund -= a.paid
            elif e.address == liquidator and e.name == "AuctionReset":
                self.auction_prices.pop(a.id, None)
            elif e.address == fund and e.name == "Deposit":
                self.fund += a.assets
            elif e.address == fund and e.name == "Withdraw":
                self.fund -= a.assets
            elif e.address == pool and e.name in ("Deposit", "Withdraw"):
                pass  # its quote moves through the engine's PoolDeposit / PoolWithdrawal
            if e.address == book and e.name in ("OrderSettled", "OrderCancelled") and self.cash:
                self.order_cash = self.cash.pool_cash  # what the next order's fill sees
            self.count(e.name)
            if e.address == engine and e.name in PORTFOLIO_STEPS and self.models.get(a.accountId):
                self.count(f"portfolio:{e.name}")  # a step of an account on the portfolio model
        require(
            checked == len(settlements), f"{len(settlements) - checked} settlements without a fill"
        )

    def _replay_cash(self, name: str, a: Record) -> None:
        """Moves the replayed cash and quotes by one engine event (`Traded` in `_fill`, which
        needs the positions before it); an event the replay does not follow ends it."""
        c = self.cash
        if c is None:
            return
        if name not in CASH_EVENTS:
            self.cash, self.order_cash = None, None
        elif name == "InterestCharged":
            c.move(a.accountId, -a.amount)
        elif name == "FundingSettled":  # a fill credits it with its PnL (`Traded`)
            self.fill_funding[a.accountId] = self.fill_funding.get(a.accountId, 0) + a.amount
        elif name == "ProfitUnpaid":  # emitted before the fill's `Traded`
            self.fill_unpaid[a.accountId] = self.fill_unpaid.get(a.accountId, 0) + a.amount
        elif name == "OrderFeeCharged":  # the settler's pay: the pool lends what quote lacks
            c.move(a.accountId, -a.fee)
            c.lend(a.fee)
        elif name == "PoolDeposit":
            c.lend(-a.amount)
        elif name == "PoolWithdrawal":
            c.lend(a.amount)
        elif name == "Withdrawn" and self._is_quote(a.token):  # from a positive balance only
            c.quotes[a.accountId] -= a.amount
        elif name == "Deposited" and self._is_quote(a.token):
            if c.quotes[a.accountId] >= 0:
                c.quotes[a.accountId] += a.amount
            else:  # a repayment passes through the pool's cash, then settles like any change
                c.lend(-a.amount)
                c.move(a.accountId, a.amount)

    def _is_quote(self, token: str) -> bool:
        return str(token).lower() == self.system.codec.address("quote").lower()

    def _fill(self, a: Record) -> None:
        """A settled order's fill (its price and fee were checked by `_check_settlement`). With
        the cash replayed, the exposure bound is checked at the fill (issue 15: a risk-increasing
        fill that grew |net| kept it within the bound) and its credit replayed: the insurance cut
        leaves the pool's cash, then PnL less fee and funding is credited as far as the cash
        pays it, the rest `ProfitUnpaid` (the chain's amount must be the replay's)."""
        key = (a.accountId, a.marketId)
        size, open_notional = self.positions[key]
        new_open, realized = ref.apply_fill(size, open_notional, a.sizeDelta, a.price)
        info = self.system.markets[a.marketId]
        require(realized == a.realizedPnl, f"trade realized {a.realizedPnl}, model {realized}")
        cut = ref.insurance_cut(a.fee, info.insurance_fee_share)
        c = self.cash
        if c is not None:
            check = exposure_check(
                size,
                self.skew(a.marketId),
                a.sizeDelta,
                a.price,
                c.pool_cash,
                info.max_exposure_ratio,
            )
            if check is not None:
                require(
                    not check.exceeded,
                    f"fill {a.accountId}/{a.marketId} accepted with the traders' net notional "
                    f"{check.exposure} above the bound {check.bound} (poolCash {c.pool_cash})",
                )
                self.count("exposure:bound-held")
            c.lend(cut)
            delta = ref.to_quote_floor(realized) - a.fee - self.fill_funding.pop(a.accountId, 0)
            unpaid = c.pay(a.accountId, delta)
            got = self.fill_unpaid.pop(a.accountId, 0)
            require(got == unpaid, f"fill {a.accountId}/{a.marketId}: unpaid {got}, model {unpaid}")
            if unpaid:
                self.count("ProfitUnpaid:fill")
        else:
            self.count("exposure:unreplayed")
        self.positions[key] = (size + a.sizeDelta, new_open)
        self.book += a.fee - cut - ref.to_quote_floor(realized)

    def _deleveraged(self, a: Record) -> None:
        """One ADL cut: the engine's fill at the oracle price without fee, its PnL less the
        funding it settled credited as far as the pool's cash pays it (the chain's `ProfitUnpaid`
        must be the replay's), the book moved by the realized PnL as for any fill."""
        call = self.adl_call
        require(call is not None, f"account {a.accountId} auto-deleveraged outside an ADL step")
        assert call is not None
        market = call.reading.market
        require(a.marketId == market, f"ADL of market {market} cut market {a.marketId}")
        key = (a.accountId, a.marketId)
        size, open_notional = self.positions[key]
        new_open, realized = ref.apply_fill(size, open_notional, a.sizeDelta, a.price)
        require(realized == a.realizedPnl, f"ADL realized {a.realizedPnl}, model {realized}")
        price = call.reading.book.price
        require(a.price == price, f"ADL at {a.price}, oracle {price}")
        c = self.cash
        if c is not None:
            delta = ref.to_quote_floor(realized) - self.fill_funding.pop(a.accountId, 0)
            unpaid = c.pay(a.accountId, delta)
            got = self.fill_unpaid.pop(a.accountId, 0)
            require(got == unpaid, f"ADL of {a.accountId}: unpaid {got}, model {unpaid}")
            if unpaid:
                self.count("ProfitUnpaid:adl")
        self.positions[key] = (size + a.sizeDelta, new_open)
        self.book -= ref.to_quote_floor(realized)
        self.adl_cuts.append((a.accountId, a.sizeDelta))

    def _adl_executed(self, a: Record) -> None:
        """Invariant 17: ADL runs only while the pool's factor is above its trigger (the target
        while a residual shortfall remains or `armed`) on a market in profit, and stops where the
        run ends: the factor at or below the target, or the market no longer in profit
        (`solvent.fuzz.adl.violations`, on what the call read). The run arms the next one when
        it ends above the target, and disarms it otherwise."""
        call, cuts = self.adl_call, self.adl_cuts
        self.adl_call, self.adl_cuts = None, []
        require(call is not None, f"ADL of market {a.marketId} outside an ADL step")
        assert call is not None
        require(a.marketId == call.reading.market, f"ADL of {call.reading.market}: {a.marketId}")
        found = adl.violations(call.reading, call.accounts, (a.factorBefore, a.factorAfter), cuts)
        require(not found, "; ".join(found))
        self.adl_armed = a.factorAfter > call.reading.params.target
        self.count("adl:invariant-held")
        if self.adl_armed:
            self.count("adl:ended-armed")

    # ------------------------------------------------------------------ orders

    def skew(self, market: int) -> int:
        """The market's net trader size, from the model's positions."""
        return sum(self.positions[(a, market)][0] for a in TRADERS)

    def _committed(self, a: Record) -> None:
        order = PendingOrder.of(a)
        delay = self.orders.params[order.market].settlement_delay
        require(
            order.target_time == order.commit_time + delay,
            f"order {order.order_id}: target {order.target_time}, commit {order.commit_time}",
        )
        require(order.order_id == order_id(order.account, order.market), "order id")
        require(order.order_id not in self.orders.pending, f"order {order.order_id} overwritten")
        self.orders.pending[order.order_id] = order

    def _quote(self, order: PendingOrder, oracle_price: int) -> order_ref.Settlement:
        """`order` settled at `oracle_price` with the model's skew (solvent.model.orders)."""
        params = self.orders.params[order.market]
        return order_ref.settle(
            oracle_price,
            self.skew(order.market),
            self.system.markets[order.market].skew_scale,
            order.size_delta,
            order.acceptable_price,
            params.maker_fee_rate,
            params.taker_fee_rate,
        )

    def _round_price(self, order: PendingOrder) -> tuple[Round, int]:
        """The round the commit determined and its price (WAD); the settlement was accepted by
        the chain, so the round must exist in the model."""
        determined = self.orders.determined(order)
        require(determined is not None, f"order {order.order_id} settled before its round")
        assert determined is not None
        asset = self.system.markets[order.market].asset
        decimals = self.system.feed_decimals[f"feed.{asset}"]
        return determined, determined.answer * 10 ** (18 - decimals)

    def _check_settlement(self, a: Record) -> None:
        """No order settles at a price other than the one its commit determined, nor at another
        fill price or fee than the reference's."""
        order = self.orders.pending.get(a.orderId)
        require(order is not None, f"order {a.orderId} settled but not pending in the model")
        assert order is not None
        determined, price = self._round_price(order)
        require(
            a.roundId == determined.round_id and a.oraclePrice == price,
            f"order {a.orderId} settled at round {a.roundId} ({a.oraclePrice}), determined "
            f"{determined.round_id} ({price})",
        )
        q = self._quote(order, price)
        pay = self.orders.params[order.market].settlement_fee
        got = (a.sizeDelta, a.fillPrice, a.tradeFee, a.settlementFee)
        want = (order.size_delta, q.fill_price, q.trade_fee, pay)
        require(got == want, f"order {a.orderId} (size, fill, fee, pay) {got}, model {want}")
        require(q.acceptable, f"order {a.orderId} filled at {q.fill_price} beyond its limit")

    def _cancelled(self, a: Record) -> None:
        order = self.orders.pending.pop(a.orderId, None)
        require(order is not None, f"order {a.orderId} cancelled but not pending in the model")
        assert order is not None
        reason = CANCEL_REASONS[a.reason]
        self.count(f"OrderCancelled:{reason}")
        if reason == "Expired":
            require(a.settlementFee == 0, f"expired order {a.orderId} charged {a.settlementFee}")
            return
        fee = self.orders.params[order.market].settlement_fee
        idle = all(self.positions[(order.account, m)][0] == 0 for m in self.system.markets)
        if idle:  # the pool lends no settlement fee to an account with nothing at stake
            fee = min(fee, max(self.quotes[order.account], 0))
        require(a.settlementFee == fee, f"order {a.orderId} charged {a.settlementFee}, model {fee}")
        _, price = self._round_price(order)
        q = self._quote(order, price)
        if reason == "FillPriceOutOfRange":
            require(q.fill_price is None, f"order {a.orderId} unpriceable, model {q.fill_price}")
        elif reason == "AcceptablePrice":
            require(
                q.fill_price is not None and not q.acceptable,
                f"order {a.orderId} cancelled though {q.fill_price} is acceptable",
            )
        else:
            error = self.system.codec.error_name(bytes(a.engineError))
            require(error in FILL_REFUSALS, f"order {a.orderId}: fill refused with {error}")
            self.count(f"FillRefused:{error}")
            assert q.fill_price is not None
            self._judge_exposure(order, q.fill_price, error, bytes(a.engineError))

    def _judge_exposure(self, order: PendingOrder, price: int, error: str, data: bytes) -> None:
        """A refused fill against the exposure bound at the cash its attempt saw: refused
        `PoolExposureExceeded` only when the bound is exceeded, with the model's exposure and
        bound; never `InsufficientMargin` (checked after it) when it is."""
        if self.order_cash is None:
            self.count("exposure:unreplayed")
            return
        size = self.positions[(order.account, order.market)][0]
        check = exposure_check(
            size,
            self.skew(order.market),
            order.size_delta,
            price,
            self.order_cash,
            self.system.markets[order.market].max_exposure_ratio,
        )
        exceeded = check is not None and check.exceeded
        if error == "PoolExposureExceeded":
            want = (order.market, check.exposure, check.bound) if check else None
            got = exposure_error_args(data)
            require(exceeded and got == want, f"order {order.order_id}: {error}{got}, model {want}")
            self.count("fill:PoolExposureExceeded")
        elif error == "InsufficientMargin":
            require(not exceeded, f"order {order.order_id}: {error} though the bound {check} fails")

    def _plan(
        self, outcome: Outcome, account: int, before: State | None
    ) -> tuple[Plan | None, CashReplay]:
        """The model's liquidation of `account` from the read before it, with the interest and
        funding the transaction settled first (their amounts are checked by `_settled`); the
        funding is credited as far as the pool's cash pays it. Returns the replayed cash too."""
        require(before is not None, f"account {account} liquidated outside a liquidation step")
        assert before is not None
        replay = CashReplay(
            before.ledger.poolCash, {account: before.accounts[account].quoteBalance}
        )
        owed = 0
        engine = self.system.codec.address("engine").lower()
        for e in outcome.events:
            if e.address != engine or e.name not in ("FundingSettled", "InterestCharged"):
                continue
            if e.args.accountId == account and e.name == "InterestCharged":
                replay.move(account, -e.args.amount)
            elif e.args.accountId == account:
                owed += e.args.amount
        if owed:
            replay.pay(account, -owed)
        plan = plan_liquidation(before, self.system, account, replay.quotes[account])
        return (plan if isinstance(plan, Plan) else None), replay

    def _liquidation_unpaid(
        self, outcome: Outcome, account: int, plan: Plan | None, replay: CashReplay
    ) -> None:
        """A liquidation credits the account's funding, then its closure's PnL, each as far as
        the pool's cash pays it: the chain's `ProfitUnpaid` amounts are the replay's."""
        if plan is None:
            return
        replay.pay(account, ref.to_quote_floor(plan.outcome.realized_pnl))
        engine = self.system.codec.address("engine").lower()
        got = [
            e.args.amount
            for e in outcome.events
            if e.address == engine and e.name == "ProfitUnpaid" and e.args.accountId == account
        ]
        want = [u for u in replay.unpaid if u]
        require(got == want, f"liquidation of {account}: unpaid {got}, model {want}")
        self.count("ProfitUnpaid:liquidation" if want else "liquidation:paid-in-full")

    def _liquidated(self, a: Record, plan: Plan | None) -> None:
        require(plan is not None, f"account {a.accountId} liquidated while the model says healthy")
        assert plan is not None
        o = plan.outcome
        got = (a.fraction, a.closedNotional, a.realizedPnl, a.penalty)
        want = (o.fraction, o.closed_notional, o.realized_pnl, o.penalty)
        require(got == want, f"liquidation (f, closed, pnl, penalty) {got}, model {want}")
        for market_id, delta, price in zip(plan.markets, o.size_deltas, plan.prices, strict=True):
            if price is None:  # a market without a price stays open
                continue
            size, open_notional = self.positions[(a.accountId, market_id)]
            new_open, _ = ref.apply_fill(size, open_notional, delta, price)
            self.positions[(a.accountId, market_id)] = (size + delta, new_open)
        self.book -= ref.to_quote_floor(a.realizedPnl)

    def _check_write_off(self, outcome: Outcome) -> None:
        """Bad debt: by a take only when its lot is exhausted; by a liquidation only without
        collateral to auction."""
        takes = outcome.named("Take")
        for take in takes:
            require(
                take.args.lotLeft == 0 and take.args.tabLeft > 0,
                f"bad debt written off by a take that left lot {take.args.lotLeft}",
            )
        if not takes and not outcome.named("AuctionCancelled"):
            require(
                not outcome.named("HandedToAuction"),
                "bad debt written off while the account still had collateral to auction",
            )

    # ------------------------------------------------------------------ invariants

    def check(
        self, state: State, risk_increased: set[int] | None = None, one_transaction: bool = False
    ) -> None:
        """Every invariant on a fresh read; `one_transaction`: the step sent a single
        transaction, so its accruals and settlements can be replayed from the previous read."""
        self.sync_cash(state)
        if one_transaction and self.previous is not None:
            self._accruals(self.previous, state)
        self.settled = []
        self.previous = state
        self.quotes = {a: state.accounts[a].quoteBalance for a in TRADERS}
        self._pending_orders(state)
        self._funding(state)
        self._conservation(state)
        self._auctions(state)
        self._books(state)
        self._model_equals_contract(state)
        self._adl_armed(state)
        for account in sorted(risk_increased or ()):
            self._risk_increase_allowed(state, account)

    def _conservation(self, state: State) -> None:
        codec = self.system.codec
        engine, liquidator = codec.address("engine").lower(), codec.address("liquidator").lower()
        pool = codec.address("pool").lower()
        quote = state.balances["quote"]
        ledger = state.ledger
        balances = [state.accounts[a].quoteBalance for a in TRADERS]
        positive = sum(max(q, 0) for q in balances)
        require(
            quote[engine] == positive + ledger.poolCash + ledger.insuranceFees,
            f"quote conservation: engine holds {quote[engine]}, books say "
            f"{positive} + {ledger.poolCash} + {ledger.insuranceFees}",
        )
        require(
            ledger.accountDebt == sum(max(-q, 0) for q in balances),
            f"accountDebt {ledger.accountDebt} != sum of negative balances",
        )
        require(quote[liquidator] == 0, "quote left in the liquidator")
        require(
            quote[pool] == state.pool_escrow,
            f"the pool holds {quote[pool]} quote, its requests' escrow is {state.pool_escrow}",
        )
        for token in TOKENS:
            total = sum(state.balances[token].values())
            require(
                total == state.supply[token], f"{token}: {total} held, {state.supply[token]} minted"
            )
        for token in ASSETS:
            address = codec.address(token).lower()
            deposited = sum(state.collateral[(a, token)] for a in TRADERS)
            lots = sum(s.lot for s in state.auctions.values() if s.token == address)
            # Queued lots (waiting, and leftovers kept for their final settlement) never moved.
            lots += sum(q.lot + q.leftover for q in state.queued.values() if q.token == address)
            # Seized collateral stays in the engine's custody until a take or cancel releases it.
            require(
                state.balances[token][engine] == deposited + lots
                and deposited == state.collateral_params[token].totalDeposited,
                f"{token}: engine holds {state.balances[token][engine]}, accounts {deposited}, "
                f"lots in auction {lots}",
            )
            require(
                state.balances[token][liquidator] == 0,
                f"{token}: liquidator holds {state.balances[token][liquidator]}",
            )

    def _pending_orders(self, state: State) -> None:
        """The chain's pending orders are the model's, field for field."""
        for (account, market), o in state.orders.items():
            mine = self.orders.pending.get(order_id(account, market))
            got = (o.sizeDelta, o.acceptablePrice, o.targetTime) if o.targetTime else None
            want = (mine.size_delta, mine.acceptable_price, mine.target_time) if mine else None
            require(got == want, f"order {account}/{market} on chain {got}, model {want}")

    def _auctions(self, state: State) -> None:
        g = state.liquidator_globals
        tabs = sum(s.tab for s in state.auctions.values())
        require(tabs == g.dirt <= g.hole, f"sum of tabs {tabs}, Dirt {g.dirt}, Hole {g.hole}")
        for token in ASSETS:
            address = self.system.codec.address(token).lower()
            c = state.auction_collaterals[token]
            mine = sum(s.tab for s in state.auctions.values() if s.token == address)
            require(mine == c.dirt <= c.hole, f"{token}: tabs {mine}, dirt {c.dirt}, hole {c.hole}")
        for queue_id, q in state.queued.items():
            require(q.debt <= q.tab, f"queued lot {queue_id}: debt {q.debt} above tab {q.tab}")
        for auction_id, s in state.auctions.items():
            before = self.auction_prices.get(auction_id)
            if before is not None and before[0] == s.startTime:
                require(s.price <= before[1], f"auction {auction_id} price rose without a reset")
            self.auction_prices[auction_id] = (s.startTime, s.price)
        for auction_id in [i for i in self.auction_prices if i not in state.auctions]:
            del self.auction_prices[auction_id]

    def _books(self, state: State) -> None:
        fund = self.system.codec.address("fund").lower()
        fund_balance = state.balances["quote"][fund]
        require(
            fund_balance == state.fund_assets == self.fund >= 0,
            f"insurance fund holds {fund_balance}, model {self.fund}",
        )
        ledger = state.ledger
        book = ledger.poolCash + ledger.accountDebt + ledger.debtInAuction
        require(
            book == self.book,
            f"LP book value {book}, model {self.book}: moved by more than PnL, fees and losses",
        )
        if any(state.prices[m.asset] is None for m in self.system.markets.values()):
            return
        trader_pnl = 0
        for market_id, info in self.system.markets.items():
            m = state.markets[market_id]
            price = state.prices[info.asset]
            index = funding_index_now(state, self.system, market_id)
            assert price is not None and index is not None
            net_size = m.longOpenInterest - m.shortOpenInterest
            owed = fm.traders_unsettled_funding_wad(net_size, index, m.fundingEntrySum)
            trader_pnl += ref.signed_mul_div_ceil(net_size, price, WAD) - m.netOpenNotional - owed
        pnl_quote_up = -(-trader_pnl // ref.WAD_PER_QUOTE)
        # The interest accrued to the pool and not yet charged to any account is its income.
        want = max(book + state.borrow.pendingInterest - pnl_quote_up, 0)
        require(state.pool_assets == want, f"pool totalAssets {state.pool_assets}, model {want}")

    def _accruals(self, before: State, after: State) -> None:
        """A step of one transaction, replayed by solvent.model.funding from the read before it:
        each market's funding accrual (velocity at the skew before, trapezoid at the oracle
        price, at the transaction's block time: the read's) and every funding and interest
        amount settled. A market the transaction emptied restarts its clock and index at 0."""
        touched: dict[int, fm.FundingState] = {}
        for market_id, info in self.system.markets.items():
            m0, m1 = before.markets[market_id], after.markets[market_id]
            price = after.prices[info.asset]
            if price is None:
                continue
            params = fm.FundingParams(
                m0.skewScale, m0.maxFundingVelocity, m0.fundingDeadband, m0.maxFundingRate
            )
            start = fm.FundingState(m0.fundingRate, m0.fundingIndex, m0.lastFundingTime)
            net_size = m0.longOpenInterest - m0.shortOpenInterest
            touched[market_id] = fm.accrue(start, net_size, price, after.now, params)
            if m1.lastFundingTime == m0.lastFundingTime:
                continue
            want = touched[market_id]
            if m1.lastFundingTime == 0:  # emptied: the rate stays, the index restarts
                want = fm.FundingState(want.rate, 0, 0)
            got = (m1.fundingRate, m1.fundingIndex, m1.lastFundingTime)
            require(
                got == (want.rate, want.index, want.last_time),
                f"market {market_id} funding (rate, index, time) {got}, model {want}",
            )
            self.count("funding:accrual-replayed")
        for name, a in self.settled:
            if name == "FundingSettled":
                p = before.positions[(a.accountId, a.marketId)]
                require(a.marketId in touched, f"funding settled in unpriced market {a.marketId}")
                want = fm.funding_owed(p.size, p.fundingEntry, touched[a.marketId].index)
            else:
                debt = -before.accounts[a.accountId].quoteBalance
                index = after.borrow_index_of[a.accountId]
                if after.accounts[a.accountId].quoteBalance >= 0 or index == 0:
                    continue  # the debt is gone, and with it the record of the index charged at
                want = fm.interest(debt, before.borrow_index_of[a.accountId], index)
            require(a.amount == want, f"{name} of account {a.accountId}: {a.amount}, model {want}")
            self.count(f"{name}:replayed")

    def _funding(self, state: State) -> None:
        """Each market's `fundingEntrySum` is Σ floor(size · entry / 1e9) over its positions, and
        funding is zero-sum with every rounding to the pool: what the positions owe at the index
        now (each rounded up, in quote units) covers the pool's claim on them (`floor(netSize ·
        index / 1e9) - fundingEntrySum`, WAD), by less than one quote unit per position."""
        for market_id in self.system.markets:
            m = state.markets[market_id]
            held = [state.positions[(a, market_id)] for a in TRADERS]
            held = [p for p in held if p.size != 0]
            entry_sum = sum(fm.entry_share(p.size, p.fundingEntry) for p in held)
            require(
                entry_sum == m.fundingEntrySum,
                f"market {market_id}: fundingEntrySum {m.fundingEntrySum}, positions {entry_sum}",
            )
            index = funding_index_now(state, self.system, market_id)
            if index is None:
                continue
            owed = sum(fm.funding_owed(p.size, p.fundingEntry, index) for p in held)
            net_size = m.longOpenInterest - m.shortOpenInterest
            claim = fm.traders_unsettled_funding_wad(net_size, index, m.fundingEntrySum)
            # Each entry share is floored (the claim may exceed the exact sum by < 1 wei each).
            excess = owed * ref.WAD_PER_QUOTE - claim
            require(
                -len(held) <= excess < (len(held) + 1) * ref.WAD_PER_QUOTE,
                f"market {market_id}: positions owe {owed} quote units, the pool claims {claim}",
            )
            self.count("funding:zero-sum-checked" if held else "funding:no-positions")

    def _adl_armed(self, state: State) -> None:
        """`adlParams().armed` is what the runs' `AdlExecuted` left (invariant 17)."""
        armed = bool(state.adl.armed)
        require(armed == self.adl_armed, f"ADL armed {armed}, runs left {self.adl_armed}")

    def _model_equals_contract(self, state: State) -> None:
        for account in TRADERS:
            for market_id in self.system.markets:
                p = state.positions[(account, market_id)]
                got = (p.size, p.openNotional)
                want = self.positions[(account, market_id)]
                require(got == want, f"position {account}/{market_id} {got}, model {want}")
            chosen = on_portfolio_model(state, self.system, account)
            require(
                chosen == self.models[account],
                f"account {account} on the portfolio model: chain {chosen}, model "
                f"{self.models[account]}",
            )
            m = account_margin(state, self.system, account)
            if m is None:
                continue
            debt = state.accounts[account].quoteBalance < 0  # the engine's flag: the stored quote
            for got, equity, requirement in (
                (state.health[account], m.maintenance_equity, m.maintenance_requirement),
                (state.initial_health[account], m.initial_equity, m.initial_requirement),
            ):
                require(not isinstance(got, Reverted), f"health of {account} reverted: {got}")
                assert not isinstance(got, Reverted)
                want = (equity, requirement, ref.health(equity, requirement, debt))
                have = (got.equity, got.requirement, got.health)
                require(have == want, f"health of {account}: contract {have}, model {want}")

    def _risk_increase_allowed(self, state: State, account: int) -> None:
        a = state.accounts[account]
        if a.marketMask == 0 and a.quoteBalance >= 0 and a.activeAuctions == 0:
            return  # an idle account withdraws whatever the feeds say: nothing is at risk
        m = account_margin(state, self.system, account)
        require(m is not None, f"account {account} added risk without a price")
        assert m is not None
        h = ref.health(m.initial_equity, m.initial_requirement, a.quoteBalance < 0)
        require(h >= WAD, f"account {account} added risk and is left at initial health {h}")
