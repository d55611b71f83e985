"""A shadow of the engine's quote books through fills, order fees and the passage of time: funding
per market, the borrow index, positions, quote balances and the pool's ledger, on exact integers.
Tests drive the engine and this model side by side and compare them to the wei."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from solvent.model import funding as fm
from solvent.model import margin


@dataclass
class PositionBook:
    size: int = 0
    open_notional: int = 0
    entry: int = 0


@dataclass
class MarketBook:
    params: fm.FundingParams
    insurance_fee_share: int
    state: fm.FundingState
    long_oi: int = 0
    short_oi: int = 0
    net_open_notional: int = 0
    entry_sum: int = 0
    # Σ netSize · Δindex over every accrual: 1e21 times the funding the traders owe in aggregate,
    # unrounded (the pool's side of it, exactly).
    aggregate_owed: int = 0
    settlements: int = 0

    @property
    def net_size(self) -> int:
        return self.long_oi - self.short_oi


@dataclass
class EngineBooks:
    """The engine's state that fills and time move (quote units unless named)."""

    markets: dict[int, MarketBook]
    borrow: fm.BorrowState
    borrow_params: fm.BorrowParams | None
    pool_cash: int = 0
    account_debt: int = 0
    debt_in_auction: int = 0
    insurance_fees: int = 0
    quote: dict[int, int] = field(default_factory=dict)
    borrow_index_of: dict[int, int] = field(default_factory=dict)
    positions: dict[tuple[int, int], PositionBook] = field(default_factory=dict)
    funding_paid: int = 0  # Σ funding settled by traders (quote units, positive: paid)
    interest_paid: int = 0
    profit_unpaid: int = 0  # Σ profit the pool's cash could not pay (`ProfitUnpaid`)

    @classmethod
    def from_chain(
        cls, admin: Any, borrow_params: fm.BorrowParams | None, accounts: list[int]
    ) -> EngineBooks:
        """The model started from a deployed engine before any of `accounts` holds a position:
        each market's funding state, the borrow index, the pool's ledger and the accounts'
        quote. `admin` is a handle on the engine's views (ape's `Protocol.admin`)."""
        ledger, borrow = admin.ledger(), admin.borrowState()
        markets = {}
        for market_id in range(admin.marketCount()):
            m = admin.markets(market_id)
            markets[market_id] = MarketBook(
                params=fm.FundingParams(
                    m.skewScale, m.maxFundingVelocity, m.fundingDeadband, m.maxFundingRate
                ),
                insurance_fee_share=m.insuranceFeeShare,
                state=fm.FundingState(m.fundingRate, m.fundingIndex, m.lastFundingTime),
            )
        books = cls(
            markets=markets,
            borrow=fm.BorrowState(borrow.index, borrow.lastTime, borrow.pendingInterest),
            borrow_params=borrow_params,
            pool_cash=ledger.poolCash,
            account_debt=ledger.accountDebt,
            debt_in_auction=ledger.debtInAuction,
            insurance_fees=ledger.insuranceFees,
        )
        for account in accounts:
            books.quote[account] = admin.accounts(account).quoteBalance
        return books

    # ------------------------------------------------------------------ ledger primitives

    def move_quote(self, account: int, delta: int) -> None:
        """`EngineBase._moveQuote`: the pool settles every change of a trader's quote."""
        before = self.quote.get(account, 0)
        after = before + delta
        self.pool_cash -= max(after, 0) - max(before, 0)
        self.account_debt += max(-after, 0) - max(-before, 0)
        self.quote[account] = after

    def move_quote_paying(self, account: int, delta: int) -> int:
        """`EngineBase._moveQuotePaying`: a change that may pay the account a profit; the part of
        its gain in positive quote beyond `max(pool_cash, 0)` is not credited. Returns that
        unpaid part."""
        unpaid = 0
        if delta > 0:
            before = self.quote.get(account, 0)
            gain = max(before + delta, 0) - max(before, 0)
            unpaid = max(gain - max(self.pool_cash, 0), 0)
            delta -= unpaid
            self.profit_unpaid += unpaid
        self.move_quote(account, delta)
        return unpaid

    def exposure_exceeded(
        self, market_id: int, size_before: int, size_delta: int, price: int, ratio: int
    ) -> bool:
        """`EngineBase._requireExposureBound` for a fill of `size_delta` at `price`, asked before
        the fill (the engine asks after moving the position, before any quote moves: the pool's
        cash is the same): refused when it increases the account's risk (`size_before` its
        position), grows the traders' net size, and the net notional would be above `ratio`
        times the pool's cash (rounded down)."""
        if not margin.increases_risk(size_before, size_before + size_delta):
            return False
        net_before = self.markets[market_id].net_size
        net = net_before + size_delta
        if abs(net) <= abs(net_before):
            return False
        return margin.notional(net, price) > (
            max(self.pool_cash, 0) * margin.WAD_PER_QUOTE * ratio // margin.WAD
        )

    def deposit_quote(self, account: int, amount: int, now: int) -> None:
        if self.quote.get(account, 0) >= 0:
            self.quote[account] = self.quote.get(account, 0) + amount
            return
        self.touch_borrow(account, now)
        self.pool_cash += amount
        self.move_quote(account, amount)

    def credit_pool(self, amount: int, now: int) -> None:
        self.accrue_borrow(now)
        self.pool_cash += amount

    # ------------------------------------------------------------------ borrow

    def accrue_borrow(self, now: int) -> None:
        self.borrow = fm.accrue_borrow(
            self.borrow, self.pool_cash, self.account_debt, now, self.borrow_params
        )

    def touch_borrow(self, account: int, now: int | None) -> None:
        """`EngineBase._touchBorrow` (accrues at `now` unless None: already accrued)."""
        if now is not None:
            self.accrue_borrow(now)
        balance = self.quote.get(account, 0)
        if balance >= 0:
            return
        charged = fm.interest(-balance, self.borrow_index_of.get(account, 0), self.borrow.index)
        if charged:
            self.move_quote(account, -charged)
            self.borrow = fm.charge_interest(self.borrow, charged)
            self.interest_paid += charged
        self.borrow_index_of[account] = self.borrow.index

    def record_borrow_index(self, account: int) -> None:
        if self.quote.get(account, 0) < 0:
            self.borrow_index_of[account] = self.borrow.index

    # ------------------------------------------------------------------ fills

    def fill(
        self,
        account: int,
        market_id: int,
        size_delta: int,
        fill_price: int,
        fee: int,
        oracle_price: int,
        now: int,
        settlement_fee: int = 0,
    ) -> int:
        """`fillOrder`; returns the funding the position settled. The insurance fund's cut of the
        fee leaves the pool's cash first; then the fill's PnL less fee and funding is credited as
        far as the pool's cash pays it; then `settlement_fee` (the settler's pay) leaves the
        account and the engine's cash, before the engine's margin check."""
        market = self.markets[market_id]
        self.touch_borrow(account, now)
        before = market.state.index
        market.state = fm.accrue(market.state, market.net_size, oracle_price, now, market.params)
        index = market.state.index
        market.aggregate_owed += market.net_size * (index - before)
        position = self.positions.get((account, market_id), PositionBook())
        owed = fm.funding_owed(position.size, position.entry, index)
        if position.size:
            market.settlements += 1
        new_size = position.size + size_delta
        new_open, realized = margin.apply_fill(
            position.size, position.open_notional, size_delta, fill_price
        )
        self.write_position(account, market_id, new_size, new_open, index)
        cut = margin.insurance_cut(fee, market.insurance_fee_share)
        self.pool_cash -= cut
        self.insurance_fees += cut
        self.move_quote_paying(account, margin.to_quote_floor(realized) - fee - owed)
        self.move_quote(account, -settlement_fee)
        self.pool_cash -= settlement_fee
        self.record_borrow_index(account)
        self.funding_paid += owed
        return owed

    def write_position(
        self, account: int, market_id: int, new_size: int, new_open: int, index: int
    ) -> None:
        """`EngineBase._updateMarket` and `_storePosition`: the market's aggregates and the
        position after it moves to `new_size` with `new_open` notional, its entry at `index`."""
        market = self.markets[market_id]
        position = self.positions.get((account, market_id), PositionBook())
        market.net_open_notional += new_open - position.open_notional
        market.entry_sum += fm.entry_share(new_size, index) - fm.entry_share(
            position.size, position.entry
        )
        market.long_oi += max(new_size, 0) - max(position.size, 0)
        market.short_oi += max(-new_size, 0) - max(-position.size, 0)
        if market.long_oi == 0 and market.short_oi == 0:  # emptied: clock and index restart
            market.state = fm.FundingState(rate=market.state.rate)
        self.positions[(account, market_id)] = (
            PositionBook(new_size, new_open, index) if new_size else PositionBook()
        )

    def charge_order_fee(self, account: int, fee: int, now: int) -> None:
        if fee == 0:
            return
        self.touch_borrow(account, now)
        self.move_quote(account, -fee)
        self.pool_cash -= fee
        self.record_borrow_index(account)

    # ------------------------------------------------------------------ views

    def pool_assets(self, prices: dict[int, int], now: int) -> int:
        """`poolAssets()` at `now` with the oracle prices of each market."""
        trader_pnl = 0
        for market_id, market in self.markets.items():
            index = fm.view_index(
                market.state, market.net_size, prices[market_id], now, market.params
            )
            owed = fm.traders_unsettled_funding_wad(market.net_size, index, market.entry_sum)
            trader_pnl += (
                margin.signed_mul_div_ceil(market.net_size, prices[market_id], margin.WAD)
                - market.net_open_notional
                - owed
            )
        borrow = fm.accrue_borrow(
            self.borrow, self.pool_cash, self.account_debt, now, self.borrow_params
        )
        assets = (
            self.pool_cash
            + self.account_debt
            + self.debt_in_auction
            + borrow.pending_interest
            - margin.signed_mul_div_ceil(trader_pnl, 1, margin.WAD_PER_QUOTE)
        )
        return max(assets, 0)

    def copy(self) -> EngineBooks:
        return replace(
            self,
            markets={k: replace(v) for k, v in self.markets.items()},
            quote=dict(self.quote),
            borrow_index_of=dict(self.borrow_index_of),
            positions={k: replace(v) for k, v in self.positions.items()},
        )
