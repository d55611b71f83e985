"""The engine asks the account's risk model (issue 18, item 1) on the real deployment
(`solvent.deploy` with config/local.yaml, the shipped portfolio grid): governance approves a model
through the timelock, an account chooses it (the switch needs the new model's initial margin), and
from then on every margin check of that account — trades, withdrawals, the keeper views and
liquidation — is the model's verdict, equal to the wei to the Python reference. A model that
cannot answer never blocks a liquidation: the engine then uses its standard margin."""

from __future__ import annotations

import dataclasses
from typing import Any

import ape
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_portfolio_deploy import GRID_ASSETS, shipped

from solvent import governance
from solvent.desk import Desk
from solvent.model import portfolio as pm
from solvent.model.margin import WAD_PER_QUOTE, apply_fill
from solvent.testing import deploy_reverts

WAD = 10**18
USDC = 10**6
ZERO = "0x0000000000000000000000000000000000000000"


class RiskDesk(Desk):
    """The desk (solvent/desk.py), with accounts funded in quote and WETH in one step and prices
    moved on both feeds and a block mined."""

    def account(self, owner: Any, quote_usd: int = 0, weth: int = 0, sub: int = 0) -> int:
        account = self.open_account(owner, sub)
        for key, amount in (("quote", quote_usd * USDC), ("WETH", weth)):
            if amount:
                self.deposit(owner, account, key, amount)
        return account

    def set_eth(self, usd: float) -> None:
        self.set_prices({"WETH": usd})

    def set_prices(self, prices: dict[str, float]) -> None:
        for key, usd in prices.items():
            self.set_price(key, usd)
        self.advance(1)


@pytest.fixture(scope="module")
def desk(system, chain, deployer) -> RiskDesk:
    """The desk, with $10M in the LP pool: the pool's cash bounds the traders' net exposure
    (docs/pool.md, "Exposure bound"), and these books carry up to $1M of it."""
    desk = RiskDesk(system, chain, deployer)
    desk.fund_pool(deployer, 10_000_000)
    return desk


@pytest.fixture(scope="module")
def approved(system) -> Any:
    """The deployed portfolio model, approved through the timelock (the first proposal after a
    deployment that offers it)."""
    model = system.portfolio_model
    receipt = governance.govern(system, [(system.admin, "approveRiskModel", model, True)])
    assert [e.model for e in receipt.events.filter(system.admin.RiskModelApproved)] == [model]
    return model


def engine_book(system: Any, grid: Any, account: int) -> pm.Book:
    """The account as the engine hands it to its model: quote less pending interest, each
    collateral with a balance, each position with its pending funding folded into its open
    notional; prices and volatilities from the oracle."""
    admin, oracle = system.admin, system.oracle
    holdings = []
    for key in GRID_ASSETS:
        token = system.tokens[key]
        amount = int(admin.collateralBalance(account, token))
        if amount:
            rates = grid.rates[key]
            holdings.append(
                pm.Holding(key, amount, int(token.decimals()), oracle.price(token), rates.haircut)
            )
    positions, interest = [], 0
    for key in GRID_ASSETS:  # each asset's perp: ETH-PERP on WETH, BTC-PERP on WBTC
        market = system.market_ids[key]
        funding, interest = admin.pendingCharges(account, market)
        position = admin.positions(account, market)
        if position.size:
            positions.append(
                pm.Position(
                    key,
                    position.size,
                    position.openNotional + funding * WAD_PER_QUOTE,
                    oracle.price(system.tokens[key]),
                    grid.rates[key].addon,
                )
            )
    quote = int(admin.accounts(account).quoteBalance) - interest
    return pm.Book(quote, tuple(holdings), tuple(positions))


def sigmas(system: Any) -> dict[str, int]:
    return {k: system.oracle.sigma(system.tokens[k]) for k in GRID_ASSETS}


def assert_engine_matches_reference(system: Any, config: Any, account: int) -> pm.Margin:
    """`initialHealthOf` and `healthOf` (the keeper's scan) equal the reference to the wei."""
    grid = shipped(config)
    book = engine_book(system, grid, account)
    expected = pm.margin(book, grid.params, sigmas(system))
    initial = system.admin.initialHealthOf(account)
    assert (initial.equity, initial.requirement) == (
        expected.initial_equity,
        expected.initial_requirement,
    )
    assert initial.health == pm.initial_health(book, grid.params, sigmas(system))
    maintenance = system.admin.healthOf([account])[0]
    assert (maintenance.equity, maintenance.requirement) == (
        expected.maintenance_equity,
        expected.maintenance_requirement,
    )
    assert maintenance.health == pm.maintenance_health(book, grid.params, sigmas(system))
    return expected


