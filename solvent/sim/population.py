"""A seeded population of trader accounts with random collateral mixes and leverage, opened in a
few batches of pre-signed transactions.

Every batch goes through `World.send_all`, which mines until each transaction of it is mined, so
the population is complete when this returns: an account holds a planned position exactly when
its trade succeeded, and a trade that did not succeed was refused by the engine with a named
error (`REFUSALS`); any other failure stops the set-up with its decoded reason."""

from __future__ import annotations

import random
from dataclasses import dataclass

from solvent.fastpath import Tx
from solvent.sim.world import MAX_UINT, OPERATOR, World, raise_failures

# The engine's refusals of a trade for the account's risk: a planned position that would breach
# initial margin or a market's open-interest cap is not opened; the account keeps its collateral.
REFUSALS = frozenset({"InsufficientMargin", "OpenInterestCapExceeded"})

COLLATERAL_MIXES: tuple[tuple[str, ...], ...] = (
    ("quote",),
    ("WETH",),
    ("WBTC",),
    ("WETH", "quote"),
    ("WBTC", "WETH"),
)


@dataclass(frozen=True)
class PopulationSpec:
    accounts: int
    seed: int
    min_leverage: float = 1.5
    max_leverage: float = 6.0
    min_collateral_usd: float = 5_000
    max_collateral_usd: float = 50_000
    owners: int = 8  # dev accounts 1..owners own the accounts as sub-accounts
    lp_usd: float = 20_000_000
    insurance_usd: float = 250_000


@dataclass(frozen=True)
class Trader:
    account_id: int
    owner: int
    collateral_usd: float
    leverage: float
    positions: dict[str, float]  # market key -> signed size in whole units
    refused: dict[str, str]  # market key -> the engine's error for a planned trade it refused


def open_population(world: World, spec: PopulationSpec, prices: dict[str, float]) -> list[Trader]:
    """Funds the LP pool and the insurance fund, then opens `spec.accounts` leveraged accounts.
    A trade the engine refuses (`REFUSALS`) leaves that account without the position."""
    rng = random.Random(spec.seed)
    _seed_pool_and_fund(world, spec)
    owners = range(1, spec.owners + 1)
    plans = [_plan(rng, spec, i, prices, world.decimals) for i in range(spec.accounts)]

    setup = []
    for owner in owners:
        for codec in (world.quote, *world.tokens.values()):
            setup.append(world.tx(owner, codec, "approve", world.engine.address, MAX_UINT))
    for plan in plans:
        for asset, amount in plan["deposits"].items():
            token = world.quote if asset == "quote" else world.tokens[asset]
            setup.append(world.tx(OPERATOR, token, "mint", _address(world, plan["owner"]), amount))
        setup.append(world.tx(plan["owner"], world.engine, "openAccount", plan["sub"]))
    world.send_ok(setup)

    ids = world.read_many(
        [(world.engine, "accountIdOf", (_address(world, p["owner"]), p["sub"])) for p in plans]
    )
    deposits = []
    for plan, account_id in zip(plans, ids, strict=True):
        for asset, amount in plan["deposits"].items():
            token = world.quote if asset == "quote" else world.tokens[asset]
            deposits.append(
                world.tx(plan["owner"], world.engine, "deposit", account_id, token.address, amount)
            )
    world.send_ok(deposits)

    trades: list[Tx] = []
    owners_of: list[tuple[int, str]] = []
    for plan, account_id in zip(plans, ids, strict=True):
        for market, size in plan["positions"].items():
            size_wad = int(size * 10**18)
            acceptable = MAX_UINT if size_wad > 0 else 0
            trades.append(
                world.tx(
                    plan["owner"],
                    world.engine,
                    "trade",
                    account_id,
                    world.market_ids[market],
                    size_wad,
                    acceptable,
                )
            )
            owners_of.append((account_id, market))
    outcomes = world.send_all(trades)
    raise_failures(
        world, [o for o in outcomes if not o.ok and o.error not in REFUSALS], len(trades)
    )
    opened: dict[int, dict[str, float]] = {}
    refused: dict[int, dict[str, str]] = {}
    for (account_id, market), outcome, plan_trade in zip(
        owners_of, outcomes, _flat_positions(plans), strict=True
    ):
        if outcome.ok:
            opened.setdefault(account_id, {})[market] = plan_trade
        else:
            refused.setdefault(account_id, {})[market] = str(outcome.error)
    return [
        Trader(
            account_id,
            p["owner"],
            p["collateral_usd"],
            p["leverage"],
            opened.get(account_id, {}),
            refused.get(account_id, {}),
        )
        for p, account_id in zip(plans, ids, strict=True)
    ]


def _plan(
    rng: random.Random,
    spec: PopulationSpec,
    index: int,
    prices: dict[str, float],
    decimals: dict[str, int],
) -> dict:
    owner = 1 + index % spec.owners
    collateral_usd = rng.uniform(spec.min_collateral_usd, spec.max_collateral_usd)
    mix = rng.choice(COLLATERAL_MIXES)
    deposits = {}
    for asset in mix:
        usd = collateral_usd / len(mix)
        if asset == "quote":
            deposits[asset] = int(usd * 10**6)
        else:
            deposits[asset] = int(usd / prices[asset] * 10 ** decimals[asset])
    leverage = rng.uniform(spec.min_leverage, spec.max_leverage)
    notional = collateral_usd * leverage
    markets = rng.choice((("WETH",), ("WBTC",), ("WETH", "WBTC")))
    positions = {}
    for market in markets:
        direction = 1 if rng.random() < 0.7 else -1  # a crowd leaning long, as before a crash
        positions[market] = round(direction * notional / len(markets) / prices[market], 6)
    return {
        "owner": owner,
        "sub": index // spec.owners,
        "collateral_usd": collateral_usd,
        "leverage": leverage,
        "deposits": deposits,
        "positions": positions,
    }


def _flat_positions(plans: list[dict]) -> list[float]:
    return [size for plan in plans for size in plan["positions"].values()]


def _seed_pool_and_fund(world: World, spec: PopulationSpec) -> None:
    lp_amount = int(spec.lp_usd * 10**6)
    fund_amount = int(spec.insurance_usd * 10**6)
    operator = _address(world, OPERATOR)
    world.send_ok(
        [
            world.tx(OPERATOR, world.quote, "mint", operator, lp_amount + fund_amount),
            world.tx(OPERATOR, world.quote, "approve", world.pool.address, MAX_UINT),
            world.tx(OPERATOR, world.quote, "approve", world.fund.address, MAX_UINT),
        ]
    )
    world.send_ok(
        [
            world.tx(OPERATOR, world.pool, "deposit", lp_amount, operator),
            world.tx(OPERATOR, world.fund, "deposit", fund_amount, operator),
        ]
    )


def _address(world: World, index: int) -> str:
    return world.sender.signers[index].address
