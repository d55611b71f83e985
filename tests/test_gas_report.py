"""The gas snapshot comparison itself (pure Python)."""

from types import SimpleNamespace

import pytest

from solvent.gas import GasReport, calldata_gas, execution_gas


def receipt(gas_used: int, data: bytes = b"") -> SimpleNamespace:
    return SimpleNamespace(gas_used=gas_used, transaction=SimpleNamespace(data=data))


def test_execution_gas_excludes_intrinsic_base_and_calldata():
    assert execution_gas(receipt(51_000)) == 30_000
    assert execution_gas(receipt(51_000, b"\x00\x01\x00\xff")) == 30_000 - 2 * 4 - 2 * 16


def test_calldata_gas_counts_zero_and_nonzero_bytes():
    assert calldata_gas(b"") == 0
    assert calldata_gas(bytes(32)) == 128
    assert calldata_gas(b"\x01" * 3 + b"\x00") == 52


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
