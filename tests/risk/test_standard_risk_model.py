"""The standard margin behind the risk-model interface (issue 18, item 2): `StandardRiskModel`
reads the engine's own market and collateral parameters, so an account that chooses it is
margined, checked and liquidated exactly as one on the engine's built-in rule. Here on the real
deployment (`solvent.deploy`, config/local.yaml): one account's crash
played twice from the same state, once on the model and once on the built-in rule, with the same
figures to the wei. `tests/risk/test_eight_by_eight.py` adds the model to its random 8 + 8
portfolios (Hypothesis, against the Python reference) and measures its health view's gas;
tests/risk/test_engine_risk_model.py has its reject paths."""

from __future__ import annotations

from typing import Any

import pytest

from solvent import governance
from solvent.desk import Desk

# Slow: a deployment of its own and two replays of a crash, ~25 s; `make test` stays under its
# 10 minutes. The fast suite keeps the model's reject paths (tests/risk/test_engine_risk_model.py);
# its reference property runs in the slow suite too (tests/risk/test_eight_by_eight.py).
pytestmark = pytest.mark.slow

WAD = 10**18
ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="module")
def standard_model(project, system, deployer) -> Any:
    """The model on the deployment's engine, approved through the timelock."""
    model = deployer.deploy(project.StandardRiskModel, system.engine)
    governance.govern(system, [(system.admin, "approveRiskModel", model, True)])
    return model


@pytest.fixture(scope="module")
def desk(system, chain, deployer) -> Desk:
    """The desk, with $10M in the LP pool (the pool's cash bounds the traders' net exposure)."""
    desk = Desk(system, chain, deployer)
    desk.fund_pool(deployer, 10_000_000)
    return desk


def _outcome(system: Any, receipt: Any, account: int) -> dict:
    """Everything a liquidation decided: the engine's and the liquidator's events (arguments), and
    the account's state after it."""
    events = {}
    for contract, names in (
        (system.engine, ("Liquidated", "HandedToAuction", "InterestCharged")),
        (system.liquidator, ("AuctionStarted", "KeeperRewarded")),
    ):
        for name in names:
            found = receipt.events.filter(getattr(contract, name))
            events[name] = [dict(e.event_arguments) for e in found]
    state = system.admin.accounts(account)
    positions = {
        key: tuple(system.admin.positions(account, market))
        for key, market in system.market_ids.items()
    }
    balances = {
        key: int(system.admin.collateralBalance(account, token))
        for key, token in system.tokens.items()
    }
    return {"events": events, "account": tuple(state), "positions": positions, "balances": balances}


def test_an_account_on_the_model_is_checked_and_liquidated_as_on_the_built_in_rule(
    system, chain, accounts, deployer, desk, standard_model, steady_clock, gas
):
    """WETH and WBTC collateral, ETH and BTC longs (the issue's 2 positions + 2 collaterals). From
    one state the account stays on the model or moves to the built-in rule (one transaction
    each, so both branches have the same blocks and clock); then time passes, BTC falls 15% and
    the account is liquidated with a hand-off to auctions. Views before and after the fall, every
    event of the liquidation and the account's state after it are equal in both branches."""
    owner = accounts[6]
    account = desk.open_account(owner, 0)
    desk.deposit(owner, account, "WETH", 20 * WAD)
    desk.deposit(owner, account, "WBTC", 10**8)
    system.admin.setRiskModel(account, standard_model, sender=owner)  # idle: allowed
    desk.trade(owner, account, "WETH", 200 * WAD)
    desk.trade(owner, account, "WBTC", 5 * WAD)
    branch = chain.snapshot()
    seen = {}
    for rule in (standard_model, ZERO):
        system.admin.setRiskModel(account, rule, sender=owner)
        assert system.admin.riskModelOf(account) == (rule if rule == ZERO else rule.address)
        before = (
            tuple(system.admin.initialHealthOf(account)),
            tuple(system.admin.healthOf([account])[0]),
        )
        desk.advance(60)
        desk.set_price("WBTC", float(system.oracle.price(system.tokens["WBTC"])) / WAD * 0.85)
        desk.advance(1)
        after = tuple(system.admin.healthOf([account])[0])
        assert after[2] < WAD  # below maintenance
        receipt = system.engine.liquidate(account, deployer, sender=deployer)
        # The same liquidation on both: what going through the interface costs.
        row = "built_in" if rule == ZERO else "standard_model"
        gas.record(f"risk.liquidate_2pos_2col_{row}", receipt)
        seen[rule if rule == ZERO else "model"] = (
            before,
            after,
            _outcome(system, receipt, account),
        )
        chain.restore(branch)
        branch = chain.snapshot()
    model, built_in = seen["model"], seen[ZERO]
    assert model == built_in
    events = model[2]["events"]
    assert len(events["Liquidated"]) == 1 and len(events["AuctionStarted"]) == 2


def test_a_trade_on_the_model_settles_as_on_the_built_in_rule(
    system, chain, accounts, desk, standard_model, steady_clock, gas
):
    """A 10 ETH long on $5,000 of quote, settled through the order book from one state twice: on
    the model and on the built-in rule. The fill and both margin views are equal; the settlement's
    gas is recorded for both (`risk.settle_open_standard_model`, `risk.settle_open_built_in`)."""
    owner = accounts[7]
    # A first trade warms the market's slots, so both measured settlements write the same ones.
    warm = desk.open_account(owner, 1)
    desk.deposit(owner, warm, "quote", 10_000 * 10**6)
    desk.trade(owner, warm, "WETH", -WAD)
    account = desk.open_account(owner, 2)
    desk.deposit(owner, account, "quote", 5_000 * 10**6)
    branch = chain.snapshot()
    seen = {}
    for rule in (standard_model, ZERO):
        system.admin.setRiskModel(account, rule, sender=owner)
        receipt = desk.trade(owner, account, "WETH", 10 * WAD)
        row = "built_in" if rule == ZERO else "standard_model"
        used = gas.record(f"risk.settle_open_{row}", receipt)
        views = (
            tuple(system.admin.initialHealthOf(account)),
            tuple(system.admin.healthOf([account])[0]),
            tuple(system.admin.positions(account, system.market_ids["WETH"])),
            int(system.admin.accounts(account).quoteBalance),
        )
        seen[row] = (views, used)
        chain.restore(branch)
        branch = chain.snapshot()
    assert seen["standard_model"][0] == seen["built_in"][0]
    assert seen["standard_model"][0][2][0] == 10 * WAD  # the position was opened
    assert seen["standard_model"][1] > seen["built_in"][1]
