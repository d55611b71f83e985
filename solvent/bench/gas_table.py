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
    GasLine("orders.commit", "commit an order (no position yet)", 60_000),
    GasLine(
        "orders.commit_increase",
        "commit an order that adds to a portfolio (margin pre-check prices it)",
        60_000,
    ),
    GasLine(
        "orders.settle_open",
        "settle an order opening a position in a market with positions (round check, fill, "
        "funding accrued, fees)",
        130_000,
        "Synthetix v3 settleOrder (Pyth): not measured here",
    ),
    GasLine(
        "orders.settle_open_empty_market",
        "settle the first position of an empty market (its funding and open-interest slots are "
        "created: 2 x 20k)",
    ),
    GasLine(
        "orders.settle_batch_per_order",
        "settle opening orders in a batch (`settleOrders`, 10 orders of one market and round), "
        "per order",
        130_000,
        "Synthetix v3 settleOrder (Pyth): not measured here",
    ),
    GasLine("orders.settle_batch_10", "the batch of 10 opening orders, the whole call"),
    GasLine(
        "orders.settle_batch_of_1",
        "settle_open's order through settleOrders([id]) (a batch of one)",
        201_031,
    ),
    GasLine("engine.fill_open", "the engine's fill opening a position (order book's call)"),
    GasLine("engine.fill_close", "the engine's fill closing a position (order book's call)"),
    GasLine("engine.liquidate_partial", "partial liquidation (positions only)", None),
    GasLine(
        "engine.liquidate_handoff_2pos_2col",
        "liquidation, 2 positions + 2 collaterals, hand-off to the minimal test liquidator",
        300_000,
        "Maker bark 400,219; Aave liquidationCall 349,519",
    ),
    GasLine(
        "system.liquidate_2pos_2col",
        "liquidation, 2 positions + 2 collaterals, hand-off to the real liquidator",
        300_000,
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
    GasLine(
        "orders.settle_open_empty_market",
        "settle an order opening the first position of an empty market (its slots created)",
    ),
    GasLine("pool.request_deposit", "LP deposit request (ERC-7540, quote escrowed)"),
    GasLine(
        "pool.execute_deposit",
        "execute an LP deposit at its determining rounds (2 markets re-marked, account scan)",
        None,
        "GMX v2 executeDeposit: not measured here",
    ),
    GasLine("pool.request_redeem", "LP redeem request (shares escrowed)"),
    GasLine("pool.execute_redeem", "execute an LP redemption at its determining rounds"),
)


@dataclass(frozen=True)
class GasChange:
    """A row of gas-snapshot.json that moved in the latest round, with the reason."""

    name: str
    before: int
    after: int
    why: str


# The latest round's moves (issue 14's gas targets). A rise above 10% must say why here;
# tests/test_bench_gas_table.py checks that `after` is the snapshot's figure.
_FEE_IN_FILL = (
    "the settlement fee is charged inside fillOrder (one engine call per fill instead of two)"
)
_RISK_PRICE = (
    "the risk gate returns the price (`riskIncreasePrice`): one oracle call per held asset "
    "instead of a gate call and a price call"
)
_BORROW_SLOT = "the borrow state is written in one SSTORE (was one read-modify-write per field)"
_DISPATCH = "one more selector in the engine's dispatch (marketSkew, fillOrder's new arguments)"
GAS_CHANGES: tuple[GasChange, ...] = (
    GasChange(
        "orders.settle_open",
        245_553,
        201_031,
        "now measured in a market with positions, a minute after the last fill (funding accrues "
        "over the delay; the market's slots exist, as in a live market; the empty market's first "
        f"position is settle_open_empty_market); {_FEE_IN_FILL}; marketSkew in the engine "
        f"proper (no fallback hop); {_RISK_PRICE}; {_BORROW_SLOT}",
    ),
    GasChange(
        "orders.settle_open_empty_market",
        245_553,
        229_700,
        "the former settle_open scenario (the market's first position: its funding and "
        f"open-interest slots are created, 2 x 20k); {_FEE_IN_FILL}; marketSkew in the engine; "
        f"{_RISK_PRICE}; {_BORROW_SLOT}",
    ),
    GasChange("engine.fill_open", 112_236, 111_407, f"{_RISK_PRICE}; {_BORROW_SLOT}"),
    GasChange("engine.withdraw", 77_107, 76_347, f"{_RISK_PRICE}; {_BORROW_SLOT}"),
    GasChange("engine.liquidate_handoff_2pos_2col", 312_298, 312_063, _BORROW_SLOT),
    GasChange("engine.liquidate_partial", 120_138, 119_801, _BORROW_SLOT),
    GasChange("system.liquidate_2pos_2col", 325_443, 325_081, _BORROW_SLOT),
    GasChange("system.liquidate_2pos_2col_unprepared", 393_571, 393_209, _BORROW_SLOT),
    GasChange("system.complete_liquidation_2pos_2col", 588_133, 587_773, _BORROW_SLOT),
    GasChange("engine.deposit", 39_712, 39_779, _DISPATCH),
    GasChange("engine.fill_close", 61_184, 61_222, f"{_DISPATCH}; fillOrder's settler check"),
    GasChange("orders.commit", 47_331, 47_332, _DISPATCH),
    GasChange("orders.commit_increase", 96_891, 96_892, _DISPATCH),
    GasChange("system.take_lot_0", 131_345, 131_346, _DISPATCH),
    GasChange("system.take_lot_1", 131_345, 131_346, _DISPATCH),
    GasChange("system.take_lot_0_inventory", 114_245, 114_246, _DISPATCH),
    GasChange(
        "oracle.poke",
        66_562,
        66_572,
        "an expired volatility forecast is cleared at the poke (docs/predictive-margin.md)",
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
