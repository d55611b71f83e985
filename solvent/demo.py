"""`make demo`: the whole system on a local Anvil — a few hundred leveraged traders, the keeper,
a price crash — with a live progress line, a printed summary and a report under reports/demo/.

The demo drives the chain block by block (automine off): each block carries the new feed prices
and whatever the keeper sent after seeing the previous block, so the keeper's reaction latency is
measured in blocks, as on a real chain with 12-second blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy, write_record
from solvent.harness.population import PopulationSpec, Trader, hire_keepers, open_population
from solvent.harness.trading import TradeRequest, commit_txs, keeper_settles
from solvent.harness.world import DEV_ACCOUNTS, KEEPER, World, pool_income, world_from_protocol
from solvent.keeper.bot import Keeper
from solvent.report import Report, Series

WAD = 10**18
QUOTE = 10**6
KEEPER_CAPITAL_USD = 20_000_000
HEALTH_PLOT_CAP = 5.0


@dataclass(frozen=True)
class DemoOptions:
    accounts: int = 300
    seed: int = 1
    eth_drop: float = 0.35
    btc_drop: float = 0.30
    crash_blocks: int = 20
    max_settle_blocks: int = 400
    block_seconds: int = 12
    close_share: float = 0.2  # traders who close a position through an order during the crash
    close_step: int = 3  # the crash block their orders are committed in
    out: Path = Path("reports/demo")


@dataclass
class DemoResult:
    summary: dict[str, Any]
    files: list[Path]


def run_demo(
    project: Any,
    networks: Any,
    options: DemoOptions,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoResult:
    config = configs.load("local")
    start = {a.key: float(a.feed.initial_price or 0) for a in config.assets}
    end = {
        "WETH": start["WETH"] * (1 - options.eth_drop),
        "WBTC": start["WBTC"] * (1 - options.btc_drop),
    }
    with ape_on_own_anvil(networks, AnvilOptions(accounts=DEV_ACCOUNTS, gas_limit=1_000_000_000)):
        from ape import accounts, chain

        protocol = deploy(project, chain, config, accounts.test_accounts[0])
        record_path = write_record(
            protocol,
            config,
            "demo",
            chain.chain_id,
            project.config.solidity.version,
            folder=options.out,
            force=True,
        )
        world = world_from_protocol(project, chain, protocol)
        keeper = _hire_keeper(world)
        orders = "order_book" in world.codecs
        traders = open_population(
            world,
            PopulationSpec(options.accounts, options.seed),
            start,
            settle_with=keeper_settles(keeper) if orders else None,  # the keeper settles
        )
        ids = [t.account_id for t in traders]
        health_before = _healths(world, ids)
        fund_before = _balance(world, world.fund.address)
        first_block, now = world.block()

        series: dict[str, list[float]] = {
            "block": [],
            "WETH": [],
            "WBTC": [],
            "fund": [],
            "pool": [],
        }
        latencies: list[int] = []
        settle_latencies: list[int] = []
        world.set_automine(False)
        try:
            total = options.crash_blocks + options.max_settle_blocks
            for step in range(1, total + 1):
                weight = min(step / options.crash_blocks, 1.0)
                prices = {k: start[k] + (end[k] - start[k]) * weight for k in start}
                now += options.block_seconds
                if orders and step == options.close_step:  # in this block, with the prices
                    world.post(_closing_commits(world, traders, options.close_share))
                world.set_prices_in_block(prices, now)
                report = keeper.step()
                latencies += report.latencies
                settle_latencies += report.settle_latencies
                fund, pool = world.read_many(
                    [
                        (world.quote, "balanceOf", (world.fund.address,)),
                        (world.pool, "totalAssets", ()),
                    ]
                )
                series["block"].append(step)
                for key, price in prices.items():
                    series[key].append(price)
                series["fund"].append(fund / QUOTE)
                series["pool"].append(pool / QUOTE)
                if progress:
                    phase = "crash" if step <= options.crash_blocks else "settling"
                    progress(phase, step, total)
                settled = step > options.crash_blocks and report.liquidatable == 0
                settled = settled and not keeper.order_index.pending
                if settled and not world.read(world.liquidator, "activeAuctionIds"):
                    break
            world.mine_at(now + options.block_seconds)  # the keeper's last transactions
        finally:
            world.set_automine(True)
        last_block, _ = world.block()
        events = _events(world, first_block, last_block)
        summary = _summary(
            options,
            traders,
            events,
            series,
            latencies,
            fund_before,
            _balance(world, world.fund.address),
            _negative_equity(world, ids),
            world,
            first_block,
        )
        summary["orders"] = _order_summary(world, settle_latencies) if orders else None
        summary.update(pool_income(world, ids))
        summary["deployment_record"] = str(record_path)

    report = Report(
        title="Solvent demo",
        summary=summary,
        time_plots={
            "price": [Series(k, series["block"], series[k]) for k in ("WETH", "WBTC")],
            "insurance_fund": [Series("insurance fund (USD)", series["block"], series["fund"])],
            "lp_pool": [Series("LP pool assets (USD)", series["block"], series["pool"])],
        },
        histograms={"health_before_crash": [min(h, HEALTH_PLOT_CAP) for h in health_before]},
    )
    return DemoResult(summary, report.write(options.out))


def _hire_keeper(world: World) -> Keeper:
    hire_keepers(world, [KEEPER], KEEPER_CAPITAL_USD, approve=False)  # it approves by itself
    keeper: Keeper = world.keeper(KEEPER)
    keeper.sync()
    return keeper


def _closing_commits(world: World, traders: list[Trader], share: float) -> list[Any]:
    """Orders closing the first position of every `1/share`-th trader still holding it (reduce
    orders: no commit pre-check; the keeper settles them once their round is published)."""
    every = max(1, round(1 / share)) if share > 0 else 0
    chosen = [t for t in traders[::every] if t.positions] if every else []
    held = [(t, next(iter(t.positions))) for t in chosen]
    sizes = world.read_many(
        [(world.admin, "positions", (t.account_id, world.market_ids[m])) for t, m in held]
    )
    return commit_txs(
        world,
        [
            TradeRequest(t.owner, t.account_id, m, -int(size[0]))
            for (t, m), size in zip(held, sizes, strict=True)
            if int(size[0]) != 0
        ],
    )


def _order_summary(world: World, settle_latencies: list[int]) -> dict[str, Any]:
    """Orders over the whole run (the population's and the crash's closes): committed, settled,
    cancelled, and the blocks from each crash order's price to its settlement."""
    book = world.c("order_book")
    committed = world.logs(book, "OrderCommitted")
    settled = world.logs(book, "OrderSettled")
    cancelled = world.logs(book, "OrderCancelled")
    return {
        "committed": len(committed),
        "settled": len(settled),
        "cancelled": len(cancelled),
        "pending": len(committed) - len(settled) - len(cancelled),
        "settlement_fees_usd": sum(e["settlementFee"] for e in settled + cancelled) / QUOTE,
        "trade_fees_usd": sum(e["tradeFee"] for e in settled) / QUOTE,
        "settle_latency_blocks_max": max(settle_latencies, default=None),
        "settle_latency_blocks_mean": round(mean(settle_latencies), 2)
        if settle_latencies
        else None,
    }


