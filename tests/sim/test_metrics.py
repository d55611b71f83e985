"""The simulator's metrics against what the chain shows, on a run whose keepers wait 3 blocks:
each breach episode is a span the account really was liquidatable, no keeper liquidated before
its latency counted from the episode's start, and liquidations are counted as events and as
accounts exactly as the engine's `Liquidated` logs show them."""

from types import SimpleNamespace

import pytest

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.harness.world import World, world_from_protocol
from solvent.sim import scenarios
from solvent.sim.episodes import LIQUIDATED
from solvent.sim.keepers import KeeperModel, Observation
from solvent.sim.run import auction_shortfall, run

ACCOUNTS = 40
STEP = 900
LATENCY = 3
SLOW = (KeeperModel(latency_blocks=LATENCY), KeeperModel(latency_blocks=LATENCY))


def liquidatable_at(world: World, blocks: list[int], account_count: int) -> dict[int, set[int]]:
    """`liquidatableAccounts` over every account, read on the state of each block."""
    to, data = world.admin.call("liquidatableAccounts", 1, account_count)
    answers = world.rpc.batch(("eth_call", [{"to": to, "data": data}, hex(b)]) for b in blocks)
    return {
        b: {int(a) for a in world.admin.value("liquidatableAccounts", raw)}
        for b, raw in zip(blocks, answers, strict=True)
    }


@pytest.fixture(scope="module")
def slow_run(project, networks):
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        protocol = deploy(project, chain, configs.load("local"), accounts.test_accounts[0])
        world = world_from_protocol(project, chain, protocol, accounts=12)
        result = run(world, scenarios.build("march_2020", 5, ACCOUNTS, SLOW, STEP))
        first = int(result.series["chain_block"][0])
        last = int(result.series["chain_block"][-1])
        count = int(world.read(world.engine, "accountCount"))
        chain_view = liquidatable_at(world, list(range(first - 1, last + 1)), count)
        logs = world.rpc.call("eth_getLogs", world.engine.log_filter("Liquidated", first - 1, last))
        liquidations = [
            (int(log["blockNumber"], 16), event["accountId"])
            for log in logs
            for event in world.engine.decode_logs([log], "Liquidated")
        ]
    return result, first, chain_view, liquidations


def test_each_breach_episode_is_what_the_chain_shows(slow_run):
    result, first, chain_view, liquidations = slow_run

    def block_of(step: int) -> int:  # one block per step; step 0 is the set-up's last block
        return first + step - 1

    liquidated_in = {(block, account) for block, account in liquidations}
    episodes = [e for e in result.episodes if e.outcome == LIQUIDATED]
    assert len(episodes) >= 10
    for e in episodes:
        assert e.end is not None
        # liquidatable after every block from the episode's start until the liquidating block
        for step in range(e.start, e.end):
            assert e.account in chain_view[block_of(step)], e
        # and not before it, unless a liquidation in that very block left it liquidatable
        if e.start > 0:
            assert (
                e.account not in chain_view[block_of(e.start - 1)]
                or (block_of(e.start), e.account) in liquidated_in
            ), e
        assert (block_of(e.end), e.account) in liquidated_in
    for e in result.episodes:
        if e.outcome != LIQUIDATED and e.end is not None:  # recovered: healthy after `end`
            assert e.account not in chain_view[block_of(e.end)], e


def chain_episode_start(
    block: int, account: int, chain_view: dict[int, set[int]], first: int, liquidated: set
) -> int:
    """The block after which the breach that `block` liquidated began, as the chain shows it:
    walk back over the blocks after which the account was liquidatable, stopping at a
    liquidation that left it liquidatable (that block starts a new episode)."""
    start = block - 1
    while (
        start >= first and account in chain_view[start - 1] and (start, account) not in liquidated
    ):
        start -= 1
    assert account in chain_view[start], (block, account)
    return start


def test_no_keeper_liquidates_before_its_latency_from_the_episode_start(slow_run):
    result, first, chain_view, liquidations = slow_run
    liquidated = set(liquidations)
    chain_latencies = [
        block - chain_episode_start(block, account, chain_view, first, liquidated)
        for block, account in liquidations
    ]
    assert min(chain_latencies) >= LATENCY
    latencies = [e.blocks for e in result.episodes if e.outcome == LIQUIDATED]
    assert sorted(latencies) == sorted(chain_latencies)
    assert result.summary["breach_to_liquidation_blocks_max"] == max(latencies)
    assert result.summary["breach_episodes"]["liquidated"] == len(latencies)


def test_liquidations_count_events_and_accounts_as_the_logs_show(slow_run):
    result, _, _, liquidations = slow_run
    assert result.summary["liquidations"] == len(liquidations) > 0
    assert result.summary["liquidated_accounts"] == len({a for _, a in liquidations})
    assert result.summary["liquidated_accounts"] <= result.summary["liquidations"]


def test_bad_debt_series_ends_at_the_final_figure_and_peaks_at_its_maximum(slow_run):
    result = slow_run[0]
    series, summary = result.series["bad_debt"], result.summary
    assert summary["bad_debt_peak_usd"] == max(series) >= summary["bad_debt_usd"]
    assert series[-1] == pytest.approx(summary["bad_debt_usd"], abs=1e-6)  # no auction left


def test_running_auctions_count_the_debt_their_lots_no_longer_cover():
    # A liquidated account's debt sits in its auctions until they end: marked at the oracle.
    weth, wbtc = "0x" + "aa" * 20, "0x" + "bb" * 20
    world = SimpleNamespace(
        decimals={"WETH": 18, "WBTC": 8},
        tokens={"WETH": SimpleNamespace(address=weth), "WBTC": SimpleNamespace(address=wbtc)},
    )

    def auction(account, token, lot, debt, oracle_usd):
        return {"account": account, "token": token, "lot": lot, "debt": debt, "oracle": oracle_usd}

    seen = Observation(
        block=1,
        liquidatable=[],
        auctions=[
            # account 1: 0.4 ETH at $2,000 and 0.01 BTC at $50,000 against $1,600 of debt
            auction(1, weth, 4 * 10**17, 1_000 * 10**6, 2_000 * 10**18),
            auction(1, wbtc, 10**6, 600 * 10**6, 50_000 * 10**18),
            # account 2: 1 ETH covers its $1,500 of debt with room to spare
            auction(2, weth, 10**18, 1_500 * 10**6, 2_000 * 10**18),
        ],
    )
    assert auction_shortfall(world, seen) == 1_600 - 800 - 500  # 300; account 2 adds nothing
