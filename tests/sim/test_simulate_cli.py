"""`ape run simulate --help` lists every scenario, the oracle and the risk-model options."""

import importlib.util
from pathlib import Path

from click.testing import CliRunner

from solvent.sim.oracle_model import KINDS
from solvent.sim.risk_models import RISK_MODELS
from solvent.sim.scenarios import SCENARIOS

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "simulate.py"


def test_help_lists_the_scenarios_and_the_oracle_options():
    spec = importlib.util.spec_from_file_location("simulate_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = CliRunner().invoke(module.cli, ["--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    for name in SCENARIOS:
        assert name in result.output
    assert "--oracle [" + "|".join(KINDS) + "]" in result.output
    assert "--oracle-lag" in result.output
    assert "--risk-model [" + "|".join(RISK_MODELS) + "]" in result.output
    assert "--hedged-share" in result.output
