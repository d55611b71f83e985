"""Run named scenarios, each on a fresh Anvil of its own, and write their reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy, jsonable
from solvent.harness.world import world_from_protocol
from solvent.report import Report, Series
from solvent.sim import amm, scenarios
from solvent.sim.keepers import DEFAULT_CAPITAL_USD, KeeperModel
from solvent.sim.lps import StressLP
from solvent.sim.risk_models import STANDARD
from solvent.sim.run import Scenario, SimResult, run
from solvent.sim.traders import TraderBehaviour

CONFIG = "local"  # the protocol's parameters: config/local.yaml
DEFAULT_SET = ("march_2020", "march_2020_no_keepers", "gap_30", "gap_50", "gbm_jumps")
NO_KEEPERS_SUFFIX = "_no_keepers"


@dataclass(frozen=True)
class CampaignOptions:
    accounts: int = 300
    seed: int = 2020
    keepers: int = 2
    latency_blocks: int = 1
    failure_rate: float = 0.1
    gas_budget_per_block: int = 30_000_000
    step_seconds: int = scenarios.STEP_SECONDS
    keeper_capital_usd: float = DEFAULT_CAPITAL_USD
    # > 0: keepers sell what they take on a constant-product exchange this deep (USD a side) and
    # take only what sells at a profit; 0: they keep it (no exchange, no slippage)
    exchange_depth_usd: float = 0.0
    # keeper i bids (keepers - i) · bid_step_gwei of priority fee: the first keeper lands first
    bid_step_gwei: float = 0.0
    # shares of traders who top up when near liquidation / take profits (solvent/sim/traders.py)
    top_up_share: float = 0.0
    take_profit_share: float = 0.0
    reduce_share: float = 0.0
    # an LP of this size who redeems everything once a market is this far down (sim/lps.py)
    stress_lp_usd: float = 0.0
    stress_lp_drawdown: float = 0.10
    # the traders' risk model (risk_models.py) and the share of basis trades in the population
    risk_model: str = STANDARD
    hedged_share: float = 0.0

    def keeper_models(self) -> tuple[KeeperModel, ...]:
        return tuple(
            KeeperModel(
                self.latency_blocks,
                self.failure_rate,
                self.gas_budget_per_block,
                capital_usd=self.keeper_capital_usd,
                sells_on_amm=self.exchange_depth_usd > 0,
                priority_fee_gwei=(self.keepers - i) * self.bid_step_gwei,
            )
            for i in range(self.keepers)
        )

    def exchange(self) -> amm.ExchangeSpec:
        return amm.ExchangeSpec(depth_usd=self.exchange_depth_usd or amm.ExchangeSpec.depth_usd)


def run_scenario(
    project: Any,
    networks: Any,
    name: str,
    options: CampaignOptions,
    progress: Callable[[int, int], None] | None = None,
) -> SimResult:
    keepers = () if name.endswith(NO_KEEPERS_SUFFIX) else options.keeper_models()
    base = name.removesuffix(NO_KEEPERS_SUFFIX)
    built = scenarios.build(base, options.seed, options.accounts, keepers, options.step_seconds)
    scenario = replace(
        built,
        population=replace(built.population, hedged_share=options.hedged_share),
        risk_model=options.risk_model,
        exchange=options.exchange(),
        traders=TraderBehaviour(
            top_up_share=options.top_up_share,
            take_profit_share=options.take_profit_share,
            reduce_share=options.reduce_share,
        ),
        lp=StressLP(options.stress_lp_usd, options.stress_lp_drawdown),
    )
    config = configs.load(CONFIG)
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        operator = accounts.test_accounts[0]
        protocol = deploy(project, chain, config, operator)
        extra = {}
        if scenario.uses_exchange:
            extra["amm"] = deploy_exchange(project, operator, protocol, scenario.exchange).address
        world = world_from_protocol(project, chain, protocol, extra, accounts=10 + len(keepers))
        result = run(world, scenario, progress)
    result.summary["inputs"] = inputs(scenario, result, config)
    return result


def deploy_exchange(project: Any, operator: Any, protocol: Any, spec: amm.ExchangeSpec) -> Any:
    """The simulator's exchange (MockAmm), holding enough quote for every sale of the run: ten
    times each pool's depth (a pool pays out at most its quote reserve per block)."""
    exchange = operator.deploy(project.MockAmm, protocol.quote, spec.fee_bps)
    pools = len(protocol.tokens)
    funding = int(spec.depth_usd * 10 ** protocol.quote.decimals()) * 10 * pools
    protocol.quote.mint(exchange, funding, sender=operator)
    return exchange


def inputs(scenario: Scenario, result: SimResult, config: Any) -> dict[str, Any]:
    """What the run was given, recorded with its results: each path, the population and its book
    when the path started, the keepers and the protocol's parameters."""
    paths = {
        key: {
            "path": path.name,
            "steps": path.steps,
            "step_seconds": path.step_seconds,
            "start": round(path.prices[0], 2),
            "low": round(min(path.prices), 2),
            "end": round(path.prices[-1], 2),
            "max_drawdown": round(path.max_drawdown(), 4),
        }
        for key, path in scenario.paths.items()
    }
    starts = {key: path.prices[0] for key, path in scenario.paths.items()}
    long_usd = {key: 0.0 for key in starts}
    short_usd = {key: 0.0 for key in starts}
    for trader in result.traders:
        for market, size in trader.positions.items():
            side = long_usd if size > 0 else short_usd
            side[market] += abs(size) * starts[market]
    book = {
        "accounts": len(result.traders),
        "collateral_usd": round(sum(t.collateral_usd for t in result.traders), 2),
        "long_notional_usd": {k: round(v, 2) for k, v in long_usd.items()},
        "short_notional_usd": {k: round(v, 2) for k, v in short_usd.items()},
    }
    return {
        "paths": paths,
        "population": asdict(scenario.population),
        "book": book,
        "keepers": [asdict(k) for k in scenario.keepers],
        "config": CONFIG,
        "parameters": jsonable(config),
    }


