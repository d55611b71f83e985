"""Crash replays: the same trader population through each real crash window under reactive margin
(the on-chain EWMA alone) and predictive margin (the risk keeper's GARCH forecast pushed through
the real RiskSteward every simulated hour, so the margin follows max(on-chain, forecast)).

Method (docs/predictive-margin.md, "Crash replays"):
- path: each window of history.REAL_SCENARIOS with a lead-in of `lead_hours` of hourly closes
  before it (the forecast and the margin ramp need time to act before the fall), resampled to
  `step_seconds` and rescaled to start at $2,000 / $60,000 (every return is the real one);
- one deployment per window: the on-chain estimator of both assets is seeded with the value the
  deployed EWMA would hold at the replay's start from the hourly history since 2017
  (models.onchain_ewma, exact on integers), then the population opens; the chain is snapshotted,
  each mode runs from the snapshot with the same keepers (same random draws);
- predictive: at the first block and every hour after it the risk keeper's model (GARCH(1,1)-t on
  the trailing two years of hourly returns, refit once a day) forecasts from the hourly history
  ending at the replay's real time (nothing after it), and the keeper's rule (decide_push) sends
  what the steward accepts, in the block, before the volatility pokes;
- "before the crash": the block at the running peak from which the largest drawdown inside the
  crash window (the lead-in excluded) of its deeper-falling asset starts: the last block before
  the fall to the low; the margin read after it is what the book held as the fall began.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.fastpath import Tx
from solvent.forecast import models
from solvent.forecast.risk_keeper import decide_push, forecast_sigmas
from solvent.forecast.steward_rule import LivePush, StewardBounds
from solvent.harness.population import PopulationSpec
from solvent.harness.world import OPERATOR, World, world_from_protocol
from solvent.price_history import HOURLY_FILES, hourly, iso
from solvent.sim import history, scenarios
from solvent.sim.campaign import CONFIG, CampaignOptions
from solvent.sim.paths import PricePath
from solvent.sim.run import Scenario, SimResult, run_path, set_up

WAD = 10**18
HOUR = 3_600
REACTIVE, PREDICTIVE = "reactive", "predictive"
MODES = (REACTIVE, PREDICTIVE)
WINDOWS = tuple(history.REAL_SCENARIOS)
START_PRICES = {"WETH": scenarios.ETH0, "WBTC": scenarios.BTC0}
PUSH_GAS = 300_000


@dataclass(frozen=True)
class ReplayOptions:
    accounts: int = 100
    seed: int = 2020
    step_seconds: int = 600
    lead_hours: int = 24
    campaign: CampaignOptions = field(default_factory=CampaignOptions)

    def __post_init__(self) -> None:
        if HOUR % self.step_seconds:
            raise ValueError("the step must divide an hour (one push an hour lands on a block)")


@dataclass(frozen=True)
class ReplayPath:
    name: str
    real_start: int  # real UTC time of the first price (the lead-in's start)
    paths: dict[str, PricePath]
    inputs: dict[str, Any]

    def real_time(self, step: int, step_seconds: int) -> int:
        return self.real_start + step * step_seconds


def replay_path(name: str, step_seconds: int, lead_hours: int) -> ReplayPath:
    """The window's real prices after `lead_hours` of hourly closes, rescaled to START_PRICES."""
    window_set = history.REAL_SCENARIOS[name]
    paths, assets = {}, {}
    real_start = 0
    for key, window in window_set.windows.items():
        real_start = window.start - lead_hours * HOUR
        lead = history.Window(HOURLY_FILES[key], real_start, window.start)
        closes = [c for _, c in lead.sample(step_seconds)][:-1]  # the window's first is its own
        closes += [c for _, c in window.sample(step_seconds)]
        paths[key] = PricePath(name, step_seconds, history.rescale(closes, START_PRICES[key]))
        assets[key] = {
            **window.inputs(step_seconds),
            "lead_in": {"file": HOURLY_FILES[key], "hours": lead_hours},
            "start_price": START_PRICES[key],
        }
    inputs = {
        "path": "historical",
        "description": window_set.description,
        "replay_utc": [iso(real_start), iso(window.end)],
        "step_seconds": step_seconds,
        "assets": assets,
    }
    return ReplayPath(name, real_start, paths, inputs)


def largest_drawdown(prices: tuple[float, ...]) -> tuple[int, int, float]:
    """(peak step, trough step, depth) of the largest fall from a running peak."""
    p = np.asarray(prices)
    running = np.maximum.accumulate(p)
    depth = 1 - p / running
    trough = int(np.argmax(depth))
    peak = int(np.argmax(p[: trough + 1]))
    return peak, trough, float(depth[trough])


