"""Reports: the JSON summary round-trips and every plot is a real PNG."""

import json

from solvent.report import Report, Series

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_report_writes_summary_and_pngs(tmp_path):
    report = Report(
        title="demo",
        summary={"accounts_liquidated": 12, "bad_debt_quote": 0},
        time_plots={
            "price": [Series("ETH", [0, 1, 2], [2000, 1800, 1300])],
            "insurance_fund": [Series("fund", [0, 1, 2], [1e6, 1e6, 9.5e5])],
        },
        histograms={"health_before_crash": [1.2, 1.5, 2.0, 3.1]},
    )
    files = report.write(tmp_path / "out")
    assert sorted(f.name for f in files) == [
        "health_before_crash.png",
        "insurance_fund.png",
        "price.png",
        "summary.json",
    ]
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == report.summary
    for png in files[1:]:
        data = png.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000
