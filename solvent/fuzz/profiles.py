"""Hypothesis profiles of the stateful campaign, chosen with HYPOTHESIS_PROFILE.

- `ci` (the default, run by `make test`): 25 examples x up to 40 steps, about a minute.
- `deep` (`make fuzz`): 2,000 examples x 60 steps = 120k steps, about 50 minutes on 2 cores.
They are looked up by name (`settings.get_profile`), never loaded globally, so the other
Hypothesis tests of the suite keep their own settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SUPPRESSED = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
STEPS = {"ci": (25, 40), "deep": (2_000, 60)}

for _name, (_examples, _steps) in STEPS.items():
    settings.register_profile(
        f"solvent-{_name}",
        max_examples=_examples,
        stateful_step_count=_steps,
        deadline=None,
        suppress_health_check=SUPPRESSED,
        print_blob=True,
        # CI gates a merge, so it must not depend on the run's luck: `ci` replays the same
        # examples for the same code; `deep` explores new ones every run.
        derandomize=_name == "ci",
    )


def profile_name() -> str:
    return os.environ.get("HYPOTHESIS_PROFILE", "ci")


def active_settings() -> settings:
    """The chosen profile's settings (`ci` unless HYPOTHESIS_PROFILE says otherwise)."""
    name = profile_name()
    if name not in STEPS:
        raise ValueError(f"HYPOTHESIS_PROFILE={name!r}: expected one of {sorted(STEPS)}")
    return settings.get_profile(f"solvent-{name}")
