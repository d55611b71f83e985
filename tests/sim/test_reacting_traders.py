"""Reacting traders on a real deployment (its own Anvil): traders who top up or reduce near
liquidation through the March-2020 decline are liquidated less than the same population left
passive, every top-up lands, none reacts more than allowed, reductions fill through the order
flow, and profit-takers' withdrawals land or are refused by name."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.harness.world import world_from_protocol
from solvent.sim import scenarios
from solvent.sim.keepers import KeeperModel
from solvent.sim.run import run
from solvent.sim.traders import TraderBehaviour

ACCOUNTS = 30
STEP = 900
KEEPERS = (KeeperModel(latency_blocks=1),)


def simulate(project, networks, behaviour: TraderBehaviour) -> dict:
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        protocol = deploy(project, chain, configs.load("local"), accounts.test_accounts[0])
        world = world_from_protocol(project, chain, protocol, accounts=16)
        scenario = scenarios.build("march_2020", 5, ACCOUNTS, KEEPERS, STEP)
        return run(world, replace(scenario, traders=behaviour)).summary


@pytest.fixture(scope="module")
def passive(project, networks):
    return simulate(project, networks, TraderBehaviour())


@pytest.fixture(scope="module")
def reacting(project, networks):
    behaviour = TraderBehaviour(top_up_share=0.4, reduce_share=0.3, take_profit_share=0.3)
    return simulate(project, networks, behaviour)


def test_passive_traders_never_act(passive):
    reactions = passive["trader_reactions"]
    assert reactions["habits"]["passive"] == ACCOUNTS
    assert reactions["sent"] == {"top_up": 0, "reduce": 0, "take_profit": 0}
    assert reactions["landed"] == {}


def test_top_ups_land_and_save_accounts(passive, reacting):
    reactions = reacting["trader_reactions"]
    sent, landed = reactions["sent"], reactions["landed"]
    assert sent["top_up"] > 0
    assert landed["top_up"] == sent["top_up"]  # a deposit of quote the owner holds cannot fail
    # at most `max_top_ups` (3) per top-up trader
    assert sent["top_up"] <= 3 * reactions["habits"]["top_up"]
    # the same population and path: topping up before health reaches 1 avoids liquidations
    assert reacting["liquidated_accounts"] < passive["liquidated_accounts"]


def test_reductions_go_through_the_order_flow(reacting):
    reactions = reacting["trader_reactions"]
    # committed near liquidation, settled by the operator at the determining round; an order
    # whose account was liquidated first is cancelled (sent, not landed)
    assert 0 < reactions["landed"]["reduce"] <= reactions["sent"]["reduce"]


def test_profit_takers_withdraw_within_margin(reacting):
    reactions = reacting["trader_reactions"]
    # shorts in profit through the decline take some of it out; a withdrawal that would break
    # initial margin is refused by name (sent, not landed)
    assert 0 < reactions["landed"].get("take_profit", 0) <= reactions["sent"]["take_profit"]
    assert reactions["landed_usd"]["take_profit"] > 0
