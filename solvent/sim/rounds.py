"""The determining round of a mock feed for a target time, read over the World: the first round
at or after the target (the rule that prices orders and LP requests, docs/orders.md), found with
the keeper's walk (solvent/keeper/orders.py)."""

from __future__ import annotations

from typing import Any

from solvent.harness.world import World
from solvent.keeper.orders import Round, determining_rounds


def determining_round(world: World, market: str, target: int) -> int | None:
    """The id of the first round of `market`'s primary feed at or after `target`; None while the
    feed has not published one."""
    feed = world.c(f"feed.{market}")
    latest = world.read(feed, "latestRoundData")
    head = Round(int(latest[0]), int(latest[3]))
    if head.updated_at < target:
        return None

    def fetch(ids: list[int], feed: Any = feed) -> dict[int, int]:
        rows = world.read_many([(feed, "getRoundData", (rid,)) for rid in ids])
        return {rid: int(row[3]) for rid, row in zip(ids, rows, strict=True) if int(row[3])}

    return determining_rounds(head, [target], fetch, lambda _phase: None)[target]


def determining_rounds_all(world: World, target: int) -> list[int] | None:
    """Each market's determining round, in market-id order (what LP executions name)."""
    out = []
    for key, _ in sorted(world.market_ids.items(), key=lambda item: item[1]):
        rid = determining_round(world, key, target)
        if rid is None:
            return None
        out.append(rid)
    return out
