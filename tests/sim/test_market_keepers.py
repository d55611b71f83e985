"""Keepers with finite capital selling on a thin exchange and bidding for the block's order, on a
real deployment (its own Anvil): the top bidder lands first, capital and slippage cut takes short
of the lot, and every unit taken is sold on the exchange or still held."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.harness.world import world_from_protocol
from solvent.sim import amm, scenarios
from solvent.sim.campaign import deploy_exchange
from solvent.sim.keepers import KeeperModel
from solvent.sim.run import FIRST_KEEPER_ACCOUNT, run

ACCOUNTS = 30
STEP = 900
CAPITAL = 150_000
KEEPERS = (
    KeeperModel(capital_usd=CAPITAL, sells_on_amm=True, priority_fee_gwei=4),
    KeeperModel(capital_usd=CAPITAL, sells_on_amm=True, priority_fee_gwei=2),
)
EXCHANGE = amm.ExchangeSpec(depth_usd=300_000)


@pytest.fixture(scope="module")
def market_run(project, networks):
    """gap_30 with the two bidding keepers; returns the summary and the chain's records."""
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        operator = accounts.test_accounts[0]
        protocol = deploy(project, chain, configs.load("local"), operator)
        exchange = deploy_exchange(project, operator, protocol, EXCHANGE)
        world = world_from_protocol(
            project, chain, protocol, {"amm": exchange.address}, accounts=16
        )
        scenario = replace(
            scenarios.build("gap_30", 11, ACCOUNTS, KEEPERS, STEP), exchange=EXCHANGE
        )
        result = run(world, scenario)
        head = world.block()[0]
        liquidator = world.liquidator
        raw_takes = world.rpc.call("eth_getLogs", liquidator.log_filter("Take", 0, head))
        takes = [
            (
                int(log["blockNumber"], 16),
                int(log["transactionIndex"], 16),
                liquidator.decode_log(log).args,
            )
            for log in raw_takes
        ]
        sold = world.logs("amm", "Swapped")
        keepers = [world.address(FIRST_KEEPER_ACCOUNT + i).lower() for i in range(len(KEEPERS))]
        held = {
            (k, key): int(world.read(token, "balanceOf", k))
            for k in keepers
            for key, token in world.tokens.items()
        }
        return result.summary, takes, sold, keepers, held


def test_the_top_bidder_lands_first(market_run):
    summary, takes, _, keepers, _ = market_run
    assert takes, "the crash must produce takes"
    first_index: dict[tuple[int, str], int] = {}
    for block, index, args in takes:
        key = (block, str(args.taker).lower())
        first_index[key] = min(first_index.get(key, index), index)
    contested = [b for (b, k) in first_index if k == keepers[1] and (b, keepers[0]) in first_index]
    assert contested, "both keepers must take in some block"
    for block in contested:
        assert first_index[(block, keepers[0])] < first_index[(block, keepers[1])]
    outcomes = {o["sender"]: o for o in summary["keeper_outcomes"]}
    # nothing lands before the top bidder's transactions: none of them reverts
    assert outcomes[FIRST_KEEPER_ACCOUNT]["reverted_txs"] == 0
    assert outcomes[FIRST_KEEPER_ACCOUNT]["priority_fees_eth"] > 0


def test_capital_and_slippage_cut_takes_short(market_run):
    _, takes, _, _, _ = market_run
    # without an exchange a keeper buys the whole lot; here some takes leave lot and tab behind
    assert any(args.lotLeft > 0 and args.tabLeft > 0 for _, _, args in takes)
    # no take costs more than a keeper's starting capital
    assert all(args.owe <= CAPITAL * 10**6 for _, _, args in takes)


def test_every_unit_taken_is_sold_or_held(market_run):
    """Token units (WETH and WBTC summed: each is conserved, so the sum is): what the keepers
    took is what they sold on the exchange plus what they still hold."""
    _, takes, sold, _, held = market_run
    total_sold = sum(int(s.amountIn) for s in sold)
    assert total_sold > 0
    assert sum(args.slice for _, _, args in takes) == total_sold + sum(held.values())