def crash_point(paths: dict[str, PricePath], first_step: int) -> dict[str, Any]:
    """Where "before the crash" is: the running peak from which the largest drawdown inside the
    crash window (from `first_step`, after the lead-in) of the deeper-falling asset starts."""
    falls = {key: largest_drawdown(path.prices[first_step:]) for key, path in paths.items()}
    asset = max(falls, key=lambda k: falls[k][2])
    peak, trough, depth = falls[asset]
    return {
        "asset": asset,
        "peak_step": first_step + peak,
        "trough_step": first_step + trough,
        "drawdown": round(depth, 4),
    }


def push_steps(steps: int, step_seconds: int) -> list[int]:
    """The blocks the risk keeper acts in: the first one and every hour after it."""
    return [k for k in range(1, steps) if (k - 1) * step_seconds % HOUR == 0]


def forecasts_for(replay: ReplayPath, steps: list[int], step_seconds: int) -> dict[int, dict]:
    """step -> asset -> the keeper's forecast (annualized sigma) from the hourly history up to the
    whole hour before the step's block (real time of block k-1): only data before the push."""
    out: dict[int, dict[str, float]] = {k: {} for k in steps}
    origins = [replay.real_time(k - 1, step_seconds) for k in steps]
    for key in replay.paths:
        times, returns = hourly(key).hourly_log_returns()
        for k, sigma in zip(steps, forecast_sigmas(times, returns, origins), strict=True):
            out[k][key] = sigma
    return out


def onchain_seed(key: str, real_time: int) -> float:
    """The margin sigma the deployed EWMA would hold at `real_time`, fed every hourly close since
    2017 as a poke (the backtest's `onchain_ewma`)."""
    spec = configs.load(CONFIG).asset(key)
    return float(models.onchain_ewma(spec, hourly(key), np.array([real_time])).sigma_annual[0])


@dataclass
class SimRiskKeeper:
    """The risk keeper inside a simulation: at each push step, per asset, reads the steward and the
    oracle after the previous block and sends what `decide_push` says, mined at the block's time."""

    world: World
    forecasts: dict[int, dict[str, float]]
    decisions: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, step: int, now: int) -> list[Tx]:
        if step not in self.forecasts:
            return []
        w = self.world
        txs = []
        disabled = bool(w.read(w.c("steward"), "disabled"))
        for key, sigma in self.forecasts[step].items():
            token = w.tokens[key].address
            b = w.read_named(w.c("steward"), "bounds", token)
            p = w.read_named(w.c("steward"), "pushed", token)
            onchain = int(w.read(w.oracle, "volatility", token)[0])
            bounds = StewardBounds(b.floor, b.ceiling, b.maxChangeBps, b.minDelay, b.ttl)
            last = LivePush(p.sigma, p.at, p.expiry)
            outcome: str = "disabled"
            allowed: int | None = None
            if not disabled:  # the block's timestamp is `now`: the push is checked at it
                outcome, allowed = decide_push(int(sigma * WAD), bounds, last, onchain, now, now)
            self.decisions.append(
                {
                    "step": step,
                    "asset": key,
                    "forecast": round(sigma, 6),
                    "onchain": onchain / WAD,
                    "outcome": outcome,
                    "pushed": None if allowed is None else allowed / WAD,
                    "pushed_wad": allowed,
                }
            )
            if allowed is not None:
                txs.append(
                    w.tx(OPERATOR, w.c("steward"), "pushForecast", token, allowed, gas=PUSH_GAS)
                )
        return txs


@dataclass
class ModeRun:
    mode: str
    result: SimResult
    decisions: list[dict[str, Any]]
    onchain: dict[str, Any]  # read back from the chain at the end of the run


@dataclass
class WindowReplay:
    name: str
    replay: ReplayPath
    crash: dict[str, Any]
    seeds: dict[str, float]
    runs: dict[str, ModeRun]
    step_seconds: int


