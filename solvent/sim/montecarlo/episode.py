"""One Monte Carlo episode: a seeded price path, a parameter point and a seeded book, run on the
exact Python world (solvent.model.world) with a scripted keeper. The same episode replays on
Anvil (referee.py) and must end equal to the wei.

Time: the book's orders fill in one block at `FILL_TIME`; step k of the path is the block at
`FILL_TIME + k · step_seconds`, carrying the feeds' answers for step k first, then the keeper's
transactions decided after block k - 1: liquidations (in account order, at most `max_per_block`),
then takes and resets of the running auctions (in start order). Each action waits the keeper's
latency L from the start of its own eligibility: a liquidation from the start of the account's
breach episode (an account that recovers, or is still liquidatable after a liquidation, starts
afresh), a take from the first block after which the auction's price was at or below 98% of the
oracle (it buys the whole lot seen, at most at the price seen), a reset from the first block after
which the auction needed one. A failed block (probability `failure_rate`, seeded) sends nothing.
After the path, up to SETTLEMENT_BLOCKS blocks at its last price let running auctions finish.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from solvent import config as configs
from solvent.config import ProtocolConfig
from solvent.model.auctions import TakeEvent
from solvent.model.world import AccountPlan, Liquidation, ProtocolWorld, Rules, WriteOff
from solvent.sim import calibration
from solvent.sim.paths import gap, gbm_with_jumps
from solvent.sim.scenarios import GENESIS_TIMESTAMP

WAD = 10**18
QUOTE = 10**6
CONFIG = "local"
FILL_TIME = GENESIS_TIMESTAMP + 7_200  # after the deployment's blocks (1 s each) on the referee
PATH_MODELS = ("gbm_jumps", "calibrated", "gap")
# What a grid axis sets: the protocol's leverage cap (the initial margin), the liquidation
# penalty, the insurance fund's stake, the keeper's latency, the auctions' start (oracle x buf)
# and decay (the stairstep's cut per step).
AXES = ("leverage", "penalty", "fund", "latency", "buf", "cut")


@dataclass(frozen=True)
class Point:
    """A parameter point of the grid."""

    leverage: float = 10.0  # the cap: initial margin ratio 1 / leverage
    penalty: float = 0.025  # liquidation penalty rate
    fund: float = 50_000.0  # insurance fund stake, USD
    latency: int = 1  # keeper latency, blocks
    buf: float = 1.10  # auction start price / oracle
    cut: float = 0.99  # auction price multiplier per curve step (60 s)

    @classmethod
    def of(cls, values: dict[str, float]) -> Point:
        unknown = set(values) - set(AXES)
        if unknown:
            raise ValueError(f"unknown axis {sorted(unknown)}: choose from {', '.join(AXES)}")
        kwargs: dict[str, Any] = dict(values)
        if "latency" in kwargs:
            kwargs["latency"] = int(kwargs["latency"])
        return dataclasses.replace(cls(), **kwargs)

    def label(self, axes: tuple[str, ...]) -> str:
        return ", ".join(f"{a}={getattr(self, a):,.10g}" for a in axes)


@dataclass(frozen=True)
class BookSpec:
    """A seeded book of quote-only accounts, each levered to a share of the cap."""

    accounts: int = 40
    seed: int = 7
    min_collateral_usd: float = 5_000.0
    max_collateral_usd: float = 50_000.0
    # each account's leverage is uniform in [min, max] times the point's cap
    min_cap_share: float = 0.5
    max_cap_share: float = 0.9
    long_share: float = 0.7  # a crowd leaning long, as before a crash
    lp_usd: float = 20_000_000.0
    # accounts whose margin is 90% an asset (ETH or BTC, seeded) and 10% quote: their
    # liquidations that quote cannot pay hand the collateral to the Dutch auctions
    collateral_share: float = 0.3
    quote_part: float = 0.1  # of such an account's collateral, in quote (it pays the fees)


@dataclass(frozen=True)
class KeeperSpec:
    failure_rate: float = 0.0
    max_per_block: int = 10  # the keeper's gas budget: liquidations per block


@dataclass(frozen=True)
class PathSpec:
    model: str = "gbm_jumps"
    steps: int = 288  # one day of 300 s blocks
    step_seconds: int = 300


@dataclass(frozen=True)
class EpisodeSpec:
    point: Point
    path_seed: int
    path: PathSpec = field(default_factory=PathSpec)
    book: BookSpec = field(default_factory=BookSpec)
    keeper: KeeperSpec = field(default_factory=KeeperSpec)


# ---------------------------------------------------------------------- inputs


@lru_cache(maxsize=64)
def protocol_config(point: Point) -> ProtocolConfig:
    """config/local.yaml with the point's leverage cap (each market's IM scale, so that its
    initial margin ratio at the seed sigma is 1 / leverage, and the order book's commit margin to
    match), penalty rate and auction start (buf) and decay (cut)."""
    base = configs.load(CONFIG)
    assets = []
    for asset in base.assets:
        m = asset.market
        mmr = max(m.base_mmr, -(-m.vol_factor * min(asset.oracle.seed_sigma, m.sigma_cap) // WAD))
        im_scale = WAD * WAD // round(point.leverage * mmr)
        if im_scale < WAD:
            raise ValueError(f"leverage {point.leverage:g} is above 1 / maintenance margin")
        bps = int(10_000 / point.leverage)
        auction = asset.auction
        assets.append(
            dataclasses.replace(
                asset,
                market=dataclasses.replace(m, im_scale=im_scale),
                orders=dataclasses.replace(asset.orders, commit_margin_bps=bps),
                auction=dataclasses.replace(
                    auction,
                    buf=_wad(point.buf),
                    curve=dataclasses.replace(auction.curve, cut=_wad(point.cut)),
                ),
            )
        )
    liquidation = dataclasses.replace(base.liquidation, penalty_rate=_wad(point.penalty))
    return dataclasses.replace(base, assets=tuple(assets), liquidation=liquidation)


def _wad(value: float) -> int:
    """A decimal parameter as the config reads it (exact for what was written: 1.1 -> 1.1e18)."""
    return int(Decimal(str(value)) * WAD)


def start_prices(config: ProtocolConfig) -> dict[str, float]:
    """Every path starts at the feeds' initial price (the order book's reference price)."""
    return {a.key: float(a.feed.initial_price or 0) for a in config.assets}


def path_answers(spec: PathSpec, seed: int, config: ProtocolConfig) -> list[dict[str, int]]:
    """The feeds' answers (primary feed decimals) at each step of the seeded path."""
    starts = start_prices(config)
    if spec.model == "gbm_jumps":  # the simulator's hand-set stress (scenarios._gbm)
        paths = {
            "WETH": gbm_with_jumps(starts["WETH"], spec.steps, spec.step_seconds, 1.2, seed, 0, 4),
            "WBTC": gbm_with_jumps(
                starts["WBTC"], spec.steps, spec.step_seconds, 0.9, seed + 1, 0, 3
            ),
        }
    elif spec.model == "calibrated":
        fitted = calibration.load_calibration()
        paths = calibration.gbm_jumps_calibrated(
            starts, spec.steps, spec.step_seconds, seed, fitted
        )
    elif spec.model == "gap":  # a seeded gap of 10-50% at a seeded step, both assets
        rng = random.Random(seed)
        drop, before = rng.uniform(0.1, 0.5), rng.randrange(1, max(2, spec.steps // 2))
        paths = {
            key: gap(start, drop, before, spec.steps - before, spec.step_seconds)
            for key, start in starts.items()
        }
    else:
        raise ValueError(f"unknown path model {spec.model!r}: choose from {', '.join(PATH_MODELS)}")
    decimals = {a.key: a.feed.decimals for a in config.assets}
    return [
        {key: round(paths[key].prices[k] * 10 ** decimals[key]) for key in decimals}
        for k in range(spec.steps)
    ]


def plan_book(spec: BookSpec, point: Point, config: ProtocolConfig) -> list[AccountPlan]:
    """The seeded book: account i + 1 deposits collateral and opens one position in one or both
    markets at a leverage drawn as a share of the point's cap (sizes to 6 decimals). A share
    `collateral_share` of the accounts (drawn apart, so the rest of the book is the same with or
    without them) hold an asset and a little quote; their leverage is scaled by the asset's
    initial weight, so they open within initial margin too."""
    rng = random.Random(spec.seed)
    holders = random.Random(f"{spec.seed}:collateral")
    prices = start_prices(config)
    assets = {a.key: a for a in config.assets}
    keys = list(assets)
    plans = []
    for i in range(spec.accounts):
        collateral = rng.uniform(spec.min_collateral_usd, spec.max_collateral_usd)
        leverage = point.leverage * rng.uniform(spec.min_cap_share, spec.max_cap_share)
        markets = rng.choice([keys[:1], keys[1:2], keys])
        deposit, held = int(collateral * QUOTE), ()
        if holders.random() < spec.collateral_share:
            asset = assets[holders.choice(keys)]
            usd = collateral * (1 - spec.quote_part)
            held = ((asset.key, int(usd / prices[asset.key] * 10**asset.token.decimals)),)
            deposit = int(collateral * spec.quote_part * QUOTE)
            weight = asset.collateral.im_weight / WAD
            leverage *= spec.quote_part + (1 - spec.quote_part) * weight
        orders = []
        for key in markets:
            direction = 1 if rng.random() < spec.long_share else -1
            size = round(direction * collateral * leverage / len(markets) / prices[key], 6)
            orders.append((key, round(size * 10**6) * 10**12))
        plans.append(AccountPlan(i + 1, deposit, tuple(orders), held))
    return plans


# ---------------------------------------------------------------------- the run


TAKE_LIMIT = (49, 50)  # a keeper takes at or below 98% of the oracle (the simulator's 2%)
SETTLEMENT_BLOCKS = 240  # after the path, blocks at its last price for auctions to finish


@dataclass(frozen=True)
class AuctionAction:
    kind: str  # "take" or "reset"
    account: int
    token: str
    max_amount: int = 0  # a take's: the lot seen
    max_price: int = 0  # a take's: the price seen


@dataclass
class Trace:
    """What the referee compares block by block: the keeper's transactions and their outcomes,
    the accounts liquidatable and the auctions running after each block."""

    sent: list[list[int]] = field(default_factory=list)  # per step, accounts the keeper sent
    actions: list[list[AuctionAction]] = field(default_factory=list)  # per step, after those
    landed: list[list[Liquidation]] = field(default_factory=list)  # per step, in block order
    takes: list[list[TakeEvent]] = field(default_factory=list)  # per step
    resets: list[list[tuple]] = field(default_factory=list)  # per step (account, token, owed, paid)
    write_offs: list[list[WriteOff]] = field(default_factory=list)  # per step
    liquidatable: list[list[int]] = field(default_factory=list)  # per step, after the block
    auctions: list[list[tuple]] = field(default_factory=list)  # per step, running, start order

    @property
    def blocks(self) -> int:
        return len(self.sent)


@dataclass
class Episode:
    spec: EpisodeSpec
    world: ProtocolWorld
    trace: Trace
    metrics: dict[str, Any]


def step_time(spec: EpisodeSpec, step: int) -> int:
    return FILL_TIME + step * spec.path.step_seconds


@dataclass
class _Keeper:
    """The scripted keeper: each action waits `latency` blocks from the start of its own
    eligibility (a breach episode; an auction's price at or below the take limit; a reset due)."""

    latency: int
    failure_rate: float
    max_per_block: int
    rng: random.Random
    since: dict[tuple, int] = field(default_factory=dict)
    seen_price: dict[tuple[int, str], int] = field(default_factory=dict)  # auction -> its price

    def observe(
        self, step: int, liquidatable: list[int], landed: set[int], world: ProtocolWorld
    ) -> None:
        now = {
            ("liquidate", a): step if a in landed else self.since.get(("liquidate", a), step)
            for a in liquidatable
        }
        self.seen_price = {}
        for a in world.liquidator.auctions:
            price, stale = world.liquidator.status(a, world.now)
            self.seen_price[(a.account, a.token)] = price
            oracle = world.price_of(a.token)
            below, of = TAKE_LIMIT
            kind = "reset" if stale else "take" if price * of <= oracle * below else None
            if kind is not None:
                key = (kind, a.account, a.token)
                now[key] = self.since.get(key, step)
        self.since = now

    def decide(self, step: int, world: ProtocolWorld) -> tuple[list[int], list[AuctionAction]]:
        due = [k for k, since in self.since.items() if step - since >= self.latency]
        if self.rng.random() < self.failure_rate:
            return [], []
        accounts = sorted(k[1] for k in due if k[0] == "liquidate")[: self.max_per_block]
        actions = []
        for a in world.liquidator.auctions:
            for kind in ("reset", "take"):
                if (kind, a.account, a.token) in due:
                    price = self.seen_price[(a.account, a.token)]
                    actions.append(AuctionAction(kind, a.account, a.token, a.lot, price))
        return accounts, actions[: self.max_per_block]


def run(spec: EpisodeSpec) -> Episode:
    """The episode on the exact model: the path, then up to SETTLEMENT_BLOCKS blocks at its last
    price while auctions run."""
    config = protocol_config(spec.point)
    rules = Rules.from_config(config)
    answers = path_answers(spec.path, spec.path_seed, config)
    world = ProtocolWorld.empty(rules, int(spec.book.lp_usd * QUOTE), int(spec.point.fund * QUOTE))
    world.set_prices(answers[0])
    world.now = FILL_TIME
    world.open_book(plan_book(spec.book, spec.point, config), FILL_TIME)
    pool0, fund0 = world.pool_assets(FILL_TIME), world.fund
    keeper = _Keeper(
        spec.point.latency,
        spec.keeper.failure_rate,
        spec.keeper.max_per_block,
        random.Random(f"{spec.path_seed}:keeper"),
    )
    trace = Trace()
    keeper.observe(0, world.liquidatable(FILL_TIME), set(), world)
    peak, fund_low = 0, fund0
    last = spec.path.steps + SETTLEMENT_BLOCKS
    step = 0
    while step + 1 < last:
        step += 1
        if step >= spec.path.steps and not world.liquidator.auctions:
            break
        now = step_time(spec, step)
        world.now = now
        world.set_prices(answers[min(step, spec.path.steps - 1)])
        accounts, actions = keeper.decide(step, world)
        counts = (
            len(world.liquidations),
            len(world.write_offs),
            len(world.takes),
            len(world.resets),
        )
        landed = {a for a in accounts if world.liquidate(a, now) is not None}
        for action in actions:
            if action.kind == "take":
                world.take(action.account, action.token, action.max_amount, action.max_price, now)
            else:
                world.reset(action.account, action.token, now)
        trace.sent.append(accounts)
        trace.actions.append(actions)
        trace.landed.append(world.liquidations[counts[0] :])
        trace.write_offs.append(world.write_offs[counts[1] :])
        trace.takes.append(world.takes[counts[2] :])
        trace.resets.append(world.resets[counts[3] :])
        seen = world.liquidatable(now)
        trace.liquidatable.append(seen)
        trace.auctions.append(
            [
                (a.account, a.token, a.lot, a.tab, a.debt, a.start_price, a.start_time)
                for a in world.liquidator.auctions
            ]
        )
        keeper.observe(step, seen, landed, world)
        peak = max(peak, _bad_debt(world, now))
        fund_low = min(fund_low, world.fund)
    end = world.now
    outstanding = _bad_debt(world, end) - _written_off(world) * 10**12
    written = _written_off(world)
    covered = sum(w.covered for w in world.write_offs)
    socialized = sum(w.socialized for w in world.write_offs)
    metrics = {
        "bad_debt_usd": (written * 10**12 + outstanding) / WAD,
        "bad_debt_peak_usd": peak / WAD,
        "written_off_usd": written / QUOTE,
        "covered_by_insurance_usd": covered / QUOTE,
        "socialized_usd": socialized / QUOTE,
        "lp_loss_usd": (pool0 - world.pool_assets(end)) / QUOTE,
        "lp_credit_loss_usd": socialized / QUOTE + outstanding / WAD,
        "fund_drawdown_usd": (fund0 - fund_low) / QUOTE,
        "liquidations": len(world.liquidations),
        "liquidated_accounts": len({e.account for e in world.liquidations}),
        "auctions_taken": len(world.takes),
        "auction_resets": len(world.resets),
        "keeper_paid_usd": world.keeper_paid / QUOTE,
        "blocks": trace.blocks,
        "max_drawdown": _max_drawdown(answers),
    }
    return Episode(spec, world, trace, metrics)


def _bad_debt(world: ProtocolWorld, now: int) -> int:
    """WAD USD: debt written off + negative maintenance equity of open accounts + each running
    auction's debt above its lot's value at the oracle (the simulator's `bad_debt` series)."""
    shortfall = 0
    for a in world.liquidator.auctions:
        value = a.lot * world.price_of(a.token) // world.rules.lots[a.token].scale
        shortfall += max(0, a.debt - value)
    return _written_off(world) * 10**12 + _negative_equity(world, now) + shortfall * 10**12


def summary(spec: EpisodeSpec) -> dict[str, Any]:
    """What a campaign task returns for one episode: its inputs and its metrics (small, so that
    a cluster ships little)."""
    return {"point": dataclasses.asdict(spec.point), "seed": spec.path_seed, **run(spec).metrics}


def _written_off(world: ProtocolWorld) -> int:
    return sum(w.debt for w in world.write_offs)


def _negative_equity(world: ProtocolWorld, now: int) -> int:
    """WAD USD of negative maintenance equity of the accounts still open (as `healthOf`)."""
    return sum(max(0, -world.health(a, now)[0]) for a in world.accounts)


def _max_drawdown(answers: list[dict[str, int]]) -> float:
    worst = 0.0
    for key in answers[0]:
        peak = answers[0][key]
        for row in answers:
            peak = max(peak, row[key])
            worst = max(worst, 1 - row[key] / peak)
    return round(worst, 4)
