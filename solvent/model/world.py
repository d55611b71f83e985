"""An exact-integer world of the protocol subset a Monte Carlo campaign path exercises
(docs/simulator.md, "Monte Carlo campaign"): accounts holding quote (USDC) and collateral (ETH,
BTC, at their weights) with perp positions in every market of the config, oracle prices set per
block, velocity funding and the borrow index (solvent.model.ledger), fills through the order book
at set-up (solvent.model.orders), the engine's partial and full liquidation
(solvent.model.margin.plan_liquidation), the keeper's reward, the hand-off of collateral to the
Dutch auctions and their takes, resets and settlement (solvent.model.auctions), and the loss
waterfall: the insurance fees swept into the fund first, the fund covers, the rest is socialized
on the LP pool (`EngineBase._writeOff`).

Not modelled (the campaign's episodes never reach them; the referee would catch one that did):
queued lots, trades during the path, volatility pokes (the margin sigma stays the seed's), LP
and insurance exits.

Every formula is the reference model's; this module only orders the steps as the contracts do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from solvent.config import ProtocolConfig
from solvent.model import funding as fm
from solvent.model import margin as ref
from solvent.model import oracle_math
from solvent.model import orders as order_ref
from solvent.model.auctions import Liquidator, LotRules, Settlement, TakeEvent
from solvent.model.ledger import EngineBooks, MarketBook, PositionBook

WAD = ref.WAD


class BookRefused(ValueError):
    """The set-up's book would be refused by the protocol (a commit's pre-check, the fill's
    initial margin or an open-interest cap): the campaign's book builder must not plan it."""


@dataclass(frozen=True)
class MarketRules:
    key: str  # the asset key, e.g. WETH
    market_id: int
    margin: ref.MarketParams
    sigma: int  # the margin sigma: the seed's, as the adapter stores it (no pokes in a campaign)
    maker_rate: int
    taker_rate: int
    settlement_fee: int  # quote units
    commit_margin_bps: int
    open_interest_cap: int
    max_exposure_ratio: int
    funding: fm.FundingParams
    feed_decimals: int  # the primary feed's: prices are its answers, normalized to WAD


@dataclass(frozen=True)
class Rules:
    markets: tuple[MarketRules, ...]  # in market id order (the deployment lists them so)
    liquidation: ref.LiquidationParams
    borrow: fm.BorrowParams
    # collateral key -> weights (in the engine's collateral index order: the config's)
    collaterals: dict[str, ref.CollateralParams] = field(default_factory=dict)
    lots: dict[str, LotRules] = field(default_factory=dict)
    global_hole: int = 0

    @classmethod
    def from_config(cls, config: ProtocolConfig) -> Rules:
        markets = []
        for market_id, asset in enumerate(config.assets):
            m, o = asset.market, asset.orders
            markets.append(
                MarketRules(
                    key=asset.key,
                    market_id=market_id,
                    margin=ref.MarketParams(
                        m.base_mmr,
                        m.vol_factor,
                        m.sigma_cap,
                        m.im_scale,
                        m.fee_rate,
                        m.insurance_fee_share,
                    ),
                    sigma=oracle_math.annualized_sigma(
                        oracle_math.variance_from_sigma(asset.oracle.seed_sigma)
                    ),
                    maker_rate=o.maker_fee_rate,
                    taker_rate=o.taker_fee_rate,
                    settlement_fee=o.settlement_fee,
                    commit_margin_bps=o.commit_margin_bps,
                    open_interest_cap=m.open_interest_cap,
                    max_exposure_ratio=m.max_exposure_ratio,
                    funding=fm.FundingParams(
                        m.skew_scale, m.max_funding_velocity, m.funding_deadband, m.max_funding_rate
                    ),
                    feed_decimals=asset.feed.decimals,
                )
            )
        liquidation = ref.LiquidationParams(**dataclasses.asdict(config.liquidation))
        b = config.borrow
        quote_decimals = config.quote.decimals
        return cls(
            tuple(markets),
            liquidation,
            fm.BorrowParams(b.base_rate, b.optimal_utilization, b.max_rate),
            collaterals={
                a.key: ref.CollateralParams(
                    a.token.decimals, a.collateral.im_weight, a.collateral.mm_weight
                )
                for a in config.assets
            },
            lots={
                a.key: LotRules.of(a.key, a.auction, a.token.decimals, quote_decimals)
                for a in config.assets
            },
            global_hole=config.auction_global_hole,
        )

    def market(self, key: str) -> MarketRules:
        return next(m for m in self.markets if m.key == key)


