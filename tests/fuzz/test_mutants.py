"""Mutation check: each deliberately broken variant of the protocol (solvent/fuzz/mutants.py) is
put in place of the real contract, and a bounded, derandomized run of the state machine must
report an invariant violation. The control, the same machine passing on the real contracts, is
tests/fuzz/test_protocol_machine.py."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from solvent.fuzz.machine import ProtocolMachine
from solvent.fuzz.model import InvariantViolation
from solvent.fuzz.mutants import MUTANTS, Mutant, install
from solvent.fuzz.system import DEPLOYER

# One state-machine campaign per mutant (about 40 s in all): `make test-slow` (CI).
pytestmark = pytest.mark.slow

HUNT = settings(
    # The CI profile's length (40 steps): with the LP request rules (issue 15), sequences of 20
    # steps no longer reached a cancel before expiry
    max_examples=25,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,  # the same sequences on every run: the check is reproducible
    database=None,
    phases=[Phase.explicit, Phase.generate],  # caught is enough; no time spent shrinking
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def violations(exc: BaseException) -> list[InvariantViolation]:
    if isinstance(exc, InvariantViolation):
        return [exc]
    found = []
    for inner in (*getattr(exc, "exceptions", ()), exc.__cause__, exc.__context__):
        if inner is not None and inner is not exc:
            found += violations(inner)
    return found


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name.replace(" ", "-"))
def test_state_machine_catches_the_mutant(mutant: Mutant, fast_driver, fuzz_system):
    snapshot = fast_driver.snapshot()
    try:
        install(fast_driver, mutant, fuzz_system.actors[DEPLOYER])
        with pytest.raises(BaseException) as caught:
            run_state_machine_as_test(ProtocolMachine.bind(fast_driver, fuzz_system), settings=HUNT)
    finally:
        fast_driver.revert(snapshot)
    found = violations(caught.value)
    assert found, f"{mutant.name}: the machine failed otherwise: {caught.value!r}"
    print(f"{mutant.name}: caught by {found[0]}")
