"""A simulation under the portfolio risk model on a real deployment (its own Anvil): governance
approves the deployed model through the timelock, every trader account is on it on chain
(`riskModelOf`), every opened position passed the model's initial margin, and the run's figures
are the chain's events. `gap_30` is the gap the shipped grid's 30% scan floor is sized to: no
account is left with negative equity, and what the liquidations' auctions leave is within the
insurance fund (docs/simulator.md, "Risk models")."""

import dataclasses

import pytest

from solvent import config as configs
from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.harness.world import world_from_protocol
from solvent.sim import scenarios
from solvent.sim.keepers import KeeperModel
from solvent.sim.risk_models import PORTFOLIO
from solvent.sim.run import run

ACCOUNTS = 16
STEP = 900
SEED = 11
WAD = 10**18
PROMPT = (KeeperModel(latency_blocks=1),)


def events(world, contract, name, first, last):
    raw = world.rpc.call("eth_getLogs", contract.log_filter(name, first, last))
    return [event for log in raw for event in contract.decode_logs([log], name)]


@pytest.fixture(scope="module")
def portfolio_run(project, networks):
    built = scenarios.build("gap_30", SEED, ACCOUNTS, PROMPT, STEP)
    scenario = dataclasses.replace(
        built,
        risk_model=PORTFOLIO,
        population=dataclasses.replace(built.population, hedged_share=0.5),
    )
    with ape_on_own_anvil(
        networks, AnvilOptions(accounts=20, fixed_clock_from=scenarios.GENESIS_TIMESTAMP)
    ):
        from ape import accounts, chain

        protocol = deploy(project, chain, configs.load("local"), accounts.test_accounts[0])
        world = world_from_protocol(project, chain, protocol, accounts=12)
        result = run(world, scenario)
        model = protocol.portfolio_model.address
        ids = [t.account_id for t in result.traders]
        chain_view = {
            "approved": world.read(world.admin, "riskModelApproved", model),
            "models": world.read_many([(world.admin, "riskModelOf", (i,)) for i in ids]),
        }
        last = world.block()[0]
        first = protocol.deploy_block
        chain_view["liquidated"] = events(world, world.engine, "Liquidated", first, last)
        chain_view["written_off"] = events(world, world.engine, "BadDebtWrittenOff", first, last)
        chain_view["takes"] = events(world, world.liquidator, "Take", first, last)
        chain_view["chosen"] = events(world, world.admin, "RiskModelChosen", first, last)
    return result, model, chain_view


def test_every_trader_account_is_on_the_approved_portfolio_model(portfolio_run):
    result, model, chain_view = portfolio_run
    assert chain_view["approved"]
    assert {str(m).lower() for m in chain_view["models"]} == {model.lower()}
    chosen = {int(e["accountId"]) for e in chain_view["chosen"]}
    assert chosen == {t.account_id for t in result.traders}
    margin = result.summary["book_margin"]
    assert result.summary["risk_model"] == PORTFOLIO
    assert margin["accounts_on_model"] == ACCOUNTS


def test_positions_are_fitted_to_the_model_and_the_hedges_are_cheap(portfolio_run):
    result, _, _ = portfolio_run
    summary = result.summary
    # the fit leaves nothing for the engine to refuse, and cuts the leveraged directional plans
    assert summary["trades_refused"] == {}
    assert summary["accounts_with_positions"] == ACCOUNTS
    resized = [t for t in result.traders if t.planned is not None]
    assert resized and all(not t.hedged for t in resized)
    books = summary["book_margin"]["books"]
    assert books["hedged"]["accounts"] + books["directional"]["accounts"] == ACCOUNTS
    # a basis trade needs its 1% add-on and a sliver of scenario loss; a directional book its
    # 30% scan range and more
    assert books["hedged"]["requirement_per_notional"] < 0.03
    assert books["directional"]["requirement_per_notional"] > 0.30


def test_the_summary_is_the_chains_events(portfolio_run):
    result, _, chain_view = portfolio_run
    summary = result.summary
    liquidated = chain_view["liquidated"]
    assert summary["liquidations"] == len(liquidated) > 0
    assert summary["liquidated_accounts"] == len({int(e["accountId"]) for e in liquidated})
    assert (
        summary["liquidated_notional_usd"]
        == sum(int(e["closedNotional"]) for e in liquidated) / WAD
    )
    written = chain_view["written_off"]
    assert summary["bad_debt_realized_usd"] == sum(int(e["debt"]) for e in written) / 10**6
    assert (
        summary["covered_by_insurance_usd"]
        == sum(int(e["coveredByInsurance"]) for e in written) / 10**6
    )
    assert summary["socialized_usd"] == sum(int(e["socialized"]) for e in written) / 10**6
    assert summary["auctions_taken"] == len(chain_view["takes"])


def test_a_30_percent_gap_leaves_no_negative_equity_and_bad_debt_within_the_fund(portfolio_run):
    result, _, _ = portfolio_run
    summary = result.summary
    assert summary["max_drawdown"]["WETH"] == pytest.approx(0.30, abs=1e-6)
    assert summary["outstanding_negative_equity_usd"] == 0
    fund_start = min(result.series["fund"]) + summary["insurance_drawdown_usd"]
    assert summary["bad_debt_usd"] <= fund_start
    assert summary["socialized_usd"] == 0