@dataclass(frozen=True)
class AccountPlan:
    """One account of the book: its quote deposit, collateral and one order per market."""

    account_id: int
    deposit: int  # quote units
    orders: tuple[tuple[str, int], ...]  # (market key, signed size WAD), at most one per market
    collateral: tuple[tuple[str, int], ...] = ()  # (asset key, token units)


@dataclass(frozen=True)
class Liquidation:
    """A `Liquidated` event's fields."""

    account: int
    fraction: int
    closed_notional: int
    realized_pnl: int
    penalty: int
    keeper_reward: int


@dataclass(frozen=True)
class WriteOff:
    """A `BadDebtWrittenOff` event's fields."""

    account: int
    debt: int
    covered: int
    socialized: int


@dataclass
class ProtocolWorld:
    """The engine's books (EngineBooks), the oracle's prices and the insurance fund's balance."""

    rules: Rules
    books: EngineBooks
    fund: int  # the insurance fund's quote balance (its totalAssets)
    prices: dict[int, int] = field(default_factory=dict)  # market id -> WAD
    accounts: list[int] = field(default_factory=list)
    collateral: dict[tuple[int, str], int] = field(default_factory=dict)  # (account, key) -> units
    liquidator: Liquidator | None = None
    now: int = 0  # the latest block's time (set by the driver)
    takes: list[TakeEvent] = field(default_factory=list)
    resets: list[tuple[int, str, int, int]] = field(
        default_factory=list
    )  # account, token, owed, paid
    liquidations: list[Liquidation] = field(default_factory=list)
    write_offs: list[WriteOff] = field(default_factory=list)
    keeper_paid: int = 0  # quote units paid to keepers (from penalties and by the fund)

    @classmethod
    def empty(cls, rules: Rules, lp_deposit: int, fund_deposit: int) -> ProtocolWorld:
        """A fresh deployment after the LP's deposit (instant while the pool is flat) and the
        insurance fund's stake."""
        markets = {
            m.market_id: MarketBook(m.funding, m.margin.insurance_fee_share, fm.FundingState())
            for m in rules.markets
        }
        books = EngineBooks(markets=markets, borrow=fm.BorrowState(), borrow_params=rules.borrow)
        books.pool_cash = lp_deposit
        liquidator = Liquidator(dict(rules.lots), rules.global_hole)
        return cls(rules, books, fund_deposit, liquidator=liquidator)

    def price_of(self, key: str) -> int:
        """The oracle price of an asset (every collateral here is also a market's asset)."""
        return self.prices[self.rules.market(key).market_id]

    # ------------------------------------------------------------------ prices

    def set_prices(self, answers: dict[str, int]) -> None:
        """Each market's primary feed answer (its decimals), as the oracle normalizes it."""
        for m in self.rules.markets:
            self.prices[m.market_id] = answers[m.key] * 10 ** (18 - m.feed_decimals)

    # ------------------------------------------------------------------ set-up

    def open_book(self, plans: list[AccountPlan], now: int) -> None:
        """Deposits, commits (checked by the order book's pre-check) and the fills of every order
        at `now`, one `settleOrders` batch per market in market id order, each in plan order."""
        for plan in plans:
            self.accounts.append(plan.account_id)
            self.books.quote[plan.account_id] = plan.deposit
            for key, amount in plan.collateral:
                self.collateral[(plan.account_id, key)] = amount
        for plan in plans:
            for key, size in plan.orders:
                self._pre_check(plan.account_id, self.rules.market(key), size, now)
        for rules in self.rules.markets:
            for plan in plans:
                for key, size in plan.orders:
                    if key == rules.key:
                        self._fill(plan.account_id, rules, size, now)

    def _pre_check(self, account: int, rules: MarketRules, size: int, now: int) -> None:
        """`OrderBook._preCheck` at commit: free initial margin covers the commit margin at the
        reference price (the listing's: nothing has settled yet)."""
        m = ref.margin(self.portfolio(account, now), self.rules.liquidation.min_position_margin)
        required = order_ref.commit_margin(
            abs(size),
            self.prices[rules.market_id],
            rules.commit_margin_bps,
            rules.taker_rate,
            rules.settlement_fee,
        )
        free = m.initial_equity - m.initial_requirement
        if free < 0 or free < required:
            raise BookRefused(f"account {account}: commit needs {required}, free margin {free}")

    def _fill(self, account: int, rules: MarketRules, size: int, now: int) -> None:
        market = self.books.markets[rules.market_id]
        oracle = self.prices[rules.market_id]
        s = order_ref.settle(
            oracle,
            market.net_size,
            rules.funding.skew_scale,
            size,
            2**256 - 1 if size > 0 else 0,
            rules.maker_rate,
            rules.taker_rate,
        )
        if s.fill_price is None or not s.acceptable:
            raise BookRefused(f"account {account}: no fill price")
        size_before = self.books.positions.get((account, rules.market_id), PositionBook()).size
        if self.books.exposure_exceeded(
            rules.market_id, size_before, size, s.fill_price, rules.max_exposure_ratio
        ):
            raise BookRefused(f"{rules.key}: pool exposure bound")
        self.books.fill(
            account,
            rules.market_id,
            size,
            s.fill_price,
            s.trade_fee,
            oracle,
            now,
            settlement_fee=rules.settlement_fee,
        )
        if max(market.long_oi, market.short_oi) > rules.open_interest_cap:
            raise BookRefused(f"{rules.key}: open-interest cap")
        m = ref.margin(self.portfolio(account, now), self.rules.liquidation.min_position_margin)
        if ref.health(m.initial_equity, m.initial_requirement, self.books.quote[account] < 0) < WAD:
            raise BookRefused(f"account {account}: fill below initial margin")

    # ------------------------------------------------------------------ views

    def charges_due(self, account: int, now: int) -> int:
        """Quote units the account owes and has not settled (borrow interest on its debt and the
        funding of every position at the index now), as the engine's margin counts them."""
        b = self.books
        quote = b.quote.get(account, 0)
        borrow = fm.accrue_borrow(b.borrow, b.pool_cash, b.account_debt, now, b.borrow_params)
        due = (
            fm.interest(-quote, b.borrow_index_of.get(account, 0), borrow.index) if quote < 0 else 0
        )
        for m in self.rules.markets:
            p = b.positions.get((account, m.market_id))
            if p is None or p.size == 0:
                continue
            market = b.markets[m.market_id]
            index = fm.view_index(
                market.state, market.net_size, self.prices[m.market_id], now, market.params
            )
            due += fm.funding_owed(p.size, p.entry, index)
        return due

    def portfolio(self, account: int, now: int, settled: bool = False) -> ref.Portfolio:
        """The account as solvent.model.margin sees it; its quote net of the charges due unless
        `settled` (a liquidation has just settled them)."""
        quote = self.books.quote.get(account, 0)
        if not settled:
            quote -= self.charges_due(account, now)
        positions = []
        for m in self.rules.markets:
            p = self.books.positions.get((account, m.market_id))
            if p is None or p.size == 0:
                continue
            positions.append(
                ref.PositionState(
                    p.size, p.open_notional, self.prices[m.market_id], m.sigma, m.margin
                )
            )
        holdings = [
            ref.CollateralHolding(amount, self.price_of(key), self.rules.collaterals[key])
            for key in self.rules.collaterals
            if (amount := self.collateral.get((account, key), 0))
        ]
        return ref.Portfolio(quote, holdings, positions)

    def health(self, account: int, now: int) -> tuple[int, int, int]:
        """`healthOf`: maintenance (equity, requirement, health)."""
        m = ref.margin(self.portfolio(account, now), self.rules.liquidation.min_position_margin)
        debt = self.books.quote.get(account, 0) < 0
        h = ref.health(m.maintenance_equity, m.maintenance_requirement, debt)
        return m.maintenance_equity, m.maintenance_requirement, h

    def liquidatable(self, now: int) -> list[int]:
        """`liquidatableAccounts`: maintenance health below 1, in account order."""
        return [a for a in self.accounts if self.health(a, now)[2] < WAD]

    def pool_assets(self, now: int) -> int:
        return self.books.pool_assets(self.prices, now)

    # ------------------------------------------------------------------ liquidation

    def liquidate(self, account: int, now: int) -> Liquidation | None:
        """`MarginEngine.liquidate(account, keeper)` at `now`; None where it reverts
        (`AccountHealthy`: the account recovered before the keeper's transaction landed)."""
        if self.health(account, now)[2] >= WAD:
            return None
        b, params = self.books, self.rules.liquidation
        b.touch_borrow(account, now)
        self._settle_funding(account, now)
        plan = ref.plan_liquidation(self.portfolio(account, now, settled=True), params)
        assert plan is not None, "liquidatable by the view, healthy after settling its charges"
        held = [
            m
            for m in self.rules.markets
            if b.positions.get((account, m.market_id), PositionBook()).size != 0
        ]
        for m, delta in zip(held, plan.size_deltas, strict=True):
            self._write_fill(account, m.market_id, delta)
        b.move_quote_paying(account, ref.to_quote_floor(plan.realized_pnl))
        if not plan.handed_off:
            reward = ref.keeper_reward(0, plan.penalty, params.keeper_tip, params.keeper_chip)
            b.move_quote(account, -plan.penalty)
            b.pool_cash -= plan.penalty
            b.insurance_fees += plan.penalty - reward
        else:
            reward = self._hand_off(account, plan.penalty, now)
        b.record_borrow_index(account)
        self.keeper_paid += reward
        event = Liquidation(
            account, plan.fraction, plan.closed_notional, plan.realized_pnl, plan.penalty, reward
        )
        self.liquidations.append(event)
        return event

    def _settle_funding(self, account: int, now: int) -> None:
        """`EngineBase._settleFunding`: each held market accrued at its oracle price, the
        position's funding settled into quote and its entry moved to the index."""
        b = self.books
        owed_total = 0
        for m in self.rules.markets:
            p = b.positions.get((account, m.market_id))
            if p is None or p.size == 0:
                continue
            market = b.markets[m.market_id]
            before = market.state.index
            market.state = fm.accrue(
                market.state, market.net_size, self.prices[m.market_id], now, market.params
            )
            index = market.state.index
            market.aggregate_owed += market.net_size * (index - before)
            if index == p.entry:
                continue
            owed = fm.funding_owed(p.size, p.entry, index)
            market.entry_sum += fm.entry_share(p.size, index) - fm.entry_share(p.size, p.entry)
            b.positions[(account, m.market_id)] = PositionBook(p.size, p.open_notional, index)
            b.funding_paid += owed
            owed_total += owed
        if owed_total:
            b.move_quote_paying(account, -owed_total)

    def _write_fill(self, account: int, market_id: int, delta: int) -> None:
        """`EngineBase._writeFill` of a liquidation's closing fill at the oracle price: the market
        and the position move at the market's stored index (its funding was just settled)."""
        p = self.books.positions[(account, market_id)]
        new_open, _ = ref.apply_fill(p.size, p.open_notional, delta, self.prices[market_id])
        index = self.books.markets[market_id].state.index
        self.books.write_position(account, market_id, p.size + delta, new_open, index)

    def _hand_off(self, account: int, penalty_due: int, now: int) -> int:
        """`EngineBase._handOff`: cash pays what it can of the penalty; the debt is written off at
        once when the account holds no collateral (`_writeOff`, then the fund pays the keeper what
        it still can), else it goes to auction with the collateral and the unpaid penalty. Returns
        the reward paid."""
        b, params = self.books, self.rules.liquidation
        quote = b.quote[account]
        paid, debt = max(quote, 0), max(-quote, 0)
        b.insurance_fees += paid
        b.account_debt -= debt
        b.quote[account] = 0
        held = [k for k in self.rules.collaterals if self.collateral.get((account, k), 0)]
        if held:
            b.debt_in_auction += debt
            lots = [(k, self.collateral.pop((account, k)), self.price_of(k)) for k in held]
            assert self.liquidator is not None
            owed = self.liquidator.start(account, lots, debt, penalty_due - paid, now)
            return self._fund_pays(owed)
        reward = ref.keeper_reward(debt, penalty_due, params.keeper_tip, params.keeper_chip)
        self._write_off(account, debt)
        return self._fund_pays(reward)

    def _fund_pays(self, amount: int) -> int:
        """`InsuranceFund.payKeeperReward`: what the fund holds, at most."""
        paid = min(amount, self.fund)
        self.fund -= paid
        return paid

    def _write_off(self, account: int, debt: int) -> None:
        """`EngineBase._writeOff`: the insurance fees held by the engine are swept to the fund
        first, the fund covers what it can, the rest is socialized on the pool."""
        if not debt:
            return
        b = self.books
        self.fund += b.insurance_fees
        b.insurance_fees = 0
        covered = min(debt, self.fund)
        self.fund -= covered
        b.pool_cash += covered
        self.write_offs.append(WriteOff(account, debt, covered, debt - covered))

    # ------------------------------------------------------------------ auctions

    def take(self, account: int, token: str, max_amount: int, max_price: int, now: int) -> bool:
        """A keeper's `take` of the account's auction of `token`; False where it reverts."""
        assert self.liquidator is not None
        a = self.liquidator.running(account, token)
        if a is None:
            return False
        done = self.liquidator.take(a, max_amount, max_price, now)
        if done is None:
            return False
        event, settlement = done
        self.takes.append(event)
        self._settle_auction(settlement)
        return True

    def reset(self, account: int, token: str, now: int) -> bool:
        """A keeper's `reset` of the account's auction of `token`; False where it reverts."""
        assert self.liquidator is not None
        a = self.liquidator.running(account, token)
        if a is None:
            return False
        owed = self.liquidator.reset(a, self.price_of(token), now)
        if owed is None:
            return False
        paid = self._fund_pays(owed) if owed else 0
        a.reset_paid += paid
        self.resets.append((account, token, owed, paid))
        return True

    def _settle_auction(self, s: Settlement) -> None:
        """`MarginEngineExtension.settleAuction`: proceeds repay the debt under auction to the
        pool and the penalty to the fund's fees, the unrecovered debt goes down the waterfall,
        and an ended auction's leftover lot goes back to the account."""
        b = self.books
        b.debt_in_auction -= s.debt_repaid + s.bad_debt
        b.pool_cash += s.debt_repaid
        b.insurance_fees += s.penalty_paid
        self._write_off(s.account, s.bad_debt)
        if s.ended and s.returned:
            key = (s.account, s.token)
            self.collateral[key] = self.collateral.get(key, 0) + s.returned
