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
        "auto-deleveraging step: one position cut to the target (the cut found by bisection)",
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


# The latest round's moves (session 9: the engine asks each account's risk model). A rise above
# 10% must say why here; tests/test_bench_gas_table.py checks that `after` is the snapshot's figure.
# New rows: risk.settle_basis_short_standard, risk.settle_basis_short_portfolio,
# risk.liquidate_1pos_portfolio, risk.liquidate_2pos_2col_portfolio.
_MODEL_SLOT = (
    "every margin check reads the account's risk-model slot (one cold read, 2.1k: issue 18)"
)
_VIEW_HOP = (
    f"{_MODEL_SLOT}; the keeper views it calls (`initialHealthOf`, `liquidatableAccounts`) moved "
    "to the governance module for code room: one more delegatecall hop (cold code, 2.6k)"
)
GAS_CHANGES: tuple[GasChange, ...] = (
    GasChange("engine.fill_open", 109_426, 111_629, _MODEL_SLOT),
    GasChange("engine.liquidate_handoff_2pos_2col", 312_063, 314_266, _MODEL_SLOT),
    GasChange("engine.liquidate_partial", 119_800, 122_003, _MODEL_SLOT),
    GasChange("engine.withdraw", 76_325, 78_517, _MODEL_SLOT),
    GasChange("orders.commit", 47_332, 52_618, _VIEW_HOP),
    GasChange("orders.commit_increase", 96_892, 102_195, _VIEW_HOP),
    GasChange("orders.settle_batch_10", 984_617, 1_006_647, _MODEL_SLOT),
    GasChange("orders.settle_batch_of_1", 199_846, 202_049, _MODEL_SLOT),
    GasChange("orders.settle_batch_per_order", 98_461, 100_664, _MODEL_SLOT),
    GasChange("orders.settle_open", 199_447, 201_650, _MODEL_SLOT),
    GasChange("orders.settle_open_empty_market", 228_116, 230_319, _MODEL_SLOT),
    GasChange("pool.execute_deposit", 310_095, 315_346, _VIEW_HOP),
    GasChange("pool.execute_redeem", 328_315, 333_555, _VIEW_HOP),
    GasChange("system.complete_liquidation_2pos_2col", 587_687, 589_890, _MODEL_SLOT),
    GasChange("system.liquidate_2pos_2col", 325_083, 327_286, _MODEL_SLOT),
    GasChange("system.liquidate_2pos_2col_unprepared", 393_211, 395_414, _MODEL_SLOT),
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
