"""Keeper agents of the simulator: each sees the chain after every block, waits its latency, may
fail, and spends at most its gas budget per block on liquidations, takes and resets.

Latency holds for every kind of action, each counted from the start of its own eligibility: a
liquidation from the start of the account's breach episode (episodes.py), a take from the first
observation after which the auction's price was at or below the keeper's limit, a reset from the
first observation after which the auction needed one. An action whose eligibility lapses (the
price rose above the limit again) starts afresh. A keeper with latency L acts in the block L
blocks after the one that made the action eligible. A failure (probability `failure_rate` per
block) skips every action of that keeper in that block; eligibility is still tracked.

These are models of keepers for measuring the protocol under stress (latency, failure rate, gas
budget are the knobs); the production keeper is solvent.keeper.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from solvent.fastpath import Tx
from solvent.harness.world import World
from solvent.sim.episodes import BreachEpisodes

LIQUIDATION_GAS = 1_500_000
TAKE_GAS = 600_000
RESET_GAS = 300_000
SCAN_CHUNK = 400


@dataclass(frozen=True)
class KeeperModel:
    latency_blocks: int = 1
    failure_rate: float = 0.0
    gas_budget_per_block: int = 30_000_000
    take_discount: float = 0.02  # takes when the auction price is this far below the oracle


@dataclass
class KeeperAgent:
    model: KeeperModel
    sender: int  # dev account index
    rng: random.Random
    sent: int = 0
    # (action kind, auction id) -> the observation after which the action became eligible
    eligible_since: dict[tuple[str, int], int] = field(default_factory=dict)

    def due(self, kind: str, auction_id: int, block: int) -> bool:
        """Whether an auction action eligible after `block` has waited the keeper's latency."""
        since = self.eligible_since[(kind, auction_id)]
        return block - since + 1 >= self.model.latency_blocks

    def track(self, seen: Observation) -> None:
        """Records which auction actions are eligible after `seen.block` (before any failure roll:
        a keeper that fails a block still watches the chain)."""
        now = {}
        for auction in seen.auctions:
            kind = auction_action(auction, self.model.take_discount)
            if kind is not None:
                key = (kind, auction["id"])
                now[key] = self.eligible_since.get(key, seen.block)
        self.eligible_since = now


def auction_action(auction: dict, take_discount: float) -> str | None:
    """What a keeper with `take_discount` would do to `auction`: "reset", "take" or nothing."""
    if auction["needs_reset"]:
        return "reset"
    if auction["price"] <= auction["oracle"] * (1 - take_discount):
        return "take"
    return None


@dataclass
class Observation:
    block: int
    liquidatable: list[int]
    auctions: list[dict]  # status fields plus the oracle price of the lot's token
    first_seen: dict[int, int] = field(default_factory=dict)  # account -> its episode's start


def observe(world: World, block: int, account_count: int, episodes: BreachEpisodes) -> Observation:
    """What every keeper sees after `block`: liquidatable accounts (each with the start of its
    breach episode, which `episodes` keeps) and live auctions."""
    chunks = [
        (world.admin, "liquidatableAccounts", (start, min(start + SCAN_CHUNK - 1, account_count)))
        for start in range(1, account_count + 1, SCAN_CHUNK)
    ]
    liquidatable = [int(i) for ids in world.read_many(chunks) for i in ids] if chunks else []
    episodes.observe(block, liquidatable)
    ids = world.read(world.liquidator, "activeAuctionIds")
    statuses = world.read_many([(world.liquidator, "status", (i,)) for i in ids])
    tokens = sorted({s[3] for s in statuses})
    oracle_prices = dict(
        zip(tokens, world.read_many([(world.oracle, "price", (t,)) for t in tokens]), strict=True)
    )
    auctions = [
        {
            "id": int(i),
            "needs_reset": bool(s[1]),
            "account": int(s[2]),
            "token": s[3],
            "lot": int(s[4]),
            "tab": int(s[5]),
            "debt": int(s[6]),
            "price": int(s[7]),
            "oracle": int(oracle_prices[s[3]]),
        }
        for i, s in zip(ids, statuses, strict=True)
        if s[0]
    ]
    return Observation(block, liquidatable, auctions, episodes.open)


def decide(world: World, agent: KeeperAgent, seen: Observation) -> list[Tx]:
    """The transactions one keeper sends after seeing `seen`."""
    agent.track(seen)
    if agent.rng.random() < agent.model.failure_rate:
        return []
    budget = agent.model.gas_budget_per_block
    me = world.sender.signers[agent.sender].address
    txs: list[Tx] = []
    for account in seen.liquidatable:
        if seen.block - seen.first_seen[account] + 1 < agent.model.latency_blocks:
            continue
        if budget < LIQUIDATION_GAS:
            break
        txs.append(
            world.tx(agent.sender, world.engine, "liquidate", account, me, gas=LIQUIDATION_GAS)
        )
        budget -= LIQUIDATION_GAS
    for auction in seen.auctions:
        if budget < TAKE_GAS:
            break
        kind = auction_action(auction, agent.model.take_discount)
        if kind is None or not agent.due(kind, auction["id"], seen.block):
            continue
        if kind == "reset":
            txs.append(
                world.tx(agent.sender, world.liquidator, "reset", auction["id"], me, gas=RESET_GAS)
            )
            budget -= RESET_GAS
            continue
        txs.append(
            world.tx(
                agent.sender,
                world.liquidator,
                "take",
                auction["id"],
                auction["lot"],
                auction["price"],
                me,
                b"",
                gas=TAKE_GAS,
            )
        )
        budget -= TAKE_GAS
    agent.sent += len(txs)
    return txs
