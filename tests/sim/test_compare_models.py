"""The risk-model comparison's report on constructed runs (no chain): the table has one line per
scenario and model with the run's figures, the findings state the capital efficiency of each
book and whether gap_30 on the portfolio model stays within the fund, the plot is written and the
BENCHMARKS section is replaced in place."""

from solvent.bench.render import MODELS_HEADING, replace_models_section
from solvent.sim.compare_models import findings, plot, table


def book(requirement: float, cost: float) -> dict:
    return {"accounts": 5, "requirement_per_notional": requirement, "cost_per_notional": cost}


def run(scenario: str, model: str, bad_debt: float, fund: float, hedged: dict) -> dict:
    return {
        "scenario": scenario,
        "model": model,
        "bad_debt_usd": bad_debt,
        "bad_debt_peak_usd": bad_debt * 2,
        "covered_by_insurance_usd": 0.0,
        "socialized_usd": 0.0,
        "insurance_drawdown_usd": 12.5,
        "liquidations": 7,
        "liquidated_accounts": 6,
        "accounts_with_positions": 10,
        "fund_start_usd": fund,
        "bad_debt_within_fund": bad_debt <= fund,
        "margin": {
            "initial_requirement_usd": 1_000.0 if model == "standard" else 2_000.0,
            "notional_usd": 2_500_000.0,
            "positions_resized": 0 if model == "standard" else 4,
            "books": {"hedged": hedged, "directional": book(0.1, 0.14)},
        },
    }


SUMMARY = {
    "inputs": {
        "accounts": 10,
        "seed": 1,
        "hedged_share": 0.25,
        "keepers": 2,
        "latency_blocks": 1,
        "failure_rate": 0.1,
        "step_seconds": 300,
    },
    "wall_s": 90.0,
    "runs": [
        run("gap_30", "standard", 5_000.0, 250_000.0, book(0.1, 0.30)),
        run("gap_30", "portfolio", 300_000.0, 250_000.0, book(0.016, 0.036)),
    ],
}


def test_the_table_has_a_line_per_run_with_its_figures():
    lines = table(SUMMARY["runs"]).splitlines()
    assert len(lines) == 2 + 2
    assert lines[2].startswith(
        "| `gap_30` | standard | $2.5M (0) | $1,000 | $5,000 ($10,000) | 7 (6) |"
    )
    assert "| yes | 10.0% / 30.0% | 10.0% / 14.0% |" in lines[2]
    assert lines[3].startswith("| `gap_30` | portfolio | $2.5M (4) | $2,000 |")
    assert "| no | 1.6% / 3.6% |" in lines[3]


def test_the_findings_state_efficiency_and_the_gap_30_verdict():
    text = "\n".join(findings(SUMMARY))
    assert "hedged book: margin cost 30.0% of notional on the standard model, 3.6%" in text
    assert "(12% of it)" in text
    assert "bad debt $300,000, NOT within the insurance fund's $250,000" in text
    assert "2 runs in 1.5 min" in text


def test_the_plot_is_written(tmp_path):
    path = plot(SUMMARY["runs"], tmp_path / "tradeoff.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_benchmarks_section_is_replaced_in_place():
    page = f"# Benchmarks\n\n{MODELS_HEADING}\n\nOBSOLETE LINE\n\n## Next\n\nkept\n"
    out = replace_models_section(page, SUMMARY)
    assert "OBSOLETE LINE" not in out and out.endswith("## Next\n\nkept\n")
    assert out.count(MODELS_HEADING) == 1 and "| `gap_30` | portfolio |" in out
