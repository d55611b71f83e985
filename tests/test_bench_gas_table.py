"""The benchmark gas table renders measured figures against targets and anchors."""

from solvent.bench.gas_table import render


def test_table_marks_targets_and_keeps_unknown_operations():
    table = render({"engine.deposit": 55_000, "liquidator.reset": 81_000, "custom.op": 7})
    lines = table.splitlines()
    assert lines[2] == "| deposit collateral (`engine.deposit`) | 55,000 | 60,000 |  | yes |"
    assert lines[3] == (
        "| reset a stale auction (`liquidator.reset`) | 81,000 | 80,000 "
        "| Maker redo 82,051 | **no** |"
    )
    assert lines[4] == "| `custom.op` | 7 | | | |"
    assert len(lines) == 5


def test_operations_not_measured_are_left_out():
    assert "engine.trade_open" not in render({"engine.deposit": 1})


def test_benchmarks_page_has_measured_gas_and_names_what_is_not_measured():
    from solvent.bench.render import render as render_page

    page = render_page({"oracle.poke": 54_270})
    assert "| volatility poke with a new sample (`oracle.poke`) | 54,270 |" in page
    assert page.count("Not measured in this run") == 3


def test_benchmarks_page_renders_keeper_fuzz_and_simulation_sections():
    from solvent.bench.render import render as render_page

    sim = {
        "scenario": "march_2020",
        "accounts": 300,
        "liquidations": 12,
        "bad_debt_usd": 0.0,
        "insurance_drawdown_usd": 12.5,
        "socialized_usd": 0.0,
        "lp_loss_usd": -5.0,
        "clearing_price_vs_oracle": 0.97,
        "breach_to_liquidation_blocks_mean": 1.0,
        "breach_to_liquidation_blocks_max": 1,
    }
    page = render_page({}, {"health_scan_10000_accounts_s": 0.31}, {"ratio": 25.0}, [sim])
    assert "| health scan 10000 accounts s | 0.31 | < 0.5 s |" in page
    assert "| ratio | 25 |" in page
    assert "| march_2020 | 300 | 12 | 0 | 12.5 | 0 | -5 | 0.97 | 1 / 1 |" in page
    assert "Not measured" not in page
