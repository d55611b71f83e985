"""The gas snapshot comparison itself (pure Python)."""

from types import SimpleNamespace

import pytest

from solvent.gas import GasReport, execution_gas


def receipt(gas_used: int) -> SimpleNamespace:
    return SimpleNamespace(gas_used=gas_used)


def test_execution_gas_excludes_intrinsic_base():
    assert execution_gas(receipt(51_000)) == 30_000


def test_regression_and_unknown_fail_improvement_is_noted():
    report = GasReport()
    report.record("a", receipt(31_000))
    report.record("b", receipt(41_000))
    report.record("c", receipt(22_000))
    failures, notes = report.compare({"a": 9_000, "b": 25_000})
    assert failures == [
        "a: 10000 > snapshot 9000 (+1000)",
        "c: 1000 is not in the snapshot (run `make gas-snapshot`)",
    ]
    assert notes == ["b: 20000 < snapshot 25000 (-5000)"]


def test_same_name_with_different_gas_is_an_error():
    report = GasReport()
    report.record("a", receipt(30_000))
    with pytest.raises(AssertionError):
        report.record("a", receipt(30_001))


def test_merge_overrides_recorded_names_only():
    report = GasReport()
    report.record("a", receipt(30_000))
    assert report.merged_into({"a": 1, "z": 5}) == {"a": 9_000, "z": 5}
