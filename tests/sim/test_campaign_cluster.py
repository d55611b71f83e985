"""The campaign's one command on a multi-process Dask cluster: a LocalCluster of two worker
processes is started here, its scheduler address is passed to the CLI entry point as a remote
cluster's would be, and the report equals the one the same campaign gives in this process."""

import json

import pytest
from distributed import Client, LocalCluster

from solvent.sim.montecarlo.cli import main

ARGS = [
    "--paths", "4",
    "--steps", "48",
    "--accounts", "12",
    "--grid", "leverage=10,15",
    "--grid", "latency=1,3",
    "--replays", "0",
    "--batch", "3",
]  # fmt: skip


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local


def test_the_same_command_runs_on_a_multi_process_cluster(cluster, tmp_path):
    with Client(cluster.scheduler_address) as client:
        workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert len({w["host"] + str(w.get("pid", w["id"])) for w in workers.values()}) == 2
    assert (
        main([*ARGS, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "c")]) == 0
    )
    assert main([*ARGS, "--scheduler", "inline", "--out", str(tmp_path / "i")]) == 0
    on_cluster = json.loads((tmp_path / "c" / "report.json").read_text())
    here = json.loads((tmp_path / "i" / "report.json").read_text())
    assert on_cluster["run"]["scheduler"] == cluster.scheduler_address
    assert on_cluster["run"]["workers"] == 2 and on_cluster["run"]["tasks"] == 6
    assert here["run"]["scheduler"] == "inline"
    assert len(on_cluster["episodes"]) == 16
    assert on_cluster["episodes"] == here["episodes"]
    assert on_cluster["points"] == here["points"]
    assert on_cluster["recommendation"] == here["recommendation"]
    assert any(e["liquidations"] for e in here["episodes"])  # the paths do stress the book
    for name in (
        "report.html",
        "heatmap_bad_debt_usd_p99.png",
        "heatmap_lp_loss_usd_p99.png",
        "distribution_bad_debt_usd.png",
    ):
        assert (tmp_path / "c" / name).stat().st_size > 0
