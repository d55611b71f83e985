"""Keeper agents of the simulator: each sees the chain after every block, waits its latency, may
fail, and spends at most its gas budget per block on liquidations, auto-deleveraging runs, takes
and resets.

Latency holds for every kind of action, each counted from the start of its own eligibility: a
liquidation from the start of the account's breach episode (episodes.py), a take from the first
observation after which the auction's price was at or below the keeper's limit, a reset from the
first observation after which the auction needed one, an auto-deleveraging run from the first
observation after which the market's trigger held with a list to send (deleveraging.py). An
action whose eligibility lapses (the price rose above the limit again) starts afresh. A keeper
with latency L acts in the block L blocks after the one that made the action eligible. A failure
(probability `failure_rate` per block) skips every action of that keeper in that block;
eligibility is still tracked.

Markets (opt-in, `KeeperModel.sells_on_amm`): a keeper starts with finite capital
(`capital_usd`), pays each take from it, sells what it took on the simulator's constant-product
exchange (solvent/sim/amm.py) in its next block and takes only the amount whose sale, after the
exchange's slippage and fee, returns `take_discount` more than it costs. Keepers compete on gas:
every block orders the keepers' transactions by their priority fee (`priority_fee_gwei`, highest
first; a tie keeps the keepers' order), so the first to land wins and a loser's take reverts or
buys what is left.

These are models of keepers for measuring the protocol under stress (latency, failure rate, gas
budget, capital, exchange depth and bids are the knobs); the production keeper is solvent.keeper.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from solvent.fastpath import Tx
from solvent.harness.world import World
from solvent.sim import amm, deleveraging
from solvent.sim.episodes import BreachEpisodes

LIQUIDATION_GAS = 1_500_000
TAKE_GAS = 600_000
RESET_GAS = 300_000
SELL_GAS = 200_000
SCAN_CHUNK = 400
DEFAULT_CAPITAL_USD = 50_000_000


@dataclass(frozen=True)
class KeeperModel:
    latency_blocks: int = 1
    failure_rate: float = 0.0
    gas_budget_per_block: int = 30_000_000
    take_discount: float = 0.02  # takes when the auction price is this far below the oracle
    capital_usd: float = DEFAULT_CAPITAL_USD  # quote it starts with; takes are paid from it
    sells_on_amm: bool = False  # values lots at the exchange's proceeds and sells what it takes
    priority_fee_gwei: float = 0.0  # its bid for the block's order: the highest lands first


@dataclass
class KeeperAgent:
    model: KeeperModel
    sender: int  # dev account index
    rng: random.Random
    sent: int = 0
    exchange: amm.ExchangeSpec | None = None  # where it sells (with `model.sells_on_amm`)
    holdings: dict[str, int] = field(default_factory=dict)  # token address -> balance (last read)
    cash: int = 0  # quote units (last read)
    # (action kind, auction id or, for "adl", market id) -> the observation after which the action
    # became eligible
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
            kind = self.action(auction)
            if kind is not None:
                key = (kind, auction["id"])
                now[key] = self.eligible_since.get(key, seen.block)
        for market_id in seen.adl:
            key = ("adl", market_id)
            now[key] = self.eligible_since.get(key, seen.block)
        self.eligible_since = now

    def take_amount(self, auction: dict) -> int:
        """How much of the lot this keeper would buy now: all of it (a keeper with unbounded
        means) when the price is `take_discount` under the oracle; on the exchange, the largest
        amount its cash pays for whose sale returns `take_discount` more than it costs."""
        if not self.model.sells_on_amm:
            return auction["lot"] if auction_action(auction, self.model.take_discount) else 0
        spec = self.exchange or amm.ExchangeSpec()
        depth = int(spec.depth_usd * 10 ** auction["quote_decimals"])
        pool = amm.synced(auction["oracle"], depth, auction["scale"])
        affordable = self.cash * auction["scale"] // auction["price"] if auction["price"] else 0
        return amm.largest_profitable_amount(
            pool,
            spec.fee_bps,
            auction["price"],
            auction["scale"],
            self.model.take_discount,
            min(auction["lot"], affordable),
        )

    def action(self, auction: dict) -> str | None:
        if auction["needs_reset"]:
            return "reset"
        return "take" if self.take_amount(auction) > 0 else None


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
    # market id -> the accounts an autoDeleverage call lists (deleveraging.py; set by the run)
    adl: dict[int, list[int]] = field(default_factory=dict)


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
    quote_decimals = world.decimals["quote"]
    token_decimals = {codec.address: world.decimals[key] for key, codec in world.tokens.items()}
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
            "scale": amm.scale(token_decimals[s[3]], quote_decimals),
            "quote_decimals": quote_decimals,
        }
        for i, s in zip(ids, statuses, strict=True)
        if s[0]
    ]
    return Observation(block, liquidatable, auctions, episodes.open)


def read_means(world: World, agents: list[KeeperAgent]) -> None:
    """Each keeper's quote and collateral balances after the last block (one batched read)."""
    tokens = [codec.address for codec in world.tokens.values()]
    calls = []
    for agent in agents:
        me = world.address(agent.sender)
        calls.append((world.quote, "balanceOf", (me,)))
        calls += [(world.c(f"token.{key}"), "balanceOf", (me,)) for key in world.tokens]
    values = [int(v) for v in world.read_many(calls)] if calls else []
    width = 1 + len(tokens)
    for i, agent in enumerate(agents):
        row = values[i * width : (i + 1) * width]
        agent.cash = row[0]
        agent.holdings = dict(zip(tokens, row[1:], strict=True))


