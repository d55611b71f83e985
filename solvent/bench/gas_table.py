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
        "engine.auto_deleverage",
        "auto-deleveraging step: one position cut to the target (bisection from the analytic "
        "estimate)",
    ),
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
    GasLine(
        "risk.portfolio_health_8m_8c",
        "portfolio-model health of an account with 8 markets and 8 collaterals, 16 scenarios "
        "(the first call of a transaction: cold model and grid slots)",
        150_000,
    ),
    GasLine(
        "risk.health_8x8_standard",
        "the engine's `healthOf` of one account at 8 markets + 8 collaterals, standard margin "
        "(sent as a transaction, every slot cold: 16 oracle prices and sigmas)",
    ),
    GasLine(
        "risk.health_8x8_portfolio",
        "the same view on the portfolio model (the engine's reads, the bridge and the model)",
        150_000,
    ),
    GasLine(
        "risk.settle_basis_short_standard",
        "settle a 100 ETH short against 100 WETH collateral, standard margin (warm market)",
    ),
    GasLine(
        "risk.settle_basis_short_portfolio",
        "the same settlement for an account on the portfolio model (target: standard + 15%)",
        254_314,
    ),
    GasLine(
        "risk.liquidate_1pos_portfolio",
        "partial liquidation of an account on the portfolio model (one position)",
    ),
    GasLine(
        "risk.liquidate_2pos_2col_portfolio",
        "partial liquidation on the portfolio model, 2 positions + 2 collaterals (quote pays the "
        "penalty: no auction)",
        300_000,
    ),
)


@dataclass(frozen=True)
class GasChange:
    """A row of gas-snapshot.json that moved in the latest round, with the reason."""

    name: str
    before: int
    after: int
    why: str


# The latest round's moves (issue 18's liquidation target, ≤ 300k for 2 positions + 2
# collaterals under either model: the engine's margin math and storage reads, each measured on
# system.liquidate_2pos_2col in docs/margin.md, "Issue 18"), and the rows of session 11 that this
# round left where they were (ADL's estimate, the pool's PnL). A rise above 10% must say why here;
# tests/test_bench_gas_table.py checks that `after` is the snapshot's figure.
_ADL_ESTIMATE = (
    "the cut's bisection starts from the analytic estimate (a 6-wei bracket instead of ~70 "
    "steps over the position), while the factor now also reads every other market"
)
_POOL_PNL = (
    "the pool's value sums each market's traders' PnL through `_marketTraderPnl`, shared with "
    "ADL's reading of the other markets (one more internal call and return per market)"
)
_MATH = (
    "`MarginMath.mulDivDown/Up` in assembly (one overflow test, the division unchecked), "
    "`floorDiv`/`ceilDiv` and `_lowestBit` without checked arithmetic; a fill reads and writes "
    "its market's slots 3-4 once each; funding accrual reads slots 0, 4 and 5 once each and "
    "writes slot 3's time without reading it back; the margin pass reads a collateral's slot 0 "
    "once"
)
_GLOBALS = (
    "the liquidator reads `globals` with one SLOAD (`_globals()`, in assembly: a struct copy "
    "read the slot once per field)"
)
_MATH_LIQ = _MATH + "; a seizure reads its custody slot once"
_NO_PLAN = (
    _MATH_LIQ + "; the escalation to a full closure no longer plans the partial closure first "
    "when quote below the tip and every position's PnL cannot pay it (-5.0k); " + _GLOBALS
)
GAS_CHANGES: tuple[GasChange, ...] = (
    GasChange("engine.auto_deleverage", 477_395, 154_209, _ADL_ESTIMATE),
    GasChange("engine.fill_close", 59_623, 58_390, _MATH),
    GasChange("engine.fill_open", 112_919, 110_294, _MATH),
    GasChange("engine.liquidate_handoff_2pos_2col", 317_489, 310_333, _MATH_LIQ),
    GasChange("engine.liquidate_partial", 125_196, 122_355, _MATH_LIQ),
    GasChange("engine.withdraw", 78_561, 76_894, _MATH),
    GasChange("liquidator.start_2_lots", 109_659, 108_605, _GLOBALS),
    GasChange("liquidator.take_callback", 166_681, 166_662, _GLOBALS),
    GasChange("liquidator.take_full", 89_083, 89_059, _GLOBALS),
    GasChange("liquidator.take_partial", 89_726, 89_702, _GLOBALS),
    GasChange("pool.execute_deposit", 315_719, 316_189, _POOL_PNL),
    GasChange("pool.execute_redeem", 333_927, 334_879, _POOL_PNL),
    GasChange("risk.health_8x8_portfolio", 572_183, 560_379, _MATH),
    GasChange("risk.health_8x8_standard", 494_692, 478_041, _MATH),
    GasChange("risk.liquidate_1pos_portfolio", 165_901, 163_270, _MATH_LIQ),
    GasChange("risk.liquidate_2pos_2col_portfolio", 286_854, 281_367, _MATH_LIQ),
    GasChange("risk.portfolio_health_8m_8c", 142_913, 139_709, _MATH),
    GasChange("risk.settle_basis_short_portfolio", 251_523, 249_416, _MATH),
    GasChange("risk.settle_basis_short_standard", 222_545, 219_920, _MATH),
    GasChange("system.complete_liquidation_2pos_2col", 593_113, 577_346, _NO_PLAN),
    GasChange("system.liquidate_2pos_2col", 330_509, 314_790, _NO_PLAN),
    GasChange("system.liquidate_2pos_2col_unprepared", 398_637, 382_918, _NO_PLAN),
    GasChange("system.take_lot_0", 131_302, 131_278, _GLOBALS),
    GasChange("system.take_lot_0_inventory", 114_202, 114_178, _GLOBALS),
    GasChange("system.take_lot_1", 131_302, 131_278, _GLOBALS),
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
