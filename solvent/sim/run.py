"""Run one crash scenario on a deployed protocol, block by block.

Each step is one block `step_seconds` after the previous one. It carries the new feed prices, the
operator's volatility pokes, and the transactions keepers decided on after seeing the previous
block. A keeper with latency 1 therefore acts in the block right after the one that made an
account liquidatable. Automine is off for the run, so a block holds exactly one step.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from statistics import mean
from typing import Any

from solvent.fastpath import Tx, succeeded
from solvent.harness.population import PopulationSpec, Trader, hire_keepers, open_population
from solvent.harness.trading import FILL_REFUSED, POOL_EXPOSURE_EXCEEDED
from solvent.harness.world import KEEPER, OPERATOR, World, pool_income
from solvent.sim import amm, deleveraging
from solvent.sim.episodes import LIQUIDATED, OPEN, RECOVERED, BreachEpisodes, Episode
from solvent.sim.keepers import (
    KeeperAgent,
    KeeperModel,
    Observation,
    by_bid,
    decide,
    observe,
    read_means,
)
from solvent.sim.lps import StressedLP, StressLP
from solvent.sim.oracle_model import OracleModel, Publisher
from solvent.sim.paths import PricePath
from solvent.sim.risk_models import STANDARD, PortfolioFit, approve_portfolio, book_margin
from solvent.sim.traders import ReactingTraders, TraderBehaviour

WAD = 10**18
QUOTE_DECIMALS = 6
QUOTE = 10**QUOTE_DECIMALS
SETTLEMENT_BLOCKS = 240  # blocks after the path for auctions to finish at the last price
FIRST_KEEPER_ACCOUNT = KEEPER
_UPDATED_AT = 3  # latestRoundData: (roundId, answer, startedAt, updatedAt, answeredInRound)


@dataclass(frozen=True)
class Scenario:
    name: str
    paths: dict[str, PricePath]  # asset key -> path, all of one length and step
    population: PopulationSpec
    keepers: tuple[KeeperModel, ...]
    seed: int
    # when the feeds publish (oracle_model.py); the default writes every step's price
    oracle: OracleModel = field(default_factory=OracleModel)
    # what the report shows about the path: generator or historical window, real start prices
    inputs: dict[str, Any] = field(default_factory=dict)
    # the exchange keepers that `sells_on_amm` sell on (deployed by the campaign when one does)
    exchange: amm.ExchangeSpec = field(default_factory=amm.ExchangeSpec)
    # how traders react to the path (traders.py); the default: they never act
    traders: TraderBehaviour = field(default_factory=TraderBehaviour)
    # an LP who leaves under stress (lps.py); the default: none
    lp: StressLP = field(default_factory=StressLP)
    # the traders' risk model (risk_models.py): "standard" (the engine's margin) or "portfolio"
    risk_model: str = STANDARD

    @property
    def compares_models(self) -> bool:
        """The run reports what the book's margin costs (risk_models.book_margin)."""
        return self.risk_model != STANDARD or self.population.hedged_share > 0

    @property
    def uses_exchange(self) -> bool:
        return any(k.sells_on_amm for k in self.keepers)

    @property
    def steps(self) -> int:
        return min(path.steps for path in self.paths.values())

    @property
    def step_seconds(self) -> int:
        return next(iter(self.paths.values())).step_seconds


@dataclass
class SimResult:
    summary: dict[str, Any]
    series: dict[str, list[float]] = field(default_factory=dict)
    traders: list[Trader] = field(default_factory=list)  # the population as set up
    liquidated: list[tuple[int, int]] = field(default_factory=list)  # (step, account id) each
    episodes: list[Episode] = field(default_factory=list)  # breach episodes (episodes.py)
    clearing: list[float] = field(default_factory=list)  # take price / oracle, every take


def run(
    world: World, scenario: Scenario, progress: Callable[[int, int], None] | None = None
) -> SimResult:
    """Sets the scenario up on a fresh deployment, then runs its path."""
    traders, agents = set_up(world, scenario)
    margin = None
    if scenario.compares_models:
        prices0 = {key: path.prices[0] for key, path in scenario.paths.items()}
        margin = book_margin(world, traders, prices0)
    result = run_path(world, scenario, traders, agents, progress)
    if margin is not None:
        result.summary["risk_model"] = scenario.risk_model
        result.summary["book_margin"] = margin
    return result


