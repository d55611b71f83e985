"""The capacity of a real venue (issue 18, item 6): the engine lists 64 markets and 16 collaterals,
and one account holds at most 8 open markets and 8 collaterals (held or in auction), so a margin
computation stays bounded. A deployment of its own, on the mock oracle (prices and sigmas set
directly): 16 mock tokens of assorted decimals listed as collateral, 64 markets (the first 16 on
the collateral tokens, so they share their price; the other 48 on oracle-only assets).

The bulk set-up (64 markets, 80 prices and sigmas) goes to the node as raw `eth_sendTransaction`s
to its unlocked dev account, without ape's estimate and receipt round trips; the listing's result
is then read back and checked.

The reference is `solvent.model.margin` (the standard margin) and `solvent.model.portfolio` (the
portfolio model on a grid over the held assets), on the oracle's prices and sigmas: funding
velocity is 0 here (the rate stays 0, no funding accrues) and the accounts never owe quote, so no
charge is pending."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ape
import pytest
from hexbytes import HexBytes

from solvent.model import margin as standard
from solvent.model import portfolio as pm

# About a minute: the 64-market deployment and four accounts at their limits.
pytestmark = pytest.mark.slow

WAD = 10**18
USDC = 10**6
MAX = 2**256 - 1
LISTED_MARKETS = 64
LISTED_COLLATERALS = 16
ACCOUNT_LIMIT = 8
# The account at its limits: collateral indexes and market ids spread over the listings, the last
# of each included (markets 0 and 9 are on collaterals 0 and 9: their price is shared).
HELD = (0, 3, 5, 7, 9, 11, 13, 15)
TRADED = (0, 9, 18, 27, 36, 45, 54, 63)
DECIMALS = (18, 8, 6, 9, 18, 12, 8, 18, 6, 18, 9, 8, 18, 6, 18, 5)
MARKET = standard.MarketParams(
    base_mmr=5 * WAD // 100,
    vol_factor=8 * WAD // 100,
    sigma_cap=3 * WAD,
    im_scale=15 * WAD // 10,
    insurance_fee_share=2 * WAD // 10,
)
IM_WEIGHT, MM_WEIGHT = 8 * WAD // 10, 85 * WAD // 100
OI_CAP = 10**9 * WAD
# skewScale, velocity 0 (the funding rate stays 0), dead-band, |rate| bound
FUNDING = (10**8 * WAD, 0, WAD // 1000, WAD // 100)
LIQUIDATION = standard.LiquidationParams(
    penalty_rate=25 * WAD // 1000,
    target_health=115 * WAD // 100,
    full_liquidation_health=WAD // 2,
    restricted_liquidation_health=9 * WAD // 10,
    keeper_chip=WAD // 1000,
    dust_notional=100 * WAD,
    keeper_tip=5 * USDC,
    liquidation_fee=2 * WAD // 100,
    min_position_margin=50 * WAD,
)
POOL_CASH = 50_000_000 * USDC
# The portfolio model's grid over the assets the accounts hold: four scenarios, one scan range.
SCENARIOS = ((-1, -1), (1, 1), (-1, 1), (1, -1))  # (even assets, odd assets), whole scan range
SCAN = (WAD // 5, WAD // 20, WAD // 5)  # sigma multiple, floor, cap
HAIRCUT, ADD_ON = WAD // 20, WAD // 100
MM_FACTOR = 8 * WAD // 10


def asset_price(i: int) -> int:
    """WAD USD per whole unit of asset i (collateral tokens 0..15, then oracle-only assets)."""
    return (37 + 113 * i) * WAD // 10 + i * 10**15


def asset_sigma(i: int) -> int:
    return (30 + 3 * (i % 23)) * WAD // 100


def oracle_asset(i: int) -> str:
    return f"0x{0xCA9AC17E00 + i:040x}"


def market_tuple() -> tuple:
    p = MARKET
    return (
        p.base_mmr,
        p.vol_factor,
        p.sigma_cap,
        p.im_scale,
        p.insurance_fee_share,
        OI_CAP,
        *FUNDING,
        WAD,
    )


def send(chain: Any, sender: Any, contract: Any, method: str, *args: Any) -> str:
    """One call as a raw transaction from the node's unlocked dev account; returns its hash (the
    node mines it on arrival, but may answer first: `wait_for` the last one of a batch)."""
    data = getattr(contract, method).encode_input(*args)
    return chain.provider.make_request(
        "eth_sendTransaction",
        [
            {
                "from": sender.address,
                "to": contract.address,
                "data": HexBytes(data).to_0x_hex(),
                "gas": hex(1_000_000),
            }
        ],
    )


@dataclass
class Venue:
    engine: Any
    admin: Any
    oracle: Any
    quote: Any
    tokens: list[Any]
    assets: list[str]  # each market's asset, by id
    book: Any  # the account in the order book's role
    model: Any  # the PortfolioRiskModel, approved

    def fill(self, account: int, market_id: int, size: int) -> Any:
        price = int(self.oracle.prices(self.assets[market_id]))
        return self.engine.fillOrder(
            account, market_id, size, price, 0, 0, self.book, sender=self.book
        )


@pytest.fixture(scope="module")
def venue(project, chain, accounts, deployer) -> Venue:
    quote = deployer.deploy(project.MockERC20, "USD Coin", "USDC", 6)
    oracle = deployer.deploy(project.MockOracleAdapter)
    extension = deployer.deploy(project.MarginEngineExtension, quote, oracle)
    engine = deployer.deploy(project.MarginEngine, quote, oracle, deployer, extension)
    admin = project.MarginEngineExtension.at(engine.address)
    engine.grantRole(admin.GOVERNOR_ROLE(), deployer, sender=deployer)
    tokens = [
        deployer.deploy(project.MockERC20, f"Mock {i}", f"M{i}", d) for i, d in enumerate(DECIMALS)
    ]
    assets = [t.address for t in tokens] + [oracle_asset(i) for i in range(16, LISTED_MARKETS)]
    for i, asset in enumerate(assets):
        send(chain, deployer, oracle, "setPrice", asset, asset_price(i))
        send(chain, deployer, oracle, "setVolatility", asset, asset_sigma(i))
    for token in tokens:
        send(chain, deployer, admin, "listCollateral", token, IM_WEIGHT, MM_WEIGHT, 10**30)
    for asset in assets:
        last = send(chain, deployer, admin, "createMarket", asset, market_tuple())
    # Sent in nonce order by one sender: the last mined, every one is.
    chain.provider.web3.eth.wait_for_transaction_receipt(last, timeout=60)
    assert admin.marketCount() == LISTED_MARKETS
    assert [admin.collaterals(t).index for t in tokens] == list(range(LISTED_COLLATERALS))
    assert admin.markets(15).sharedCollateral == 16 and admin.markets(16).sharedCollateral == 0
    assert int(oracle.prices(assets[-1])) == asset_price(LISTED_MARKETS - 1)
    admin.setLiquidationParams(
        tuple(getattr(LIQUIDATION, f) for f in LIQUIDATION.__dataclass_fields__), sender=deployer
    )
    book, pool = accounts[6], accounts[7]
    admin.setOrderBook(book, sender=deployer)
    admin.setLPPool(pool, sender=deployer)
    quote.mint(engine, POOL_CASH, sender=deployer)
    admin.creditPool(POOL_CASH, sender=pool)
    model = deployer.deploy(project.PortfolioRiskModel)
    held = sorted({*HELD, *TRADED})
    model.setGrid(
        len(SCENARIOS),
        MM_FACTOR,
        [assets[i] for i in held],
        [(*SCAN, HAIRCUT, ADD_ON)] * len(held),
        [[s[i % 2] * WAD for s in SCENARIOS] for i in held],
        sender=deployer,
    )
    admin.approveRiskModel(model, True, sender=deployer)
    return Venue(engine, admin, oracle, quote, tokens, assets, book, model)


# ------------------------------------------------------------------ reference


def grid() -> pm.PortfolioParams:
    scan = pm.ScanRange(*SCAN)
    shocks = tuple(
        pm.Shock(f"s{k}", {str(i): s[i % 2] * WAD for i in sorted({*HELD, *TRADED})})
        for k, s in enumerate(SCENARIOS)
    )
    return pm.PortfolioParams(shocks, {str(i): scan for i in sorted({*HELD, *TRADED})}, MM_FACTOR)


@dataclass(frozen=True)
class Reference:
    initial: tuple[int, int, int]  # equity, requirement, health
    maintenance: tuple[int, int, int]


def reference(venue: Venue, account: int, model: bool) -> Reference:
    """The account's margin from its ledger entries (quote, balances, positions) and the oracle's
    prices and sigmas, computed in Python: no engine margin view is read."""
    admin, oracle = venue.admin, venue.oracle
    quote = int(admin.accounts(account).quoteBalance)
    assert quote >= 0  # no interest pending
    holdings = []
    for i, token in enumerate(venue.tokens):
        amount = int(admin.collateralBalance(account, token))
        if amount:
            holdings.append((i, amount))
    positions = []
    for market_id in range(LISTED_MARKETS):
        if market_id not in TRADED and market_id not in (1, 62):
            continue
        p = admin.positions(account, market_id)
        if p.size:
            positions.append((market_id, int(p.size), int(p.openNotional)))
    price = {i: int(oracle.prices(a)) for i, a in enumerate(venue.assets)}
    sigma = {i: int(oracle.sigmas(a)) for i, a in enumerate(venue.assets)}
    if model:
        book = pm.Book(
            quote,
            tuple(pm.Holding(str(i), a, DECIMALS[i], price[i], HAIRCUT) for i, a in holdings),
            tuple(pm.Position(str(m), s, n, price[m], ADD_ON) for m, s, n in positions),
        )
        sigmas = {str(i): s for i, s in sigma.items()}
        m = pm.margin(book, grid(), sigmas)
        return Reference(
            (m.initial_equity, m.initial_requirement, pm.initial_health(book, grid(), sigmas)),
            (
                m.maintenance_equity,
                m.maintenance_requirement,
                pm.maintenance_health(book, grid(), sigmas),
            ),
        )
    params = standard.CollateralParams
    portfolio = standard.Portfolio(
        quote,
        [
            standard.CollateralHolding(a, price[i], params(DECIMALS[i], IM_WEIGHT, MM_WEIGHT))
            for i, a in holdings
        ],
        [standard.PositionState(s, n, price[m], sigma[m], MARKET) for m, s, n in positions],
    )
    minimum = LIQUIDATION.min_position_margin
    m = standard.margin(portfolio, minimum)
    return Reference(
        (m.initial_equity, m.initial_requirement, standard.initial_health(portfolio, minimum)),
        (
            m.maintenance_equity,
            m.maintenance_requirement,
            standard.maintenance_health(portfolio, minimum),
        ),
    )


def assert_views_equal_reference(venue: Venue, account: int, model: bool) -> Reference:
    expected = reference(venue, account, model)
    initial = venue.admin.initialHealthOf(account)
    assert (initial.equity, initial.requirement, initial.health) == expected.initial
    maintenance = venue.admin.healthOf([account])[0]
    assert (maintenance.equity, maintenance.requirement, maintenance.health) == expected.maintenance
    return expected


# ------------------------------------------------------------------ driving


def units(i: int, usd: int) -> int:
    """Token units of collateral i worth about `usd`."""
    return usd * WAD * 10 ** DECIMALS[i] // asset_price(i)


def size(market_id: int, usd: int) -> int:
    """Position size (WAD) worth about `usd` in market `market_id`."""
    return usd * WAD * WAD // asset_price(market_id)


def open_with_collateral(venue: Venue, owner: Any, minted_usd: int, quote_usd: int) -> int:
    """Opens `owner`'s account 0 with `quote_usd` of quote (of `minted_usd` minted) and about
    $2k of each of the 8 held collaterals (as much again left in the wallet); returns its id."""
    engine = venue.engine
    engine.openAccount(0, sender=owner)
    account = int(engine.accountIdOf(owner, 0))
    venue.quote.mint(owner, minted_usd * USDC, sender=owner)
    venue.quote.approve(engine, MAX, sender=owner)
    engine.deposit(account, venue.quote, quote_usd * USDC, sender=owner)
    for i in HELD:
        token = venue.tokens[i]
        token.mint(owner, 2 * units(i, 2_000), sender=owner)
        token.approve(engine, MAX, sender=owner)
        engine.deposit(account, token, units(i, 2_000), sender=owner)
    return account


def open_at_limits(venue: Venue, owner: Any, model: bool, usd: int) -> tuple[int, Any]:
    """An account with $60k of quote, 8 collaterals (about $2k each) and 8 long positions of about
    `usd` each; returns it and the receipt of its eighth fill."""
    account = open_with_collateral(venue, owner, 60_000, 60_000)
    if model:
        venue.admin.setRiskModel(account, venue.model, sender=owner)
    receipt = None
    for market_id in TRADED:
        receipt = venue.fill(account, market_id, size(market_id, usd))
    state = venue.admin.accounts(account)
    assert state.collateralMask == sum(1 << i for i in HELD)
    assert state.marketMask == sum(1 << m for m in TRADED)
    return account, receipt


def set_prices(venue: Venue, deployer: Any, per_mille: int) -> None:
    """Moves the price of every traded market's asset by `per_mille`."""
    for market_id in TRADED:
        asset = venue.assets[market_id]
        price = int(venue.oracle.prices(asset))
        venue.oracle.setPrice(asset, price * (1000 + per_mille) // 1000, sender=deployer)


def ledger_state(venue: Venue, account: int) -> tuple:
    admin = venue.admin
    return (
        tuple(admin.accounts(account)),
        tuple(int(admin.collateralBalance(account, t)) for t in venue.tokens),
        tuple(tuple(admin.positions(account, m)) for m in range(LISTED_MARKETS)),
        tuple(admin.ledger()),
    )


# ------------------------------------------------------------------ tests


def test_the_engine_lists_64_markets_and_16_collaterals_and_no_more(venue, project, deployer):
    admin = venue.admin
    extra = deployer.deploy(project.MockERC20, "Extra", "XTR", 18)
    venue.oracle.setPrice(extra, WAD, sender=deployer)
    with ape.reverts(admin.TooManyCollaterals):
        admin.listCollateral(extra, IM_WEIGHT, MM_WEIGHT, 10**30, sender=deployer)
    with ape.reverts(admin.TooManyMarkets):
        admin.createMarket(extra, market_tuple(), sender=deployer)
    assert admin.marketCount() == LISTED_MARKETS
    assert not admin.collaterals(extra).listed
    venue.engine.openAccount(0, sender=deployer)
    account = venue.engine.accountIdOf(deployer, 0)
    with ape.reverts(venue.engine.UnknownMarket, marketId=LISTED_MARKETS):
        venue.engine.fillOrder(
            account, LISTED_MARKETS, WAD, WAD, 0, 0, venue.book, sender=venue.book
        )


def test_an_account_at_its_limits_trades_is_refused_a_ninth_and_is_liquidated(
    venue, chain, accounts, deployer, steady_clock, gas
):
    """8 collaterals (index 15 among them) and 8 long positions (id 63 among them): the views equal
    the reference; a ninth market and a ninth collateral are refused with nothing moved; closing a
    market frees its place; a price drop makes the account liquidatable and `liquidate` restores
    it. Gas rows: the eighth fill (`capacity.trade_at_limits`), `healthOf` of the account sent as
    a transaction (`capacity.health_at_limits`) and the liquidation
    (`capacity.liquidate_at_limits`)."""
    engine, owner = venue.engine, accounts[3]
    account, eighth = open_at_limits(venue, owner, model=False, usd=60_000)
    gas.record("capacity.trade_at_limits", eighth)
    expected = assert_views_equal_reference(venue, account, model=False)
    assert expected.initial[2] >= WAD
    gas.record(
        "capacity.health_at_limits", venue.admin.healthOf.transact([account], sender=deployer)
    )

    # A ninth market: refused before anything moves.
    before = ledger_state(venue, account)
    with ape.reverts(engine.AccountMarketLimit, accountId=account):
        venue.fill(account, 62, size(62, 1_000))
    # A ninth collateral, and the same with a collateral already held: only the first is refused.
    token = venue.tokens[14]
    token.mint(owner, units(14, 100), sender=owner)
    token.approve(engine, MAX, sender=owner)
    with ape.reverts(engine.AccountCollateralLimit, accountId=account):
        engine.deposit(account, token, units(14, 100), sender=owner)
    assert ledger_state(venue, account) == before
    engine.deposit(account, venue.tokens[15], units(15, 100), sender=owner)
    # Adding to an open position is not a new market.
    venue.fill(account, 63, size(63, 1_000))

    # Closing market 18 frees a place for market 62; withdrawing collateral 3 frees one for 14.
    venue.fill(account, 18, -int(venue.admin.positions(account, 18).size))
    venue.fill(account, 62, size(62, 1_000))
    engine.withdraw(
        account,
        venue.tokens[3],
        venue.admin.collateralBalance(account, venue.tokens[3]),
        owner,
        sender=owner,
    )
    engine.deposit(account, token, units(14, 100), sender=owner)
    state = venue.admin.accounts(account)
    assert bin(state.marketMask).count("1") == bin(state.collateralMask).count("1") == ACCOUNT_LIMIT
    assert state.marketMask >> 62 & 1 and state.collateralMask >> 14 & 1
    with ape.reverts(engine.AccountMarketLimit, accountId=account):
        venue.fill(account, 18, size(18, 1_000))
    venue.fill(account, 62, -int(venue.admin.positions(account, 62).size))
    venue.fill(account, 18, size(18, 60_000))
    assert_views_equal_reference(venue, account, model=False)

    # Every long loses 10%: below maintenance, liquidated (quote pays the penalty).
    snapshot = chain.snapshot()
    try:
        set_prices(venue, deployer, -100)
        expected = assert_views_equal_reference(venue, account, model=False)
        assert expected.maintenance[2] < WAD
        receipt = engine.liquidate(account, accounts[8], sender=accounts[8])
        gas.record("capacity.liquidate_at_limits", receipt)
        after = assert_views_equal_reference(venue, account, model=False)
        assert after.maintenance[2] > expected.maintenance[2]
        assert venue.admin.accounts(account).activeAuctions == 0
    finally:
        chain.restore(snapshot)


def test_the_portfolio_model_at_the_limits_equals_the_reference(
    venue, accounts, deployer, steady_clock, gas
):
    """The same account on the portfolio model (8 holdings and 8 positions: its maximum): the
    bridge hands it the 8 of each among 16 and 64, and the views equal `solvent.model.portfolio`."""
    account, eighth = open_at_limits(venue, accounts[4], model=True, usd=25_000)
    gas.record("capacity.trade_at_limits_portfolio", eighth)
    expected = assert_views_equal_reference(venue, account, model=True)
    assert expected.initial[2] >= WAD
    with ape.reverts(venue.engine.AccountMarketLimit, accountId=account):
        venue.fill(account, 1, size(1, 1_000))
    set_prices(venue, deployer, -150)
    assert_views_equal_reference(venue, account, model=True)
    gas.record(
        "capacity.health_at_limits_portfolio",
        venue.admin.healthOf.transact([account], sender=deployer),
    )


def test_collateral_in_auction_counts_toward_the_collateral_limit(
    venue, project, chain, accounts, deployer
):
    """An account handed to auction with its 8 collaterals (`activeAuctions` = 8, mask empty) may
    not deposit a new collateral: each auction returns its leftover to the mask when it ends, and
    that return must never take the account past 8. An auction's end moves one place from the
    auctions to the mask; the account still holds 8."""
    engine, admin, owner = venue.engine, venue.admin, accounts[5]
    fund = deployer.deploy(project.MockInsuranceFund, venue.quote)
    venue.quote.mint(fund, 1_000 * USDC, sender=deployer)
    liquidator = deployer.deploy(
        project.MinimalLiquidator,
        engine,
        venue.quote,
        fund,
        LIQUIDATION.keeper_tip,
        LIQUIDATION.keeper_chip,
    )
    admin.setInsuranceFund(fund, sender=deployer)
    admin.setLiquidator(liquidator, sender=deployer)
    account = open_with_collateral(venue, owner, 1_100, 1_000)
    for market_id in TRADED:
        venue.fill(account, market_id, size(market_id, 12_000))
    set_prices(venue, deployer, -150)
    engine.liquidate(account, accounts[8], sender=accounts[8])
    state = admin.accounts(account)
    assert (state.collateralMask, state.marketMask, state.activeAuctions) == (0, 0, ACCOUNT_LIMIT)

    token = venue.tokens[14]
    token.mint(owner, units(14, 100), sender=owner)
    token.approve(engine, MAX, sender=owner)
    before = ledger_state(venue, account)
    with ape.reverts(engine.AccountCollateralLimit, accountId=account):
        engine.deposit(account, token, units(14, 100), sender=owner)
    assert ledger_state(venue, account) == before
    # Quote is not a listed collateral: always accepted (it repays the debt).
    engine.deposit(account, venue.quote, 100 * USDC, sender=owner)

    # The second auction (collateral 3) ends with its whole lot returned: one place moves.
    first = int(liquidator.auctionCount()) - ACCOUNT_LIMIT + 1
    assert liquidator.auctions(first + 1).token == venue.tokens[3].address
    liquidator.close(first + 1, sender=deployer)
    state = admin.accounts(account)
    assert (state.collateralMask, state.activeAuctions) == (1 << 3, ACCOUNT_LIMIT - 1)
    with ape.reverts(engine.AccountCollateralLimit, accountId=account):
        engine.deposit(account, token, units(14, 100), sender=owner)
    engine.deposit(account, venue.tokens[3], units(3, 100), sender=owner)
    assert admin.accounts(account).collateralMask == 1 << 3
