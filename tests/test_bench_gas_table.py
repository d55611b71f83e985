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
    assert page.count("Not measured yet") == 3