# Transactions an extra agent adds to a step's block, before the volatility pokes: called with
# (step, the block's timestamp) after the previous block (the crash replays' risk keeper).
StepAgent = Callable[[int, int], list[Tx]]


def run_path(
    world: World,
    scenario: Scenario,
    traders: list[Trader],
    agents: list[KeeperAgent],
    progress: Callable[[int, int], None] | None = None,
    before_pokes: StepAgent | None = None,
) -> SimResult:
    """The path, block by block, from the state `set_up` left. `before_pokes` adds transactions to
    each block after the feed prices and before the volatility pokes."""
    account_count = int(world.read(world.engine, "accountCount"))

    fund0 = int(world.read(world.quote, "balanceOf", world.fund.address))
    pool0 = int(world.read(world.pool, "totalAssets"))
    ids = list(range(1, account_count + 1))
    first_block = world.block()[0] + 1
    income0 = pool_income(world, ids)
    series: dict[str, list[float]] = {
        "block": [],
        "chain_block": [],
        "liquidatable": [],
        "fund": [],
        "pool": [],
        "bad_debt": [],
        "hours": [],
        "pool_exposure": [],
        "credit_losses_realized": [],
        "written_off": [],
        "maintenance_requirement": [],  # the book's maintenance requirement (USD) after the block
        "adl_factor_pool": [],  # the pool's ADL factor after the block (deleveraging)
    }
    for key in scenario.paths:
        series[f"price_{key}"] = []
        series[f"margin_sigma_{key}"] = []  # the oracle's margin sigma after the block
    tally = _Tally()
    episodes = BreachEpisodes()
    pending: list[str] = []
    _, now = world.block()
    publisher = Publisher(scenario.oracle, scenario.paths, now, _last_rounds(world))
    if not scenario.oracle.is_default:
        for key in scenario.paths:
            series[f"feed_{key}"] = []
    reacting = ReactingTraders.assign(
        traders, scenario.traders, random.Random(f"{scenario.seed}:traders")
    )
    healths = world.read(world.admin, "healthOf", ids) if ids else []
    leaver = StressedLP(scenario.lp, {k: path.prices[0] for k, path in scenario.paths.items()})
    world.set_automine(False)
    try:
        seen = observe(world, 0, account_count, episodes)
        _watch_adl(world, seen, agents, account_count, tally)
        total = scenario.steps + (SETTLEMENT_BLOCKS if agents else 0)
        for step in range(1, total):
            now += scenario.step_seconds
            prices = {
                key: path.prices[min(step, path.steps - 1)] for key, path in scenario.paths.items()
            }
            # the default model publishes `prices` itself: every feed, every block
            txs = world.price_txs(publisher.publish(now))
            if before_pokes is not None:
                txs += before_pokes(step, now)
            txs += _poke_txs(world)
            if scenario.uses_exchange:
                txs += _sync_txs(world, scenario.exchange, prices)
                read_means(world, agents)
            txs += by_bid([(a.model.priority_fee_gwei, decide(world, a, seen)) for a in agents])
            if scenario.traders.reacts:
                txs += reacting.decide(world, *_trader_books(world, ids, healths))
            if leaver.active:
                txs += leaver.decide(world, step, prices, now)
            oracle_at_decision = {a["id"]: a["oracle"] for a in seen.auctions}
            pending += world.send_block(txs, now)
            receipts = world.sender.receipts(pending) if pending else []
            pending = [h for h, r in zip(pending, receipts, strict=True) if r is None]
            landed = [r for r in receipts if r is not None]
            tally.absorb(world, landed, step, episodes, oracle_at_decision)
            if leaver.active:
                leaver.observe(world, step, landed)
            if scenario.traders.reacts:
                reacting.observe(world, landed)
            seen = observe(world, step, account_count, episodes)
            adl_view = _watch_adl(world, seen, agents, account_count, tally)
            fund, pool, healths, *sigmas = world.read_many(
                [
                    (world.quote, "balanceOf", (world.fund.address,)),
                    (world.pool, "totalAssets", ()),
                    (world.admin, "healthOf", (ids,)),
                    *((world.oracle, "sigma", (world.tokens[k].address,)) for k in scenario.paths),
                ]
            )
            series["maintenance_requirement"].append(sum(int(h[1]) for h in healths) / WAD)
            series["adl_factor_pool"].append(adl_view.reading() / WAD)
            for key, sigma in zip(scenario.paths, sigmas, strict=True):
                series[f"margin_sigma_{key}"].append(int(sigma) / WAD)
            series["block"].append(step)
            series["chain_block"].append(world.block()[0])
            series["bad_debt"].append(
                tally.bad_debt / QUOTE + _shortfall(healths) + auction_shortfall(world, seen)
            )
            series["liquidatable"].append(len(seen.liquidatable))
            series["fund"].append(fund / QUOTE)
            series["pool"].append(pool / QUOTE)
            series["hours"].append(step * scenario.step_seconds / 3600)
            series["pool_exposure"].append(pool_exposure(world))
            series["credit_losses_realized"].append(tally.socialized / QUOTE)
            series["written_off"].append(tally.bad_debt / QUOTE)
            for key, price in prices.items():
                series[f"price_{key}"].append(price)
                if f"feed_{key}" in series:
                    series[f"feed_{key}"].append(publisher.answer[key])
            if progress:
                progress(step, total - 1)
            if step >= scenario.steps and not seen.auctions and not seen.liquidatable:
                break
    finally:
        world.set_automine(True)

    outstanding = _negative_equity(world, account_count)
    exposure_refused_at_setup = sum(
        1 for t in traders for e in t.refused.values() if e == POOL_EXPOSURE_EXCEEDED
    )
    all_episodes = episodes.all()
    outcomes = Counter(e.outcome for e in all_episodes)
    fund_min = min(series["fund"], default=fund0 / QUOTE)
    summary = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "accounts": len(traders),
        "accounts_with_positions": sum(1 for t in traders if t.positions),
        "keeper_outcomes": keeper_outcomes(world, agents, tally),
        "trader_reactions": reacting.summary(tally.reactions, tally.reaction_quote, QUOTE),
        "stressed_lp": leaver.summary(world, QUOTE),
        "trades_refused": dict(
            sorted(Counter(e for t in traders for e in t.refused.values()).items())
        ),
        # fills the pool's exposure bound refused: the population's opening trades at set-up
        # (also in trades_refused) and orders cancelled with PoolExposureExceeded during the run
        "exposure_refused_fills": exposure_refused_at_setup + tally.exposure_refused,
        "exposure_refused": {
            "setup": exposure_refused_at_setup,
            "run": tally.exposure_refused,
        },
        **deleveraging.summary_fields(tally, world),
        "keepers": [k.__dict__ for k in scenario.keepers],
        "blocks": len(series["block"]),
        "max_drawdown": {k: round(p.max_drawdown(), 4) for k, p in scenario.paths.items()},
        "path_inputs": scenario.inputs,
        "oracle": {**scenario.oracle.describe(), "rounds": dict(publisher.rounds)},
        "liquidations": tally.liquidations,
        "liquidated_accounts": len({account for _, account in tally.liquidated}),
        "liquidated_notional_usd": tally.closed_notional / WAD,
        "auctions_taken": tally.takes,
        "bad_debt_realized_usd": tally.bad_debt / QUOTE,
        "covered_by_insurance_usd": tally.covered / QUOTE,
        "socialized_usd": tally.socialized / QUOTE,
        "outstanding_negative_equity_usd": outstanding,
        "bad_debt_usd": tally.bad_debt / QUOTE + outstanding,
        "bad_debt_peak_usd": max(series["bad_debt"], default=0.0),
        "insurance_drawdown_usd": fund0 / QUOTE - fund_min,
        "lp_loss_usd": (pool0 - int(world.read(world.pool, "totalAssets")) - leaver.exited) / QUOTE,
        "lp_pnl_usd": lp_pnl_split(
            world,
            pool0,
            pool_income(world, ids),
            income0,
            first_block,
            withdrawn=leaver.exited,
            socialized=tally.socialized / QUOTE,
            uncollectible=series["bad_debt"][-1] - tally.bad_debt / QUOTE
            if series["bad_debt"]
            else 0.0,
        ),
        "clearing_price_vs_oracle": round(mean(tally.clearing), 4) if tally.clearing else None,
        "clearing_price_distribution": distribution(tally.clearing),
        "account_outcomes": account_outcomes(traders, tally.penalties, tally.partial),
        "breach_to_liquidation_blocks_mean": round(mean(tally.latency), 2)
        if tally.latency
        else None,
        "breach_to_liquidation_blocks_max": max(tally.latency, default=None),
        "breach_episodes": {k: outcomes[k] for k in (LIQUIDATED, RECOVERED, OPEN)},
        # funding and borrow interest the pool received over the run (settled plus still owed)
        **pool_income(world, ids),
    }
    return SimResult(summary, series, traders, tally.liquidated, all_episodes, tally.clearing)


