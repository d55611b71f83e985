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
        257_931,
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
    GasLine(
        "risk.health_8x8_standard_model",
        "risk.health_8x8_standard for an account on `StandardRiskModel` (the standard margin "
        "through the risk-model interface)",
    ),
    GasLine(
        "risk.settle_open_built_in",
        "settle a 10 ETH long on $5,000 of quote, the engine's built-in standard margin (warm "
        "market)",
    ),
    GasLine(
        "risk.settle_open_standard_model",
        "the same settlement from the same state for the account on `StandardRiskModel`",
    ),
    GasLine(
        "risk.liquidate_2pos_2col_built_in",
        "liquidation with the hand-off to auctions, 2 positions + 2 collaterals after BTC -15%, "
        "built-in standard margin (tests/risk/test_standard_risk_model.py; the insurance fund is "
        "empty, so no keeper reward moves: system.liquidate_2pos_2col is the same liquidation "
        "with the reward paid)",
    ),
    GasLine(
        "risk.liquidate_2pos_2col_standard_model",
        "the same liquidation from the same state for the account on `StandardRiskModel`",
    ),
    GasLine(
        "capacity.trade_at_limits",
        "a fill opening an account's 8th market (ids up to 63) with 8 collaterals (up to index 15) "
        "held, 64 markets and 16 collaterals listed (mock oracle; the market's slots created)",
    ),
    GasLine(
        "capacity.health_at_limits",
        "`healthOf` of that account sent as a transaction (8 + 8 cold prices and sigmas, mock "
        "oracle)",
    ),
    GasLine(
        "capacity.liquidate_at_limits",
        "partial liquidation of that account after a 10% fall (8 positions, quote pays)",
    ),
    GasLine(
        "capacity.trade_at_limits_portfolio",
        "capacity.trade_at_limits for an account on the portfolio model",
    ),
    GasLine(
        "capacity.health_at_limits_portfolio",
        "capacity.health_at_limits for an account on the portfolio model",
    ),
)


@dataclass(frozen=True)
class GasChange:
    """A row of gas-snapshot.json that moved in the latest round, with the reason."""

    name: str
    before: int
    after: int
    why: str


# The latest round's moves against session 11's snapshot, from two pieces of issue 18: the
# liquidation-gas round (the engine's margin math and storage reads, each measured on
# system.liquidate_2pos_2col in docs/margin.md, "Issue 18"; `_LIQ_*`) and capacity (64 markets and
# 16 collaterals listed, 8 of each per account; docs/margin.md, "Accounts"; `_CAP_*`). A row both
# moved names both reasons. A rise above 10% must say why here; tests/test_bench_gas_table.py
# checks that `after` is the snapshot's figure. New rows: capacity.* (tests/risk/test_capacity.py,
# mock oracle). Then session 13's round on system.liquidate_2pos_2col (docs/margin.md, "Issue 18",
# one step per constant after `_CAP_*`), appended to each row's reason with "; then ", and the
# standard model behind the risk-model interface (`_RISK_INTERFACE`; new rows
# risk.*_standard_model and risk.*_built_in, tests/risk/test_standard_risk_model.py and
# tests/risk/test_eight_by_eight.py). The capacity.* rows, new in session 12, move against
# session 12's figures.
def _then(*reasons: str) -> str:
    """A row's reasons in the order the rounds moved it."""
    return "; then ".join(reasons)


