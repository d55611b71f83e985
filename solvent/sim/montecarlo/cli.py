"""`make campaign` / `python -m solvent.sim.montecarlo`: the Monte Carlo campaign from one
command (docs/simulator.md, "Monte Carlo campaign").

    python -m solvent.sim.montecarlo --paths 200 --grid leverage=5,10,15 \\
        --grid latency=1,3,10 --replays 10 [--scheduler tcp://host:8786]

Runs every episode on the exact model as Dask tasks (a LocalCluster of this machine's cores
unless `--scheduler` names a cluster, `inline` for none), replays `--replays` of them on Anvil
(the referee; any difference stops the run) and writes reports/campaign/.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from solvent.sim.montecarlo import campaign, report
from solvent.sim.montecarlo.campaign import (
    DEFAULT_GRID,
    INLINE,
    CampaignOptionError,
    CampaignSpec,
    parse_grid,
)
from solvent.sim.montecarlo.episode import (
    AXES,
    CONFIG,
    PATH_MODELS,
    BookSpec,
    KeeperSpec,
    PathSpec,
    Point,
    plan_book,
    protocol_config,
)

DEFAULT_OUT = Path("reports/campaign")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m solvent.sim.montecarlo", description=__doc__)
    p.add_argument("--paths", type=int, default=200, help="seeded paths per grid point")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument(
        "--grid",
        action="append",
        metavar="AXIS=V1,V2,...",
        help="repeatable, one or two axes of leverage, penalty, fund, latency, buf, cut "
        "(default: leverage=5,10,15 and latency=1,3,10)",
    )
    p.add_argument("--replays", type=int, default=10, help="episodes the referee replays on Anvil")
    p.add_argument(
        "--scheduler",
        default=None,
        help="a Dask scheduler address (tcp://host:8786); 'inline' runs in this process; "
        "default: a LocalCluster of this machine's cores",
    )
    p.add_argument("--path-model", default="gbm_jumps", choices=PATH_MODELS)
    p.add_argument("--steps", type=int, default=288, help="blocks per path")
    p.add_argument("--step", type=int, default=300, help="seconds per block")
    p.add_argument("--accounts", type=int, default=40, help="accounts in the book")
    p.add_argument("--book-seed", type=int, default=7)
    p.add_argument(
        "--collateral-share",
        type=float,
        default=0.3,
        help="share of accounts margined 90%% in ETH or BTC (their collateral goes to auction)",
    )
    p.add_argument("--leverage", type=float, default=10.0, help="when not on the grid")
    p.add_argument("--penalty", type=float, default=0.025, help="when not on the grid")
    p.add_argument("--fund", type=float, default=50_000.0, help="USD, when not on the grid")
    p.add_argument("--latency", type=int, default=1, help="blocks, when not on the grid")
    p.add_argument("--buf", type=float, default=1.10, help="auction start / oracle, off the grid")
    p.add_argument("--cut", type=float, default=0.99, help="auction decay per step, off the grid")
    p.add_argument("--failure-rate", type=float, default=0.0)
    p.add_argument("--batch", type=int, default=20, help="episodes per Dask task")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return p


def spec_from(args: argparse.Namespace) -> CampaignSpec:
    """The campaign the options describe; CampaignOptionError for one it refuses."""
    grid = parse_grid(args.grid) if args.grid else DEFAULT_GRID
    if args.steps < 2:
        raise CampaignOptionError("--steps must be at least 2 (the set-up block and one step)")
    if not 60 <= args.step <= 3600:
        raise CampaignOptionError("--step is seconds per block in [60, 3600] (feeds go stale)")
    if args.accounts < 1:
        raise CampaignOptionError("--accounts must be at least 1")
    if not 0 <= args.failure_rate < 1:
        raise CampaignOptionError("--failure-rate is a probability in [0, 1)")
    if not 0 <= args.collateral_share <= 1:
        raise CampaignOptionError("--collateral-share is a share of the accounts in [0, 1]")
    base = Point.of(
        {
            "leverage": args.leverage,
            "penalty": args.penalty,
            "fund": args.fund,
            "latency": args.latency,
            "buf": args.buf,
            "cut": args.cut,
        }
    )
    for axis in AXES:
        parse_grid([f"{axis}={getattr(base, axis)}"])  # the same bounds as the grid's
    spec = CampaignSpec(
        paths=args.paths,
        first_seed=args.first_seed,
        grid=grid,
        path=PathSpec(args.path_model, args.steps, args.step),
        book=BookSpec(
            accounts=args.accounts, seed=args.book_seed, collateral_share=args.collateral_share
        ),
        keeper=KeeperSpec(failure_rate=args.failure_rate),
        base=base,
        batch=args.batch,
    )
    total = args.paths * len(spec.points())
    if not 0 <= args.replays <= total:
        raise CampaignOptionError(f"--replays must be in [0, {total}] (the campaign's episodes)")
    if args.scheduler not in (None, INLINE) and "://" not in args.scheduler:
        raise CampaignOptionError(
            f"--scheduler {args.scheduler!r}: a Dask address such as tcp://host:8786, or 'inline'"
        )
    return spec


def inputs(spec: CampaignSpec, argv: list[str]) -> dict[str, Any]:
    """What the campaign was given: the command, the seeds, the grid, the book and parameters."""
    per_point = []
    for point in spec.points():
        config = protocol_config(point)
        plans = plan_book(spec.book, point, config)
        per_point.append(
            {
                "point": dataclasses.asdict(point),
                "im_scale": {a.key: a.market.im_scale / 1e18 for a in config.assets},
                "commit_margin_bps": config.assets[0].orders.commit_margin_bps,
                "penalty_rate": config.liquidation.penalty_rate / 1e18,
                "auction_buf": config.assets[0].auction.buf / 1e18,
                "auction_cut": config.assets[0].auction.curve.cut / 1e18,
                "book_collateral_usd": sum(p.deposit for p in plans) / 1e6,
                "book_notional_usd": {
                    a.key: sum(
                        abs(size) / 1e18 * float(a.feed.initial_price or 0)
                        for p in plans
                        for key, size in p.orders
                        if key == a.key
                    )
                    for a in config.assets
                },
            }
        )
    return {
        "command": "python -m solvent.sim.montecarlo " + shlex.join(argv),
        "config": CONFIG,
        "axes": list(spec.axes),
        "grid": {axis: list(values) for axis, values in spec.grid},
        "paths_per_point": spec.paths,
        "seeds": [spec.first_seed, spec.first_seed + spec.paths - 1],
        "path": dataclasses.asdict(spec.path),
        "book": dataclasses.asdict(spec.book),
        "keeper": dataclasses.asdict(spec.keeper),
        "base_point": dataclasses.asdict(spec.base),
        "points": per_point,
    }


def run_campaign(
    spec: CampaignSpec,
    scheduler: str | None,
    replays: int,
    out: Path | None,
    argv: list[str],
    referee: Any = None,
) -> dict[str, Any]:
    """Runs the campaign, its replays (with `referee(episode_spec) -> record`) and writes the
    report to `out` (None: nothing written); returns the report."""
    start = time.monotonic()
    results, engine = campaign.execute(spec, scheduler)
    model_s = time.monotonic() - start
    rows = campaign.aggregate(spec, results)
    records = []
    replay_start = time.monotonic()
    if replays:
        if referee is None:
            referee = _anvil_referee()
        for episode in campaign.choose_replays(spec, results, replays):
            records.append(referee(episode))
    replays_s = time.monotonic() - replay_start
    result = {
        "inputs": inputs(spec, argv),
        "points": rows,
        "recommendation": campaign.recommend(spec, rows),
        "replays": records,
        "run": {
            **engine,
            "episodes": len(results),
            "model_wall_s": round(model_s, 1),
            "replays_wall_s": round(replays_s, 1),
            "total_wall_s": round(time.monotonic() - start, 1),
        },
        "episodes": results,
    }
    if out is not None:
        report.write(out, result)
    return result


def _anvil_referee() -> Any:
    from ape import networks, project

    from solvent.sim.montecarlo.referee import replay

    return lambda episode: replay(project, networks, episode)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    try:
        spec = spec_from(args)
    except CampaignOptionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = run_campaign(spec, args.scheduler, args.replays, args.out, argv)
    run = result["run"]
    print(
        f"{run['episodes']} episodes on {run['workers']} worker(s) in {run['model_wall_s']} s, "
        f"{len(result['replays'])} replayed on Anvil, equal to the wei, "
        f"in {run['replays_wall_s']} s; report in {args.out}/report.html"
    )
    for statement in result["recommendation"]:
        print(statement)
    return 0