@dataclass
class _Tally:
    liquidations: int = 0
    takes: int = 0
    closed_notional: int = 0  # WAD USD closed by liquidations (`Liquidated.closedNotional`)
    bad_debt: int = 0
    covered: int = 0
    socialized: int = 0
    clearing: list[float] = field(default_factory=list)
    latency: list[int] = field(default_factory=list)
    liquidated: list[tuple[int, int]] = field(default_factory=list)
    penalties: Counter = field(default_factory=Counter)  # account -> penalty charged (quote units)
    partial: Counter = field(default_factory=Counter)  # account -> partial liquidations
    gas_by_sender: Counter = field(default_factory=Counter)  # lower-case address -> gas used
    failed_by_sender: Counter = field(default_factory=Counter)  # reverted transactions
    # traders' reactions that landed (top-ups: quote deposits during the run; take-profits: quote
    # withdrawals), count and quote units
    reactions: Counter = field(default_factory=Counter)
    reaction_quote: Counter = field(default_factory=Counter)
    # auto-deleveraging (deleveraging.py): runs (`AdlExecuted`), positions cut, |size| x price
    # and PnL realized (WAD USD), blocks after which the pool was due with a market to cut, the
    # largest pool factor seen (WAD: the reading after every block and each run's factor before)
    adl_runs: int = 0
    adl_cuts: int = 0
    adl_volume: int = 0
    adl_realized: int = 0
    adl_blocks_triggered: int = 0
    adl_factor: int = 0
    # profit the pool's cash could not pay (`ProfitUnpaid`, quote units) and fills the exposure
    # bound refused during the run (orders cancelled with PoolExposureExceeded)
    profit_unpaid: int = 0
    profit_unpaid_events: int = 0
    exposure_refused: int = 0

    def adl_factor_seen(self, factor: int) -> None:
        self.adl_factor = max(self.adl_factor, factor)

    def absorb(
        self,
        world: World,
        receipts: list[dict],
        step: int,
        episodes: BreachEpisodes,
        oracle_by_auction: dict[int, int],
    ) -> None:
        for receipt in receipts:
            sender = str(receipt.get("from", "")).lower()
            self.gas_by_sender[sender] += int(receipt.get("gasUsed", "0x0"), 16)
            if not succeeded(receipt):
                self.failed_by_sender[sender] += 1
                continue
            for event in world.engine.events("Liquidated", receipt):
                self.liquidations += 1
                self.liquidated.append((step, int(event["accountId"])))
                self.penalties[int(event["accountId"])] += int(event["penalty"])
                self.closed_notional += int(event["closedNotional"])
                if int(event["fraction"]) < WAD:
                    self.partial[int(event["accountId"])] += 1
                episode = episodes.liquidated(step, int(event["accountId"]))
                if episode is not None and episode.blocks is not None:
                    self.latency.append(episode.blocks)
            quote = world.quote.address.lower()
            for name, habit in (("Deposited", "top_up"), ("Withdrawn", "take_profit")):
                for event in world.engine.events(name, receipt):
                    if str(event["token"]).lower() == quote:
                        self.reactions[habit] += 1
                        self.reaction_quote[habit] += int(event["amount"])
            for event in world.engine.events("BadDebtWrittenOff", receipt):
                self.bad_debt += event["debt"]
                self.covered += event["coveredByInsurance"]
                self.socialized += event["socialized"]
            self._absorb_pool_bounds(world, receipt)
            for event in world.liquidator.events("Take", receipt):
                self.takes += 1
                oracle = oracle_by_auction.get(event["id"])
                if oracle:
                    self.clearing.append(event["price"] / oracle)

    def _absorb_pool_bounds(self, world: World, receipt: dict) -> None:
        """Auto-deleveraging, unpaid profit and the exposure bound's refusals in one receipt."""
        for event in world.engine.events("AutoDeleveraged", receipt):
            self.adl_cuts += 1
            self.adl_volume += abs(int(event["sizeDelta"])) * int(event["price"]) // WAD
            self.adl_realized += int(event["realizedPnl"])
        for event in world.engine.events("AdlExecuted", receipt):
            self.adl_runs += 1
            self.adl_factor_seen(int(event["factorBefore"]))
        for event in world.engine.events("ProfitUnpaid", receipt):
            self.profit_unpaid += int(event["amount"])
            self.profit_unpaid_events += 1
        if "order_book" in world.codecs:
            for event in world.c("order_book").events("OrderCancelled", receipt):
                data = bytes(event["engineError"])
                if int(event["reason"]) == FILL_REFUSED and (
                    world.error_names.get(data[:4]) == POOL_EXPOSURE_EXCEEDED
                ):
                    self.exposure_refused += 1


