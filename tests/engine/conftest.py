"""Engine fixtures: USDC-like quote, WETH/WBTC collateral, ETH-PERP and BTC-PERP, LP pool,
insurance fund and the minimal liquidator, all deployed once per module."""

from __future__ import annotations

import pytest
from engine_helpers import (
    BTC_MARKET,
    BTC_PRICE,
    ETH_MARKET,
    ETH_PRICE,
    KEEPER_CHIP,
    KEEPER_TIP,
    LIQ,
    USDC,
    WAD,
    WBTC_PARAMS,
    WETH_PARAMS,
    Book,
    liquidation_tuple,
    market_tuple,
)


@pytest.fixture(scope="module")
def trader(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def lp(accounts):
    return accounts[2]


@pytest.fixture(scope="module")
def keeper(accounts):
    return accounts[3]


@pytest.fixture(scope="module")
def other(accounts):
    return accounts[4]


@pytest.fixture(scope="module")
def guardian(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def usdc(project, deployer):
    return deployer.deploy(project.MockERC20, "USD Coin", "USDC", 6)


@pytest.fixture(scope="module")
def weth(project, deployer):
    return deployer.deploy(project.MockERC20, "Wrapped Ether", "WETH", 18)


@pytest.fixture(scope="module")
def wbtc(project, deployer):
    return deployer.deploy(project.MockERC20, "Wrapped Bitcoin", "WBTC", 8)


@pytest.fixture(scope="module")
def oracle(project, deployer, weth, wbtc):
    oracle = deployer.deploy(project.MockOracleAdapter)
    oracle.setPrice(weth, ETH_PRICE, sender=deployer)
    oracle.setPrice(wbtc, BTC_PRICE, sender=deployer)
    oracle.setVolatility(weth, 6 * WAD // 10, sender=deployer)
    oracle.setVolatility(wbtc, 5 * WAD // 10, sender=deployer)
    return oracle


@pytest.fixture(scope="module")
def engine(project, deployer, usdc, oracle):
    extension = deployer.deploy(project.MarginEngineExtension, usdc, oracle)
    return deployer.deploy(project.MarginEngine, usdc, oracle, deployer, extension)


@pytest.fixture(scope="module")
def admin(project, engine):
    """The engine's governance and views, reached through its fallback."""
    return project.MarginEngineExtension.at(engine.address)


@pytest.fixture(scope="module")
def fund(project, deployer, usdc):
    fund = deployer.deploy(project.MockInsuranceFund, usdc)
    usdc.mint(fund, 1_000 * USDC, sender=deployer)
    return fund


@pytest.fixture(scope="module")
def liquidator(project, deployer, engine, usdc, fund):
    return deployer.deploy(project.MinimalLiquidator, engine, usdc, fund, KEEPER_TIP, KEEPER_CHIP)


@pytest.fixture(scope="module")
def pool(project, deployer, usdc, engine):
    return deployer.deploy(project.LPPool, usdc, engine)


@pytest.fixture(scope="module")
def configured(
    admin, engine, deployer, guardian, weth, wbtc, fund, liquidator, pool, usdc, lp, accounts
):
    governor = admin.GOVERNOR_ROLE()
    engine.grantRole(governor, deployer, sender=deployer)
    engine.grantRole(admin.GUARDIAN_ROLE(), guardian, sender=deployer)
    admin.listCollateral(
        weth, WETH_PARAMS.im_weight, WETH_PARAMS.mm_weight, 10**6 * WAD, sender=deployer
    )
    admin.listCollateral(
        wbtc, WBTC_PARAMS.im_weight, WBTC_PARAMS.mm_weight, 10**6 * 10**8, sender=deployer
    )
    admin.createMarket(weth, market_tuple(ETH_MARKET), sender=deployer)
    admin.createMarket(wbtc, market_tuple(BTC_MARKET), sender=deployer)
    admin.setLiquidationParams(liquidation_tuple(LIQ), sender=deployer)
    admin.setPoolReserveRatio(WAD // 10, sender=deployer)
    admin.setInsuranceFund(fund, sender=deployer)
    admin.setLiquidator(liquidator, sender=deployer)
    admin.setLPPool(pool, sender=deployer)
    admin.setOrderBook(accounts[6], sender=deployer)
    usdc.mint(lp, 1_000_000 * USDC, sender=deployer)
    usdc.approve(pool, 2**256 - 1, sender=lp)
    pool.deposit(500_000 * USDC, lp, sender=lp)
    return engine


@pytest.fixture(scope="module")
def funded_trader(configured, engine, trader, usdc, weth, wbtc, deployer):
    """The trader's account 1 (sub-account 0), tokens minted and approved."""
    for token, amount in ((usdc, 10**6 * USDC), (weth, 1_000 * WAD), (wbtc, 100 * 10**8)):
        token.mint(trader, amount, sender=deployer)
        token.approve(engine, 2**256 - 1, sender=trader)
    engine.openAccount(0, sender=trader)
    return engine.accountIdOf(trader, 0)


@pytest.fixture(scope="module")
def book(configured, engine, admin, oracle, accounts):
    """accounts[6], the engine's order book here (`Book.trade` replaces `engine.trade`)."""
    return Book(engine, oracle, accounts[6], lambda m: oracle.prices(admin.markets(m).asset))