def by_bid(batches: list[tuple[float, list[Tx]]]) -> list[Tx]:
    """The keepers' transactions in the order a block includes them: highest priority fee first,
    a tie in the keepers' order (a stable sort)."""
    ordered = sorted(enumerate(batches), key=lambda item: (-item[1][0], item[0]))
    return [tx for _, (_, txs) in ordered for tx in txs]


def decide(world: World, agent: KeeperAgent, seen: Observation) -> list[Tx]:
    """The transactions one keeper sends after seeing `seen`."""
    agent.track(seen)
    if agent.rng.random() < agent.model.failure_rate:
        return []
    budget = agent.model.gas_budget_per_block
    me = world.sender.signers[agent.sender].address
    txs: list[Tx] = []
    if agent.model.sells_on_amm:
        # last block's takes: sold now, at this block's exchange price (re-centred first)
        for token, amount in sorted(agent.holdings.items()):
            if amount == 0 or budget < SELL_GAS:
                continue
            sale = (token, world.quote.address, 0, me, amount, 0, 0)
            txs.append(world.tx(agent.sender, "amm", "exactInputSingle", sale, gas=SELL_GAS))
            budget -= SELL_GAS
    for account in seen.liquidatable:
        if seen.block - seen.first_seen[account] + 1 < agent.model.latency_blocks:
            continue
        if budget < LIQUIDATION_GAS:
            break
        txs.append(
            world.tx(agent.sender, world.engine, "liquidate", account, me, gas=LIQUIDATION_GAS)
        )
        budget -= LIQUIDATION_GAS
    for market_id, accounts in sorted(seen.adl.items()):
        gas = deleveraging.gas_for(len(accounts))
        if budget < gas or not agent.due("adl", market_id, seen.block):
            continue
        txs.append(
            world.tx(agent.sender, world.engine, "autoDeleverage", market_id, accounts, gas=gas)
        )
        budget -= gas
    for auction in seen.auctions:
        if budget < TAKE_GAS:
            break
        kind = agent.action(auction)
        if kind is None or not agent.due(kind, auction["id"], seen.block):
            continue
        if kind == "reset":
            txs.append(
                world.tx(agent.sender, world.liquidator, "reset", auction["id"], me, gas=RESET_GAS)
            )
            budget -= RESET_GAS
            continue
        amount = agent.take_amount(auction)
        # what this block's takes may spend: the cash is read once per block
        agent.cash -= -(-amount * auction["price"] // auction["scale"])
        txs.append(
            world.tx(
                agent.sender,
                world.liquidator,
                "take",
                auction["id"],
                amount,
                auction["price"],
                me,
                b"",
                gas=TAKE_GAS,
            )
        )
        budget -= TAKE_GAS
    agent.sent += len(txs)
    return txs