def _watch_adl(
    world: World, seen: Observation, agents: list[KeeperAgent], account_count: int, tally: _Tally
) -> deleveraging.AdlView:
    """Reads the pool's auto-deleveraging factor and trigger after a block (deleveraging.py) and,
    with keepers, the one run they send; notes the factor and the blocks the pool was due."""
    sender = agents[0].sender if agents else OPERATOR
    view = deleveraging.observe(world, sender, account_count, plan=bool(agents))
    tally.adl_factor_seen(view.factor)
    if view.triggered:
        tally.adl_blocks_triggered += 1
    seen.adl = view.plans
    return view


def keeper_outcomes(world: World, agents: list[KeeperAgent], tally: _Tally) -> list[dict]:
    """Each keeper's end: PnL (its quote and collateral at the oracle, less the capital it
    started with), gas used, reverted transactions (a take or liquidation another keeper landed
    first) and the priority fees its bid cost (ETH)."""
    read_means(world, agents)
    usd = world.oracle_prices()
    per_unit = {
        codec.address: usd[key] / 10 ** world.decimals[key] for key, codec in world.tokens.items()
    }
    out = []
    for agent in agents:
        me = world.address(agent.sender).lower()
        held = sum(amount * per_unit[token] for token, amount in agent.holdings.items())
        gas = tally.gas_by_sender[me]
        out.append(
            {
                "sender": agent.sender,
                "pnl_usd": round(agent.cash / QUOTE + held - agent.model.capital_usd, 2),
                "gas_used": gas,
                "reverted_txs": tally.failed_by_sender[me],
                "priority_fees_eth": gas * agent.model.priority_fee_gwei / 1e9,
            }
        )
    return out