def write(result: SimResult, folder: Path) -> list[Path]:
    """summary.json, the plots and index.html of one run (docs/simulator.md, "Reports")."""
    s, summary = result.series, result.summary
    hours = s["hours"]
    pool0 = s["pool"][0] if s["pool"] else 0.0
    books = [p - pool0 for p in s["pool"]]
    unrealized = [b - w for b, w in zip(s["bad_debt"], s["written_off"], strict=True)]
    collectible = [b - u for b, u in zip(books, unrealized, strict=True)]
    report = Report(
        title=summary["scenario"],
        summary=summary,
        x_label="hours",
        panels={
            "prices": [
                Series(f"{k.removeprefix('price_')} (USD)", hours, v)
                for k, v in s.items()
                if k.startswith("price_")
            ],
            "lp_pnl": [
                Series("LP PnL, books (USD)", hours, books),
                Series("LP PnL, collectible (USD)", hours, collectible),
                Series("pool net exposure (USD)", hours, s["pool_exposure"]),
            ],
        },
        time_plots={
            "insurance_fund": [Series("insurance fund (USD)", hours, s["fund"])],
            "liquidatable_accounts": [Series("liquidatable accounts", hours, s["liquidatable"])],
            "bad_debt": [
                Series("bad debt: written off + uncollectible (USD)", hours, s["bad_debt"]),
                Series("socialized on the pool (USD)", hours, s["credit_losses_realized"]),
            ],
            # every market's traders' profit over the pool's value without it (series
            # `adl_factor_pool`); ADL is due above the trigger
            "adl_factor": [
                Series(f"ADL factor {k.removeprefix('adl_factor_')}", hours, v)
                for k, v in s.items()
                if k.startswith("adl_factor_")
            ],
        },
        zero_based=frozenset({"insurance_fund", "liquidatable_accounts", "bad_debt", "adl_factor"}),
        histograms={"clearing_price_vs_oracle": result.clearing} if result.clearing else {},
        tables=tables(summary),
    )
    return report.write(folder)


def tables(summary: dict[str, Any]) -> dict[str, list[tuple[str, Any]]]:
    """The HTML page's tables: inputs, headline, LP PnL decomposition, distributions."""
    inputs = summary.get("inputs", {})
    rows_in: list[tuple[str, Any]] = [
        ("seed", summary["seed"]),
        ("accounts", summary["accounts"]),
        ("config", inputs.get("config")),
        ("keepers", summary["keepers"]),
    ]
    for key, path in inputs.get("paths", {}).items():
        rows_in.append((f"path {key}", path))
    if summary.get("path_inputs"):
        rows_in.append(("path source", summary["path_inputs"]))
    if summary.get("oracle"):
        rows_in.append(("oracle", summary["oracle"]))
    if "book" in inputs:
        rows_in.append(("book at the start", inputs["book"]))
    if "risk_model" in summary:
        rows_in.append(("risk model", summary["risk_model"]))
        margin = summary["book_margin"]
        rows_in.append(
            ("initial requirement at the start (USD)", margin["initial_requirement_usd"])
        )
        for kind, book in margin["books"].items():
            rows_in.append((f"{kind} books", book))
    headline = [
        ("bad debt, final (USD)", summary["bad_debt_usd"]),
        ("bad debt, peak (USD)", summary["bad_debt_peak_usd"]),
        ("covered by insurance (USD)", summary["covered_by_insurance_usd"]),
        ("socialized on LPs (USD)", summary["socialized_usd"]),
        ("insurance drawdown (USD)", summary["insurance_drawdown_usd"]),
        ("liquidations (events)", summary["liquidations"]),
        ("liquidated accounts", summary["liquidated_accounts"]),
        ("auctions taken", summary["auctions_taken"]),
        ("breach to liquidation, mean blocks", summary["breach_to_liquidation_blocks_mean"]),
        ("breach to liquidation, max blocks", summary["breach_to_liquidation_blocks_max"]),
        ("breach episodes", summary["breach_episodes"]),
    ]
    split = [(f"LP PnL: {k.replace('_', ' ')} (USD)", v) for k, v in summary["lp_pnl_usd"].items()]
    keepers = [
        (f"keeper {k['sender']}", {key: v for key, v in k.items() if key != "sender"})
        for k in summary.get("keeper_outcomes", [])
    ]
    outcomes = summary["account_outcomes"]
    distributions = [
        ("clearing price / oracle", summary["clearing_price_distribution"]),
        ("penalty / starting equity", outcomes["penalty_share_of_equity"]),
        ("partial liquidations per account", outcomes["partial_liquidations_per_account"]),
    ]
    return {
        "Inputs": rows_in,
        "Headline": headline,
        "LP PnL decomposition": split,
        "Keepers": keepers,
        "Distributions": distributions,
    }


def write_index(summaries: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summaries, indent=2) + "\n")