def replay_window(
    project: Any,
    networks: Any,
    name: str,
    options: ReplayOptions,
    progress: Callable[[str, int, int], None] | None = None,
) -> WindowReplay:
    """Both modes of one window on one deployment, each from the same snapshot."""
    step = options.step_seconds
    replay = replay_path(name, step, options.lead_hours)
    keepers = options.campaign.keeper_models()
    scenario = Scenario(
        name=f"crash_{name}",
        paths=replay.paths,
        population=PopulationSpec(accounts=options.accounts, seed=options.seed),
        keepers=keepers,
        seed=options.seed,
        inputs=replay.inputs,
    )
    steps = push_steps(scenario.steps, step)
    forecasts = forecasts_for(replay, steps, step)
    seeds = {key: onchain_seed(key, replay.real_start) for key in replay.paths}
    runs: dict[str, ModeRun] = {}
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        protocol = deploy(project, chain, configs.load(CONFIG), accounts.test_accounts[0])
        world = world_from_protocol(project, chain, protocol, accounts=10 + len(keepers))
        # a governance act: through the timelock, as the deployment makes every parameter change
        world.govern(
            [
                (world.oracle, "seedVolatility", (world.tokens[k].address, int(sigma * WAD)))
                for k, sigma in seeds.items()
            ]
        )
        traders, agents = set_up(world, scenario)
        snapshot = world.rpc.call("evm_snapshot")
        for i, mode in enumerate(MODES):
            if i:
                world.rpc.call("evm_revert", snapshot)
                world.sender.resync_nonces()
                snapshot = world.rpc.call("evm_snapshot")
            first_block = world.block()[0] + 1
            keeper = SimRiskKeeper(world, forecasts) if mode == PREDICTIVE else None

            def report(done: int, total: int, mode: str = mode) -> None:
                if progress:
                    progress(mode, done, total)

            result = run_path(
                world, scenario, traders, copy.deepcopy(agents), report, before_pokes=keeper
            )
            runs[mode] = ModeRun(
                mode, result, keeper.decisions if keeper else [], read_back(world, first_block)
            )
    crash = crash_point(replay.paths, options.lead_hours * HOUR // step)
    return WindowReplay(name, replay, crash, seeds, runs, step)


def read_back(world: World, first_block: int) -> dict[str, Any]:
    """What the chain itself says about the run: every accepted forecast (the steward's events,
    with each asset's bounds) and every liquidation."""
    address_key = {t.address.lower(): k for k, t in world.tokens.items()}
    bounds = {}
    for key, token in world.tokens.items():
        b = world.read_named(world.c("steward"), "bounds", token.address)
        bounds[key] = {
            "floor": int(b.floor),
            "ceiling": int(b.ceiling),
            "max_change_bps": int(b.maxChangeBps),
            "min_delay": int(b.minDelay),
            "ttl": int(b.ttl),
        }
    pushes = [
        {
            "asset": address_key[str(e["asset"]).lower()],
            "sigma": int(e["sigmaWad"]),
            "expiry": int(e["expiry"]),
            "reference": int(e["referenceSigma"]),
        }
        for e in world.logs(world.c("steward"), "ForecastPushed", first_block)
    ]
    liquidations = world.logs(world.engine, "Liquidated", first_block)
    return {
        "bounds": bounds,
        "pushes": pushes,
        "liquidations": len(liquidations),
        "liquidated_notional_wad": sum(int(e["closedNotional"]) for e in liquidations),
        "liquidated_accounts": len({int(e["accountId"]) for e in liquidations}),
    }


def mode_figures(window: WindowReplay, run: ModeRun) -> dict[str, Any]:
    """The row of one mode: bad debt, liquidations, the margin held before the crash, pushes."""
    s, series = run.result.summary, run.result.series
    spec = {key: configs.load(CONFIG).asset(key) for key in window.replay.paths}
    before = max(1, window.crash["peak_step"])
    i = series["block"].index(before)
    sigma = {key: series[f"margin_sigma_{key}"][i] for key in window.replay.paths}
    per_hour = HOUR // window.step_seconds
    hourly = [j for j, step in enumerate(series["block"]) if (step - 1) % per_hour == 0]
    outcomes = Counter(d["outcome"] for d in run.decisions)
    return {
        "bad_debt_usd": round(s["bad_debt_usd"], 2),
        "bad_debt_peak_usd": round(s["bad_debt_peak_usd"], 2),
        "liquidations": s["liquidations"],
        "liquidated_notional_usd": round(s["liquidated_notional_usd"], 2),
        "liquidated_accounts": s["liquidated_accounts"],
        "before_crash": {
            "step": before,
            "hours": round(before * window.step_seconds / HOUR, 2),
            "margin_sigma": {k: round(v, 4) for k, v in sigma.items()},
            "initial_margin_ratio": {
                k: round(models.engine_margin(spec[k], v), 4) for k, v in sigma.items()
            },
            "maintenance_requirement_usd": round(series["maintenance_requirement"][i], 2),
        },
        "insurance_drawdown_usd": round(s["insurance_drawdown_usd"], 2),
        "pushes_accepted": len(run.onchain["pushes"]),
        "push_decisions": dict(sorted(outcomes.items())),
        "hourly_margin_sigma": {
            k: [round(series[f"margin_sigma_{k}"][j], 6) for j in hourly]
            for k in window.replay.paths
        },
    }


def window_summary(window: WindowReplay) -> dict[str, Any]:
    return {
        "window": window.name,
        "inputs": window.replay.inputs,
        "crash": {
            **window.crash,
            "peak_utc": iso(
                window.replay.real_time(window.crash["peak_step"], window.step_seconds)
            ),
            "trough_utc": iso(
                window.replay.real_time(window.crash["trough_step"], window.step_seconds)
            ),
        },
        "onchain_seed_sigma": {k: round(v, 4) for k, v in window.seeds.items()},
        "accounts": window.runs[REACTIVE].result.summary["accounts"],
        "accounts_with_positions": window.runs[REACTIVE].result.summary["accounts_with_positions"],
        "modes": {mode: mode_figures(window, run) for mode, run in window.runs.items()},
        "forecasts": [d for d in window.runs[PREDICTIVE].decisions],
        "onchain": {mode: run.onchain for mode, run in window.runs.items()},
    }


TABLE_HEADER = (
    "| window | crash (UTC, peak → low) | drawdown | mode | bad debt | peak bad debt "
    "| liquidations | liquidated notional | accounts liquidated | margin sigma ETH / BTC before "
    "| IMR ETH / BTC before | maintenance margin held before | pushes |\n"
    "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
)


def markdown_table(summaries: list[dict[str, Any]]) -> str:
    """One row per window and mode; every figure is the summary's own."""
    lines = [TABLE_HEADER.rstrip("\n")]
    for w in summaries:
        crash = w["crash"]
        span = f"{crash['peak_utc']} → {crash['trough_utc'][5:]}"
        for mode, f in w["modes"].items():
            b = f["before_crash"]
            imr = b["initial_margin_ratio"]
            lines.append(
                f"| {w['window']} | {span} | {crash['asset']} -{crash['drawdown']:.1%} | {mode} "
                f"| ${f['bad_debt_usd']:,.0f} | ${f['bad_debt_peak_usd']:,.0f} "
                f"| {f['liquidations']} | ${f['liquidated_notional_usd']:,.0f} "
                f"| {f['liquidated_accounts']} "
                f"| {b['margin_sigma']['WETH']:.2f} / {b['margin_sigma']['WBTC']:.2f} "
                f"| {imr['WETH']:.1%} / {imr['WBTC']:.1%} "
                f"| ${b['maintenance_requirement_usd']:,.0f} | {f['pushes_accepted']} |"
            )
    return "\n".join(lines) + "\n"


def margin_lift(window: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per asset, from a window's summary: how the predictive margin sigma compared with the
    reactive one hour by hour (over the hours both runs lasted), and when it was furthest above."""
    step = window["inputs"]["step_seconds"]
    reactive = window["modes"][REACTIVE]["hourly_margin_sigma"]
    predictive = window["modes"][PREDICTIVE]["hourly_margin_sigma"]
    out = {}
    for key in reactive:
        n = min(len(reactive[key]), len(predictive[key]))
        lift = [predictive[key][i] - reactive[key][i] for i in range(n)]
        top = max(range(n), key=lambda i: lift[i])
        out[key] = {
            "hours": n,
            "hours_above": sum(1 for x in lift if x > 0),
            "mean_reactive": round(sum(reactive[key][:n]) / n, 4),
            "mean_predictive": round(sum(predictive[key][:n]) / n, 4),
            "max_lift": round(lift[top], 4),
            # hourly sample i is read after block 1 + i hours: hours since the replay's start
            "max_lift_hour": round(top + step / HOUR, 2),
        }
    return out


def lift_table(summaries: list[dict[str, Any]]) -> str:
    """Per window and asset: the margin sigma under each mode, hour by hour, and where the
    forecast lifted it most, against the hours of the crash (peak and low)."""
    lines = [
        "| window | asset | hours | hours predictive > reactive | mean sigma reactive "
        "| mean sigma predictive | largest lift | at hour | crash peak → low (hour) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for w in summaries:
        step = w["inputs"]["step_seconds"]
        peak = w["crash"]["peak_step"] * step / HOUR
        low = w["crash"]["trough_step"] * step / HOUR
        for key, f in margin_lift(w).items():
            lines.append(
                f"| {w['window']} | {key} | {f['hours']} | {f['hours_above']} "
                f"| {f['mean_reactive']:.2f} | {f['mean_predictive']:.2f} | +{f['max_lift']:.2f} "
                f"| {f['max_lift_hour']:.1f} | {peak:.1f} → {low:.1f} |"
            )
    return "\n".join(lines) + "\n"


def write_report(
    summaries: list[dict[str, Any]], options: ReplayOptions, folder: Path
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "options": {
            "accounts": options.accounts,
            "seed": options.seed,
            "step_seconds": options.step_seconds,
            "lead_hours": options.lead_hours,
            "keepers": [k.__dict__ for k in options.campaign.keeper_models()],
        },
        "windows": summaries,
    }
    paths = [folder / "summary.json", folder / "table.md"]
    paths[0].write_text(json.dumps(doc, indent=2) + "\n")
    paths[1].write_text(markdown_table(summaries) + "\n" + lift_table(summaries))
    return paths
