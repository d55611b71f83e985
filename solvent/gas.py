"""Deterministic gas snapshot: tests record the gas of named operations, CI fails on regressions.

Gas is reported like the anchors in docs/BENCHMARKS.md: the transaction's gas used minus the 21,000
intrinsic base. The snapshot file maps operation names to that figure; a recorded value above the
snapshot fails the run, one below it is reported so the snapshot can be tightened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INTRINSIC_GAS = 21_000
SNAPSHOT_PATH = Path(__file__).resolve().parent.parent / "gas-snapshot.json"


def execution_gas(receipt: Any) -> int:
    """Gas used by a transaction beyond the 21k intrinsic base."""
    return int(receipt.gas_used) - INTRINSIC_GAS


@dataclass
class GasReport:
    """Gas recorded in one test session, compared with the checked-in snapshot."""

    recorded: dict[str, int] = field(default_factory=dict)

    def record(self, name: str, receipt: Any) -> int:
        gas = execution_gas(receipt)
        previous = self.recorded.get(name)
        if previous is not None and previous != gas:
            raise AssertionError(f"gas of {name!r} recorded twice with different values")
        self.recorded[name] = gas
        return gas

    def compare(self, snapshot: dict[str, int]) -> tuple[list[str], list[str]]:
        """Returns (failures, notes): regressions and unknown names fail; improvements are noted."""
        failures, notes = [], []
        for name, gas in sorted(self.recorded.items()):
            expected = snapshot.get(name)
            if expected is None:
                failures.append(f"{name}: {gas} is not in the snapshot (run `make gas-snapshot`)")
            elif gas > expected:
                failures.append(f"{name}: {gas} > snapshot {expected} (+{gas - expected})")
            elif gas < expected:
                notes.append(f"{name}: {gas} < snapshot {expected} (-{expected - gas})")
        return failures, notes

    def merged_into(self, snapshot: dict[str, int]) -> dict[str, int]:
        return dict(sorted({**snapshot, **self.recorded}.items()))


def load_snapshot(path: Path = SNAPSHOT_PATH) -> dict[str, int]:
    return json.loads(path.read_text()) if path.exists() else {}


def write_snapshot(snapshot: dict[str, int], path: Path = SNAPSHOT_PATH) -> None:
    path.write_text(json.dumps(snapshot, indent=2, sort_keys=True) + "\n")
