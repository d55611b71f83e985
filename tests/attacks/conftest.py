"""Attack replays on the real deployment: `solvent.deploy` with `config/local.yaml` (oracle adapter,
engine, LP pool, Dutch-auction liquidator, insurance fund, mock tokens and feeds), deployed once
per module; ape isolates each test with a chain snapshot.

One file per issue, named after the attack it replays. Each test sets up the issue's scenario with
its figures and asserts that the attack no longer pays (a named custom error, or balances)."""

from __future__ import annotations

import pytest

from solvent.desk import Desk

# The replays' driver: a `Desk` (solvent/desk.py) acting as the issue's attacker and bystanders.
Attack = Desk


@pytest.fixture(scope="module")
def attack(system, chain, deployer) -> Attack:
    return Attack(system, chain, deployer)
