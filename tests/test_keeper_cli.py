"""`ape run keeper` exposes every KeeperConfig and FeePolicy field an operator tunes."""

import dataclasses
import importlib.util
from pathlib import Path

from solvent.keeper.bot import KeeperConfig
from solvent.keeper.transactions import FeePolicy

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "keeper.py"
# Wiring, not tuning: the URL and the record come from --network and --deployment, the ABIs from
# the project, the fee policy from its own options, the approval's gas is a one-off.
NOT_OPTIONS = {"rpc_url", "record", "abis", "fee_policy", "approve_gas"}
FEE_OPTIONS = {
    "max_fee_cap": "max_fee_gwei",
    "priority_fee": "priority_fee_gwei",
    "bump_factor": "bump_factor",
    "stuck_after_blocks": "stuck_after_blocks",
}


def _command():
    spec = importlib.util.spec_from_file_location("keeper_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


def test_every_tunable_field_is_an_option_with_its_default():
    options = {p.name: p for p in _command().params}
    for field in dataclasses.fields(KeeperConfig):
        if field.name in NOT_OPTIONS:
            continue
        assert field.name in options, f"--{field.name.replace('_', '-')} missing"
        assert options[field.name].default == field.default
    for field in dataclasses.fields(FeePolicy):
        if field.name == "base_fee_headroom":  # a safety margin, not an operator's choice
            continue
        assert FEE_OPTIONS[field.name] in options
