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
from solvent.sim.keepers import KeeperModel, Observation, auction_action
from solvent.sim.run import auction_shortfall, run

ACCOUNTS = 40
STEP = 300  # 5-minute blocks: a 3-block latency still lets takes land before the auction tail
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
        actions = auction_actions_with_history(world, first, last)
    return result, first, chain_view, liquidations, actions


def auction_actions_with_history(world: World, first: int, last: int) -> list[tuple]:
    """Every take and reset of the run: (kind, block, auction id, the action each keeper would
    have chosen for that auction after each of the LATENCY blocks before it), read from the
    auction's `status` and the oracle at those blocks."""
    found = []
    for kind, event in (("take", "Take"), ("reset", "AuctionReset")):
        raw = world.rpc.call("eth_getLogs", world.liquidator.log_filter(event, first, last))
        for log in raw:
            [decoded] = world.liquidator.decode_logs([log], event)
            found.append((kind, int(log["blockNumber"], 16), int(decoded["id"])))
    out = []
    for kind, block, auction_id in found:
        before = list(range(block - LATENCY, block))
        to, data = world.liquidator.call("status", auction_id)
        raw = world.rpc.batch(("eth_call", [{"to": to, "data": data}, hex(b)]) for b in before)
        statuses = [world.liquidator.value("status", r) for r in raw]
        token = statuses[-1][3]
        to, data = world.oracle.call("price", token)
        raw = world.rpc.batch(("eth_call", [{"to": to, "data": data}, hex(b)]) for b in before)
        oracles = [int(world.oracle.value("price", r)) for r in raw]
        chosen = [
            auction_action(
                {"needs_reset": bool(st[1]), "price": int(st[7]), "oracle": oracle},
                KeeperModel().take_discount,
            )
            if st[0]
            else None
            for st, oracle in zip(statuses, oracles, strict=True)
        ]
        out.append((kind, block, auction_id, chosen))
    return out


def test_each_breach_episode_is_what_the_chain_shows(slow_run):
    result, first, chain_view, liquidations, _ = slow_run

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
    result, first, chain_view, liquidations, _ = slow_run
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
    result, _, _, liquidations, _ = slow_run
    assert result.summary["liquidations"] == len(liquidations) > 0
    assert result.summary["liquidated_accounts"] == len({a for _, a in liquidations})
    assert result.summary["liquidated_accounts"] <= result.summary["liquidations"]


def test_bad_debt_series_ends_at_the_final_figure_and_peaks_at_its_maximum(slow_run):
    result = slow_run[0]
    series, summary = result.series["bad_debt"], result.summary
    assert summary["bad_debt_peak_usd"] == max(series) >= summary["bad_debt_usd"]
    assert series[-1] == pytest.approx(summary["bad_debt_usd"], abs=1e-6)  # no auction left


def test_no_keeper_takes_or_resets_before_its_latency(slow_run):
    """Every take and reset landed at least LATENCY blocks after the auction became eligible for
    it: after each of the LATENCY blocks before the action, the auction was live and in the state
    that calls for that action (price at or below the keepers' limit; needing a reset)."""
    actions = slow_run[4]
    kinds = {kind for kind, *_ in actions}
    assert "take" in kinds
    for kind, block, auction_id, chosen in actions:
        assert chosen == [kind] * LATENCY, (kind, block, auction_id, chosen)


def test_lp_pnl_parts_add_up_to_the_pools_collectible_change(slow_run):
    summary = slow_run[0].summary
    split = summary["lp_pnl_usd"]
    parts = ("trading", "fees", "funding", "borrow")
    losses = ("credit_losses_realized", "credit_losses_unrealized")
    assert split["total"] == pytest.approx(
        sum(split[k] for k in parts) + sum(split[k] for k in losses), abs=0.05
    )
    assert split["credit_losses_realized"] == pytest.approx(-summary["socialized_usd"], abs=0.01)
    # the pool's books change by the total plus what they still count as receivable
    assert split["total"] - split["credit_losses_unrealized"] == pytest.approx(
        -summary["lp_loss_usd"], abs=0.01
    )
    assert split["funding"] != 0  # the crowd leans long: funding flows over the path


def test_account_outcomes_and_clearing_prices_match_the_logs(slow_run):
    result, _, _, liquidations, actions = slow_run
    outcomes = result.summary["account_outcomes"]
    assert outcomes["liquidated_accounts"] == len({a for _, a in liquidations})
    shares = outcomes["penalty_share_of_equity"]
    assert 0 < shares["min"] <= shares["p50"] <= shares["max"]
    partial = outcomes["partial_liquidations_per_account"]
    assert partial["max"] <= len(liquidations)
    clearing = result.summary["clearing_price_distribution"]
    assert clearing["count"] == len([a for a in actions if a[0] == "take"])
    assert clearing["min"] <= clearing["p05"] <= clearing["p50"] <= clearing["p95"]
    assert clearing["p95"] <= clearing["max"]
    assert clearing["mean"] == result.summary["clearing_price_vs_oracle"]


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
