"""The simulator's named scenarios: price paths, a trader population and keepers."""

from __future__ import annotations

from collections.abc import Callable

from solvent.harness.population import PopulationSpec
from solvent.sim.keepers import KeeperModel
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


ScenarioFactory = Callable[[int, int, tuple[KeeperModel, ...], int], Scenario]

SCENARIOS: dict[str, ScenarioFactory] = {
    "march_2020": _march,
    "gap_30": lambda seed, n, k, step: _gap(0.30, seed, n, k, step),
    "gap_50": lambda seed, n, k, step: _gap(0.50, seed, n, k, step),
    "gbm_jumps": _gbm,
}


def build(
    name: str,
    seed: int,
    accounts: int,
    keepers: tuple[KeeperModel, ...],
    step_seconds: int = STEP_SECONDS,
) -> Scenario:
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}: choose from {', '.join(SCENARIOS)}")
    scenario = SCENARIOS[name](seed, accounts, keepers, step_seconds)
    if not keepers:
        return Scenario(
            f"{scenario.name}_no_keepers", scenario.paths, scenario.population, (), seed
        )
    return scenario
