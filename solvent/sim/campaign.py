"""Run named scenarios, each on a fresh Anvil of its own, and write their reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.harness.world import world_from_protocol
from solvent.report import Report, Series
from solvent.sim import scenarios
from solvent.sim.keepers import KeeperModel
from solvent.sim.run import SimResult, run

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

    def keeper_models(self) -> tuple[KeeperModel, ...]:
        model = KeeperModel(self.latency_blocks, self.failure_rate, self.gas_budget_per_block)
        return (model,) * self.keepers


def run_scenario(
    project: Any,
    networks: Any,
    name: str,
    options: CampaignOptions,
    progress: Callable[[int, int], None] | None = None,
) -> SimResult:
    keepers = () if name.endswith(NO_KEEPERS_SUFFIX) else options.keeper_models()
    base = name.removesuffix(NO_KEEPERS_SUFFIX)
    scenario = scenarios.build(base, options.seed, options.accounts, keepers, options.step_seconds)
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        protocol = deploy(project, chain, configs.load("local"), accounts.test_accounts[0])
        world = world_from_protocol(project, chain, protocol, accounts=10 + len(keepers))
        return run(world, scenario, progress)


def write(result: SimResult, folder: Path) -> list[Path]:
    s = result.series
    blocks = s["block"]
    prices = [
        Series(k.removeprefix("price_"), blocks, v) for k, v in s.items() if k.startswith("price_")
    ]
    report = Report(
        title=result.summary["scenario"],
        summary=result.summary,
        time_plots={
            "price": prices,
            "insurance_fund": [Series("insurance fund (USD)", blocks, s["fund"])],
            "lp_pool": [Series("LP pool assets (USD)", blocks, s["pool"])],
            "liquidatable_accounts": [Series("liquidatable accounts", blocks, s["liquidatable"])],
            "bad_debt": [
                Series("bad debt: written off + negative equity (USD)", blocks, s["bad_debt"])
            ],
        },
    )
    return report.write(folder)


def write_index(summaries: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summaries, indent=2) + "\n")