# ------------------------------------------------------------------ approval and choice


def test_only_the_timelock_approves_a_model_and_only_a_model(system, deployer, approved):
    admin = system.admin
    assert admin.riskModelApproved(approved)
    with ape.reverts(admin.AccessControlUnauthorizedAccount):
        admin.approveRiskModel(approved, False, sender=deployer)
    # Neither an address without code nor a contract without the interface's bounds is a model.
    for not_a_model in (deployer.address, system.oracle.address):
        call = (admin, "approveRiskModel", not_a_model, True)
        with ape.reverts(admin.InvalidRiskModel, model=not_a_model):
            governance.govern(system, [call])
    with ape.reverts(admin.ZeroAddress):
        governance.govern(system, [(admin, "approveRiskModel", ZERO, True)])
    governance.govern(system, [(admin, "approveRiskModel", approved, False)])
    assert not admin.riskModelApproved(approved)


def test_an_account_chooses_an_approved_model_and_nobody_else_chooses_for_it(
    system, accounts, desk, approved
):
    owner, stranger = accounts[5], accounts[6]
    account = desk.account(owner, quote_usd=1_000)
    admin = system.admin
    assert admin.riskModelOf(account) == ZERO
    with ape.reverts(admin.RiskModelNotApproved, model=system.oracle.address):
        admin.setRiskModel(account, system.oracle, sender=owner)
    with ape.reverts(admin.NotAuthorized):
        admin.setRiskModel(account, approved, sender=stranger)
    receipt = admin.setRiskModel(account, approved, sender=owner)
    assert [(e.accountId, e.model) for e in receipt.events.filter(admin.RiskModelChosen)] == [
        (account, approved)
    ]
    assert admin.riskModelOf(account) == approved
    admin.setRiskModel(account, ZERO, sender=owner)  # back to the standard margin
    assert admin.riskModelOf(account) == ZERO
    # A withdrawn approval stops new choices; an account on the model keeps it.
    other = desk.account(owner, quote_usd=1_000, sub=1)
    admin.setRiskModel(other, approved, sender=owner)
    governance.govern(system, [(admin, "approveRiskModel", approved, False)])
    with ape.reverts(admin.RiskModelNotApproved, model=approved.address):
        admin.setRiskModel(account, approved, sender=owner)
    assert admin.riskModelOf(other) == approved


def test_a_switch_is_a_risk_increase(system, accounts, desk, approved):
    """While risk increases are paused an account with a position cannot switch (either way);
    an idle account can, since nothing it holds is at risk."""
    owner = accounts[6]
    busy = desk.account(owner, quote_usd=40_000)
    idle = desk.account(owner, quote_usd=1_000, sub=1)
    desk.trade(owner, busy, "WETH", 10 * WAD)
    system.admin.pauseRiskIncrease(sender=governance.guardian_of(system))
    with ape.reverts(system.admin.RiskIncreasePaused):
        system.admin.setRiskModel(busy, approved, sender=owner)
    system.admin.setRiskModel(idle, approved, sender=owner)
    assert (system.admin.riskModelOf(busy), system.admin.riskModelOf(idle)) == (ZERO, approved)


# ------------------------------------------------------------------ margin checks


