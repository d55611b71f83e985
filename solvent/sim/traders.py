"""Traders who react to the path (opt-in): each account gets one seeded habit when the run starts,
and acts on the health it had after the previous block, in the next block, after the keepers'
transactions (liquidators outbid a trader's top-up).

- **Top up**: when maintenance health falls below `top_up_below`, deposit `top_up_fraction` of the
  account's starting collateral in quote (the owner is minted the quote first, as if from a
  wallet), at most `max_top_ups` times.
- **Reduce**: when maintenance health falls below `top_up_below`, commit an order closing
  `reduce_fraction` of each open position through the order book (at most `max_top_ups` times);
  the operator settles it at its determining round once the feed has published it (the order
  flow as for any trader: the fill is at that round's price, not the one the trader saw).
- **Take profit**: when maintenance health is above `withdraw_above`, withdraw `withdraw_fraction`
  of the account's positive quote balance (the engine refuses it by name if initial margin would
  break; counted as refused).
- **Passive**: never acts (every trader before this existed).

These are models for measuring the protocol under reacting traders; the shares and thresholds are
the knobs (docs/simulator.md, "Reacting traders")."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from solvent.fastpath import Tx
from solvent.harness.population import Trader
from solvent.harness.world import OPERATOR, World
from solvent.keeper.orders import order_id
from solvent.sim.rounds import determining_round

WAD = 10**18
TOP_UP, REDUCE, TAKE_PROFIT, PASSIVE = "top_up", "reduce", "take_profit", "passive"
HABITS = (TOP_UP, REDUCE, TAKE_PROFIT, PASSIVE)
MAX_UINT = 2**256 - 1


@dataclass(frozen=True)
class TraderBehaviour:
    top_up_share: float = 0.0
    top_up_below: float = 1.25
    top_up_fraction: float = 0.25
    max_top_ups: int = 3
    take_profit_share: float = 0.0
    withdraw_above: float = 3.0
    withdraw_fraction: float = 0.5
    reduce_share: float = 0.0
    reduce_fraction: float = 0.5

    @property
    def reacts(self) -> bool:
        return self.top_up_share > 0 or self.take_profit_share > 0 or self.reduce_share > 0


@dataclass
class ReactingTraders:
    behaviour: TraderBehaviour
    habits: dict[int, str]  # account id -> habit
    starting_usd: dict[int, float]
    owners: dict[int, int]
    top_ups: dict[int, int] = field(default_factory=dict)  # reactions so far (top-ups, reductions)
    sent: dict[str, int] = field(default_factory=lambda: {TOP_UP: 0, REDUCE: 0, TAKE_PROFIT: 0})
    quote_sent: dict[str, int] = field(default_factory=lambda: {TOP_UP: 0, TAKE_PROFIT: 0})
    orders: dict[int, int] = field(default_factory=dict)  # committed order id -> target time
    settled: int = 0  # reductions filled (OrderSettled)

    @classmethod
    def assign(
        cls, traders: list[Trader], behaviour: TraderBehaviour, rng: random.Random
    ) -> ReactingTraders:
        habits = {}
        for trader in traders:
            draw = rng.random()
            shares = (behaviour.top_up_share, behaviour.reduce_share, behaviour.take_profit_share)
            habits[trader.account_id] = PASSIVE
            edge = 0.0
            for habit, share in zip(HABITS, shares, strict=False):
                edge += share
                if draw < edge:
                    habits[trader.account_id] = habit
                    break
        return cls(
            behaviour,
            habits,
            {t.account_id: t.collateral_usd for t in traders},
            {t.account_id: t.owner for t in traders},
        )

    def decide(
        self,
        world: World,
        healths: dict[int, Any],
        quotes: dict[int, int],
        positions: dict[int, dict[int, int]] | None = None,
    ) -> list[Tx]:
        """This block's reactions to `healths` (account id -> healthOf entry after the last block),
        `quotes` (account id -> quote balance) and `positions` (account id -> market id -> size),
        and the settlements of the reductions committed before."""
        b = self.behaviour
        txs: list[Tx] = self._settlements(world)
        quote_unit = 10 ** world.decimals["quote"]
        for account, habit in self.habits.items():
            if habit == PASSIVE or account not in healths:
                continue
            health = int(healths[account][2]) / WAD
            owner = self.owners[account]
            if habit == TOP_UP and health < b.top_up_below:
                if self.top_ups.get(account, 0) >= b.max_top_ups:
                    continue
                amount = int(self.starting_usd[account] * b.top_up_fraction * quote_unit)
                me = world.address(owner)
                txs.append(world.tx(OPERATOR, world.quote, "mint", me, amount, gas=100_000))
                txs.append(
                    world.tx(
                        owner,
                        world.engine,
                        "deposit",
                        account,
                        world.quote.address,
                        amount,
                        gas=500_000,
                    )
                )
                self.top_ups[account] = self.top_ups.get(account, 0) + 1
                self.sent[TOP_UP] += 1
                self.quote_sent[TOP_UP] += amount
            elif habit == REDUCE and health < b.top_up_below:
                if self.top_ups.get(account, 0) >= b.max_top_ups:
                    continue
                book = world.c("order_book")
                for market_id, size in sorted((positions or {}).get(account, {}).items()):
                    cut = -int(size * b.reduce_fraction)
                    if cut == 0 or order_id(account, market_id) in self.orders:
                        continue
                    acceptable = 0 if cut < 0 else MAX_UINT  # a reduction accepts any price
                    txs.append(
                        world.tx(
                            owner,
                            book,
                            "commitOrder",
                            account,
                            market_id,
                            cut,
                            acceptable,
                            gas=500_000,
                        )
                    )
                    self.sent[REDUCE] += 1
                self.top_ups[account] = self.top_ups.get(account, 0) + 1
            elif habit == TAKE_PROFIT and health > b.withdraw_above and quotes.get(account, 0) > 0:
                amount = int(quotes[account] * b.withdraw_fraction)
                if amount == 0:
                    continue
                me = world.address(owner)
                txs.append(
                    world.tx(
                        owner,
                        world.engine,
                        "withdraw",
                        account,
                        world.quote.address,
                        amount,
                        me,
                        gas=800_000,
                    )
                )
                self.sent[TAKE_PROFIT] += 1
                self.quote_sent[TAKE_PROFIT] += amount
        return txs

    def observe(self, world: World, receipts: list[dict]) -> None:
        """Books the reductions committed, filled or cancelled in the last block."""
        book = world.c("order_book")
        for receipt in receipts:
            for event in book.events("OrderCommitted", receipt):
                if self.habits.get(int(event["accountId"])) == REDUCE:
                    self.orders[int(event["orderId"])] = int(event["targetTime"])
            for name in ("OrderSettled", "OrderCancelled"):
                for event in book.events(name, receipt):
                    if self.orders.pop(int(event["orderId"]), None) is not None:
                        self.settled += name == "OrderSettled"

    def _settlements(self, world: World) -> list[Tx]:
        """The operator settles each committed reduction once its round is published."""
        book = world.c("order_book")
        keys = {market_id: key for key, market_id in world.market_ids.items()}
        txs = []
        for oid, target in sorted(self.orders.items()):
            rid = determining_round(world, keys[oid & 0xFF], target)
            if rid is not None:
                txs.append(world.tx(OPERATOR, book, "settleOrder", oid, rid, gas=1_500_000))
        return txs

    def summary(self, landed: dict[str, int], landed_quote: dict[str, int], quote: int) -> dict:
        return {
            "habits": {h: sum(1 for v in self.habits.values() if v == h) for h in HABITS},
            "sent": dict(self.sent),
            "landed": {**landed, **({REDUCE: self.settled} if self.sent[REDUCE] else {})},
            "landed_usd": {k: round(v / quote, 2) for k, v in landed_quote.items()},
        }
