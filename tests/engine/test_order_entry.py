"""The order book's entry points on the engine: `fillOrder`, `chargeOrderFee`, `setOrderBook`,
`marketSkew` and the funding parameters of a market. A test account plays the order book."""

from __future__ import annotations

import ape
import pytest
from engine_helpers import (
    ETH_MARKET,
    ETH_PRICE,
    FUNDING,
    SKEW_SCALE,
    USDC,
    WAD,
    ledger_sum,
    market_tuple,
)

from solvent.model import margin as model

MAX = 2**256 - 1


@pytest.fixture(scope="module")
def book(accounts, admin, deployer, configured):
    book = accounts[6]
    admin.setOrderBook(book, sender=deployer)
    return book


def test_set_order_book_is_governed(admin, engine, deployer, other, configured):
    with ape.reverts(admin.AccessControlUnauthorizedAccount):
        admin.setOrderBook(other, sender=other)
    with ape.reverts(admin.ZeroAddress):
        admin.setOrderBook(ape.utils.ZERO_ADDRESS, sender=deployer)
    tx = admin.setOrderBook(other, sender=deployer)
    assert engine.orderBook() == other
    assert tx.events.filter(admin.OrderBookSet)[0].orderBook == other


def test_entry_points_are_the_order_books_alone(engine, admin, book, trader, funded_trader):
    with ape.reverts(engine.OnlyOrderBook):
        engine.fillOrder(funded_trader, 0, WAD, ETH_PRICE, 0, 0, trader, sender=trader)
    with ape.reverts(engine.OnlyOrderBook):
        admin.chargeOrderFee(funded_trader, 1, trader, sender=trader)


def test_fill_rejects(engine, admin, usdc, book, trader, funded_trader):
    engine.deposit(funded_trader, usdc, 1_000 * USDC, sender=trader)
    with ape.reverts(engine.ZeroAmount):
        engine.fillOrder(funded_trader, 0, 0, ETH_PRICE, 0, 0, book, sender=book)
    with ape.reverts(engine.SizeTooLarge):
        engine.fillOrder(funded_trader, 0, 2**120 + 1, ETH_PRICE, 0, 0, book, sender=book)
    with ape.reverts(engine.InvalidFillPrice):
        engine.fillOrder(funded_trader, 0, WAD, 0, 0, 0, book, sender=book)
    with ape.reverts(engine.ZeroAddress):
        engine.fillOrder(
            funded_trader, 0, WAD, ETH_PRICE, 0, 0, ape.utils.ZERO_ADDRESS, sender=book
        )
    with ape.reverts(engine.UnknownAccount):
        engine.fillOrder(99, 0, WAD, ETH_PRICE, 0, 0, book, sender=book)
    with ape.reverts(engine.UnknownMarket):
        engine.fillOrder(funded_trader, 7, WAD, ETH_PRICE, 0, 0, book, sender=book)
    with ape.reverts(engine.InsufficientMargin):
        engine.fillOrder(funded_trader, 0, 100 * WAD, ETH_PRICE, 0, 0, book, sender=book)
    with ape.reverts(engine.OpenInterestCapExceeded):
        engine.fillOrder(funded_trader, 0, 100_001 * WAD, ETH_PRICE, 0, 0, book, sender=book)
    assert admin.accounts(funded_trader).marketMask == 0


