"""The deviation/heartbeat oracle on a real deployment: feeds publish only the rounds the rule
calls for, the chain receives exactly those rounds, and the summary records the model."""

import pytest

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.harness.world import world_from_protocol
from solvent.sim import scenarios
from solvent.sim.keepers import KeeperModel
from solvent.sim.run import run_path, set_up

pytestmark = pytest.mark.slow  # runs on Anvil: `make test-slow` (CI)

ACCOUNTS = 20
STEP = 900
_ROUND_ID = 0


@pytest.fixture(scope="module")
def ftx_with_deviation_oracle(project, networks):
    """FTX, 8-9 November 2022 (5-minute closes at 15-minute blocks) with the mainnet rule."""
    scenario = scenarios.build(
        "real_ftx_2022+deviation", 7, ACCOUNTS, (KeeperModel(latency_blocks=1),), STEP
    )
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        protocol = deploy(project, chain, configs.load("local"), accounts.test_accounts[0])
        world = world_from_protocol(project, chain, protocol, accounts=11)
        traders, agents = set_up(world, scenario)
        before = {key: _round_ids(world, key) for key in scenario.paths}
        result = run_path(world, scenario, traders, agents)
        after = {key: _round_ids(world, key) for key in scenario.paths}
    return scenario, result, before, after


def _round_ids(world, key):
    return [int(world.read(feed, "latestRoundData")[_ROUND_ID]) for feed in world.feeds[key]]


def test_feeds_publish_fewer_rounds_than_blocks_and_the_summary_says_so(
    ftx_with_deviation_oracle,
):
    scenario, result, before, after = ftx_with_deviation_oracle
    summary = result.summary
    oracle = summary["oracle"]
    assert oracle["model"] == "deviation"
    assert oracle["deviation"] == {"WETH": 0.005, "WBTC": 0.005}
    assert oracle["heartbeat_seconds"] == 3600
    assert summary["scenario"] == "real_ftx_2022+deviation"
    for key in scenario.paths:
        rounds = oracle["rounds"][key]
        # the chain received exactly the rounds the model published, on both feeds
        assert [a - b for a, b in zip(after[key], before[key], strict=True)] == [rounds, rounds]
        # a 15-minute block publishes at least every 4 blocks (heartbeat) and not every block
        assert summary["blocks"] / 4 <= rounds < summary["blocks"]
    # the ETH path fell 31%: many rounds came from the deviation rule, not only heartbeats
    assert oracle["rounds"]["WETH"] > summary["blocks"] / 4 + 10
    inputs = summary["path_inputs"]["assets"]["WETH"]
    assert inputs["window_utc"] == ["2022-11-08T00:00", "2022-11-10T00:00"]
    assert inputs["real_start_price"] == 1568.1
    assert inputs["start_price"] == scenarios.ETH0


def test_the_feeds_answer_is_the_last_published_price(ftx_with_deviation_oracle):
    scenario, result, _, _ = ftx_with_deviation_oracle
    series = result.series
    for key in scenario.paths:
        answers, prices = series[f"feed_{key}"], series[f"price_{key}"]
        # between rounds the answer stays within the threshold of the market, or holds (heartbeat)
        lags = [abs(p - a) / a for a, p in zip(answers, prices, strict=True)]
        assert max(lags) < 0.005
        assert any(lag > 0 for lag in lags)
        assert len(set(answers)) < len(answers)