def quantile(values: list[float], q: float) -> float:
    """The `q` quantile of `values` by nearest rank: the ceil(q·n)-th smallest (a value that
    occurred), with q read exactly as the decimal it was written as (0.95 · 100 is rank 95;
    rounding q·n + 0.5 half to even had given rank 96 there and 100 for the 99th of 100)."""
    ordered = sorted(values)
    rank = math.ceil(Fraction(q).limit_denominator(10**9) * len(ordered))
    return ordered[min(len(ordered), max(1, rank)) - 1]


def distribution(values: list[float]) -> dict[str, float] | None:
    """Count, mean, min, 5th/50th/95th percentile and max of `values`; None when empty."""
    if not values:
        return None
    return {
        "count": len(values),
        "mean": round(mean(values), 4),
        "min": round(min(values), 4),
        "p05": round(quantile(values, 0.05), 4),
        "p50": round(quantile(values, 0.50), 4),
        "p95": round(quantile(values, 0.95), 4),
        "max": round(max(values), 4),
    }


def account_outcomes(traders: list[Trader], penalties: Counter, partial: Counter) -> dict[str, Any]:
    """What liquidation cost the accounts it touched: the penalty as a share of the equity the
    account started with, and how many of its liquidations were partial."""
    equity = {t.account_id: t.collateral_usd for t in traders}
    touched = sorted(set(penalties) | set(partial))
    shares = [penalties[a] / QUOTE / equity[a] for a in touched if equity.get(a)]
    return {
        "liquidated_accounts": len(touched),
        "penalty_share_of_equity": distribution(shares),
        "partial_liquidations_per_account": distribution([float(partial[a]) for a in touched]),
        "accounts_partially_liquidated": sum(1 for a in touched if partial[a]),
    }