_LIQ_MATH = (
    "`MarginMath.mulDivDown/Up` in assembly (one overflow test, the division unchecked), "
    "`floorDiv`/`ceilDiv` and `_lowestBit` without checked arithmetic; a fill reads and writes "
    "its market's slots 3-4 once each; funding accrual reads slots 0, 4 and 5 once each and "
    "writes slot 3's time without reading it back; the margin pass reads a collateral's slot 0 "
    "once"
)
_LIQ_GLOBALS = (
    "the liquidator reads `globals` with one SLOAD (`_globals()`, in assembly: a struct copy "
    "read the slot once per field)"
)
_LIQ_SEIZE = _LIQ_MATH + "; a seizure reads its custody slot once"
_LIQ_NO_PLAN = (
    _LIQ_SEIZE + "; the escalation to a full closure no longer plans the partial closure first "
    "when quote below the tip and every position's PnL cannot pay it (-5.0k); " + _LIQ_GLOBALS
)
_CAP_1 = (
    "`_lowestBit` is constant gas (a De Bruijn lookup) instead of a loop over the bit's index; "
    "with the accounts' second slot warm after the first read"
)
_CAP_2 = (
    "a fill that closes a market reads the risk-model slot (cold, +2.1k: no margin check reads "
    "it on a close) and writes the mask there (+2.9k); the wider price cache (~1.1k of memory)"
)
_CAP_3 = "code layout of the extension (withdraw moved out): a smaller dispatcher"
_CAP_4 = (
    "each cut account's market mask is read from its second slot (cold, +2.1k), and the wider "
    "price cache (~0.9k of memory)"
)
_CAP_5 = (
    "no pool path reads the account slots or the price cache: the execution's fills and the "
    "engines' dispatch moved (withdraw changed module); full-suite figure"
)
_CAP_6 = "ten settlements, each opening a market: ten times orders.settle_open's +4.2k"
_CAP_7 = (
    "the 64-bit market mask lives in the risk-model slot (`AccountRisk`): a fill that opens a "
    "market writes it there (+2.9k, nonzero to nonzero thanks to the marker set at "
    "openAccount), and the price cache is 16 + 64 + 64 words instead of 4 x 8 (~1.1k of memory "
    "per call)"
)
_CAP_8 = "the account's first slot is decoded in assembly (one SLOAD), the mask left unread"
_CAP_9 = (
    "the bridge's price arrays are 16 + 64 words each way (copied with calldatacopy/mcopy, not "
    "the ABI coder), on top of the wider cache and the mask write of a new market"
)
_CAP_10 = (
    "the order book's `accounts()` read now reads the account's second slot (its market mask, "
    "cold +2.1k), served by the engine's dispatcher as before through the extension"
)
_CAP_11 = (
    "the price cache is 16 + 64 + 64 words instead of 4 x 8 (memory expansion and zeroing, "
    "~1.1k), and a position closed as dust writes the mask in the risk-model slot (+2.9k)"
)
_CAP_12 = (
    "withdraw moved from the extension into the engine (no delegatecall hop), which outweighs "
    "the cold read of the risk-model slot for its idle check"
)
_ORACLE_2_SLOTS = (
    "the oracle's per-asset config in 2 storage words instead of 3 (each field as wide as its "
    "governance bound, the price bounds as a 33-bit mantissa times a power of ten): a cold price "
    "read, roundPrice or poke reads one slot less (-2.1k) and decodes the bit fields (+0.3-0.4k; "
    "on a warm read only the decoding shows)"
)
_LOT_WORDS = (
    "the liquidator reads a lot's collateral slots 1 and 2 once each (`_lotWords`) instead of 4-5"
    " times over `_values`, `_handOff`, `_room` and `_open`, and rewrites slot 1 with the new "
    "dirt from the word it read (-0.5k per lot)"
)
_LOT_LAYOUT = "the liquidator's code layout (`_lotWords`): jump offsets only"
_MARGIN_PASS = (
    "the standard margin pass sums the positions' PnL, notional and requirements unchecked "
    "(bounds proven in `_margin`), adds the per-position minimum once (count x minimum), values a"
    " collateral's amount x price once for both weights, and a lenient read (liquidation, keeper "
    "views) skips the initial-margin half"
)
_KEEPER_RETURNED = (
    "`startAuctions` returns the keeper reward the fund paid, so the engine no longer reads the "
    "keeper's quote balance before and after the call (two cold balanceOf calls)"
)
_KEEPER_RETURNED_MOCK = (
    "`startAuctions` returns the reward it paid too (+2 words of return data); the stand-in "
    "engine (MockSettlementEngine, whose call this row measures) takes its arrays in memory (with"
    " two returns its stack no longer holds two calldata arrays and seven arguments) and passes "
    "both figures on"
)
_ORACLE_DECODE = (
    "the oracle decodes its two config words without an intermediate memory struct, and only the "
    "fields a price read uses (token decimals and the breaker's fields where value and the "
    "breaker need them): -270 per price read"
)
_RISK_INTERFACE = (
    "the risk-model interface carries each position's market id and two more words of verdict "
    "(`maintenanceEquity`, `fixedRequirement`, which the bridge maps to the engine's margin): "
    "the model's input is one word per position longer and its answer two words"
)
_IDLE_CHECK = (
    "`initialHealthOf` of an account with no position (the commit's margin check) runs the "
    "reworked margin pass's fixed steps in the governance module's new code layout (+0.7k; +670 "
    "measured on the liquidation round's branch alone)"
)
GAS_CHANGES: tuple[GasChange, ...] = (
    GasChange("capacity.health_at_limits", 310_373, 299_667, _MARGIN_PASS),
    GasChange("capacity.health_at_limits_portfolio", 404_033, 405_015, _RISK_INTERFACE),
    GasChange("capacity.liquidate_at_limits", 522_282, 511_643, _MARGIN_PASS),
    GasChange("capacity.trade_at_limits", 429_730, 423_096, _MARGIN_PASS),
    GasChange("capacity.trade_at_limits_portfolio", 528_224, 529_272, _RISK_INTERFACE),
    GasChange(
        "engine.auto_deleverage",
        154_209,
        150_630,
        _then(_LIQ_MATH, _CAP_4, _ORACLE_2_SLOTS, _ORACLE_DECODE),
    ),
    GasChange("engine.deposit", 39_733, 39_810, _CAP_8),
    GasChange("engine.fill_close", 59_623, 64_546, _then(_LIQ_MATH, _CAP_2)),
    GasChange("engine.fill_open", 112_919, 114_439, _then(_LIQ_MATH, _CAP_7, _MARGIN_PASS)),
    GasChange(
        "engine.liquidate_handoff_2pos_2col",
        317_489,
        310_498,
        _then(_LIQ_SEIZE, _CAP_11, _MARGIN_PASS, _KEEPER_RETURNED),
    ),
    GasChange(
        "engine.liquidate_partial", 125_196, 123_286, _then(_LIQ_SEIZE, _CAP_11, _MARGIN_PASS)
    ),
    GasChange("engine.withdraw", 78_561, 74_328, _then(_LIQ_MATH, _CAP_12, _MARGIN_PASS)),
    GasChange(
        "liquidator.start_2_lots",
        109_659,
        108_281,
        _then(_LIQ_GLOBALS, _LOT_WORDS, _KEEPER_RETURNED_MOCK),
    ),
    GasChange("liquidator.take_callback", 166_681, 166_652, _then(_LIQ_GLOBALS, _LOT_LAYOUT)),
    GasChange("liquidator.take_full", 89_083, 89_047, _then(_LIQ_GLOBALS, _LOT_LAYOUT)),
    GasChange("liquidator.take_partial", 89_726, 89_690, _then(_LIQ_GLOBALS, _LOT_LAYOUT)),
    GasChange("oracle.poke", 66_572, 64_596, _then(_ORACLE_2_SLOTS, _ORACLE_DECODE)),
    GasChange("oracle.price_warm", 8_298, 8_398, _then(_ORACLE_2_SLOTS, _ORACLE_DECODE)),
    GasChange("orders.commit", 52_618, 54_620, _then(_CAP_10, _IDLE_CHECK)),
    GasChange(
        "orders.commit_increase",
        102_173,
        100_562,
        _then(_CAP_10, _ORACLE_2_SLOTS, _MARGIN_PASS, _ORACLE_DECODE),
    ),
    GasChange(
        "orders.settle_batch_10",
        1_015_951,
        1_042_203,
        _then(_CAP_6, _ORACLE_2_SLOTS, _MARGIN_PASS, _ORACLE_DECODE),
    ),
    GasChange(
        "orders.settle_batch_of_1",
        202_523,
        203_097,
        _then(_CAP_7, _ORACLE_2_SLOTS, _MARGIN_PASS, _ORACLE_DECODE),
    ),
    GasChange(
        "orders.settle_batch_per_order",
        101_595,
        104_220,
        _then(_CAP_7, _ORACLE_2_SLOTS, _MARGIN_PASS, _ORACLE_DECODE),
    ),
    GasChange(
        "orders.settle_open",
        202_124,
        202_698,
        _then(_CAP_7, _ORACLE_2_SLOTS, _MARGIN_PASS, _ORACLE_DECODE),
    ),
    GasChange(
        "orders.settle_open_empty_market",
        231_589,
        232_378,
        _then(_CAP_7, _ORACLE_2_SLOTS, _MARGIN_PASS, _ORACLE_DECODE),
    ),
    GasChange(
        "pool.execute_deposit",
        316_189,
        311_259,
        _then(_LIQ_MATH, _CAP_5, _ORACLE_2_SLOTS, _ORACLE_DECODE),
    ),
    GasChange(
        "pool.execute_redeem",
        334_879,
        329_149,
        _then(_LIQ_MATH, _CAP_5, _ORACLE_2_SLOTS, _ORACLE_DECODE),
    ),
    GasChange(
        "risk.health_8x8_portfolio",
        572_183,
        546_381,
        _then(_LIQ_MATH, _CAP_1, _ORACLE_2_SLOTS, _ORACLE_DECODE, _RISK_INTERFACE),
    ),
    GasChange(
        "risk.health_8x8_standard",
        494_692,
        450_508,
        _then(_LIQ_MATH, _CAP_1, _ORACLE_2_SLOTS, _MARGIN_PASS, _ORACLE_DECODE),
    ),
    GasChange(
        "risk.liquidate_1pos_portfolio",
        165_901,
        165_061,
        _then(_LIQ_SEIZE, _CAP_9, _ORACLE_2_SLOTS, _ORACLE_DECODE, _RISK_INTERFACE),
    ),
    GasChange(
        "risk.liquidate_2pos_2col_portfolio",
        286_854,
        281_403,
        _then(_LIQ_SEIZE, _CAP_9, _ORACLE_2_SLOTS, _ORACLE_DECODE, _RISK_INTERFACE),
    ),
    GasChange("risk.portfolio_health_8m_8c", 142_913, 139_966, _then(_LIQ_MATH, _RISK_INTERFACE)),
    GasChange(
        "risk.settle_basis_short_portfolio",
        251_523,
        254_357,
        _then(_LIQ_MATH, _CAP_9, _ORACLE_2_SLOTS, _ORACLE_DECODE, _RISK_INTERFACE),
    ),
    GasChange(
        "risk.settle_basis_short_standard",
        222_545,
        222_236,
        _then(_LIQ_MATH, _CAP_7, _ORACLE_2_SLOTS, _MARGIN_PASS, _ORACLE_DECODE),
    ),
    GasChange(
        "system.complete_liquidation_2pos_2col",
        593_113,
        572_604,
        _then(
            _LIQ_NO_PLAN,
            _CAP_11,
            _ORACLE_2_SLOTS,
            _LOT_WORDS,
            _MARGIN_PASS,
            _KEEPER_RETURNED,
            _ORACLE_DECODE,
        ),
    ),
    GasChange(
        "system.liquidate_2pos_2col",
        330_509,
        310_182,
        _then(
            _LIQ_NO_PLAN,
            _CAP_11,
            _ORACLE_2_SLOTS,
            _LOT_WORDS,
            _MARGIN_PASS,
            _KEEPER_RETURNED,
            _ORACLE_DECODE,
        ),
    ),
    GasChange(
        "system.liquidate_2pos_2col_unprepared",
        398_637,
        378_310,
        _then(
            _LIQ_NO_PLAN,
            _CAP_11,
            _ORACLE_2_SLOTS,
            _LOT_WORDS,
            _MARGIN_PASS,
            _KEEPER_RETURNED,
            _ORACLE_DECODE,
        ),
    ),
    GasChange("system.take_lot_0", 131_302, 131_211, _then(_LIQ_GLOBALS, _CAP_3, _LOT_LAYOUT)),
    GasChange(
        "system.take_lot_0_inventory", 114_202, 114_111, _then(_LIQ_GLOBALS, _CAP_3, _LOT_LAYOUT)
    ),
    GasChange("system.take_lot_1", 131_302, 131_211, _then(_LIQ_GLOBALS, _CAP_3, _LOT_LAYOUT)),
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
