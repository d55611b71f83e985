"""Traders who react to the path (opt-in): each account gets one seeded habit when the run starts,
and acts on the health it had after the previous block, in the next block, after the keepers'
transactions (liquidators outbid a trader's top-up).

- **Top up**: when maintenance health falls below `top_up_below`, deposit `top_up_fraction` of the
  account's starting collateral in quote (the owner is minted the quote first, as if from a
  wallet), at most `max_top_ups` times.
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

WAD = 10**18
TOP_UP, TAKE_PROFIT, PASSIVE = "top_up", "take_profit", "passive"


@dataclass(frozen=True)
class TraderBehaviour:
    top_up_share: float = 0.0
    top_up_below: float = 1.25
    top_up_fraction: float = 0.25
    max_top_ups: int = 3
    take_profit_share: float = 0.0
    withdraw_above: float = 3.0
    withdraw_fraction: float = 0.5

    @property
    def reacts(self) -> bool:
        return self.top_up_share > 0 or self.take_profit_share > 0


@dataclass
class ReactingTraders:
    behaviour: TraderBehaviour
    habits: dict[int, str]  # account id -> habit
    starting_usd: dict[int, float]
    owners: dict[int, int]
    top_ups: dict[int, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=lambda: {TOP_UP: 0, TAKE_PROFIT: 0})
    quote_sent: dict[str, int] = field(default_factory=lambda: {TOP_UP: 0, TAKE_PROFIT: 0})

    @classmethod
    def assign(
        cls, traders: list[Trader], behaviour: TraderBehaviour, rng: random.Random
    ) -> ReactingTraders:
        habits = {}
        for trader in traders:
            draw = rng.random()
            if draw < behaviour.top_up_share:
                habits[trader.account_id] = TOP_UP
            elif draw < behaviour.top_up_share + behaviour.take_profit_share:
                habits[trader.account_id] = TAKE_PROFIT
            else:
                habits[trader.account_id] = PASSIVE
        return cls(
            behaviour,
            habits,
            {t.account_id: t.collateral_usd for t in traders},
            {t.account_id: t.owner for t in traders},
        )

    def decide(self, world: World, healths: dict[int, Any], quotes: dict[int, int]) -> list[Tx]:
        """This block's reactions to `healths` (account id -> healthOf entry after the last block)
        and `quotes` (account id -> quote balance)."""
        b = self.behaviour
        txs: list[Tx] = []
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

    def summary(self, landed: dict[str, int], landed_quote: dict[str, int], quote: int) -> dict:
        return {
            "habits": {
                h: sum(1 for v in self.habits.values() if v == h)
                for h in (TOP_UP, TAKE_PROFIT, PASSIVE)
            },
            "sent": dict(self.sent),
            "landed": dict(landed),
            "landed_usd": {k: round(v / quote, 2) for k, v in landed_quote.items()},
        }
