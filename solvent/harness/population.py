"""The one builder of a seeded population of trader accounts with random collateral mixes and
leverage, opened in a few batches (the demo's crowd, the simulator's, the keeper tests' and the
keeper benchmark's, each a `PopulationSpec`).

Every batch goes through `World.send_all`, which mines until each transaction of it is mined, so
the population is complete when this returns: an account holds a planned position exactly when
its trade succeeded, and a trade that did not succeed was refused by the engine with a named
error (`REFUSALS`); any other failure stops the set-up with its decoded reason. Positions open
through `trading.trade`, the harness's one way to trade."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from solvent.fastpath import Tx
from solvent.harness.trading import REFUSALS, Settler, TradeRequest, trade
from solvent.harness.world import MAX_UINT, OPERATOR, World

__all__ = ["REFUSALS", "PopulationSpec", "Trader", "hire_keepers", "open_population"]

COLLATERAL_MIXES: tuple[tuple[str, ...], ...] = (
    ("quote",),
    ("WETH",),
    ("WBTC",),
    ("WETH", "quote"),
    ("WBTC", "WETH"),
)
MARKET_SETS: tuple[tuple[str, ...], ...] = (("WETH",), ("WBTC",), ("WETH", "WBTC"))


@dataclass(frozen=True)
class PopulationSpec:
    accounts: int
    seed: int
    min_leverage: float = 1.5  # notional / collateral value, both in USD
    max_leverage: float = 6.0
    min_collateral_usd: float = 5_000
    max_collateral_usd: float = 50_000
    collateral_mixes: tuple[tuple[str, ...], ...] = COLLATERAL_MIXES
    market_sets: tuple[tuple[str, ...], ...] = MARKET_SETS
    long_share: float = 0.7  # a crowd leaning long, as before a crash
    owners: int = 8  # dev accounts 1..owners own the accounts as sub-accounts
    first_sub: int = 0  # a second population on the same chain starts past the first's subs
    lp_usd: float = 20_000_000
    insurance_usd: float = 250_000  # 0 and lp_usd 0: the pool and the fund are left as they are
    # a share of accounts holding a basis trade instead (all WETH collateral, the same size short
    # ETH-PERP), chosen by a generator of its own: with 0 the population is as it always was
    hedged_share: float = 0.0


@dataclass(frozen=True)
class Trader:
    account_id: int
    owner: int
    collateral_usd: float
    leverage: float
    positions: dict[str, float]  # market key -> signed size in whole units
    refused: dict[str, str]  # market key -> the engine's error for a planned trade it refused
    hedged: bool = False  # a basis trade (`PopulationSpec.hedged_share`)
    planned: dict[str, float] | None = None  # the plan's sizes, when `fit` changed them


# A plan's positions (market key -> signed size) refitted to what the account's risk model allows
Fit = Callable[[dict[str, Any]], dict[str, float]]


def open_population(
    world: World,
    spec: PopulationSpec,
    prices: dict[str, float],
    settle_with: Settler | None = None,
    risk_model: str | None = None,
    fit: Fit | None = None,
) -> list[Trader]:
    """Funds the LP pool and the insurance fund, then opens `spec.accounts` leveraged accounts
    (through `trading.trade`: `settle_with` settles their orders, the harness when None). A trade
    the protocol refuses (`REFUSALS`) leaves that account without the position. With
    `risk_model` (an approved model's address) every account chooses it while still idle; `fit`
    then resizes each plan's positions before they are traded (the largest the model accepts)."""
    rng = random.Random(spec.seed)
    hedging = random.Random(f"{spec.seed}:hedged")
    _seed_pool_and_fund(world, spec)
    owners = range(1, spec.owners + 1)
    plans = [_plan(rng, spec, i, prices, world.decimals) for i in range(spec.accounts)]
    if spec.hedged_share > 0:
        plans = [
            _hedge(p, prices, world.decimals) if hedging.random() < spec.hedged_share else p
            for p in plans
        ]

    setup = []
    for owner in owners:
        for codec in (world.quote, *world.tokens.values()):
            setup.append(world.tx(owner, codec, "approve", world.engine.address, MAX_UINT))
    minted: dict[tuple[int, str], int] = {}
    for plan in plans:
        for asset, amount in plan["deposits"].items():
            key = (plan["owner"], asset)
            minted[key] = minted.get(key, 0) + amount
    for (owner, asset), amount in minted.items():
        token = world.quote if asset == "quote" else world.tokens[asset]
        setup.append(world.tx(OPERATOR, token, "mint", world.address(owner), amount))
    for plan in plans:
        setup.append(world.tx(plan["owner"], world.engine, "openAccount", plan["sub"]))
    world.send_ok(setup)

    ids = [
        int(i)
        for i in world.read_many(
            [(world.engine, "accountIdOf", (world.address(p["owner"]), p["sub"])) for p in plans]
        )
    ]
    deposits = []
    if risk_model is not None:
        deposits += [
            world.tx(p["owner"], world.admin, "setRiskModel", account_id, risk_model)
            for p, account_id in zip(plans, ids, strict=True)
        ]
    for plan, account_id in zip(plans, ids, strict=True):
        for asset, amount in plan["deposits"].items():
            token = world.quote if asset == "quote" else world.tokens[asset]
            deposits.append(
                world.tx(plan["owner"], world.engine, "deposit", account_id, token.address, amount)
            )
    world.send_ok(deposits)

    planned_sizes = [dict(p["positions"]) for p in plans]
    if fit is not None:
        for plan in plans:
            plan["positions"] = {m: s for m, s in fit(plan).items() if s}
    requests = [
        TradeRequest(plan["owner"], account_id, market, int(size * 10**18))
        for plan, account_id in zip(plans, ids, strict=True)
        for market, size in plan["positions"].items()
    ]
    outcomes = trade(world, requests, settle_with)
    opened: dict[int, dict[str, float]] = {}
    refused: dict[int, dict[str, str]] = {}
    planned = [size for plan in plans for size in plan["positions"].values()]
    for request, outcome, size in zip(requests, outcomes, planned, strict=True):
        if outcome.ok:
            opened.setdefault(request.account_id, {})[request.market] = size
        else:
            refused.setdefault(request.account_id, {})[request.market] = str(outcome.error)
    return [
        Trader(
            account_id,
            p["owner"],
            p["collateral_usd"],
            p["leverage"],
            opened.get(account_id, {}),
            refused.get(account_id, {}),
            p.get("hedged", False),
            before if before != p["positions"] else None,
        )
        for p, account_id, before in zip(plans, ids, planned_sizes, strict=True)
    ]


def hire_keepers(world: World, senders: list[int], quote_usd: float, approve: bool) -> None:
    """Gas and `quote_usd` of quote for each keeper's dev account; with `approve`, the liquidator
    may take the quote (the production keeper approves by itself)."""
    setup: list[Tx] = []
    for sender in senders:
        address = world.address(sender)
        world.rpc.call("anvil_setBalance", address, hex(10**24))
        setup.append(world.tx(OPERATOR, world.quote, "mint", address, int(quote_usd * 10**6)))
        if approve:
            setup.append(
                world.tx(sender, world.quote, "approve", world.liquidator.address, MAX_UINT)
            )
    if setup:
        world.send_ok(setup)


def _plan(
    rng: random.Random,
    spec: PopulationSpec,
    index: int,
    prices: dict[str, float],
    decimals: dict[str, int],
) -> dict[str, Any]:
    owner = 1 + index % spec.owners
    collateral_usd = rng.uniform(spec.min_collateral_usd, spec.max_collateral_usd)
    mix = rng.choice(spec.collateral_mixes)
    deposits = {}
    for asset in mix:
        usd = collateral_usd / len(mix)
        if asset == "quote":
            deposits[asset] = int(usd * 10 ** decimals["quote"])
        else:
            deposits[asset] = int(usd / prices[asset] * 10 ** decimals[asset])
    leverage = rng.uniform(spec.min_leverage, spec.max_leverage)
    notional = collateral_usd * leverage
    markets = rng.choice(spec.market_sets)
    positions = {}
    for market in markets:
        direction = 1 if rng.random() < spec.long_share else -1
        positions[market] = round(direction * notional / len(markets) / prices[market], 6)
    return {
        "owner": owner,
        "sub": spec.first_sub + index // spec.owners,
        "collateral_usd": collateral_usd,
        "leverage": leverage,
        "deposits": deposits,
        "positions": positions,
    }


def _hedge(
    plan: dict[str, Any], prices: dict[str, float], decimals: dict[str, int]
) -> dict[str, Any]:
    """The plan as a basis trade: its collateral all in WETH, short the same ETH on the perp
    (delta neutral: a fall costs the collateral what the short gains)."""
    units = plan["collateral_usd"] / prices["WETH"]
    return {
        **plan,
        "leverage": 1.0,
        "deposits": {"WETH": int(units * 10 ** decimals["WETH"])},
        "positions": {"WETH": -round(units, 6)},
        "hedged": True,
    }


def _seed_pool_and_fund(world: World, spec: PopulationSpec) -> None:
    lp_amount = int(spec.lp_usd * 10**6)
    fund_amount = int(spec.insurance_usd * 10**6)
    if lp_amount + fund_amount == 0:
        return
    operator = world.address(OPERATOR)
    world.send_ok(
        [
            world.tx(OPERATOR, world.quote, "mint", operator, lp_amount + fund_amount),
            world.tx(OPERATOR, world.quote, "approve", world.pool.address, MAX_UINT),
            world.tx(OPERATOR, world.quote, "approve", world.fund.address, MAX_UINT),
        ]
    )
    deposits = []
    if lp_amount:
        deposits.append(world.tx(OPERATOR, world.pool, "deposit", lp_amount, operator))
    if fund_amount:
        deposits.append(world.tx(OPERATOR, world.fund, "deposit", fund_amount, operator))
    world.send_ok(deposits)


def weth_longs(
    accounts: int,
    seed: int = 7,
    leverage: tuple[float, float] = (0.2, 3.4),
    first_sub: int = 0,
    fund: bool = True,
) -> PopulationSpec:
    """The keeper scenarios' crowd: WETH collateral worth $2,000-10,000 at $2,000 per ETH, long
    ETH or BTC at `leverage`, so that a 35% fall of both breaches the leveraged ones. The pool
    gets $50M and the insurance fund only $5,000 (bad debt reaches the pool) unless `fund` is
    False (a second crowd on the same chain)."""
    return PopulationSpec(
        accounts,
        seed,
        min_leverage=leverage[0],
        max_leverage=leverage[1],
        min_collateral_usd=2_000,
        max_collateral_usd=10_000,
        collateral_mixes=(("WETH",),),
        market_sets=(("WETH",), ("WBTC",)),
        long_share=1.0,
        owners=4,
        first_sub=first_sub,
        lp_usd=50_000_000 if fund else 0,
        insurance_usd=5_000 if fund else 0,
    )