def test_a_basis_trade_costs_at_most_a_quarter_of_the_standard_margin_through_the_engine(
    system, config, accounts, desk, approved, gas
):
    """100 WETH collateral, 100 ETH-PERP short, traded through the order book by two accounts,
    one per model. Margin cost = initial requirement + the collateral's value the model does not
    count (its haircut): $7,200 against $60,050.50 (12%; the issue asks at most 25%). The
    portfolio account's engine figures equal the reference."""
    weth = 100 * WAD
    owner = accounts[7]
    # A first short warms the market's slots, so both measured settlements write the same ones.
    desk.trade(owner, desk.account(owner, quote_usd=10_000, sub=9), "WETH", -WAD)
    costs, settle_gas = {}, {}
    for sub, model in enumerate((ZERO, approved)):
        account = desk.account(owner, quote_usd=1_000, weth=weth, sub=sub)
        if model != ZERO:
            system.admin.setRiskModel(account, model, sender=owner)
        receipt = desk.trade(owner, account, "WETH", -weth)
        name = "standard" if model == ZERO else "portfolio"
        settle_gas[model] = gas.record(f"risk.settle_basis_short_{name}", receipt)
        initial = system.admin.initialHealthOf(account)
        quote = int(system.admin.accounts(account).quoteBalance) * WAD_PER_QUOTE
        value = weth * system.oracle.price(system.tokens["WETH"]) // WAD
        position = system.admin.positions(account, system.market_ids["WETH"])
        pnl = -(-position.size * system.oracle.price(system.tokens["WETH"]) // WAD) - (
            position.openNotional
        )
        costs[model] = initial.requirement + (quote + value + pnl - initial.equity)
        if model != ZERO:
            assert_engine_matches_reference(system, config, account)
    assert costs[approved] == 7_200 * WAD  # 2% haircut + 1% add-on + the worst scenario's loss
    assert 0 < costs[approved] * 4 <= costs[ZERO]
    # The settlement under the model is within 15% of the standard one (issue 18's gas bound).
    assert settle_gas[approved] * 100 <= settle_gas[ZERO] * 115


def test_a_directional_account_cannot_switch_below_the_models_initial_margin(
    system, accounts, desk, approved
):
    """5x long ETH: 20% margin passes the standard model (about 10%) but not the portfolio grid
    (30% scan range + 1% add-on): the switch reverts and the account stays standard."""
    owner = accounts[8]
    account = desk.account(owner, quote_usd=20_000)
    desk.trade(owner, account, "WETH", 50 * WAD)  # $100k long
    with ape.reverts(system.admin.InsufficientMargin):
        system.admin.setRiskModel(account, approved, sender=owner)
    assert system.admin.riskModelOf(account) == ZERO
    # With enough margin for the grid's move it may switch.
    system.quote.mint(owner, 20_000 * USDC, sender=desk.deployer)
    system.engine.deposit(account, system.quote, 20_000 * USDC, sender=owner)
    system.admin.setRiskModel(account, approved, sender=owner)
    assert system.admin.riskModelOf(account) == approved


def test_the_model_decides_withdrawals_and_liquidation(
    system, config, accounts, desk, approved, gas
):
    """Two identical 3x longs, one per model. The portfolio account may withdraw less (its
    requirement is the grid's 30% move), and after ETH -15% only it is liquidatable: the engine
    liquidates it on the model's verdict, while the standard account is healthy."""
    owner = accounts[9]
    standard_account = desk.account(owner, quote_usd=34_000, sub=0)
    portfolio_account = desk.account(owner, quote_usd=34_000, sub=1)
    system.admin.setRiskModel(portfolio_account, approved, sender=owner)
    for account in (standard_account, portfolio_account):
        desk.trade(owner, account, "WETH", 50 * WAD)  # $100k long
    expected = assert_engine_matches_reference(system, config, portfolio_account)
    spare = (expected.initial_equity - expected.initial_requirement) // WAD_PER_QUOTE
    with ape.reverts(system.admin.InsufficientMargin):
        system.engine.withdraw(
            portfolio_account, system.quote, spare + 10 * USDC, owner, sender=owner
        )
    system.engine.withdraw(standard_account, system.quote, spare + 10 * USDC, owner, sender=owner)

    desk.set_eth(2_000 * 0.85)
    healths = system.admin.healthOf([standard_account, portfolio_account])
    assert healths[0].health >= WAD > healths[1].health
    assert_engine_matches_reference(system, config, portfolio_account)
    assert list(system.admin.liquidatableAccounts(standard_account, portfolio_account)) == [
        portfolio_account
    ]
    with ape.reverts(system.engine.AccountHealthy):
        system.engine.liquidate(standard_account, desk.deployer, sender=desk.deployer)
    receipt = system.engine.liquidate(portfolio_account, desk.deployer, sender=desk.deployer)
    gas.record("risk.liquidate_1pos_portfolio", receipt)
    liquidated = list(receipt.events.filter(system.engine.Liquidated))
    assert [e.accountId for e in liquidated] == [portfolio_account]
    assert liquidated[0].closedNotional > 0


