"""`make demo` on a small population: the keeper liquidates, every auction settles, the report
is written."""

from solvent.demo import DemoOptions, run_demo


def test_demo_liquidates_settles_and_reports(project, networks, tmp_path):
    phases = []
    result = run_demo(
        project,
        networks,
        DemoOptions(accounts=30, seed=3, out=tmp_path),
        lambda phase, step, total: phases.append(phase),
    )
    s = result.summary
    assert s["accounts"] == 30
    assert s["accounts_liquidated"] > 0
    assert s["auctions_settled"] == s["auctions_started"]
    assert s["reaction_latency_blocks_max"] == 1
    assert s["insurance_fund_before_usd"] >= s["insurance_fund_after_usd"]
    assert phases[0] == "crash" and phases[-1] == "settling"
    assert sorted(f.name for f in result.files) == [
        "health_before_crash.png",
        "index.html",
        "insurance_fund.png",
        "lp_pool.png",
        "price.png",
        "summary.json",
    ]