def _healths(world: World, ids: list[int]) -> list[float]:
    return [int(h[2]) / WAD for h in world.read(world.admin, "healthOf", ids)]


def _negative_equity(world: World, ids: list[int]) -> float:
    return sum(max(0, -int(h[0])) for h in world.read(world.admin, "healthOf", ids)) / WAD


def _balance(world: World, holder: str) -> int:
    return int(world.read(world.quote, "balanceOf", holder))


def _events(world: World, first: int, last: int) -> dict[str, list[Any]]:
    wanted = {
        "Liquidated": world.engine,
        "BadDebtWrittenOff": world.engine,
        "Take": world.liquidator,
        "AuctionStarted": world.liquidator,
        "AuctionEnded": world.liquidator,
    }
    out = {}
    for name, codec in wanted.items():
        logs = world.rpc.call("eth_getLogs", codec.log_filter(name, first, last))
        out[name] = [
            (int(log["blockNumber"], 16), args)
            for log, args in zip(logs, codec.decode_logs(logs, name), strict=True)
        ]
    return out


def _summary(
    options: DemoOptions,
    traders: list,
    events: dict[str, list[Any]],
    series: dict[str, list[float]],
    latencies: list[int],
    fund_before: int,
    fund_after: int,
    outstanding: float,
    world: World,
    first_block: int,
) -> dict[str, Any]:
    token_key = {codec.address.lower(): key for key, codec in world.tokens.items()}
    started = {args["id"]: token_key[args["token"].lower()] for _, args in events["AuctionStarted"]}
    ratios = []
    for block, args in events["Take"]:
        # Each demo step mines one block: step n is block first_block + n, and a take in it sees
        # the price written at the top of that block.
        key, index = started.get(args["id"]), block - first_block - 1
        if key and 0 <= index < len(series[key]):
            ratios.append(args["price"] / WAD / series[key][index])
    bad = sum(args["debt"] for _, args in events["BadDebtWrittenOff"]) / QUOTE
    socialized = sum(args["socialized"] for _, args in events["BadDebtWrittenOff"]) / QUOTE
    return {
        "accounts": len(traders),
        "accounts_liquidated": len({args["accountId"] for _, args in events["Liquidated"]}),
        "liquidations": len(events["Liquidated"]),
        "auctions_started": len(events["AuctionStarted"]),
        "auctions_settled": len(events["AuctionEnded"]),
        "takes": len(events["Take"]),
        "average_clearing_price_vs_oracle": round(mean(ratios), 4) if ratios else None,
        "bad_debt_usd": round(bad, 2),
        "socialized_usd": round(socialized, 2),
        "outstanding_negative_equity_usd": round(outstanding, 2),
        "insurance_fund_before_usd": fund_before / QUOTE,
        "insurance_fund_after_usd": fund_after / QUOTE,
        "reaction_latency_blocks_mean": round(mean(latencies), 2) if latencies else None,
        "reaction_latency_blocks_max": max(latencies, default=None),
        "blocks": len(series["block"]),
        "crash": {
            "WETH": -options.eth_drop,
            "WBTC": -options.btc_drop,
            "blocks": options.crash_blocks,
        },
    }
