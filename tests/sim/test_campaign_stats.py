"""The campaign's arithmetic on constructed inputs (quantiles per point, the recommendation, the
replays chosen), the model's determinism, and the CLI's refusals by message."""

import dataclasses

import pytest

from solvent.sim.montecarlo import campaign
from solvent.sim.montecarlo.campaign import CampaignOptionError, CampaignSpec, parse_grid
from solvent.sim.montecarlo.cli import main
from solvent.sim.montecarlo.episode import BookSpec, EpisodeSpec, PathSpec, Point, run

GRID = (("leverage", (5.0, 15.0)), ("fund", (1_000.0, 100_000.0)))
SPEC = CampaignSpec(paths=100, grid=GRID)


def constructed() -> list[dict]:
    """100 paths per point; at leverage 5 bad debt is the seed in USD (1..100), at 15 it is
    1,000 x the seed; LP loss is minus the seed."""
    rows = []
    for point in SPEC.points():
        for seed in SPEC.seeds():
            bad = float(seed) * (1 if point.leverage == 5 else 1_000)
            rows.append(
                {
                    "point": dataclasses.asdict(point),
                    "seed": seed,
                    "bad_debt_usd": bad,
                    "lp_loss_usd": -float(seed),
                    "lp_credit_loss_usd": bad / 2,
                    "socialized_usd": 0.0,
                    "liquidations": seed % 7,
                }
            )
    return rows


def test_quantiles_per_point_are_nearest_rank():
    rows = campaign.aggregate(SPEC, constructed())
    assert [r["label"] for r in rows] == [
        "leverage=5, fund=1,000",
        "leverage=5, fund=100,000",
        "leverage=15, fund=1,000",
        "leverage=15, fund=100,000",
    ]
    low, high = rows[0], rows[2]
    assert (low["bad_debt_usd_p50"], low["bad_debt_usd_p95"], low["bad_debt_usd_p99"]) == (
        50,
        95,
        99,
    )
    assert high["bad_debt_usd_p99"] == 99_000 and high["bad_debt_usd_max"] == 100_000
    assert low["lp_loss_usd_p99"] == -2  # the 99th percentile of -100..-1
    assert high["lp_credit_loss_usd_p95"] == 47_500
    assert [r["p99_bad_debt_within_fund"] for r in rows] == [True, True, False, True]
    assert all(r["paths"] == 100 for r in rows)


def test_the_recommendation_names_the_largest_leverage_and_the_smallest_fund():
    rows = campaign.aggregate(SPEC, constructed())
    said = campaign.recommend(SPEC, rows)
    assert (
        "At fund=1,000: the largest leverage that keeps p99 bad debt within the fund is "
        "leverage=5 (grid: 5, 15)." in said
    )
    assert "At fund=100,000: the largest leverage" in said[1] and "leverage=15 " in said[1]
    assert (
        "At leverage=15: the smallest fund that keeps p99 bad debt within the fund is " in (said[3])
    )
    assert "fund=100,000 (grid" in said[3]
    # nothing safe: said so
    grim = [dict(r, p99_bad_debt_within_fund=False) for r in rows]
    assert all("no " in s for s in campaign.recommend(SPEC, grim))


def test_replays_take_the_worst_path_of_each_point_then_the_busiest():
    chosen = campaign.choose_replays(SPEC, constructed(), 6)
    assert [(e.point.leverage, e.point.fund, e.path_seed) for e in chosen[:4]] == [
        (5, 1_000, 100),
        (5, 100_000, 100),
        (15, 1_000, 100),
        (15, 100_000, 100),
    ]
    assert all(e.path_seed % 7 == 6 for e in chosen[4:])  # the most liquidations
    assert len({(e.point, e.path_seed) for e in chosen}) == 6


def test_an_episode_is_a_function_of_its_spec():
    spec = EpisodeSpec(Point(leverage=15), 3, PathSpec("gap", 24), BookSpec(accounts=10))
    first, second = run(spec), run(spec)
    assert first.metrics == second.metrics
    assert first.trace.sent == second.trace.sent
    assert first.metrics["liquidations"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "leverage"], "write AXIS=V1,V2"),
        (["--grid", "gamma=1,2"], "AXIS one of leverage, penalty, fund, latency, buf, cut"),
        (["--grid", "buf=0.9"], "in [1, 2]"),
        (["--grid", "cut=1"], "a decay per step in (0, 1)"),
        (["--grid", "leverage=5,x"], "values must be numbers"),
        (["--grid", "leverage=5,5"], "a value appears twice"),
        (["--grid", "leverage=5,20"], "[20.0] out of range"),
        (["--grid", "latency=0.5"], "whole blocks"),
        (["--grid", "fund=-1"], "USD >= 0"),
        (["--grid", "leverage=5", "--grid", "fund=1", "--grid", "latency=1"], "one or two axes"),
        (["--grid", "leverage=5", "--grid", "leverage=10"], "appears twice in the grid"),
        (["--paths", "0"], "--paths must be at least 1"),
        (["--paths", "2", "--replays", "19"], "--replays must be in [0, 18]"),
        (["--steps", "1"], "--steps must be at least 2"),
        (["--step", "10"], "--step is seconds per block"),
        (["--accounts", "0"], "--accounts must be at least 1"),
        (["--failure-rate", "1"], "--failure-rate is a probability"),
        (["--scheduler", "localhost"], "a Dask address such as tcp://host:8786"),
        (["--leverage", "40"], "out of range"),
    ],
)
def test_the_cli_refuses_bad_options_with_a_clear_error(args, message, capsys, tmp_path):
    assert main([*args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "report.json").exists()


def test_parse_grid_keeps_the_values_sorted():
    assert parse_grid(["latency=10,1,3"]) == (("latency", (1.0, 3.0, 10.0)),)
    with pytest.raises(CampaignOptionError):
        CampaignSpec(paths=1, grid=())


def test_the_benchmarks_section_carries_the_quantile_table_and_is_replaced_in_place():
    from solvent.bench.render import CAMPAIGN_HEADING, replace_campaign_section

    rows = campaign.aggregate(SPEC, constructed())
    report = {
        "inputs": {
            "command": "python -m solvent.sim.montecarlo --paths 100",
            "axes": ["leverage", "fund"],
            "paths_per_point": 100,
            "seeds": [1, 100],
            "path": {"model": "gbm_jumps", "steps": 288, "step_seconds": 300},
            "book": {"accounts": 40, "seed": 7},
            "base_point": {"latency": 1},
        },
        "run": {
            "total_wall_s": 540.0,
            "model_wall_s": 460.0,
            "replays_wall_s": 80.0,
            "workers": 2,
            "scheduler": "LocalCluster",
            "episodes": 400,
        },
        "points": rows,
        "recommendation": campaign.recommend(SPEC, rows),
        "replays": [{"values_compared": 1_000, "liquidations": 5, "bad_debt_usd": 2.5}],
    }
    page = replace_campaign_section("# Benchmarks\n\n## Gas\n\ntext\n", report)
    assert page.count(CAMPAIGN_HEADING) == 1 and "## Gas\n\ntext" in page
    assert "| leverage=15, fund=1,000 | $50,000 | $95,000 | $99,000 | -$51 | -$6 | -$2 " in page
    assert "| no |" in page and "Wall time 540 s" in page and "1,000 values compared" in page
    again = replace_campaign_section(page + "\n## Later\n\nkept\n", report)
    assert again.count(CAMPAIGN_HEADING) == 1 and again.endswith("## Later\n\nkept\n")
