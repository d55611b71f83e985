"""Fuzz throughput, naive vs fast, measured side by side in one run.

The same derandomized state-machine campaign (solvent.fuzz.machine: the same rules, the same
invariant reads after every step) runs twice on the same deployed state:

- naive: ape contract calls on ape's Anvil (gas estimation, receipt wait, step tracing, one
  request per view);
- fast: pre-signed raw transactions with explicit nonce and gas (the transaction and its receipt
  in one batched request), every batch of views in one request, on an Anvil of our own without
  step tracing (solvent.anvil) loaded with the same state (anvil_dumpState / anvil_loadState).
"""

from __future__ import annotations

import gzip
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import invariant, run_state_machine_as_test

from solvent.anvil import AnvilOptions, start_anvil
from solvent.fuzz.driver import ApeDriver, Driver, FastDriver
from solvent.fuzz.machine import ProtocolMachine
from solvent.fuzz.system import FuzzSystem, build


def campaign_settings(examples: int, steps: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=True,  # both paths run exactly the same sequences
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def run_campaign(driver: Driver, system: FuzzSystem, examples: int, steps: int) -> dict[str, Any]:
    """Runs the campaign; returns its steps (state-machine steps, each followed by the invariant
    check), seconds and steps per second."""
    counter = {"steps": 0}

    class Counting(ProtocolMachine.bind(driver, system)):  # type: ignore[misc]
        @invariant()
        def protocol_keeps_its_promises(self) -> None:
            counter["steps"] += 1
            super().protocol_keeps_its_promises()

    start = time.perf_counter()
    run_state_machine_as_test(Counting, settings=campaign_settings(examples, steps))
    seconds = time.perf_counter() - start
    return {
        "steps": counter["steps"],
        "seconds": round(seconds, 3),
        "steps_per_s": round(counter["steps"] / seconds, 2),
    }


def measure(
    project: Any, chain: Any, accounts: Any, examples: int = 4, steps: int = 25
) -> dict[str, Any]:
    """Deploys, then runs the same campaign through both paths. Returns both rates and the ratio."""
    system = build(project, chain, accounts)
    naive = run_campaign(
        ApeDriver(system.codec, system.contracts, accounts, chain), system, examples, steps
    )

    with tempfile.TemporaryDirectory() as folder:
        state_file = Path(folder) / "state.json"
        state_file.write_bytes(_dumped_state(chain))
        node = start_anvil(AnvilOptions(accounts=10, extra_args=["--load-state", str(state_file)]))
        try:
            fast = run_campaign(FastDriver(node.url, system.codec), system, examples, steps)
        finally:
            node.stop()
    return {
        "naive": naive,
        "fast": fast,
        "ratio": round(fast["steps_per_s"] / naive["steps_per_s"], 1),
        "same_steps": naive["steps"] == fast["steps"],
    }


def _dumped_state(chain: Any) -> bytes:
    """ape's node state as the JSON `anvil --load-state` reads (the dump is gzipped hex)."""
    dumped = chain.provider.make_request("anvil_dumpState", [])
    raw = bytes.fromhex(dumped[2:]) if isinstance(dumped, str) else bytes(dumped)
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
