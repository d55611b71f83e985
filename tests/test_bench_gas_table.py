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
        "liquidated_accounts": 9,
        "bad_debt_usd": 0.0,
        "bad_debt_peak_usd": 40.0,
        "insurance_drawdown_usd": 12.5,
        "socialized_usd": 0.0,
        "lp_loss_usd": -5.0,
        "clearing_price_vs_oracle": 0.97,
        "breach_to_liquidation_blocks_mean": 1.0,
        "breach_to_liquidation_blocks_max": 1,
    }
    keeper = {
        "accounts": 10_000,
        "scan_batch": 500,
        "health_scan_s": 0.61,
        "health_scan_median_s": 0.7,
        "liquidatable_scan_s": 0.2,
        "sync_from_logs_s": 0.5,
        "breached": 2_000,
        "liquidated": 2_000,
        "latency_blocks_max": 1,
        "latency_blocks_mean": 1.0,
        "step_with_breaches_s": 9.0,
        "anvil_gas_limit": 5_000_000_000,
        "rpc_calls_per_block_idle": 10.0,
        "rpc_calls_per_block_busy": 5023.5,
        "throughput": {
            "gas_limit": 30_000_000,
            "population": 2_000,
            **{
                order: {
                    "breached": 2_000,
                    "liquidated": 2_000,
                    "blocks_to_clear": 18,
                    "deficit_at_liquidation_usd": deficit,
                    "deficit_still_open_usd": 0.0,
                }
                for order, deficit in (("risk", 6_514_367.6), ("account", 6_603_264.5))
            },
        },
    }
    fuzz = {
        "naive": {"steps": 180, "seconds": 190.0, "steps_per_s": 0.95},
        "fast": {"steps": 180, "seconds": 3.5, "steps_per_s": 51.43},
        "ratio": 54.1,
        "same_steps": True,
    }
    page = render_page({}, keeper, fuzz, [sim])
    assert "best of 5 | 0.610 s | < 0.5 s | **no** |" in page
    assert "oracle update to the liquidation, worst account | 1 | ≤ 1 block | yes |" in page
    assert "| breaching accounts liquidated | 2,000 of 2,000 | | |" in page
    assert "an Anvil without tracing | 180 | 3.5 | 51.43 |" in page
    assert "Ratio 54.1x in one run (within the ≥ 20x target)" in page
    assert "| march_2020 | 300 | 12 (9) | 0 | 40 | 12.5 | 0 | -5 | 0.97 | 1 / 1 |" in page
    assert "| JSON-RPC calls per block, idle (one step per new head) | 10.0 | | |" in page
    assert "### 2,000 breaching accounts at a 30,000,000-gas block limit" in page
    assert "| risk | 2,000 | 2,000 | 18 | 6,514,368 | 0 |" in page
    assert "| account | 2,000 | 2,000 | 18 | 6,603,264 | 0 |" in page
    assert "Not measured" not in page


def test_every_listed_gas_change_is_the_snapshot_and_every_large_rise_says_why():
    from solvent.bench.gas_table import GAS_CHANGES, RISE_NEEDING_A_REASON, render_changes
    from solvent.gas import load_snapshot

    snapshot = load_snapshot()
    for change in GAS_CHANGES:
        assert snapshot[change.name] == change.after, change.name
        if change.after > change.before * (1 + RISE_NEEDING_A_REASON):
            assert len(change.why) > 60, change.name
    if GAS_CHANGES:
        table = render_changes()
        assert all(f"`{c.name}`" in table for c in GAS_CHANGES)


def test_the_gas_section_is_rewritten_and_every_other_section_kept():
    from solvent.bench.render import render as render_page
    from solvent.bench.render import replace_gas_section

    page = render_page({"oracle.poke": 1}, keeper=None)
    again = replace_gas_section(page, {"oracle.poke": 2})
    assert "`oracle.poke`) | 2 |" in again and "`oracle.poke`) | 1 |" not in again
    assert again.count("## Gas per operation") == 1
    assert again.split("## Keeper")[1] == page.split("## Keeper")[1]
    assert again.count("Gas section regenerated") == 1
    assert replace_gas_section(again, {"oracle.poke": 3}).count("Gas section regenerated") == 1


def test_the_backtest_section_is_appended_once_and_replaced_after():
    from solvent.bench.render import BACKTEST_HEADING, replace_backtest_section

    entry = {
        "horizons": 10,
        "exceedances": 1,
        "exceedance_rate": 0.1,
        "kupiec_p": 0.2,
        "christoffersen_p": 0.5,
        "average_margin": 0.12,
        "max_margin": 0.2,
        "qlike": 0.4,
    }
    results = [
        {
            "asset": "WETH",
            "models": {"flat": {"all": entry}},
            "crash_days": {
                "march_2020": {"origin": 1_583_971_200, "move": -0.44, "margins": {"flat": 0.1}}
            },
        }
    ]
    page = "# Benchmarks\n\n## Gas per operation\n\nrows\n"
    once = replace_backtest_section(page, results)
    assert once.count(BACKTEST_HEADING) == 1 and once.startswith(page.rstrip("\n"))
    assert "| WETH | flat | 10 | 1 | 10.00% |" in once
    assert "| WETH | march_2020 | 2020-03-12 | -44.0% | 10.0% |" in once
    assert replace_backtest_section(once, results) == once
