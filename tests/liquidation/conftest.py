"""Deployment of the liquidator, the insurance fund and the stand-in engine, once per module."""

from __future__ import annotations

import pytest
from liquidation_support import (
    COOLDOWN,
    EXP_CUT,
    FUND_SEED,
    GLOBAL_HOLE,
    LINEAR_TAU,
    STEP_CUT,
    STEP_SECONDS,
    USDC,
    WBTC_PRICE,
    WETH_PRICE,
    WINDOW,
    System,
    collateral_params,
)


@pytest.fixture(scope="module")
def system(project, accounts, deployer) -> System:
    quote = deployer.deploy(project.MockERC20, "USD Coin", "USDC", 6)
    weth = deployer.deploy(project.MockERC20, "Wrapped Ether", "WETH", 18)
    wbtc = deployer.deploy(project.MockERC20, "Wrapped Bitcoin", "WBTC", 8)
    oracle = deployer.deploy(project.MockOracleAdapter)
    oracle.setPrice(weth, WETH_PRICE, sender=deployer)
    oracle.setPrice(wbtc, WBTC_PRICE, sender=deployer)
    treasury = accounts[3]
    fund = deployer.deploy(project.InsuranceFund, quote, deployer, treasury, COOLDOWN, WINDOW)
    engine = deployer.deploy(project.MockSettlementEngine)
    liquidator = deployer.deploy(
        project.DutchAuctionLiquidator, engine, quote, oracle, fund, deployer
    )
    engine.wire(liquidator, fund, sender=deployer)
    liquidator.grantRole(liquidator.GOVERNOR_ROLE(), deployer, sender=deployer)
    liquidator.grantRole(liquidator.GUARDIAN_ROLE(), deployer, sender=deployer)
    fund.grantRole(fund.GOVERNOR_ROLE(), deployer, sender=deployer)
    fund.grantRole(fund.COVER_ROLE(), engine, sender=deployer)
    fund.grantRole(fund.COVER_ROLE(), liquidator, sender=deployer)
    fund.grantRole(fund.REWARD_ROLE(), liquidator, sender=deployer)

    stairstep = deployer.deploy(project.StairstepExponentialDecrease, STEP_CUT, STEP_SECONDS)
    exponential = deployer.deploy(project.ExponentialDecrease, EXP_CUT)
    linear = deployer.deploy(project.LinearDecrease, LINEAR_TAU)
    for curve in (stairstep, exponential, linear):
        liquidator.allowCurve(curve, sender=deployer)
    liquidator.setCollateral(weth, collateral_params(stairstep), sender=deployer)
    liquidator.setCollateral(wbtc, collateral_params(exponential), sender=deployer)
    liquidator.setGlobalHole(GLOBAL_HOLE, sender=deployer)

    staker = accounts[4]
    quote.mint(staker, FUND_SEED, sender=deployer)
    quote.approve(fund, FUND_SEED, sender=staker)
    fund.deposit(FUND_SEED, staker, sender=staker)

    exchange = deployer.deploy(project.MockExchange, quote)
    exchange.setPrice(weth, WETH_PRICE, sender=deployer)
    exchange.setPrice(wbtc, WBTC_PRICE, sender=deployer)
    quote.mint(exchange, 100_000_000 * USDC, sender=deployer)
    return System(
        quote=quote,
        weth=weth,
        wbtc=wbtc,
        oracle=oracle,
        fund=fund,
        engine=engine,
        liquidator=liquidator,
        stairstep=stairstep,
        exponential=exponential,
        linear=linear,
        exchange=exchange,
        deployer=deployer,
        keeper=accounts[1],
        taker=accounts[2],
        treasury=treasury,
        staker=staker,
    )
