"""Deterministic gas snapshot: tests record the gas of named operations, CI fails on regressions.

The figure is execution gas: the transaction's gas used minus the 21,000 intrinsic base and minus
its calldata cost (4 gas per zero byte, 16 per non-zero byte). Calldata is excluded because it
depends on argument values such as contract addresses, which depend on what the test session
deployed before; without it the figure is the same whichever tests run. The snapshot file maps
operation names to that figure; a recorded value above the snapshot fails the run, one below it
is reported so the snapshot can be tightened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INTRINSIC_GAS = 21_000
ZERO_BYTE_GAS = 4
NONZERO_BYTE_GAS = 16
SNAPSHOT_PATH = Path(__file__).resolve().parent.parent / "gas-snapshot.json"


def calldata_gas(data: bytes) -> int:
    zeros = data.count(0)
    return zeros * ZERO_BYTE_GAS + (len(data) - zeros) * NONZERO_BYTE_GAS


def execution_gas(receipt: Any) -> int:
    """Gas used by a transaction beyond the 21k intrinsic base and its calldata."""
    return int(receipt.gas_used) - INTRINSIC_GAS - calldata_gas(bytes(receipt.transaction.data))


@dataclass
class GasReport:
    """Gas recorded in one test session, compared with the checked-in snapshot."""

    recorded: dict[str, int] = field(default_factory=dict)

    def record(self, name: str, receipt: Any) -> int:
        """Records a transaction's execution gas under `name`."""
        return self.record_value(name, execution_gas(receipt))

    def record_value(self, name: str, gas: int) -> int:
        """Records a figure measured inside the EVM (e.g. with gasleft() around a view call)."""
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
