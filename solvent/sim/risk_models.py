"""The simulator's risk-model choice (issue 18; docs/simulator.md, "Risk models"): every trader
account on the engine's standard margin, or on the deployment's portfolio model.

With `portfolio` the set-up approves the deployed `PortfolioRiskModel` through the timelock
(`World.govern`, one block 60 s past the delay), every trader account chooses it while still idle
(`setRiskModel`), and each planned position the model's initial margin does not carry is scaled
down to the largest that it does (`PortfolioFit`, on the Python reference with a 2% buffer for the
fees and skew premium of the fill). The standard model never binds on the population (leverage
1.5-6x of collateral against a 10% initial margin), so its plans are traded as drawn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solvent import config as configs
from solvent.harness.population import Trader
from solvent.harness.world import World
from solvent.model import portfolio as pm

WAD = 10**18
STANDARD, PORTFOLIO = "standard", "portfolio"
RISK_MODELS = (STANDARD, PORTFOLIO)
# initial health a resized plan aims at: the fill's fees and skew premium come out of equity
TARGET_HEALTH = WAD * 102 // 100
_SEARCH_STEPS = 40  # bisection on the scale of the plan's positions: 2^-40 of the plan


def approve_portfolio(world: World) -> str:
    """The deployment's portfolio model, approved by governance through the timelock."""
    model = str(world.record["addresses"]["portfolio_model"])
    world.govern([("admin", "approveRiskModel", (model, True))])
    return model


@dataclass(frozen=True)
class PortfolioFit:
    """Resizes a population plan to the largest scale (≤ 1) of its positions whose initial health
    under the portfolio model, at the set-up's prices and the oracle's sigmas, is at least
    `TARGET_HEALTH` (`population.Fit`)."""

    params: pm.PortfolioParams
    haircut: dict[str, int]  # asset key -> WAD liquidity haircut
    addon: dict[str, int]  # asset key -> WAD add-on on notional
    prices: dict[str, int]  # asset key -> WAD USD
    sigmas: dict[str, int]  # asset key -> WAD annualized sigma
    decimals: dict[str, int]  # asset key and "quote" -> token decimals

    @classmethod
    def from_world(
        cls, world: World, prices: dict[str, float], config: str = "local"
    ) -> PortfolioFit:
        spec = configs.load(config).portfolio_model
        if spec is None:
            raise ValueError(f"config {config!r} has no portfolio_model grid")
        keys = list(world.tokens)
        sigmas = world.read_many(
            [(world.oracle, "sigma", (world.tokens[k].address,)) for k in keys]
        )
        return cls(
            spec.params(),
            {a.key: a.haircut for a in spec.assets},
            {a.key: a.add_on for a in spec.assets},
            {k: round(prices[k] * 10**8) * 10**10 for k in keys},  # the feeds' 8 decimals
            {k: int(s) for k, s in zip(keys, sigmas, strict=True)},
            dict(world.decimals),
        )

    def __call__(self, plan: dict[str, Any]) -> dict[str, float]:
        sizes: dict[str, float] = plan["positions"]
        if self.health(plan, sizes) >= TARGET_HEALTH:
            return dict(sizes)
        low, high = 0.0, 1.0
        for _ in range(_SEARCH_STEPS):
            mid = (low + high) / 2
            if self.health(plan, _scaled(sizes, mid)) >= TARGET_HEALTH:
                low = mid
            else:
                high = mid
        return _scaled(sizes, low)

    def health(self, plan: dict[str, Any], sizes: dict[str, float]) -> int:
        deposits: dict[str, int] = plan["deposits"]
        holdings = tuple(
            pm.Holding(k, a, self.decimals[k], self.prices[k], self.haircut[k])
            for k, a in deposits.items()
            if k != "quote"
        )
        positions = []
        for market, size in sizes.items():
            wad = int(size * WAD)
            if wad:
                price = self.prices[market]
                positions.append(
                    pm.Position(market, wad, wad * price // WAD, price, self.addon[market])
                )
        book = pm.Book(deposits.get("quote", 0), holdings, tuple(positions))
        return pm.initial_health(book, self.params, self.sigmas)


def _scaled(sizes: dict[str, float], scale: float) -> dict[str, float]:
    """Each size times `scale`, rounded toward zero to the population's 6 decimals."""
    return {m: int(s * scale * 10**6) / 10**6 for m, s in sizes.items()}


def book_margin(world: World, traders: list[Trader], prices: dict[str, float]) -> dict[str, Any]:
    """What the book needs, read from the chain (`initialHealthOf`) after the set-up, for the
    hedged books (basis trades) and the directional ones: notional at the set-up's prices, initial
    requirement, and the margin cost, requirement plus the deposits' value the model does not
    count as equity (collateral haircuts, and the fill's fees)."""
    healths = world.read_many([(world.admin, "initialHealthOf", (t.account_id,)) for t in traders])
    models = world.read_many([(world.admin, "riskModelOf", (t.account_id,)) for t in traders])
    groups: dict[str, dict[str, float]] = {}
    for trader, health in zip(traders, healths, strict=True):
        if not trader.positions:
            continue
        equity, requirement = int(health[0]) / WAD, int(health[1]) / WAD
        group = groups.setdefault(
            "hedged" if trader.hedged else "directional",
            {"accounts": 0, "notional_usd": 0.0, "initial_requirement_usd": 0.0, "cost_usd": 0.0},
        )
        group["accounts"] += 1
        group["notional_usd"] += sum(abs(s) * prices[m] for m, s in trader.positions.items())
        group["initial_requirement_usd"] += requirement
        group["cost_usd"] += requirement + trader.collateral_usd - equity
    for group in groups.values():
        notional = group["notional_usd"] or 1.0
        group["requirement_per_notional"] = round(group["initial_requirement_usd"] / notional, 4)
        group["cost_per_notional"] = round(group["cost_usd"] / notional, 4)
        for key in ("notional_usd", "initial_requirement_usd", "cost_usd"):
            group[key] = round(group[key], 2)
    planned = [t for t in traders if t.planned is not None]
    return {
        "accounts_on_model": sum(1 for m in models if int(str(m), 16) != 0),
        "initial_requirement_usd": round(sum(int(h[1]) for h in healths) / WAD, 2),
        "notional_usd": round(sum(g["notional_usd"] for g in groups.values()), 2),
        "positions_resized": len(planned),
        "books": groups,
    }
