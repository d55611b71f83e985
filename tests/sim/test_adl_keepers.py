"""The simulator's keepers run auto-deleveraging (issue 15) on a real deployment, and its summary
counts what the chain did: ADL runs and volume, profit unpaid, fills the exposure bound refused.

A long-only crowd on a small pool: the exposure bound refuses the opening trades that would take
the pool's ETH exposure past its cash, then ETH rallies by as much as takes the market's traders'
PnL to ~95% of the pool's value without PnL (above the 85% trigger). The keepers must bring the
factor to the 77% target or below by cutting profitable longs, and stop there."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.bench import render
from solvent.deploy import deploy
from solvent.harness.population import PopulationSpec
from solvent.harness.trading import POOL_EXPOSURE_EXCEEDED, TradeRequest, trade
from solvent.harness.world import World, world_from_protocol
from solvent.sim import deleveraging, scenarios
from solvent.sim.keepers import KeeperModel
from solvent.sim.paths import PricePath
from solvent.sim.run import FIRST_KEEPER_ACCOUNT, Scenario, _Tally, run_path, set_up

WAD = 10**18
STEP = 300
ETH0, BTC0 = 2_000.0, 60_000.0
TARGET = 77 * WAD // 100
TRIGGER = 85 * WAD // 100
KEEPERS = (KeeperModel(latency_blocks=1), KeeperModel(latency_blocks=1, failure_rate=0.2))
LP_USD = 1_000_000.0  # small enough that the crowd's ETH longs reach the bound


@contextmanager
def fresh_world(project, networks) -> Iterator[World]:
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        protocol = deploy(project, chain, configs.load("local"), accounts.test_accounts[0])
        yield world_from_protocol(
            project, chain, protocol, accounts=FIRST_KEEPER_ACCOUNT + len(KEEPERS)
        )


def flat(start: float, steps: int) -> PricePath:
    return PricePath("flat", STEP, (start,) * steps)


def long_crowd(name: str) -> Scenario:
    """24 accounts, all long, against a pool small enough for their profit to reach the bound;
    prices flat for 40 steps (a test moves them itself)."""
    population = PopulationSpec(accounts=24, seed=5, long_share=1.0, lp_usd=LP_USD)
    paths = {"WETH": flat(ETH0, 40), "WBTC": flat(BTC0, 40)}
    return Scenario(name=name, paths=paths, population=population, keepers=KEEPERS, seed=5)


@pytest.fixture(scope="module")
def rally(project, networks):
    scenario = long_crowd("eth_rally")
    with fresh_world(project, networks) as world:
        traders, agents = set_up(world, scenario)
        eth = world.market_ids["WETH"]
        market = world.read_named(world.admin, "markets", eth)
        net_usd = (int(market.longOpenInterest) - int(market.shortOpenInterest)) / WAD * ETH0
        pool_usd = int(world.read(world.pool, "totalAssets")) / 10**6
        # the rally that takes the longs' PnL to 95% of the pool's value
        rallied = ETH0 * (1 + 0.95 * pool_usd / net_usd)
        path = PricePath("eth_rally", STEP, (ETH0,) * 3 + (rallied,) * 37)
        scenario = replace(scenario, paths={"WETH": path, "WBTC": flat(BTC0, 40)})
        first_block = world.block()[0] + 1
        result = run_path(world, scenario, traders, agents)
        cuts = world.logs(world.engine, "AutoDeleveraged", first_block)
        runs = world.logs(world.engine, "AdlExecuted", first_block)
        unpaid = world.logs(world.engine, "ProfitUnpaid", first_block)
        after = deleveraging.simulate(world, agents[0].sender, eth, [])
        reading = deleveraging.pool_reading(world)
        yield {
            "result": result,
            "traders": traders,
            "net_usd": net_usd,
            "cash_usd": int(world.read_named(world.admin, "ledger").poolCash) / 10**6,
            "cuts": cuts,
            "runs": runs,
            "unpaid": unpaid,
            "after": after,
            "reading": reading,
            "eth": eth,
            "world": world,
        }


def test_the_exposure_bound_refuses_the_opening_trades_past_the_pools_cash(rally):
    summary = rally["result"].summary
    refused = [
        t.account_id
        for t in rally["traders"]
        for error in t.refused.values()
        if error == POOL_EXPOSURE_EXCEEDED
    ]
    assert refused, "the crowd's longs should reach the bound on a $1M pool"
    assert summary["exposure_refused"] == {"setup": len(refused), "run": 0}
    assert summary["exposure_refused_fills"] == len(refused)
    assert summary["trades_refused"][POOL_EXPOSURE_EXCEEDED] == len(refused)
    # what the bound let through stays within it: the net long at most the pool's cash
    assert rally["net_usd"] <= LP_USD * 1.01


def test_keepers_deleverage_the_rallied_market_down_to_the_target(rally):
    summary = rally["result"].summary
    cuts, runs = rally["cuts"], rally["runs"]
    assert runs and cuts
    assert summary["adl_runs"] == len(runs)
    assert summary["adl_positions_cut"] == len(cuts)
    assert summary["adl_blocks_triggered"] >= 1
    assert all(int(r["marketId"]) == rally["eth"] for r in runs)
    assert all(int(r["factorBefore"]) > TRIGGER for r in runs)
    assert summary["adl_factor_max"] == pytest.approx(
        max(int(r["factorBefore"]) for r in runs) / WAD, abs=1e-4
    )
    # the longs are cut (never grown), each at a profit
    assert all(int(c["sizeDelta"]) < 0 and int(c["realizedPnl"]) > 0 for c in cuts)
    volume = sum(abs(int(c["sizeDelta"])) * int(c["price"]) // WAD for c in cuts) / WAD
    assert summary["adl_volume_usd"] == pytest.approx(volume, rel=1e-12)
    realized = sum(int(c["realizedPnl"]) for c in cuts) / WAD
    assert summary["adl_realized_pnl_usd"] == pytest.approx(realized, rel=1e-12)
    # the last run reached the target, and the keepers stopped: the trigger no longer holds
    assert int(runs[-1]["factorAfter"]) <= TARGET
    name, args = rally["after"]
    assert name == "AdlNotTriggered" and int(args[0]) <= TARGET
    # the model's reading of the pool's factor (every market's profit) is the engine's, to the wei
    factor, bar, pnl = rally["reading"]
    assert (factor, bar) == (int(args[0]), int(args[1])) == (factor, TRIGGER)
    assert set(pnl) == set(rally["world"].market_ids.values())


def test_profit_unpaid_is_the_chains(rally):
    summary = rally["result"].summary
    assert summary["profit_unpaid_events"] == len(rally["unpaid"])
    assert summary["profit_unpaid_usd"] == pytest.approx(
        sum(int(e["amount"]) for e in rally["unpaid"]) / 10**6, rel=1e-12
    )
    # the pool's cash paid the cuts' profit: it stays positive, so nothing went unpaid here
    assert rally["cash_usd"] > 0
    assert summary["profit_unpaid_usd"] == 0


def test_the_ranking_puts_the_best_pnl_times_leverage_first():
    assert deleveraging.score(10, 100, 0) == float("inf")
    assert deleveraging.score(10, 100, 50) > deleveraging.score(10, 100, 100)
    assert deleveraging.score(20, 100, 100) > deleveraging.score(10, 100, 100)
    assert deleveraging.gas_for(2) == deleveraging.BASE_GAS + 2 * deleveraging.GAS_PER_ENTRY


def test_the_adl_factor_series_is_the_pools(rally):
    series = rally["result"].series["adl_factor_pool"]
    factor_max = rally["result"].summary["adl_factor_max"]
    assert len(series) == len(rally["result"].series["block"])
    assert series[0] < 0.01  # the flat start: the longs are about at their entry price
    assert max(series) > 0.85  # the block after which the rally triggered ADL
    assert series[-1] <= TARGET / WAD  # cut to the target, and no new trigger
    # the summary's largest factor, to its 4 decimals: the readings' and the runs' factorBefore
    assert max(series) == pytest.approx(factor_max, abs=1e-4)


def test_a_run_time_fill_the_bound_refuses_is_counted(rally):
    """After the rally and the cuts the pool's cash ($215k) is below the longs' net notional, so
    any fill that grows the net long is refused: the order book cancels it with the engine's
    PoolExposureExceeded, and the tally counts the cancellation from the settlement's receipt."""
    world, trader = rally["world"], rally["traders"][0]
    [outcome] = trade(world, [TradeRequest(trader.owner, trader.account_id, "WETH", WAD // 10)])
    assert outcome.error == POOL_EXPOSURE_EXCEEDED
    tally = _Tally()
    tally._absorb_pool_bounds(world, outcome.receipt)
    assert tally.exposure_refused == 1


def test_the_bench_table_shows_the_columns_and_na_for_older_runs(rally):
    summary = rally["result"].summary
    older = {k: v for k, v in summary.items() if not k.startswith(("adl_", "profit_", "exposure"))}
    lines = render._sims([summary, older])
    header = next(line for line in lines if line.startswith("| scenario"))
    rows = [line for line in lines if line.startswith("| eth_rally")]
    assert header.endswith(
        "| ADL runs | ADL volume $ | profit unpaid $ | fills refused by the exposure bound |"
    )
    assert rows[0].endswith(
        f"| {summary['adl_runs']} | {summary['adl_volume_usd']:,.0f} | 0 "
        f"| {summary['exposure_refused_fills']} |"
    )
    assert rows[1].endswith("| n/a | n/a | n/a | n/a |")


@pytest.fixture(scope="module")
def both_rally(project, networks):
    """The same crowd, now ETH and BTC rallying each by as much as takes its market's traders'
    PnL to 45% of the pool's value without PnL: each alone below the 0.85 trigger, together about
    0.9. Cutting one market's profit to 0 leaves about 0.45 / 0.55 = 0.82: below the trigger,
    above the 0.77 target."""
    scenario = long_crowd("both_rally")
    with fresh_world(project, networks) as world:
        traders, agents = set_up(world, scenario)
        pool_usd = int(world.read(world.pool, "totalAssets")) / 10**6
        paths, net = {}, {}
        for key, start in (("WETH", ETH0), ("WBTC", BTC0)):
            market = world.read_named(world.admin, "markets", world.market_ids[key])
            net[key] = (int(market.longOpenInterest) - int(market.shortOpenInterest)) / WAD * start
            rallied = start * (1 + 0.45 * pool_usd / net[key])
            paths[key] = PricePath(f"{key}_rally", STEP, (start,) * 3 + (rallied,) * 37)
        first_block = world.block()[0] + 1
        result = run_path(world, replace(scenario, paths=paths), traders, agents)
        yield {
            "result": result,
            "net": net,
            "runs": world.logs(world.engine, "AdlExecuted", first_block),
            "cuts": world.logs(world.engine, "AutoDeleveraged", first_block),
            "after": [
                deleveraging.simulate(world, agents[0].sender, m, [])
                for m in sorted(world.market_ids.values())
            ],
        }


def test_keepers_deleverage_one_market_then_the_next_while_armed(both_rally):
    """Every run names one market; the runs cut the first market (the larger PnL) until its
    traders are out of profit with the pool still above the target, then the other: its first
    run starts below the trigger (only `armed` allows it), and the last ends at the target.
    Measured: ETH 0.8999 -> 0.8180 (armed), then BTC 0.8179 -> 0.77, 15 positions cut."""
    runs, summary = both_rally["runs"], both_rally["result"].summary
    assert all(net > 0 for net in both_rally["net"].values())
    order = [int(r["marketId"]) for r in runs]
    assert len(set(order)) == 2, order  # both markets were cut
    switch = next(i for i, m in enumerate(order) if m != order[0])
    assert all(m == order[switch] for m in order[switch:])  # one market, then the other
    assert int(runs[0]["factorBefore"]) > TRIGGER
    assert int(runs[switch - 1]["factorAfter"]) < int(runs[0]["factorBefore"])
    assert int(runs[switch]["factorBefore"]) <= TRIGGER
    assert all(int(r["factorAfter"]) > TARGET for r in runs[:switch])  # armed after each
    assert all(int(r["factorBefore"]) > TARGET for r in runs)
    assert int(runs[-1]["factorAfter"]) <= TARGET
    assert summary["adl_runs"] == len(runs) and summary["adl_positions_cut"] == len(
        both_rally["cuts"]
    )
    # done: the pool is below the target and disarmed, no market can be cut
    for name, args in both_rally["after"]:
        assert name == "AdlNotTriggered" and int(args[0]) <= TARGET and int(args[1]) == TRIGGER
