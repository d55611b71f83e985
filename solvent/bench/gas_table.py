"""The gas section of docs/BENCHMARKS.md: each operation beside its anchor and its target.

Figures are execution gas (gas used minus the 21,000 intrinsic base), as in the anchors
(`../shared/reference/anchors.md`): Maker dss measured on its own contracts, Aave v3 from its
repository's snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GasLine:
    name: str
    operation: str
    target: int | None = None
    anchor: str = ""


GAS_LINES: tuple[GasLine, ...] = (
    GasLine("engine.deposit", "deposit collateral", 60_000),
    GasLine("engine.withdraw", "withdraw collateral"),
    GasLine("engine.trade_open", "open a perp position", 120_000),
    GasLine("engine.trade_close", "close a perp position", 120_000),
    GasLine("engine.liquidate_partial", "partial liquidation (positions only)", None),
    GasLine(
        "engine.liquidate_handoff_2pos_2col",
        "liquidation, 2 positions + 2 collaterals, hand-off to the minimal test liquidator",
        200_000,
        "Maker bark 400,219; Aave liquidationCall 349,519",
    ),
    GasLine(
        "system.liquidate_2pos_2col",
        "liquidation, 2 positions + 2 collaterals, hand-off to the real liquidator",
        200_000,
        "Maker bark 400,219; Aave liquidationCall 349,519",
    ),
    GasLine(
        "system.liquidate_2pos_2col_unprepared",
        "the same liquidation on a deployment without prepared auction slots (4 words created)",
        None,
        "Maker bark 400,219",
    ),
    GasLine(
        "system.complete_liquidation_2pos_2col",
        "complete liquidation: the engine call plus the takes of both lots",
        300_000,
        "Maker bark 400,219 + take 132,182 per lot",
    ),
    GasLine("liquidator.start_2_lots", "start auctions for 2 lots (inside the liquidation)"),
    GasLine(
        "liquidator.take_full",
        "take a full lot (stand-in engine)",
        100_000,
        "Maker take 132,182-137,056",
    ),
    GasLine(
        "liquidator.take_partial",
        "partial take (stand-in engine)",
        100_000,
        "Maker take 132,182-137,056",
    ),
    GasLine(
        "system.take_lot_0",
        "take a full WETH lot in the full system (engine hooks included)",
        100_000,
        "Maker take 132,182-137,056",
    ),
    GasLine(
        "system.take_lot_1",
        "take a full WBTC lot in the full system (engine hooks included)",
        100_000,
        "Maker take 132,182-137,056",
    ),
    GasLine(
        "system.take_lot_0_inventory",
        "take a full WETH lot, taker already holds WETH (Maker's takes credit an internal balance)",
        100_000,
        "Maker take 132,182-137,056",
    ),
    GasLine(
        "liquidator.take_callback",
        "take with flash callback (sells through a mock exchange)",
        None,
        "Maker take with flash callback 359,812",
    ),
    GasLine("liquidator.reset", "reset a stale auction", 80_000, "Maker redo 82,051"),
    GasLine("fund.cover_shortfall", "insurance fund covers a shortfall"),
    GasLine("oracle.price_warm", "warm price read"),
    GasLine("oracle.poke", "volatility poke with a new sample"),
)


@dataclass(frozen=True)
class GasChange:
    """A row of gas-snapshot.json that moved in the latest round, with the reason."""

    name: str
    before: int
    after: int
    why: str


# The latest round's moves (issue 12: enforcement that nothing can block). A rise above 10% must
# say why here; tests/test_bench_gas_table.py checks that `after` is the snapshot's figure.
_ROOM = "the liquidator checks the room under the caps instead of reverting (queued lots)"
_ENGINE_LIQ = (
    "lenient price reads, a third parameter slot (fee on the debt, minimum position margin) and "
    "the keeper's balance read around startAuctions (the reward actually paid)"
)
_DUST = "the take checks whether it leaves a dust lot (which then ends with the auction)"
GAS_CHANGES: tuple[GasChange, ...] = (
    GasChange(
        "oracle.poke",
        54_248,
        66_488,
        "the breaker compares every poke with the last accepted price (a slot of its own, "
        "+5k), the margin sigma's phased-in ramp is written (+5k), and a sample weighted by its "
        "elapsed time evaluates lambda^(dt/tau) with short ln/exp series (+2k). Pokes are a "
        "keeper's periodic duty, not a user's cost; docs/oracle.md has the breakdown",
    ),
    GasChange("engine.deposit", 39_586, 39_761, "who may deposit collateral; overflow-free cap"),
    GasChange("engine.withdraw", 59_817, 64_104, "every held asset's breaker is asked"),
    GasChange("engine.trade_open", 93_136, 94_904, "every held asset's breaker is asked"),
    GasChange("engine.trade_close", 45_229, 45_495, "the size bound"),
    GasChange("engine.liquidate_partial", 98_866, 103_891, _ENGINE_LIQ),
    GasChange("engine.liquidate_handoff_2pos_2col", 277_464, 284_059, _ENGINE_LIQ),
    GasChange("system.liquidate_2pos_2col", 283_623, 291_590, f"{_ENGINE_LIQ}; {_ROOM}"),
    GasChange("system.liquidate_2pos_2col_unprepared", 351_751, 359_718, f"{_ENGINE_LIQ}; {_ROOM}"),
    GasChange(
        "system.complete_liquidation_2pos_2col",
        537_965,
        548_188,
        f"{_ENGINE_LIQ}; {_ROOM}; {_DUST}",
    ),
    GasChange("liquidator.start_2_lots", 107_095, 109_635, _ROOM),
    GasChange(
        "liquidator.reset",
        61_399,
        67_408,
        "the per-auction record of reset rewards paid (the cumulative cap), pre-written by "
        "prepareAuctionSlots",
    ),
    GasChange("liquidator.take_full", 87_977, 89_105, _DUST),
    GasChange("liquidator.take_partial", 88_056, 89_748, _DUST),
    GasChange("liquidator.take_callback", 165_824, 166_699, _DUST),
    GasChange("system.take_lot_0", 127_171, 128_299, _DUST),
    GasChange("system.take_lot_1", 127_171, 128_299, _DUST),
    GasChange("system.take_lot_0_inventory", 110_071, 111_199, _DUST),
    GasChange(
        "fund.cover_shortfall", 21_440, 21_462, "the fund's new functions moved its dispatch"
    ),
)
RISE_NEEDING_A_REASON = 0.10


def render_changes(changes: tuple[GasChange, ...] = GAS_CHANGES) -> str:
    """The table of the latest round's gas moves, each with its reason."""
    if not changes:
        return ""
    rows = [
        "| operation | before | after | change | why |",
        "|---|---:|---:|---:|---|",
    ]
    for c in changes:
        rows.append(
            f"| `{c.name}` | {c.before:,} | {c.after:,} | {(c.after - c.before) / c.before:+.1%} "
            f"| {c.why} |"
        )
    return "\n".join(rows) + "\n"


def render(measured: dict[str, int]) -> str:
    """A markdown table of every known operation that was measured, plus any other measured one."""
    rows = [
        "| operation | gas | target | anchor | within target |",
        "|---|---:|---:|---|:---:|",
    ]
    known = {line.name for line in GAS_LINES}
    for line in GAS_LINES:
        if line.name not in measured:
            continue
        gas = measured[line.name]
        target = f"{line.target:,}" if line.target else ""
        verdict = ("yes" if gas <= line.target else "**no**") if line.target else ""
        rows.append(
            f"| {line.operation} (`{line.name}`) | {gas:,} | {target} | {line.anchor} | {verdict} |"
        )
    for name in sorted(set(measured) - known):
        rows.append(f"| `{name}` | {measured[name]:,} | | | |")
    return "\n".join(rows) + "\n"
