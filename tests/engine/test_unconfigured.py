"""Reject paths that need an engine missing a part, or a part misbehaving."""

from __future__ import annotations

import ape
import pytest
from engine_helpers import (
    ETH_MARKET,
    LIQ,
    USDC,
    WAD,
    Book,
    liquidation_tuple,
    market_tuple,
    settlement,
)

from solvent.testing import deploy_reverts

MAX = 2**256 - 1


@pytest.fixture(scope="module")
def bare(project, deployer, usdc, weth, oracle, accounts):
    """An engine with a market and WETH collateral but no liquidator, fund or pool."""
    extension = deployer.deploy(project.MarginEngineExtension, usdc, oracle)
    engine = deployer.deploy(project.MarginEngine, usdc, oracle, deployer, extension)
    admin = project.MarginEngineExtension.at(engine.address)
    engine.grantRole(admin.GOVERNOR_ROLE(), deployer, sender=deployer)
    admin.listCollateral(weth, 8 * WAD // 10, 85 * WAD // 100, 10**6 * WAD, sender=deployer)
    admin.createMarket(weth, market_tuple(ETH_MARKET), sender=deployer)
    admin.setLiquidationParams(liquidation_tuple(LIQ), sender=deployer)
    admin.setOrderBook(accounts[6], sender=deployer)
    return engine, admin


def test_extension_must_share_quote_and_oracle(project, chain, deployer, usdc, weth, oracle):
    wrong = deployer.deploy(project.MarginEngineExtension, weth, oracle)
    deploy_reverts(
        chain,
        deployer,
        project.MarginEngine.InvalidExtension,
        project.MarginEngine,
        usdc,
        oracle,
        deployer,
        wrong,
    )


def test_missing_parts_are_named(bare, deployer, trader, keeper, usdc, weth, oracle, accounts):
    engine, admin = bare
    book = Book(engine, oracle, accounts[6], lambda m: oracle.prices(admin.markets(m).asset))
    weth.mint(trader, 10 * WAD, sender=deployer)
    weth.approve(engine, MAX, sender=trader)
    engine.openAccount(0, sender=trader)
    account_id = engine.accountIdOf(trader, 0)
    engine.deposit(account_id, weth, 10 * WAD, sender=trader)
    with ape.reverts(engine.PoolExposureExceeded, marketId=0, bound=0):  # no pool, no cash
        book.trade(account_id, 0, 60 * WAD, MAX, sender=trader)
    pool = accounts[7]  # stands in for the LP pool: its cash arrives, then it credits it
    admin.setLPPool(pool, sender=deployer)
    usdc.mint(engine, 1_000_000 * USDC, sender=deployer)
    admin.creditPool(1_000_000 * USDC, sender=pool)
    book.trade(account_id, 0, 60 * WAD, MAX, sender=trader)
    with ape.reverts(engine.InsuranceFundNotSet):
        admin.sweepInsuranceFees(sender=keeper)
    oracle.setPrice(weth, 2_600 * WAD, sender=keeper)
    with ape.reverts(engine.LiquidatorNotSet):
        engine.liquidate(account_id, keeper, sender=keeper)


def test_liquidator_cannot_settle_more_than_debt_in_auction(bare, deployer, other):
    engine, admin = bare
    admin.setLiquidator(other, sender=deployer)
    with ape.reverts(engine.DebtInAuctionExceeded):
        admin.settleAuction(settlement(1, other, debtRepaid=1), sender=other)
    with ape.reverts(engine.DebtInAuctionExceeded):
        admin.settleAuction(settlement(1, other, badDebt=1), sender=other)
    with ape.reverts(engine.UnknownAccount):
        admin.settleAuction(settlement(1, other, ended=True), sender=other)
    admin.settleAuction(settlement(1, other, penaltyPaid=5 * USDC), sender=other)
    assert admin.ledger().insuranceFees == 5 * USDC


def test_listing_refuses_more_than_18_decimals(bare, project, deployer):
    """The listing bounds (64 markets, 16 collaterals) are in tests/risk/test_capacity.py."""
    _, admin = bare
    big = deployer.deploy(project.MockERC20, "Big", "BIG", 19)
    with ape.reverts(admin.InvalidCollateral):
        admin.listCollateral(big, WAD // 2, WAD // 2, 1, sender=deployer)


def test_broken_price_reverts_with_the_oracle_error(
    bare, project, deployer, trader, usdc, oracle, accounts
):
    engine, admin = bare
    book = Book(engine, oracle, accounts[6], lambda m: oracle.prices(admin.markets(m).asset))
    unpriced = deployer.deploy(project.MockERC20, "No Feed", "NOF", 18)
    admin.createMarket(unpriced, market_tuple(ETH_MARKET), sender=deployer)
    usdc.mint(trader, 1_000 * USDC, sender=deployer)
    usdc.approve(engine, MAX, sender=trader)
    engine.openAccount(1, sender=trader)
    account_id = engine.accountIdOf(trader, 1)
    engine.deposit(account_id, usdc, 1_000 * USDC, sender=trader)
    with ape.reverts(oracle.PriceNotSet):
        book.trade(account_id, 1, WAD, MAX, sender=trader)
    assert admin.accounts(account_id).marketMask == 0


def test_pool_cannot_be_paid_beyond_its_withdrawable_cash(bare, deployer, other, usdc):
    """The engine re-checks every pool payout, whatever the pool contract computed: here the
    pool's role is played by an account that asks for one unit more than the cash."""
    engine, admin = bare
    admin.setLPPool(other, sender=deployer)
    usdc.mint(engine, 1_000 * USDC, sender=deployer)
    admin.creditPool(1_000 * USDC, sender=other)
    assert admin.poolWithdrawable() == 1_000 * USDC
    with ape.reverts(engine.PoolLiquidityExceeded):
        admin.payFromPool(other, 1_000 * USDC + 1, sender=other)
    assert usdc.balanceOf(other) == 0
    admin.payFromPool(other, 1_000 * USDC, sender=other)
    assert usdc.balanceOf(other) == 1_000 * USDC
    assert admin.poolWithdrawable() == 0