def test_a_model_that_cannot_answer_never_blocks_a_liquidation(system, accounts, desk, approved):
    """Governance replaces the grid with one that no longer covers WETH: the model reverts
    `AssetNotCovered` for an account holding ETH-PERP. Risk increases of that account are refused
    with the model's error; its liquidation falls back to the standard margin (here: healthy,
    so `AccountHealthy`, not the model's error); after a crash the standard margin liquidates it."""
    owner = accounts[5]
    account = desk.account(owner, quote_usd=40_000, sub=3)
    system.admin.setRiskModel(account, approved, sender=owner)
    desk.trade(owner, account, "WETH", 50 * WAD)
    wbtc = system.tokens["WBTC"]
    governance.govern(
        system,
        [
            (
                approved,
                "setGrid",
                1,
                8 * WAD // 10,
                [wbtc],
                [(0, WAD // 2, WAD // 2, 0, 0)],
                [[-WAD]],
            )
        ],
    )
    with ape.reverts(approved.AssetNotCovered, asset=system.tokens["WETH"].address):
        system.engine.withdraw(account, system.quote, USDC, owner, sender=owner)
    with ape.reverts(system.engine.AccountHealthy):
        system.engine.liquidate(account, desk.deployer, sender=desk.deployer)
    # The keeper's scan reads the same standard margin instead of reverting.
    standard = system.admin.healthOf([account])[0]
    assert standard.health >= WAD and standard.requirement < 10_000 * WAD
    assert list(system.admin.liquidatableAccounts(account, account)) == []
    desk.set_eth(2_000 * 0.62)  # the long loses $38k of $40k: below the standard maintenance
    assert list(system.admin.liquidatableAccounts(account, account)) == [account]
    receipt = system.engine.liquidate(account, desk.deployer, sender=desk.deployer)
    assert [e.accountId for e in receipt.events.filter(system.engine.Liquidated)] == [account]


def test_liquidating_two_positions_and_two_collaterals_on_the_model(
    system, config, accounts, desk, approved, gas
):
    """The issue's gas case on the portfolio model: WETH and WBTC collateral, ETH and BTC longs,
    both assets -12%: a partial liquidation (quote pays the penalty) of both positions, every
    margin figure from the model. Recorded as `risk.liquidate_2pos_2col_portfolio`."""
    owner = accounts[4]
    account = desk.account(owner, quote_usd=22_000, sub=4)
    desk.deposit(owner, account, "WETH", 5 * WAD)  # $10,000
    desk.deposit(owner, account, "WBTC", 10**7)  # 0.1 BTC: $6,000
    system.admin.setRiskModel(account, approved, sender=owner)
    desk.trade(owner, account, "WETH", 25 * WAD)  # $50,000 long
    desk.trade(owner, account, "WBTC", 5 * WAD // 6)  # $50,000 long
    assert system.admin.healthOf([account])[0].health >= WAD
    assert_engine_matches_reference(system, config, account)
    desk.set_prices({"WETH": 2_000 * 0.88, "WBTC": 60_000 * 0.88})
    assert system.admin.healthOf([account])[0].health < WAD
    receipt = system.engine.liquidate(account, desk.deployer, sender=desk.deployer)
    gas.record("risk.liquidate_2pos_2col_portfolio", receipt)
    liquidated = list(receipt.events.filter(system.engine.Liquidated))
    assert len(liquidated) == 1 and 0 < liquidated[0].fraction < WAD
    assert len(list(receipt.events.filter(system.engine.HandedToAuction))) == 0


@pytest.fixture(scope="module")
def stand_in_book(system, accounts, approved) -> Any:
    """A test account in the order book's role (set through the timelock), so random books are
    filled at the oracle price in one call each, without the order book's delay and fees."""
    book = accounts[2]
    governance.govern(system, [(system.admin, "setOrderBook", book)])
    return book


books = st.tuples(
    st.integers(0, 100_000),  # quote, USD
    st.integers(0, 4_000).map(lambda c: c * WAD // 100),  # WETH, up to 40
    st.integers(0, 100).map(lambda c: c * 10**6),  # WBTC (8 decimals), up to 1
    st.integers(-4_000, 4_000).map(lambda c: c * WAD // 100),  # ETH-PERP size
    st.integers(-100, 100).map(lambda c: c * WAD // 100),  # BTC-PERP size
)


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(book=books)
def test_random_books_on_the_model_equal_the_reference(
    system, config, chain, accounts, desk, approved, stand_in_book, book
):
    """Random books (quote, WETH and WBTC collateral, ETH and BTC perps long or short) on the
    portfolio model, filled at the oracle price: the engine's initial and maintenance figures
    equal the reference to the wei; a fill the engine refuses for margin is one the reference puts
    below initial margin."""
    quote_usd, weth, wbtc, eth, btc = book
    snapshot = chain.snapshot()
    try:
        owner = accounts[3]
        account = desk.account(owner, quote_usd=quote_usd, weth=weth)
        if wbtc:
            desk.deposit(owner, account, "WBTC", wbtc)
        system.admin.setRiskModel(account, approved, sender=owner)  # idle: always allowed
        grid = shipped(config)
        for key, size in (("WETH", eth), ("WBTC", btc)):
            if size == 0:
                continue
            price = system.oracle.price(system.tokens[key])
            before = engine_book(system, grid, account)
            try:
                system.engine.fillOrder(
                    account,
                    system.market_ids[key],
                    size,
                    price,
                    0,
                    0,
                    stand_in_book,
                    sender=stand_in_book,
                )
            except system.engine.InsufficientMargin:
                notional, _ = apply_fill(0, 0, size, price)
                filled = pm.Position(key, size, notional, price, grid.rates[key].addon)
                after = dataclasses.replace(before, positions=(*before.positions, filled))
                event("refused for margin")
                assert pm.initial_health(after, grid.params, sigmas(system)) < WAD
                break
        assert_engine_matches_reference(system, config, account)
    finally:
        chain.restore(snapshot)


@pytest.fixture(scope="module")
def standard_model(project, system, deployer) -> Any:
    """The standard margin behind the interface (`StandardRiskModel` on the deployment's engine),
    approved through the timelock; tests/risk/test_standard_risk_model.py shows it equal to the
    built-in rule."""
    model = deployer.deploy(project.StandardRiskModel, system.engine)
    governance.govern(system, [(system.admin, "approveRiskModel", model, True)])
    return model


def test_the_model_needs_an_engine_and_margins_an_accounts_maximum(
    project, chain, deployer, system, standard_model
):
    deploy_reverts(
        chain, deployer, project.StandardRiskModel.ZeroEngine, project.StandardRiskModel, ZERO
    )
    assert standard_model.engine() == system.engine.address
    assert (standard_model.MAX_COLLATERALS(), standard_model.MAX_POSITIONS()) == (8, 8)
    assert system.admin.riskModelApproved(standard_model)


def test_bad_accounts_are_refused_by_the_standard_model(system, standard_model):
    """Too many entries, a collateral the engine does not list, a position whose asset is not its
    market's, and a market the engine does not have (the engine's own error)."""
    weth = system.tokens["WETH"]
    price, sigma = int(system.oracle.price(weth)), int(system.oracle.sigma(weth))
    eth_market, btc_market = system.market_ids["WETH"], system.market_ids["WBTC"]
    holding = (weth, WAD, 18, price, sigma)
    position = (weth, WAD, price, price, sigma, eth_market)
    with ape.reverts(standard_model.TooManyHoldings, count=9, max=8):
        standard_model.margin((0, [holding] * 9, []))
    with ape.reverts(standard_model.TooManyPositions, count=9, max=8):
        standard_model.health((0, [], [position] * 9))
    with ape.reverts(standard_model.AssetNotCovered, asset=system.quote.address):
        standard_model.margin((0, [(system.quote, WAD, 6, WAD, 0)], []))
    with ape.reverts(standard_model.MarketAssetMismatch, marketId=btc_market, asset=weth.address):
        standard_model.margin((0, [], [(weth, WAD, price, price, sigma, btc_market)]))
    unknown = int(system.admin.marketCount())
    with ape.reverts(system.admin.UnknownMarket, marketId=unknown):
        standard_model.margin((0, [], [(weth, WAD, price, price, sigma, unknown)]))
    # At the maximum the model answers (the engine never passes more).
    margin = standard_model.margin((0, [holding] * 8, [position] * 8))
    assert margin.fixedRequirement == margin.nonNettable > 0
    assert margin.maintenanceEquity > margin.equity  # maintenance weights above initial ones
    assert margin.worstScenario == 2**256 - 1
