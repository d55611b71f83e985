"""The Hypothesis state machine over the deployed protocol. Rules act as traders, LPs, stakers,
keepers, takers and the price feeds; one invariant reads the chain after every step and checks
it against the shadow model (solvent.fuzz.model). Each example runs between evm_snapshot and
evm_revert, so examples are independent and a failure shrinks to a short reproducible sequence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from solvent.fuzz import adl
from solvent.fuzz.driver import TX_GAS, Call, Driver, Outcome, Reverted
from solvent.fuzz.model import (
    UNPRICED,
    ZERO_ADDRESS,
    AdlCall,
    Shadow,
    account_margin,
    plan_liquidation,
    require,
    switch_refusal,
)
from solvent.fuzz.orders import PendingOrder, Round, order_id
from solvent.fuzz.state import ROUND_FIELDS, State, read_state
from solvent.fuzz.system import (
    ASSETS,
    DEPLOYER,
    KEEPER,
    LP,
    MAX_UINT,
    STAKER,
    TRADERS,
    USDC,
    WAD,
    FuzzSystem,
)
from solvent.model import adl as adl_ref
from solvent.model import funding as fm
from solvent.model import margin as ref
from solvent.model import orders as order_ref
from solvent.model import pool as pool_ref
from solvent.model.adl import AdlError
from solvent.rpc import RpcError

PRICE_FACTORS_BPS = (
    5_000,
    7_000,
    8_500,
    9_000,
    9_500,
    9_700,
    10_300,
    10_500,
    11_000,
    13_000,
)  # gaps included
TIME_STEPS = (12, 60, 300, 1_800, 5_000)  # 5,000 s: beyond maxStaleness (4,500 s), feeds go stale
EXCHANGE_PREMIUM_BPS = 12_000  # the toy DEX pays 1.2x the oracle: flash takes are profitable
PPM = 1_000_000
# The only reasons a liquidation of an account under water may fail: its own market has no price
# and nothing else of it can be closed (docs/margin.md, "Unpriceable assets").
OWN_STATE_REASONS = frozenset({"PriceUnavailable"})
# What may refuse an order settled at its determined round, in time: the round's price fails the
# oracle's checks (a secondary feed moved since, bounds).
PRICE_REFUSALS = frozenset({"PriceDeviation", "PriceBelowMin", "PriceAboveMax"})
# How a round other than the determined one is refused (the order book checks the time first).
WRONG_ROUND_REFUSALS = frozenset(
    {
        "RoundUnavailable",
        "RoundBeforeTarget",
        "NotFirstRound",
        "PredecessorUnavailable",
        "SettlementTooEarly",
        "OrderExpired",
    }
)

# How a keeper draws its `autoDeleverage` list (`ProtocolMachine._adl_list`): the ranking's
# prefix that reaches the target, that prefix with one more account, with a wrong-side or a
# not-in-profit account inserted, or no account at all.
ADL_SHAPES = ("ranked", "ranked", "extra", "wrong-side", "not-in-profit", "empty")
# Errors of `autoDeleverage` whose arguments the machine checks (from an eth_call replay).
ADL_ERRORS = frozenset(e.value for e in AdlError)

traders = st.sampled_from(TRADERS)
assets = st.sampled_from(ASSETS)
markets = st.sampled_from((0, 1))
ppm = st.integers(min_value=1, max_value=PPM)
dollars = st.integers(min_value=1, max_value=300_000)


class ProtocolMachine(RuleBasedStateMachine):
    """Bind `driver` and `system` with `bind` before running."""

    driver: ClassVar[Driver]
    system: ClassVar[FuzzSystem]

    @classmethod
    def bind(cls, driver: Driver, system: FuzzSystem) -> type[ProtocolMachine]:
        return type("BoundProtocolMachine", (cls,), {"driver": driver, "system": system})

    def __init__(self) -> None:
        super().__init__()
        self.snapshot_id = self.driver.snapshot()
        self.state: State = read_state(self.driver, self.system)
        self.shadow = Shadow.start(self.system, self.state)
        self.feed_prices = {a: p for a, p in self.state.prices.items() if p is not None}
        self.risk_increased: set[int] = set()  # accounts that added risk since the last check
        self.branches: dict[str, int] = {}
        self.initial_hole: int = self.state.liquidator_globals.hole
        self.judgements: list[Callable[[State], None]] = []
        self.step_transactions = 0

    def teardown(self) -> None:
        self.driver.revert(self.snapshot_id)

    # ------------------------------------------------------------------ helpers

    def _tx(
        self, sender: int, target: str, fn: str, *args: Any, before: State | None = None
    ) -> Outcome:
        outcome = self.driver.transact(sender, target, fn, *args)
        self.step_transactions += 1
        if outcome.ok:
            self.shadow.apply(outcome, before, (target, fn))
        self.branch(f"{target}.{fn}:{'ok' if outcome.ok else outcome.error}")
        return outcome

    def _read(self) -> State:
        """A read of the chain mid-step: the state the next transactions are judged on, and the
        point the cash replay is checked against the chain and restarts from."""
        self.state = read_state(self.driver, self.system)
        self.shadow.sync_cash(self.state)
        return self.state

    def branch(self, name: str) -> None:
        self.branches[name] = self.branches.get(name, 0) + 1

    def _address(self, key: str) -> str:
        return self.system.codec.address(key)

    def _units(self, asset: str, usd: int) -> int:
        """`usd` dollars of `asset` in its token units, at the last price the feeds were set to."""
        if asset == "quote":
            return usd * USDC
        return usd * WAD * 10 ** self.system.decimals[asset] // self.feed_prices[asset]

    # ------------------------------------------------------------------ setup

    @initialize(
        weth=st.integers(min_value=10_000, max_value=200_000),
        quote=st.integers(min_value=0, max_value=20_000),
        leverage=st.integers(min_value=2, max_value=6),
        long=st.booleans(),
        crash=st.booleans(),
        withdraw_share=st.sampled_from((0, PPM // 4, PPM // 2, 3 * PPM // 4, 9 * PPM // 10)),
        hole_full=st.booleans(),
        pending_withdraw_share=st.sampled_from((0, 0, PPM // 2, 3 * PPM // 4)),
        on_portfolio=st.booleans(),
        squeeze=st.sampled_from((False, False, True)),
        adl_goal=st.sampled_from((0, 0, 0, 900, 970, 1_500)),
    )
    def open_positions(
        self,
        weth: int,
        quote: int,
        leverage: int,
        long: bool,
        crash: bool,
        withdraw_share: int,
        hole_full: bool = False,
        pending_withdraw_share: int = 0,
        on_portfolio: bool = False,
        squeeze: bool = False,
        adl_goal: int = 0,
    ) -> None:
        """Two traders start collateralized and leveraged (one in each market), so that price
        moves make accounts liquidatable within a few steps; leverage above the initial margin
        is refused, which is a step worth taking too. Each opening order is committed, then
        settled after the delay and a round; with `pending_withdraw_share` the first trader
        withdraws while its order waits, so the fill's margin check is the only one left. With
        `on_portfolio` the first trader chooses the portfolio model first (idle: always
        accepted), so its fill, withdrawals and liquidation are the model's verdicts. With
        `squeeze` the pool's cash is squeezed under the open positions (`squeeze_pool`); with
        `adl_goal` (instead) the second trader's market is brought above the ADL trigger, its
        factor near `adl_goal` per mille, and a keeper deleverages it (`adl_pool`)."""
        if on_portfolio:
            self.choose_model(TRADERS[0], portfolio=True)
        for trader, market in ((TRADERS[0], 0), (TRADERS[1], 1)):
            self._tx(
                trader,
                "engine",
                "deposit",
                trader,
                self._address("WETH"),
                self._units("WETH", weth),
            )
            if quote:
                self._tx(trader, "engine", "deposit", trader, self._address("quote"), quote * USDC)
            asset = self.system.markets[market].asset
            size = weth * leverage * WAD * WAD // self.feed_prices[asset]
            self._commit(trader, market, size if long else -size, MAX_UINT if long else 0)
        if opening := self.shadow.orders.pending.get(order_id(TRADERS[0], 0)):
            self._cancel_live(opening)
        self._read()
        if pending_withdraw_share:
            self.withdraw(TRADERS[0], "WETH", pending_withdraw_share)
        for market in (0, 1):
            self.publish_after_delay(market)
        for trader, market in ((TRADERS[0], 0), (TRADERS[1], 1)):
            self._read()
            self.shadow.quotes = {a: self.state.accounts[a].quoteBalance for a in TRADERS}
            if order := self.shadow.orders.pending.get(order_id(trader, market)):
                self._settle(order)
                self._run_judgements(read_state(self.driver, self.system))
        self._read()
        if withdraw_share:  # the first risk increase of a fresh position: a withdrawal
            self.withdraw(TRADERS[0], "WETH", withdraw_share)
        if adl_goal:
            self.adl_pool(long, adl_goal)
        elif squeeze:
            self.squeeze_pool(long)
        if crash:  # half the examples start with a gap against the positions and liquidations
            # The opening trades took their risk at the prices before the gap: judge them there.
            self.protocol_keeps_its_promises()
            for asset in ASSETS:
                self._set_price(
                    asset, self.feed_prices[asset] * (5_000 if long else 16_000) // 10_000
                )
            self._read()
            if hole_full:  # the crash meets a full Hole: the lots must wait in the queue
                self.set_global_hole(True)
            for trader in TRADERS[:2]:
                self._read()  # each liquidation is planned on the pool's cash it meets
                self.liquidate(trader)
            self._read()
            for pick in range(len(self.state.auctions)):  # a taker asking below the price
                self.take(pick, PPM // 2, honest=False)

    def squeeze_pool(self, long: bool) -> None:
        """Issue 15's two rules, reached in every example that asks: the LP redeems (request,
        a minute, fresh rounds, the keeper's execution, the claim) 99.9% of what the pool
        may pay out (`poolWithdrawable`: the cash less the traders' profit and 10% of their net
        notional), so the cash is left near a tenth of the open net notional. The second trader
        then adds 10% to its position: the fill grows |net| beyond the bound and is refused
        `PoolExposureExceeded`. Both prices then move 30% the positions' way and the first
        trader closes: its profit is above the cash left, so part of it is `ProfitUnpaid` (a
        crash, when the example asks for one, comes after, against the second trader)."""
        lp = self.system.actors[LP]
        views = [_call("pool", "balanceOf", lp), _call("pool", "totalAssets")]
        shares, assets, withdrawable = self.driver.views(
            [*views, _call("admin", "poolWithdrawable")]
        )
        if any(isinstance(v, Reverted) for v in (shares, assets, withdrawable)) or not assets:
            return
        self._redeem_withdrawable(int(assets), int(withdrawable))
        second = self.state.positions[(TRADERS[1], 1)].size
        if second:
            self.trade_now(TRADERS[1], 1, second // 10)
            self.protocol_keeps_its_promises()  # the refused fill is judged where it happened
        for asset in ASSETS:
            self._set_price(asset, self.feed_prices[asset] * (13_000 if long else 7_000) // 10_000)
        if first := self._read().positions[(TRADERS[0], 0)].size:
            self.trade_now(TRADERS[0], 0, -first)
        self._read()

    def _redeem_withdrawable(self, assets: int, withdrawable: int) -> None:
        """The LP redeems 99.9% of `poolWithdrawable` (request, a minute, fresh rounds, the
        keeper's execution, the claim)."""
        self.lp_request_redeem(min(PPM, withdrawable * 999 * PPM // (1_000 * assets)))
        self.pass_time(60)
        self.refresh_feeds()
        self.lp_execute(deposit=False)
        self._read()

    def adl_pool(self, long: bool, goal: int) -> None:
        """Issue 15's auto-deleveraging, reached in every example that asks. In the second
        trader's market (1): the third trader joins the net side at the opening price (in profit
        later); the price moves 20% the positions' way and the fourth trader joins at the top
        (under water once the price falls back); the price falls back to 2% above the opening;
        the LP redeems 99.9% of `poolWithdrawable`; the price then moves the positions' way to
        where the pool's factor is `goal` per mille (then 2% more at a time while it is not
        above the trigger). A keeper then calls `autoDeleverage` on the first trader's market
        when its traders are not in profit (refused `AdlMarketNotInProfit`), then on the second
        with a wrong-side, a not-in-profit, an over-long, an empty and the ranked list, in that
        order (the refusals change nothing; the empty run arms the ranked one). Each trade is
        judged at its own prices."""
        second = self.state.positions[(TRADERS[1], 1)].size
        if not second:
            return
        asset = self.system.markets[1].asset
        opening = self.feed_prices[asset]
        for trader, size in ((TRADERS[2], second // 4), (TRADERS[3], second // 8)):
            usd = abs(size) * self.feed_prices[asset] // WAD // WAD
            self._tx(trader, "engine", "deposit", trader, self._address("quote"), usd * USDC)
            self.trade_now(trader, 1, size)
            self.protocol_keeps_its_promises()  # the risk it took, at the prices it took it
            if trader == TRADERS[2]:
                self._set_price(asset, opening * (12_000 if long else 8_000) // 10_000)
        self._set_price(asset, opening * (10_200 if long else 9_800) // 10_000)
        views = [_call("pool", "totalAssets"), _call("admin", "poolWithdrawable")]
        assets, withdrawable = self.driver.views(views)
        if not any(isinstance(v, Reverted) for v in (assets, withdrawable)) and assets:
            self._redeem_withdrawable(int(assets), int(withdrawable))
        for attempt in range(6):
            r = self._adl_reading_at_read(self._read(), 1)
            if r is None or r.book.net_size == 0 or r.factor() > r.trigger:
                break
            price = self.feed_prices[asset] * (10_200 if long else 9_800) // 10_000
            if attempt == 0:  # the price that puts the pool's factor (O + T) / G at `goal`
                book = r.book
                owed = fm.traders_unsettled_funding_wad(book.net_size, book.index, book.entry_sum)
                wanted = r.pool_value * goal // 1_000 - r.others + book.net_open_notional + owed
                price = max(wanted * WAD // book.net_size, price if long else 10**10)
            self._set_price(asset, price)
        state = self._read()
        # The first trader's market (0), not in profit at its unmoved price, while the pool's
        # factor is above the trigger: cutting it would raise the factor (`AdlMarketNotInProfit`).
        first = self._adl_reading_at_read(state, 0)
        if first is not None and first.pnl <= 0 and first.factor() > first.trigger:
            self._deleverage(0, "ranked", 0)
        for shape in ("wrong-side", "not-in-profit", "extra", "empty", "ranked"):
            # The empty list runs without a cut and ends above the target: it arms the ranked
            # run, which then starts from the target and disarms on reaching it.
            if self._deleverage(1, shape, 0, strict=True) and shape != "empty":
                break

    # ------------------------------------------------------------------ traders

    @rule(trader=traders, asset=st.sampled_from(("quote", *ASSETS)), usd=dollars)
    def deposit(self, trader: int, asset: str, usd: int) -> None:
        amount = self._units(asset, usd)
        if amount:
            self._tx(trader, "engine", "deposit", trader, self._address(asset), amount)

    @rule(
        trader=traders, asset=st.sampled_from(("quote", *ASSETS)), share=st.integers(1, 1_100_000)
    )
    def withdraw(self, trader: int, asset: str, share: int) -> None:
        balance = (
            max(self.state.accounts[trader].quoteBalance, 0)
            if asset == "quote"
            else self.state.collateral[(trader, asset)]
        )
        amount = balance * share // PPM
        if amount == 0:
            return
        to = self.system.actors[trader]
        if self._tx(trader, "engine", "withdraw", trader, self._address(asset), amount, to).ok:
            self.risk_increased.add(trader)

    @rule(trader=traders, portfolio=st.booleans())
    def choose_model(self, trader: int, portfolio: bool) -> None:
        """The owner chooses the portfolio model or the standard margin (the zero address). The
        outcome is predicted exactly on a read in the transaction's block (`switch_refusal`):
        accepted when idle, else a trade's risk gate and initial health >= 1 under the new
        rules; an accepted switch of a busy account is a risk increase the invariant judges."""
        model = self._address("portfolio_model") if portfolio else ZERO_ADDRESS
        outcome = self._tx(trader, "admin", "setRiskModel", trader, model)
        after = read_state(self.driver, self.system)
        checks = [_call("oracle", "riskIncreasePrice", self._address(t)) for t in ASSETS]
        checks += [_call("admin", "riskPaused"), _call("oracle", "sequencerRestricted")]
        *gate, paused, restricted = self.driver.views(checks)
        require(
            not any(isinstance(v, Reverted) for v in (*gate, paused, restricted)),
            f"a risk gate view reverted: {gate, paused, restricted}",
        )
        prices = {t: int(p) for t, p in zip(ASSETS, gate, strict=True)}
        want = switch_refusal(after, self.system, trader, portfolio, prices, paused, restricted)
        require(
            outcome.error == want,
            f"account {trader} switching to {'portfolio' if portfolio else 'standard'}: "
            f"{outcome.error or 'accepted'}, model {want or 'accepted'}",
        )
        if outcome.ok:
            self.risk_increased.add(trader)

    # One tuple argument: Hypothesis draws a rule less often the more arguments it has.
    @rule(
        order=st.tuples(
            traders, markets, dollars, st.booleans(), st.sampled_from((None, None, 0, 30, 300))
        )
    )
    def commit(self, order: tuple[int, int, int, bool, int | None]) -> None:
        """A trader commits an order of `usd` dollars; `limit_bps` bounds its fill price around
        the last price the feeds were set to (None: no bound; 0: the skew premium alone may
        cancel it)."""
        trader, market, usd, long, limit_bps = order
        asset = self.system.markets[market].asset
        delta = self.size_for(market, usd, long)
        acceptable = MAX_UINT if delta > 0 else 0
        if limit_bps is not None:
            price = self.feed_prices[asset]
            bound = 10_000 + limit_bps if delta > 0 else 10_000 - limit_bps
            acceptable = price * bound // 10_000
        self._commit(trader, market, delta, acceptable)

    @rule(trader=traders, market=markets)
    def close(self, trader: int, market: int) -> None:
        size = self.state.positions[(trader, market)].size
        if size:
            self._commit(trader, market, -size, MAX_UINT if size < 0 else 0)

    def _commit(self, trader: int, market: int, delta: int, acceptable: int) -> Outcome:
        """Commits; a commit while the pair's order is live must be refused (`OrderPending`)."""
        before = self.shadow.orders.pending.get(order_id(trader, market))
        outcome = self._tx(trader, "orders", "commitOrder", trader, market, delta, acceptable)
        if before is not None:
            self._judge(lambda state: self._judge_replacement(before, outcome, state))
        return outcome

    def _judge_replacement(self, before: PendingOrder, outcome: Outcome, state: State) -> None:
        expiry = self.shadow.orders.expiry(before)
        if state.now <= expiry:
            require(
                outcome.error == "OrderPending",
                f"order {before.order_id} replaced before its expiry: {outcome.error or 'ok'}",
            )
        elif outcome.ok:
            require(
                any(c.args.orderId == before.order_id for c in outcome.named("OrderCancelled")),
                f"expired order {before.order_id} replaced without a cancellation",
            )

    @precondition(lambda self: bool(self.shadow.orders.pending))
    @rule(pick=st.integers(0, 7))
    def settle(self, pick: int) -> None:
        """A keeper settles a pending order at the round its commit determined (the latest round
        when none is published yet: it must be refused)."""
        self._settle(self._pending(pick))

    def _settle(self, order: PendingOrder) -> Outcome:
        book = self.shadow.orders
        determined = book.determined(order)
        round_id = (determined or book.latest(order.market)).round_id
        size = self.state.positions[(order.account, order.market)].size
        outcome = self._tx(KEEPER, "orders", "settleOrder", order.order_id, round_id)
        if outcome.named("OrderSettled") and ref.increases_risk(size, size + order.size_delta):
            self.risk_increased.add(order.account)
        self._judge(lambda state: self._judge_settlement(order, determined, outcome, state))
        return outcome

    def _batch_with(self, first: PendingOrder) -> list[PendingOrder]:
        """The pending orders of `first`'s market that its determined round prices and that had
        not expired at the last read (an expired one would revert the whole batch)."""
        book = self.shadow.orders
        determined = book.determined(first)
        if determined is None:
            return []
        return [
            o
            for _, o in sorted(book.pending.items())
            if o.market == first.market
            and book.determined(o) == determined
            and book.expiry(o) > self.state.now
        ]

    def settle_batch(self, first: PendingOrder) -> Outcome:
        """A keeper settles, in one `settleOrders` call, every pending order of a market that one
        round prices (`trade_now` does when other orders wait for its round): each fill sees the
        skew the previous one left, and the shadow checks them in log order. Not a rule of its
        own: one more rule shifts every draw of the derandomized mutation campaigns."""
        batch = self._batch_with(first)
        determined = self.shadow.orders.determined(first)
        assert determined is not None and batch
        sizes = {o.account: self.state.positions[(o.account, o.market)].size for o in batch}
        ids = [o.order_id for o in batch]
        outcome = self._tx(KEEPER, "orders", "settleOrders", ids, determined.round_id)
        for settled in outcome.named("OrderSettled"):
            account = settled.args.orderId >> 8
            if ref.increases_risk(sizes[account], sizes[account] + settled.args.sizeDelta):
                self.risk_increased.add(account)
        self._judge(lambda state: self._judge_batch(batch, outcome, state))
        return outcome

    def _judge_batch(self, batch: list[PendingOrder], outcome: Outcome, state: State) -> None:
        """The batch reverts as a whole on an order `settleOrder` would refuse (an expired one),
        or on a round price the oracle refuses; otherwise every order is settled or cancelled."""
        expired = [o for o in batch if state.now > self.shadow.orders.expiry(o)]
        if expired:
            require(
                outcome.error == "OrderExpired", f"batch with an expired order: {outcome.error}"
            )
        elif not outcome.ok:
            require(outcome.error in PRICE_REFUSALS, f"batch refused: {outcome.error}")
        else:
            ended = {e.args.orderId for e in outcome.named("OrderSettled")}
            ended |= {e.args.orderId for e in outcome.named("OrderCancelled")}
            require(ended == {o.order_id for o in batch}, f"batch left orders: {ended}")

    def _judge_settlement(
        self, order: PendingOrder, determined: Round | None, outcome: Outcome, state: State
    ) -> None:
        """At the settlement's block time (`state.now`: the transaction was the step's last)."""
        expiry = self.shadow.orders.expiry(order)
        if state.now > expiry:
            require(outcome.error == "OrderExpired", f"expired order settled: {outcome.error}")
        elif determined is None:
            require(
                outcome.error in ("SettlementTooEarly", "RoundBeforeTarget"),
                f"order {order.order_id} settled before its round existed: {outcome.error or 'ok'}",
            )
        elif not outcome.ok:
            require(
                outcome.error in PRICE_REFUSALS,
                f"order {order.order_id} refused at its determined round: {outcome.error}",
            )

    # One argument: Hypothesis draws rules with fewer arguments more often (it sorts them so).
    @rule(case=st.tuples(traders, markets, st.sampled_from((-2, -1, 1, 2)), st.booleans()))
    def settle_wrong_round(self, case: tuple[int, int, int, bool]) -> None:
        """A settler naming a round other than the determined one is refused: a neighbour in
        publication order (across phases; a later round is published first when there is none,
        as a settler waiting for a better price would), or the id next to it (maybe never
        published). The pair's live order is used, or one is committed and its round published
        (a reduction of its position, or $1,000 on $500 of fresh quote), so that the
        attempt always has a determined round to differ from."""
        trader, market, step, by_id = case
        order = self.shadow.orders.pending.get(order_id(trader, market))
        if order is None or self.shadow.orders.expiry(order) <= self.state.now:
            held = self.state.positions[(trader, market)].size
            if held:  # a reduction: no margin pre-check
                delta = -held // 4 if abs(held) >= 4 else -held
            else:  # the margin of a $1,000 order, topped up
                self._tx(trader, "engine", "deposit", trader, self._address("quote"), 500 * USDC)
                delta = self.size_for(market, 1_000, long=step > 0)
            if not self._commit(trader, market, delta, MAX_UINT if delta > 0 else 0).ok:
                return
            order = self.shadow.orders.pending[order_id(trader, market)]
        if self.shadow.orders.determined(order) is None:
            self.publish_after_delay(market)
        book = self.shadow.orders
        rounds = book.rounds[order.market]
        determined = book.determined(order)
        anchor = rounds.index(determined) if determined is not None else len(rounds) - 1
        if by_id:
            round_id = max(rounds[anchor].round_id + step, 1)
        else:
            if anchor + step >= len(rounds):  # a later round, as a settler waiting for one
                asset = self.system.markets[order.market].asset
                self._set_price(asset, self.feed_prices[asset])
            round_id = rounds[min(max(anchor + step, 0), len(rounds) - 1)].round_id
        if determined is not None and round_id == determined.round_id:
            return
        outcome = self._tx(KEEPER, "orders", "settleOrder", order.order_id, round_id)
        require(
            not outcome.ok and outcome.error in WRONG_ROUND_REFUSALS,
            f"order {order.order_id} settled at round {round_id}: {outcome.error or 'ok'}",
        )
        self.branch(f"wrong-round-refused:{outcome.error}")

    @precondition(lambda self: bool(self.shadow.orders.pending))
    @rule(pick=st.integers(0, 7), by_trader=st.booleans())
    def cancel(self, pick: int, by_trader: bool) -> None:
        """Anyone (the trader too) cancels: refused before expiry, allowed after it. A keeper
        picks a live order when there is one (a stranger cancelling a live order is the griefing
        the expiry rule stops); the trader any of them."""
        order = self._pending(pick, live=not by_trader)
        sender = order.account if by_trader else KEEPER
        outcome = self._tx(sender, "orders", "cancelOrder", order.order_id)
        self._judge(lambda state: self._judge_cancel(order, outcome, state))

    def _cancel_live(self, order: PendingOrder) -> None:
        """A stranger tries to cancel an order just committed (every example's set-up does, so
        the check does not depend on the draws reaching a live order): refused before expiry."""
        outcome = self._tx(KEEPER, "orders", "cancelOrder", order.order_id)
        # Judged at once, in the transaction's block: the set-up's later steps move the clock.
        self._judge_cancel(order, outcome, read_state(self.driver, self.system))

    def _judge_cancel(self, order: PendingOrder, outcome: Outcome, state: State) -> None:
        expired = state.now > self.shadow.orders.expiry(order)
        if expired:
            require(outcome.ok, f"expired order {order.order_id} not cancelled: {outcome.error}")
        else:
            require(
                outcome.error == "OrderNotExpired",
                f"order {order.order_id} cancelled before expiry: {outcome.error or 'ok'}",
            )
            self.branch("cancel:before-expiry-refused")

    @rule(market=markets)
    def publish_after_delay(self, market: int) -> None:
        """The settlement delay passes and the market's feeds publish a round (at the same
        price): what makes a pending order settleable."""
        self.driver.advance(self.system.orders[market].settlement_delay)
        asset = self.system.markets[market].asset
        self._set_price(asset, self.feed_prices[asset])

    def trade_now(self, trader: int, market: int, delta: int) -> Outcome:
        """Commit, wait for the delay, publish a round and settle: a trade in one step (set-up
        and the replayed regressions)."""
        acceptable = MAX_UINT if delta > 0 else 0
        if not self._commit(trader, market, delta, acceptable).ok:
            return Outcome(False, error="commit refused")
        self.publish_after_delay(market)
        # The step's earlier transactions moved balances: the settlement is judged on a fresh read.
        self._read()
        self.shadow.quotes = {a: self.state.accounts[a].quoteBalance for a in TRADERS}
        order = self.shadow.orders.pending[order_id(trader, market)]
        if len(self._batch_with(order)) > 1:
            return self.settle_batch(order)
        return self._settle(order)

    def size_for(self, market: int, usd: int, long: bool) -> int:
        """`usd` dollars of the market's asset at the last price the feeds were set to, signed."""
        size = usd * WAD * WAD // self.feed_prices[self.system.markets[market].asset]
        return size if long else -size

    def _pending(self, pick: int, live: bool = False) -> PendingOrder:
        """A pending order; with `live`, one not expired at the last read if there is one."""
        book = self.shadow.orders
        orders = [book.pending[i] for i in sorted(book.pending)]
        if live:
            orders = [o for o in orders if book.expiry(o) > self.state.now] or orders
        return orders[pick % len(orders)]

    def _judge(self, check: Callable[[State], None]) -> None:
        """A check that needs the chain's clock after the step's last transaction."""
        self.judgements.append(check)

    # ------------------------------------------------------------------ LPs and stakers

    @rule(usd=st.integers(1, 2_000_000))
    def lp_deposit(self, usd: int) -> None:
        self._tx(LP, "pool", "deposit", usd * USDC, self.system.actors[LP])

    @rule(share=ppm)
    def lp_withdraw(self, share: int) -> None:
        lp = self.system.actors[LP]
        [available] = self.driver.views([_call("pool", "maxWithdraw", lp)])
        if isinstance(available, Reverted):  # it needs the prices
            return
        if amount := available * share // PPM:
            self._tx(LP, "pool", "withdraw", amount, lp, lp)

    @rule(usd=st.integers(1, 2_000_000))
    def lp_request_deposit(self, usd: int) -> None:
        """An ERC-7540 deposit request (the only way in while the pool is not flat)."""
        lp = self.system.actors[LP]
        self._tx(LP, "pool", "requestDeposit", usd * USDC, lp, lp)

    @rule(share=ppm)
    def lp_request_redeem(self, share: int) -> None:
        lp = self.system.actors[LP]
        [shares] = self.driver.views([_call("pool", "balanceOf", lp)])
        if amount := shares * share // PPM:
            self._tx(LP, "pool", "requestRedeem", amount, lp, lp)

    @rule(deposit=st.booleans())
    def lp_execute(self, deposit: bool) -> None:
        """A keeper executes the LP's request at each market's round for its target time (the
        latest round when none is published yet: it must be refused), then the LP claims."""
        lp = self.system.actors[LP]
        [times] = self.driver.views([_call("pool", "requestTimes", lp, deposit)])
        target = int(times.target)
        if not target:
            return
        book = self.shadow.orders
        rounds = []
        for market in sorted(book.rounds):
            known = book.rounds[market]
            chosen = order_ref.determining_round(
                [(r.round_id, r.updated_at) for r in known], target
            )
            rounds.append(chosen if chosen is not None else known[-1].round_id)
        fn = "executeDeposit" if deposit else "executeRedeem"
        outcome = self._tx(KEEPER, "pool", fn, lp, rounds)
        if not outcome.ok:
            return
        self._check_lp_execution(outcome, deposit, rounds)
        claim = ("maxDeposit", "deposit") if deposit else ("maxRedeem", "redeem")
        [claimable] = self.driver.views([_call("pool", claim[0], lp)])
        if claimable:
            self._tx(LP, "pool", claim[1], claimable, lp, lp)

    def _check_lp_execution(self, outcome: Outcome, deposit: bool, rounds: list[int]) -> None:
        """The round-trip invariant at its source: every LP share changes hands at the pool's
        value with each market's net trader position marked at the request's determining round
        (solvent.model.pool, from the shadow's rounds), so a deposit-redeem round trip gains
        exactly its pro-rata share of the pool's PnL between the two executions, never more.
        Read in the execution's block (before the claim), where the pool's books differ from the
        execution's only by the request's own assets."""
        [event] = outcome.named("DepositExecuted" if deposit else "RedeemExecuted")
        a = event.args
        markets = sorted(self.shadow.orders.rounds)
        codec = self.system.codec
        calls = [_call("pool", "totalAssets"), _call("pool", "totalSupply")]
        for m in markets:
            asset = codec.address(self.system.markets[m].asset)
            calls += [_call("engine", "marketSkew", m), _call("oracle", "price", asset)]
        values = self.driver.views(calls)
        if any(isinstance(v, Reverted) for v in values):
            return
        assets_after, supply_after = int(values[0]), int(values[1])
        marks = []
        for i, m in enumerate(markets):
            key = self.system.markets[m].asset
            answer = next(r.answer for r in self.shadow.orders.rounds[m] if r.round_id == rounds[i])
            round_price = answer * 10 ** (18 - self.system.feed_decimals[f"feed.{key}"])
            skew, price = values[2 + 2 * i], values[3 + 2 * i]
            marks.append(pool_ref.MarketMark(int(skew.netSize), int(price), round_price))
        if deposit:
            books, supply = assets_after - a.assets, supply_after - a.shares
            paid = pool_ref.deposit_shares(a.assets, supply, a.poolValue)
            require(paid == a.shares, f"deposit shares {a.shares}, model {paid}")
        else:
            books, supply = assets_after + a.assets + a.fee, supply_after + a.shares
            paid = pool_ref.redeem_assets(a.shares, supply, a.poolValue)
            require(paid == a.assets + a.fee, f"redeem assets {a.assets + a.fee}, model {paid}")
        if assets_after == 0 or books <= 0:
            return  # clamped at zero: the books are not recoverable from the view
        want = pool_ref.execution_value(books, ref.WAD_PER_QUOTE, marks, deposit)
        require(a.poolValue == want, f"LP execution value {a.poolValue}, model {want}")
        self.branch("lp-execution-value-checked")

    @rule(deposit=st.booleans())
    def lp_cancel(self, deposit: bool) -> None:
        """Anyone returns an expired request (refused before expiry)."""
        self._tx(KEEPER, "pool", "cancelRequest", self.system.actors[LP], deposit)

    @rule(usd=st.integers(1, 100_000))
    def stake(self, usd: int) -> None:
        self._tx(STAKER, "fund", "deposit", usd * USDC, self.system.actors[STAKER])

    @rule(share=ppm)
    def unstake(self, share: int) -> None:
        """Requests a withdrawal, or redeems inside an open window (the cool-down is 7 days)."""
        staker = self.system.actors[STAKER]
        [shares, redeemable] = self.driver.views(
            [_call("fund", "balanceOf", staker), _call("fund", "maxRedeem", staker)]
        )
        if isinstance(redeemable, Reverted):
            return
        if redeemable:
            self._tx(STAKER, "fund", "redeem", max(redeemable * share // PPM, 1), staker, staker)
        elif amount := shares * share // PPM:
            self._tx(STAKER, "fund", "requestWithdrawal", amount)

    # ------------------------------------------------------------------ prices and time

    @rule(asset=assets, factor=st.sampled_from(PRICE_FACTORS_BPS))
    def move_price(self, asset: str, factor: int) -> None:
        self._set_price(asset, self.feed_prices[asset] * factor // 10_000)

    @rule()
    def refresh_feeds(self) -> None:
        for asset in ASSETS:
            self._set_price(asset, self.feed_prices[asset])

    def _set_price(self, asset: str, price: int) -> None:
        price = max(price // 10**10 * 10**10, 10**10)  # exact in every feed's decimals
        for feed in (f"feed.{asset}", f"feed2.{asset}"):
            answer = price * 10 ** self.system.feed_decimals[feed] // WAD
            self._tx(0, feed, "setAnswer", answer)
        premium = price * EXCHANGE_PREMIUM_BPS // 10_000
        self._tx(0, "exchange", "setPrice", self._address(asset), premium)
        self.feed_prices[asset] = price
        self._see_round(asset)

    def _see_round(self, asset: str) -> None:
        """Books the round the primary feed just published (the model names rounds itself)."""
        latest = self.driver.views([_call(f"feed.{asset}", f) for f in ROUND_FIELDS])
        self.shadow.orders.see_round(self.system.market_of(asset), Round(*latest))

    @rule(asset=assets)
    def start_new_phase(self, asset: str) -> None:
        """The primary feed's proxy switches aggregators: the next round starts a new phase
        (ids `phase << 64 | 1`), and the determined round may be the first of it."""
        self._tx(0, f"feed.{asset}", "startNewPhase")

    @rule(seconds=st.sampled_from(TIME_STEPS))
    def pass_time(self, seconds: int) -> None:
        self.driver.advance(seconds)

    @rule()
    def pass_cooldown(self) -> None:
        """Past the insurance fund's 7-day cool-down: stakers' windows open, feeds go stale."""
        self.driver.advance(7 * 86_400 + 60)

    # ------------------------------------------------------------------ keepers

    @rule()
    def liquidate_weakest(self) -> None:
        """A keeper: liquidates the account the reference model finds least healthy."""
        healths = {}
        for trader in TRADERS:
            m = account_margin(self.state, self.system, trader)
            if m is not None:
                debt = self.state.accounts[trader].quoteBalance < 0
                healths[trader] = ref.health(m.maintenance_equity, m.maintenance_requirement, debt)
        if healths:
            self.liquidate(min(healths, key=lambda t: healths[t]))

    @rule(trader=traders)
    def liquidate(self, trader: int) -> None:
        """Anyone may call liquidate: a healthy account must be refused with AccountHealthy."""
        plan = plan_liquidation(self.state, self.system, trader)
        keeper = self.system.actors[KEEPER]
        outcome = self._tx(KEEPER, "engine", "liquidate", trader, keeper, before=self.state)
        if plan is None:
            require(
                not outcome.ok and outcome.error == "AccountHealthy",
                f"healthy account {trader} not refused: {outcome.error or 'liquidated'}",
            )
            self.branch("liquidate:healthy-refused")
        elif plan != UNPRICED and not outcome.ok:
            require(outcome.error != "AccountHealthy", f"unhealthy account {trader} refused")

    @precondition(lambda self: bool(self.state.auctions))
    @rule(pick=st.integers(0, 7), share=ppm, honest=st.booleans())
    def take(self, pick: int, share: int, honest: bool) -> None:
        """A take at the displayed price, or one asking for a price just below it (must revert)."""
        auction_id, status = self._auction(pick)
        max_price = status.price if honest or status.price == 0 else status.price - 1
        amount = max(status.lot * share // PPM, 1)
        keeper = self.system.actors[KEEPER]
        outcome = self._tx(KEEPER, "liquidator", "take", auction_id, amount, max_price, keeper, b"")
        for take in outcome.named("Take"):
            require(take.args.price <= max_price, f"take paid {take.args.price} > max {max_price}")

    @precondition(lambda self: bool(self.state.auctions))
    @rule(pick=st.integers(0, 7), share=ppm)
    def take_with_callback(self, pick: int, share: int) -> None:
        """A capital-free take: SwapTaker sells the slice on the toy DEX inside the callback."""
        auction_id, status = self._auction(pick)
        amount = max(status.lot * share // PPM, 1)
        outcome = self._tx(KEEPER, "swap_taker", "take", auction_id, amount, status.price)
        for take in outcome.named("Take"):
            require(take.args.price <= status.price, "flash take above its max price")

    @precondition(lambda self: bool(self.state.auctions))
    @rule(pick=st.integers(0, 7))
    def reset(self, pick: int) -> None:
        auction_id, _ = self._auction(pick)
        self._tx(KEEPER, "liquidator", "reset", auction_id, self.system.actors[KEEPER])

    @rule(tight=st.booleans())
    def set_global_hole(self, tight: bool) -> None:
        """Governance: Hole at what runs now (full, as in a crash) or back to the config.
        Liquidations must still close positions; their lots wait in the queue."""
        hole = self.state.liquidator_globals.dirt if tight else self.initial_hole
        self._tx(DEPLOYER, "liquidator", "setGlobalHole", hole)

    @precondition(lambda self: any(q.lot for q in self.state.queued.values()))
    @rule(pick=st.integers(0, 7))
    def start_queued(self, pick: int) -> None:
        """Anyone: starts a waiting lot, whole or the part that fits the room; refused only with
        a named reason (no room, starts stopped, oracle)."""
        waiting = sorted(q for q, r in self.state.queued.items() if r.lot)
        outcome = self._tx(KEEPER, "liquidator", "startQueued", waiting[pick % len(waiting)])
        require(outcome.ok or bool(outcome.error), "startQueued failed without a named error")

    @rule()
    def sweep_fees(self) -> None:
        self._tx(KEEPER, "admin", "sweepInsuranceFees")

    def _auction(self, pick: int) -> tuple[int, Any]:
        ids = sorted(self.state.auctions)
        auction_id = ids[pick % len(ids)]
        return auction_id, self.state.auctions[auction_id]

    # One tuple argument: Hypothesis draws a rule less often the more arguments it has.
    @rule(case=st.tuples(markets, st.sampled_from(ADL_SHAPES), st.integers(0, 7)))
    def deleverage(self, case: tuple[int, str, int]) -> None:
        """A keeper calls `autoDeleverage` with a list drawn from the shadow (`_adl_list`); the
        outcome is predicted exactly (`solvent.fuzz.adl.predict`: the reference model's run)."""
        market, shape, pick = case
        self._deleverage(market, shape, pick)  # judged inside; ran or refused

    def _deleverage(self, market: int, shape: str, pick: int, strict: bool = False) -> bool:
        """Sends the keeper's list and judges it on the read just before it (nothing is sent in
        between) and the transaction's block (its time, its prices and, after it, the borrow
        state): the named error with its arguments, or every cut (size to the wei, realized PnL,
        credits through the cash replay with their `ProfitUnpaid`), both factors and `armed`.
        Returns whether the call ran. `strict`: no call when the shape finds no account to
        insert (the rule sends the ranked list instead)."""
        before = self._read()
        asset = self.system.markets[market].asset
        if before.prices[asset] is None:
            return False
        accounts = self._adl_list(before, market, shape, pick, strict)
        if accounts is None:
            return False
        block = _as_int(self._node("eth_blockNumber"))  # the state the call starts from
        outcome = self.driver.transact(KEEPER, "engine", "autoDeleverage", market, accounts)
        self.step_transactions += 1
        after = read_state(self.driver, self.system)
        pending = self._pending_interest_at(block, after.now)
        reading = self._adl_reading_in_block(before, after, market, outcome, pending)
        if reading is None:  # a price the call needs is unavailable in the transaction's block
            require(not outcome.ok, f"ADL of market {market} ran without a price")
            self.branch("adl:unpriced")
            return False
        want = adl.predict(reading, accounts)
        self.branch(f"adl:{want.error or 'ok'}")
        if reading.trigger != reading.params.trigger:  # a shortfall remains, or armed
            self.branch("adl:trigger-is-target")
        if not outcome.ok:
            args = self._error_args(market, accounts, want.error)
            got = (outcome.error, want.args if args is None else args)
            require(
                got == (want.error, want.args),
                f"ADL of market {market} with {accounts}: {got}, model {want.error}{want.args}",
            )
            self.branch(f"engine.autoDeleverage:{outcome.error}")
            return False
        self.shadow.adl_call = AdlCall(reading, accounts)
        self.shadow.apply(outcome, before, ("engine", "autoDeleverage"))
        self.branch("engine.autoDeleverage:ok")
        run = want.run
        require(run is not None, f"ADL of market {market} with {accounts} ran: {want.error}")
        assert run is not None
        cuts = [
            (e.args.accountId, e.args.sizeDelta, e.args.realizedPnl)
            for e in outcome.named("AutoDeleveraged")
        ]
        wanted = [(c.account, c.size_delta, c.realized_pnl) for c in run.cuts]
        require(cuts == wanted, f"ADL cuts {cuts}, model {wanted}")
        [executed] = outcome.named("AdlExecuted")
        got_factors = (executed.args.factorBefore, executed.args.factorAfter)
        want_factors = (run.factor_before, run.factor_after)
        require(got_factors == want_factors, f"ADL factors {got_factors}, model {want_factors}")
        armed = run.factor_after > reading.params.target
        require(bool(after.adl.armed) == armed, f"ADL armed {after.adl.armed}, model {armed}")
        if want.full:  # the run ended on the bisection's cut, or cut every listed account whole
            self.branch("adl:cut-full" if want.full[-1] else "adl:cut-partial")
        if armed:
            self.branch("adl:ended-armed")
        return True

    def _adl_list(
        self, state: State, market: int, shape: str, pick: int, strict: bool = False
    ) -> list[int] | None:
        """The keeper's list: the market's profitable net-side accounts ranked by PnL x leverage
        (maintenance equity; `solvent.model.adl.rank`), cut to the prefix that ends the run (the
        model's run); then, by `shape`, one more account after it, a wrong-side or a
        not-in-profit account inserted, or nothing (None: `strict` and no account to insert)."""
        if shape == "empty":
            return []
        reading = self._adl_reading_at_read(state, market)
        if reading is None:
            return [TRADERS[pick % len(TRADERS)]]
        book, positions = reading.book, reading.positions
        equity = {}
        for account in positions:
            m = account_margin(state, self.system, account)
            equity[account] = m.maintenance_equity if m is not None else 0
        ranked = [entry.account for entry in adl_ref.rank(book, positions, equity)]
        run = adl.predict(reading, ranked)
        if run.error == AdlError.OVERCUT:
            ranked = ranked[: ranked.index(run.args[0])]
        others = {
            "extra": list(TRADERS),
            "wrong-side": [a for a, p in positions.items() if not adl_ref.on_net_side(book, p)],
            "not-in-profit": [
                a
                for a, p in positions.items()
                if adl_ref.on_net_side(book, p) and adl_ref.position_profit(book, p) <= 0
            ],
        }.get(shape, [])
        if strict and shape in ("wrong-side", "not-in-profit") and not others:
            return None
        if others:
            extra = others[pick % len(others)]
            at = len(ranked) if shape == "extra" else pick % (len(ranked) + 1)
            ranked = [*ranked[:at], extra, *ranked[at:]]
        return ranked or [TRADERS[pick % len(TRADERS)]]

    def _adl_reading_at_read(self, state: State, market: int) -> adl.Reading | None:
        """What an ADL call would read as of a read (its time, prices and pending interest):
        what the keeper ranks on and what the set-up steers the price by."""
        pending = state.borrow.pendingInterest
        return adl.reading(state, self.system, market, state.prices, state.now, pending)

    def _adl_reading_in_block(
        self, before: State, after: State, market: int, outcome: Outcome, pending: int | None
    ) -> adl.Reading | None:
        """What the call read in its block: the books of the read before it (the ledger, each
        market's aggregates and stored funding state, `adlParams()`), accrued to the block's
        time at its oracle prices (the read after it, in the same block); the pending interest
        of its block (`pending`, read on the state before the call at the block's time; else
        from the read after it: a reverted call changed nothing, a successful one stored it
        less the interest its cuts charged, ambiguous only when that left it at 0)."""
        engine = self.system.codec.address("engine").lower()
        charged = sum(
            e.args.amount
            for e in outcome.events
            if e.address == engine and e.name == "InterestCharged"
        )
        if pending is None:
            pending = after.borrow.pendingInterest + charged
            self.branch("adl:pending-from-after")
        elif outcome.ok and after.borrow.pendingInterest:
            require(
                pending == after.borrow.pendingInterest + charged,
                f"ADL block's pending interest {pending}, after it "
                f"{after.borrow.pendingInterest} + charged {charged}",
            )
        return adl.reading(before, self.system, market, after.prices, after.now, pending)

    def _pending_interest_at(self, block: int, time: int) -> int | None:
        """`borrowState().pendingInterest` on the state of `block`, evaluated at block time
        `time` (an eth_call with a block override): what a transaction mined at `time` on that
        state reads. None when the node refuses the override."""
        codec = self.system.codec
        request = {"to": codec.address("admin"), "data": codec.encode("admin", "borrowState", ())}
        try:
            reply = self._node("eth_call", request, hex(block), None, {"time": hex(time)})
        except Exception:  # any refusal (either driver's error type): the read after decides
            return None
        data = bytes(reply) if isinstance(reply, bytes | bytearray) else bytes.fromhex(reply[2:])
        state = codec.decode_output("admin", "borrowState", data)
        return int(state.pendingInterest)

    def _node(self, method: str, *params: Any) -> Any:
        """A raw JSON-RPC request to the chain's node, through either driver."""
        rpc = getattr(self.driver, "rpc", None)
        if rpc is not None:
            return rpc.call(method, *params)
        return self.driver.chain.provider.make_request(method, list(params))  # type: ignore[attr-defined]

    def _error_args(
        self, market: int, accounts: list[int], error: str | None
    ) -> tuple[int, ...] | None:
        """The refused call's error arguments, from an eth_call replay on the unchanged state
        (the fast driver's node; None on the naive one, which judges the name only)."""
        rpc = getattr(self.driver, "rpc", None)
        if rpc is None:
            return None
        if error not in ADL_ERRORS:
            return ()
        codec = self.system.codec
        request = {
            "from": self.system.actors[KEEPER],
            "to": codec.address("engine"),
            "data": codec.encode("engine", "autoDeleverage", (market, accounts)),
            "gas": hex(TX_GAS),
        }
        try:
            rpc.call("eth_call", request)
        except RpcError as exc:
            data = bytes.fromhex(str(exc.error.get("data"))[2:])[4:]
            return tuple(int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32))
        return ()

    # ------------------------------------------------------------------ invariants

    @invariant()
    def protocol_keeps_its_promises(self) -> None:
        self.state = read_state(self.driver, self.system)
        self._run_judgements(self.state)
        self.shadow.check(self.state, self.risk_increased, self.step_transactions == 1)
        self.risk_increased = set()
        self.step_transactions = 0
        self._every_unhealthy_account_can_be_liquidated()

    def _run_judgements(self, state: State) -> None:
        judgements, self.judgements = self.judgements, []
        for check in judgements:
            check(state)

    def _every_unhealthy_account_can_be_liquidated(self) -> None:
        """Nothing blocks enforcement (issue 12): every account whose maintenance health reads
        below 1 can be liquidated now. `liquidate` is simulated for each (eth_call, nothing is
        sent); it must succeed, or fail only with a reason of that account's own state
        (`OWN_STATE_REASONS`), never with one of the auctions' caps, a breaker, another
        account's asset or a panic."""
        unhealthy = [
            trader
            for trader, health in self.state.health.items()
            if not isinstance(health, Reverted) and health.health < WAD
        ]
        keeper = self.system.actors[KEEPER]
        results = self.driver.views([_call("engine", "liquidate", t, keeper) for t in unhealthy])
        for trader, result in zip(unhealthy, results, strict=True):
            if isinstance(result, Reverted):
                require(
                    result.error in OWN_STATE_REASONS,
                    f"unhealthy account {trader} cannot be liquidated: {result.error}",
                )
                self.branch(f"liquidatable-check:{result.error}")
            else:
                self.branch("liquidatable-check:ok")


def _call(target: str, fn: str, *args: Any) -> Call:
    return Call(target, fn, args)


def _as_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)