def lp_pnl_split(
    world: World,
    pool0: int,
    income: dict[str, Any],
    income0: dict[str, Any],
    first_block: int,
    socialized: float,
    uncollectible: float,
    withdrawn: int = 0,
) -> dict[str, float]:
    """The LP pool's PnL over the path, split so the parts add up to `total`:
    fees (the pool's share of trade fees), funding and borrow income (settled or owed),
    credit losses realized (bad debt socialized on the pool) and not yet realized (negative
    equity and auction shortfall the pool's books still count as receivable), and trading PnL,
    the rest: the pool's PnL as the traders' counterparty. `total` is the change in pool value
    less the uncollectible receivables, which `totalAssets` still counts; `withdrawn` (quote
    units LPs redeemed during the path) is added back: an exit is not a loss."""
    change = (int(world.read(world.pool, "totalAssets")) + withdrawn - pool0) / QUOTE
    fees = _pool_fees(world, first_block)

    def accrued(key: str) -> float:
        return (income[key] or 0.0) - (income0[key] or 0.0)

    funding = accrued("funding_to_pool_usd")
    borrow = accrued("borrow_interest_to_pool_usd")
    trading = change - fees - funding - borrow + socialized
    return {
        "total": round(change - uncollectible, 2),
        "trading": round(trading, 2),
        "fees": round(fees, 2),
        "funding": round(funding, 2),
        "borrow": round(borrow, 2),
        "credit_losses_realized": round(-socialized, 2),
        "credit_losses_unrealized": round(-uncollectible, 2),
    }


def _pool_fees(world: World, from_block: int) -> float:
    """The pool's share of the trade fees charged since `from_block`."""
    shares = {
        market_id: int(world.read_named(world.admin, "markets", market_id).insuranceFeeShare)
        for market_id in world.market_ids.values()
    }
    kept = sum(
        int(e["fee"]) - int(e["fee"]) * shares[int(e["marketId"])] // WAD
        for e in world.logs(world.engine, "Traded", from_block)
    )
    return kept / QUOTE


def set_up(world: World, scenario: Scenario) -> tuple[list[Trader], list[KeeperAgent]]:
    """The scenario's first prices, its population and its keepers. Every set-up transaction is
    mined when this returns and succeeded, or was a trade the engine refused by name (see
    `population.REFUSALS`); anything else raises `SetupFailed` with the decoded reason."""
    rng = random.Random(scenario.seed)
    prices0 = {key: path.prices[0] for key, path in scenario.paths.items()}
    model = None if scenario.risk_model == STANDARD else approve_portfolio(world)
    world.set_prices(prices0)
    if scenario.lp.usd:
        StressedLP(scenario.lp).set_up(world)  # while the pool is flat: a deposit is instant
    fit = None if model is None else PortfolioFit.from_world(world, prices0)
    traders = open_population(world, scenario.population, prices0, risk_model=model, fit=fit)
    return traders, _hire_keepers(world, scenario, rng)