def test_fill_takes_the_given_price_and_fee(
    engine, admin, usdc, oracle, weth, book, trader, funded_trader
):
    """PnL is realized at the fill price, the fee is the order book's, margin at the oracle."""
    # Another account's position first, so the measured open is not the market's very first.
    engine.openAccount(1, sender=trader)
    second = engine.accountIdOf(trader, 1)
    engine.deposit(second, usdc, 10_000 * USDC, sender=trader)
    engine.fillOrder(second, 0, -WAD, ETH_PRICE, 0, 0, book, sender=book)
    engine.deposit(funded_trader, usdc, 10_000 * USDC, sender=trader)
    fill, fee = ETH_PRICE + 3 * WAD, 17 * USDC + 3
    insurance_before = admin.ledger().insuranceFees
    tx = engine.fillOrder(funded_trader, 0, 2 * WAD, fill, fee, 0, book, sender=book)
    event = tx.events.filter(engine.Traded)[0]
    assert (event.price, event.fee, event.realizedPnl) == (fill, fee, 0)
    position = admin.positions(funded_trader, 0)
    assert (position.size, position.openNotional) == (2 * WAD, 2 * fill)
    assert admin.accounts(funded_trader).quoteBalance == 10_000 * USDC - fee
    assert admin.ledger().insuranceFees == insurance_before + model.insurance_cut(
        fee, ETH_MARKET.insurance_fee_share
    )
    assert admin.marketSkew(0) == (WAD, SKEW_SCALE)

    close = ETH_PRICE - 5 * WAD
    quote_before = admin.accounts(funded_trader).quoteBalance
    tx = engine.fillOrder(funded_trader, 0, -2 * WAD, close, 0, 0, book, sender=book)
    _, realized = model.apply_fill(2 * WAD, 2 * fill, -2 * WAD, close)
    assert realized == -16 * WAD
    assert tx.events.filter(engine.Traded)[0].realizedPnl == realized
    assert admin.accounts(funded_trader).quoteBalance == quote_before - 16 * USDC
    assert admin.marketSkew(0) == (-WAD, SKEW_SCALE)
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_fill_pays_the_settlement_fee_before_its_margin_check(
    engine, admin, usdc, book, trader, keeper, funded_trader
):
    """The settlement fee leaves the account (and the engine's cash) in the fill itself, before
    the margin check: the fill's debt and the fee are lent by the pool together."""
    engine.deposit(funded_trader, usdc, 1_000 * USDC, sender=trader)
    cash_before = admin.ledger().poolCash
    tx = engine.fillOrder(funded_trader, 0, WAD, ETH_PRICE, 3 * USDC, 2 * USDC, keeper, sender=book)
    assert tx.events.filter(engine.OrderFeeCharged)[0].fee == 2 * USDC
    assert usdc.balanceOf(keeper) == 2 * USDC
    assert admin.accounts(funded_trader).quoteBalance == 995 * USDC
    cut = model.insurance_cut(3 * USDC, ETH_MARKET.insurance_fee_share)
    assert admin.ledger().poolCash == cash_before + 3 * USDC - cut  # the trade fee, less its cut
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_order_fee_is_paid_from_quote_or_lent_by_the_pool(
    engine, admin, usdc, weth, book, trader, keeper, funded_trader
):
    engine.deposit(funded_trader, usdc, 10 * USDC, sender=trader)
    engine.deposit(funded_trader, weth, WAD, sender=trader)
    with ape.reverts(engine.ZeroAddress):
        admin.chargeOrderFee(funded_trader, 1, ape.utils.ZERO_ADDRESS, sender=book)
    with ape.reverts(engine.UnknownAccount):
        admin.chargeOrderFee(99, 1, keeper, sender=book)
    admin.chargeOrderFee(funded_trader, 0, keeper, sender=book)  # nothing to pay: no-op
    assert usdc.balanceOf(keeper) == 0
    cash_before = admin.ledger().poolCash
    tx = admin.chargeOrderFee(funded_trader, 4 * USDC, keeper, sender=book)
    assert tx.events.filter(engine.OrderFeeCharged)[0].fee == 4 * USDC
    assert admin.accounts(funded_trader).quoteBalance == 6 * USDC
    assert admin.ledger().poolCash == cash_before
    # Beyond the balance the pool lends the rest: 6 paid from quote, 1 lent.
    admin.chargeOrderFee(funded_trader, 7 * USDC, keeper, sender=book)
    assert usdc.balanceOf(keeper) == 11 * USDC
    assert admin.accounts(funded_trader).quoteBalance == -1 * USDC
    ledger = admin.ledger()
    assert ledger.poolCash == cash_before - 1 * USDC
    assert ledger.accountDebt == 1 * USDC
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_funding_params_are_bounded(admin, deployer, configured):
    skew, velocity, deadband, max_rate = FUNDING
    for bad in (
        (0, velocity, deadband, max_rate),
        (2**88 + 1, velocity, deadband, max_rate),
        (skew, 18 * WAD + 1, deadband, max_rate),
        (skew, velocity, WAD + 1, max_rate),
        (skew, velocity, deadband, WAD + 1),
    ):
        with ape.reverts(admin.InvalidFundingParams):
            admin.setMarketParams(0, market_tuple(ETH_MARKET, funding=bad), sender=deployer)
    tx = admin.setMarketParams(0, market_tuple(ETH_MARKET, funding=FUNDING), sender=deployer)
    event = tx.events.filter(admin.FundingParamsSet)[0]
    assert (
        event.skewScale,
        event.maxFundingVelocity,
        event.fundingDeadband,
        event.maxFundingRate,
    ) == FUNDING
    market = admin.markets(0)
    assert (
        market.skewScale,
        market.maxFundingVelocity,
        market.fundingDeadband,
        market.maxFundingRate,
    ) == FUNDING
    with ape.reverts(admin.UnknownMarket):
        admin.marketSkew(5)
