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
        "index.html",
        "insurance_fund.png",
        "price.png",
        "summary.json",
    ]
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == report.summary
    for png in files[1:-1]:
        data = png.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000


def test_the_page_shows_the_tables_and_every_plot_and_panels_get_their_own_axes(tmp_path):
    report = Report(
        title="gap <30>",
        summary={"bad_debt_usd": 1.5},
        panels={
            "prices": [
                Series("ETH (USD)", [0, 1, 2], [2000, 1400, 1400]),
                Series("BTC (USD)", [0, 1, 2], [60_000, 42_000, 42_000]),
            ]
        },
        time_plots={"insurance_fund": [Series("fund", [0, 1, 2], [1e6, 1e6, 9.85e5])]},
        zero_based=frozenset({"insurance_fund"}),
        tables={"Headline": [("bad debt (USD)", 1_645_937.0), ("keepers", None)]},
        x_label="hours",
    )
    files = report.write(tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text()
    assert files[-1].name == "index.html"
    assert "<title>gap &lt;30&gt;</title>" in page  # escaped
    assert '<th>bad debt (USD)</th><td class="num">1,645,937</td>' in page
    for image in ("prices.png", "insurance_fund.png"):
        assert f'<img src="{image}"' in page
        assert (tmp_path / "out" / image).read_bytes().startswith(PNG_SIGNATURE)
