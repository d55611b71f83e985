"""The simulator's set-up at the default `make sim` size: every transaction it sends is mined
before the path starts, each one succeeded or is a trade the engine refused by name, and a seed
gives the same population, to the block.

It used to send each batch, mine one block and read the receipts once: at 300 accounts some
transactions were still pending, a pending trade counted as refused by margin and landed later,
mid-path, and `make sim` failed with "N of M set-up transactions failed"."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.harness.population import REFUSALS, PopulationSpec, Trader, open_population
from solvent.harness.world import OPERATOR, SetupFailed, World, world_from_protocol
from solvent.sim import scenarios
from solvent.sim.campaign import CampaignOptions, run_scenario
from solvent.sim.run import FIRST_KEEPER_ACCOUNT, SimResult, run_path, set_up

DEFAULT = CampaignOptions()  # what `make sim` runs: 300 accounts, seed 2020, 2 keepers
# The whole default set takes minutes (docs/simulator.md, "Tests"): the regular suite runs the
# default set-up and one scenario of the set, twice, at the default size.
SCENARIO = "gap_50"
MARKETS = ("WETH", "WBTC")


@contextmanager
def fresh_world(project, networks, keepers: int = DEFAULT.keepers) -> Iterator[World]:
    """A deployment on an Anvil of its own, started as `make sim` starts one."""
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        protocol = deploy(project, chain, configs.load("local"), accounts.test_accounts[0])
        yield world_from_protocol(project, chain, protocol, accounts=FIRST_KEEPER_ACCOUNT + keepers)


def positions_on_chain(world: World, traders: list[Trader]) -> dict[tuple[int, str], int]:
    """Every trader's position size in each market (WAD), as the engine holds it."""
    calls = [
        (world.admin, "positions", (t.account_id, world.market_ids[market]))
        for t in traders
        for market in MARKETS
    ]
    keys = [(t.account_id, market) for t in traders for market in MARKETS]
    # Position(size, entry price, ...): the size first
    return {key: int(p[0]) for key, p in zip(keys, world.read_many(calls), strict=True)}


@pytest.fixture(scope="module")
def default_runs(project, networks) -> tuple[dict, SimResult, SimResult]:
    """One scenario of the default set, twice: once step by step (the chain checked between the
    set-up and the path), once exactly as `make sim` runs it."""
    scenario = scenarios.build(
        SCENARIO, DEFAULT.seed, DEFAULT.accounts, DEFAULT.keeper_models(), DEFAULT.step_seconds
    )
    with fresh_world(project, networks) as world:
        traders, agents = set_up(world, scenario)
        pool = world.rpc.call("txpool_status")
        setup = {
            "pending": int(pool["pending"], 16) + int(pool["queued"], 16),
            "accounts": int(world.read(world.engine, "accountCount")),
            "positions": positions_on_chain(world, traders),
            "keepers": len(agents),
        }
        stepwise = run_path(world, scenario, traders, agents)
    return setup, stepwise, run_scenario(project, networks, SCENARIO, DEFAULT)


@pytest.mark.slow  # the default `make sim` size, twice: `make test-slow` (CI)
def test_default_setup_is_all_mined_and_every_trade_is_opened_or_refused_by_name(default_runs):
    setup, result, _ = default_runs
    traders = result.traders
    assert setup["pending"] == 0
    assert len(traders) == DEFAULT.accounts == setup["accounts"]
    assert setup["keepers"] == DEFAULT.keepers
    for trader in traders:
        assert trader.positions or trader.refused
        assert not set(trader.positions) & set(trader.refused)
        assert set(trader.refused.values()) <= REFUSALS
        for market in MARKETS:
            # what the set-up says it opened is what the engine holds, to the wei
            expected = round(trader.positions.get(market, 0) * 10**18)
            assert setup["positions"][(trader.account_id, market)] == expected
    assert sum(1 for t in traders if t.positions) > DEFAULT.accounts * 0.9


@pytest.mark.slow  # the default `make sim` size, twice: `make test-slow` (CI)
def test_a_seed_reproduces_a_default_run_to_the_liquidation(default_runs):
    _, first, second = default_runs
    assert first.summary["accounts"] == DEFAULT.accounts
    assert first.summary["liquidations"] > 100  # a run with something to reproduce
    assert first.traders == second.traders
    assert first.liquidated == second.liquidated  # each liquidation: same block, same account
    assert first.series == second.series
    # `make sim`'s run also records its inputs (campaign.inputs); the results are the same
    assert first.summary == {k: v for k, v in second.summary.items() if k != "inputs"}
    assert second.summary["inputs"]["book"]["accounts"] == DEFAULT.accounts


@pytest.fixture
def bare_world(project, networks) -> Iterator[World]:
    # one per test: ape's test isolation reverts the node's state after each test, which would
    # put the fast path's local nonces ahead of the chain's
    with fresh_world(project, networks, keepers=0) as world:
        yield world


def test_a_trade_the_engine_refuses_is_named_not_lost(bare_world):
    # Leverage 40-50x breaches initial margin: every trade is refused by name, here by the order
    # book's pre-check at the commit (the engine would refuse the fill at settlement).
    world = bare_world
    spec = PopulationSpec(accounts=6, seed=3, min_leverage=40, max_leverage=50)
    prices = {"WETH": scenarios.ETH0, "WBTC": scenarios.BTC0}
    world.set_prices(prices)
    traders = open_population(world, spec, prices)
    assert [t.positions for t in traders] == [{}] * 6
    assert {e for t in traders for e in t.refused.values()} == {"InsufficientMarginForOrder"}
    assert all(t.refused for t in traders)


def test_any_other_setup_failure_raises_with_its_decoded_reason(bare_world):
    world = bare_world
    unknown_account = 999
    deposit = world.tx(OPERATOR, world.engine, "deposit", unknown_account, world.quote.address, 1)
    with pytest.raises(SetupFailed, match=r"1 of 1 .*deposit .*: UnknownAccount"):
        world.send_ok([deposit])