def _hire_keepers(world: World, scenario: Scenario, rng: random.Random) -> list[KeeperAgent]:
    models = scenario.keepers
    senders = [FIRST_KEEPER_ACCOUNT + i for i in range(len(models))]
    for model, sender in zip(models, senders, strict=True):
        hire_keepers(world, [sender], model.capital_usd, approve=True)
        if model.sells_on_amm:
            world.send_ok(
                [
                    world.tx(sender, token, "approve", world.c("amm").address, 2**256 - 1)
                    for token in world.tokens.values()
                ]
            )
    return [
        KeeperAgent(model, sender, random.Random(rng.random()), exchange=scenario.exchange)
        for model, sender in zip(models, senders, strict=True)
    ]


def _trader_books(
    world: World, ids: list[int], healths: list[Any]
) -> tuple[dict[int, Any], dict[int, int], dict[int, dict[int, int]]]:
    """What reacting traders look at after a block: health, quote balance and open positions."""
    accounts = world.read_many([(world.admin, "accounts", (i,)) for i in ids])
    markets = sorted(world.market_ids.values())
    held = [
        (i, m) for i, a in zip(ids, accounts, strict=True) for m in markets if int(a[2]) >> m & 1
    ]
    sizes = world.read_many([(world.admin, "positions", (i, m)) for i, m in held])
    positions: dict[int, dict[int, int]] = {}
    for (i, m), position in zip(held, sizes, strict=True):
        positions.setdefault(i, {})[m] = int(position[0])
    return (
        dict(zip(ids, healths, strict=True)),
        {i: int(a[-1]) for i, a in zip(ids, accounts, strict=True)},
        positions,
    )


def _sync_txs(world: World, spec: amm.ExchangeSpec, prices: dict[str, float]) -> list[Tx]:
    """The exchange re-centred at the path's prices (the market's, not the oracle's: under a
    lagging oracle the keepers sell at the market) with its depth, first in the block."""
    depth = int(spec.depth_usd * QUOTE)
    return [
        world.tx(OPERATOR, "amm", "sync", token.address, int(prices[key] * WAD), depth, gas=100_000)
        for key, token in world.tokens.items()
    ]


def _last_rounds(world: World) -> dict[str, int]:
    """When each asset's feeds last published (the older of its primary and secondary)."""
    return {
        key: min(int(world.read(feed, "latestRoundData")[_UPDATED_AT]) for feed in feeds)
        for key, feeds in world.feeds.items()
    }


def _poke_txs(world: World) -> list[Tx]:
    return [
        world.tx(OPERATOR, world.oracle, "poke", token.address, gas=200_000)
        for token in world.tokens.values()
    ]


def _negative_equity(world: World, account_count: int) -> float:
    """Sum of negative maintenance equity of accounts still open: losses nobody realized."""
    ids = list(range(1, account_count + 1))
    return _shortfall(world.read(world.admin, "healthOf", ids) if ids else [])


def auction_shortfall(world: World, seen: Observation) -> float:
    """USD by which the debt of each account's running auctions exceeds its lots' value at the
    oracle price: a loss the auctions will write off unless prices recover. A liquidated account
    hands its debt to the auctions, so its negative equity leaves `healthOf` until they end."""
    decimals = {codec.address: world.decimals[key] for key, codec in world.tokens.items()}
    by_account: dict[int, int] = {}
    for a in seen.auctions:
        value = a["lot"] * a["oracle"] // 10 ** (decimals[a["token"]] + 18 - QUOTE_DECIMALS)
        by_account[a["account"]] = by_account.get(a["account"], 0) + a["debt"] - value
    return sum(max(0, gap) for gap in by_account.values()) / QUOTE


def _shortfall(healths: list[Any]) -> float:
    """USD of negative maintenance equity in `healthOf` results."""
    return sum(max(0, -int(h[0])) for h in healths) / WAD


def pool_exposure(world: World) -> float:
    """The pool's net delta in USD at the oracle: minus the traders' net open interest of each
    market times its price (the pool is the counterparty of the traders' skew)."""
    markets = list(world.market_ids.items())
    states = [world.read_named(world.admin, "markets", market_id) for _, market_id in markets]
    prices = world.oracle_prices()
    return -sum(
        (int(m.longOpenInterest) - int(m.shortOpenInterest)) / WAD * prices[key]
        for (key, _), m in zip(markets, states, strict=True)
    )
