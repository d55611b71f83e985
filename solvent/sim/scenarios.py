"""The simulator's named scenarios: price paths, a trader population and keepers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from solvent.harness.population import PopulationSpec
from solvent.sim import calibration, history
from solvent.sim.keepers import KeeperModel
from solvent.sim.oracle_model import OracleModel
from solvent.sim.paths import gap, gbm_with_jumps, march_2020
from solvent.sim.run import Scenario

ETH0, BTC0 = 2_000.0, 60_000.0
# Every simulated chain starts at this time (2020-03-12 00:00 UTC) and advances only as the run
# says, so a seed reproduces a run whatever the machine's load.
GENESIS_TIMESTAMP = 1_583_971_200
STEP_SECONDS = 300  # one block of the simulation
PROMPT_KEEPERS = (KeeperModel(latency_blocks=1), KeeperModel(latency_blocks=1, failure_rate=0.2))


def _march(
    seed: int, accounts: int, keepers: tuple[KeeperModel, ...], step: int = STEP_SECONDS
) -> Scenario:
    return Scenario(
        name="march_2020",
        paths={
            "WETH": march_2020(ETH0, step, seed),
            "WBTC": march_2020(BTC0, step, seed + 1, noise=0.003),
        },
        population=PopulationSpec(accounts=accounts, seed=seed),
        keepers=keepers,
        seed=seed,
    )


def _gap(
    drop: float,
    seed: int,
    accounts: int,
    keepers: tuple[KeeperModel, ...],
    step: int = STEP_SECONDS,
) -> Scenario:
    return Scenario(
        name=f"gap_{round(drop * 100)}",
        paths={
            "WETH": gap(ETH0, drop, 3, 60, step),
            "WBTC": gap(BTC0, drop, 3, 60, step),
        },
        population=PopulationSpec(accounts=accounts, seed=seed),
        keepers=keepers,
        seed=seed,
    )


def _gbm(
    seed: int, accounts: int, keepers: tuple[KeeperModel, ...], step: int = STEP_SECONDS
) -> Scenario:
    steps = 86_400 // step  # one day
    return Scenario(
        name="gbm_jumps",
        paths={
            "WETH": gbm_with_jumps(ETH0, steps, step, 1.2, seed, jumps_per_day=4),
            "WBTC": gbm_with_jumps(BTC0, steps, step, 0.9, seed + 1, jumps_per_day=3),
        },
        population=PopulationSpec(accounts=accounts, seed=seed),
        keepers=keepers,
        seed=seed,
    )


def _real(name: str) -> ScenarioFactory:
    """A historical window (history.REAL_SCENARIOS), rescaled to start at ETH0 / BTC0."""

    def factory(
        seed: int, accounts: int, keepers: tuple[KeeperModel, ...], step: int = STEP_SECONDS
    ) -> Scenario:
        paths, inputs = history.real_paths(name, {"WETH": ETH0, "WBTC": BTC0}, step)
        return Scenario(
            name=name,
            paths=paths,
            population=PopulationSpec(accounts=accounts, seed=seed),
            keepers=keepers,
            seed=seed,
            inputs=inputs,
        )

    return factory


def _calibrated(name: str, model: str, generate: Callable[..., dict]) -> ScenarioFactory:
    """One day from a model fitted to the hourly history (calibration.py), seeded by `seed`."""

    def factory(
        seed: int, accounts: int, keepers: tuple[KeeperModel, ...], step: int = STEP_SECONDS
    ) -> Scenario:
        fitted = calibration.load_calibration()
        paths = generate({"WETH": ETH0, "WBTC": BTC0}, 86_400 // step, step, seed, fitted)
        inputs = {
            "path": "generated",
            "model": model,
            "seed": seed,
            "fitted_to": fitted["source"],
            "fitted_span_utc": fitted["span_utc"],
            "parameters": fitted[model],
            "start_prices": {"WETH": ETH0, "WBTC": BTC0},
        }
        return Scenario(
            name=name,
            paths=paths,
            population=PopulationSpec(accounts=accounts, seed=seed),
            keepers=keepers,
            seed=seed,
            inputs=inputs,
        )

    return factory


ScenarioFactory = Callable[[int, int, tuple[KeeperModel, ...], int], Scenario]

SCENARIOS: dict[str, ScenarioFactory] = {
    "march_2020": _march,
    "gap_30": lambda seed, n, k, step: _gap(0.30, seed, n, k, step),
    "gap_50": lambda seed, n, k, step: _gap(0.50, seed, n, k, step),
    "gbm_jumps": _gbm,
    **{name: _real(name) for name in history.REAL_SCENARIOS},
    "gbm_jumps_calibrated": _calibrated(
        "gbm_jumps_calibrated", "gbm_jumps", calibration.gbm_jumps_calibrated
    ),
    "garch_eth_btc": _calibrated("garch_eth_btc", "garch_t", calibration.garch_paths),
}
# A scenario name may carry an oracle model after a "+": `march_2020+deviation`,
# `real_ftx_2022+deviation_lag60`, `gap_50+cadence` (oracle_model.OracleModel.label).
ORACLE_SEPARATOR = "+"
NO_KEEPERS_SUFFIX = "_no_keepers"


def with_oracle(name: str, oracle: OracleModel) -> str:
    """`name` with the oracle model in it (before `_no_keepers`); unchanged for the default."""
    if oracle.is_default:
        return name
    base = name.removesuffix(NO_KEEPERS_SUFFIX)
    return f"{base}{ORACLE_SEPARATOR}{oracle.label}{name[len(base) :]}"


def build(
    name: str,
    seed: int,
    accounts: int,
    keepers: tuple[KeeperModel, ...],
    step_seconds: int = STEP_SECONDS,
    oracle: OracleModel | None = None,
) -> Scenario:
    """The named scenario; `oracle` (or a `+label` in the name) chooses when feeds publish."""
    base, _, label = name.partition(ORACLE_SEPARATOR)
    if base not in SCENARIOS:
        raise KeyError(f"unknown scenario {base!r}: choose from {', '.join(SCENARIOS)}")
    if oracle is None:
        oracle = OracleModel.parse(label) if label else OracleModel()
    scenario = SCENARIOS[base](seed, accounts, keepers, step_seconds)
    scenario = dataclasses.replace(scenario, name=with_oracle(scenario.name, oracle), oracle=oracle)
    if not keepers:
        return dataclasses.replace(scenario, name=f"{scenario.name}{NO_KEEPERS_SUFFIX}", keepers=())
    return scenario
