"""Gas of a complete liquidation on the real deployment: an account with 2 positions and 2
collaterals, the engine's liquidation with the hand-off to the real liquidator, then the takes
that settle both auctions."""

import dataclasses

import pytest

from solvent import config as configs
from solvent.deploy import deploy

WAD = 10**18
USDC = 10**6
MAX = 2**256 - 1


def _fill(p, book, account, key, size):
    """`fillOrder` from the test order book at the oracle price, 5 bps fee (notional up, fee up)."""
    price = p.oracle.price(p.tokens[key])
    notional = -(-abs(size) * price // WAD)
    fee = -(-notional * 5 // (10_000 * 10**12))
    return p.engine.fillOrder(account, p.market_ids[key], size, price, fee, 0, book, sender=book)


def _breach(project, chain, deployer, accounts, config):
    # A test account plays the order book.
    book = accounts[9]
    p = deploy(project, chain, config, deployer, order_book=book)
    lp, trader, keeper = accounts[1], accounts[2], accounts[3]
    p.quote.mint(lp, 1_000_000 * USDC, sender=deployer)
    p.quote.approve(p.pool, MAX, sender=lp)
    p.pool.deposit(1_000_000 * USDC, lp, sender=lp)
    p.quote.mint(p.fund, 10_000 * USDC, sender=deployer)
    p.quote.mint(keeper, 1_000_000 * USDC, sender=deployer)
    p.quote.approve(p.liquidator, MAX, sender=keeper)
    weth, wbtc = p.tokens["WETH"], p.tokens["WBTC"]
    p.engine.openAccount(0, sender=trader)
    account = p.engine.accountIdOf(trader, 0)
    for token, amount in ((weth, 20 * WAD), (wbtc, 10**8)):
        token.mint(trader, amount, sender=deployer)
        token.approve(p.engine, MAX, sender=trader)
        p.engine.deposit(account, token, amount, sender=trader)
    _fill(p, book, account, "WETH", 200 * WAD)
    _fill(p, book, account, "WBTC", 5 * WAD)
    # A minute later, so that the liquidation accrues funding and borrow interest (measured with
    # them settled), then the BTC drop.
    chain.mine(timestamp=chain.pending_timestamp + 60)
    for feed in (p.feeds["WBTC"], p.secondary_feeds["WBTC"]):
        feed.setAnswer(51_000 * 10 ** feed.decimals(), sender=deployer)
    return p, account, keeper


@pytest.fixture(scope="module")
def breached(project, chain, deployer, accounts):
    return _breach(project, chain, deployer, accounts, configs.load("local"))


def test_gas_complete_liquidation_2_positions_2_collaterals(breached, chain, gas):
    p, account, keeper = breached
    liquidation = p.engine.liquidate(account, keeper, sender=keeper)
    auctions = [e.id for e in liquidation.events.filter(p.liquidator.AuctionStarted)]
    assert len(auctions) == 2
    chain.mine(timestamp=chain.pending_timestamp + 600)
    takes = []
    for auction in auctions:
        price = p.liquidator.status(auction).price
        takes.append(p.liquidator.take(auction, MAX, price, keeper, b"", sender=keeper))
    assert p.liquidator.activeAuctionCount() == 0
    engine_part = gas.record("system.liquidate_2pos_2col", liquidation)
    take_parts = [gas.record(f"system.take_lot_{i}", tx) for i, tx in enumerate(takes)]
    gas.record_value("system.complete_liquidation_2pos_2col", engine_part + sum(take_parts))


def test_gas_take_by_a_keeper_with_inventory(breached, chain, deployer, gas):
    """A keeper that already holds the collateral token (Maker's takes credit an internal balance,
    so this is the comparable figure): the receiver's balance slot exists before the take."""
    p, account, keeper = breached
    liquidation = p.engine.liquidate(account, keeper, sender=keeper)
    first = liquidation.events.filter(p.liquidator.AuctionStarted)[0]
    [token] = [t for t in p.tokens.values() if t.address == first.token]
    token.mint(keeper, 1, sender=deployer)
    chain.mine(timestamp=chain.pending_timestamp + 600)
    status = p.liquidator.status(first.id)
    take = p.liquidator.take(first.id, MAX, status.price, keeper, b"", sender=keeper)
    [bought] = take.events.filter(p.liquidator.Take)
    assert bought.slice > 0 and token.balanceOf(keeper) == 1 + bought.slice
    assert not p.liquidator.status(first.id).active
    gas.record("system.take_lot_0_inventory", take)


def test_gas_liquidation_without_prepared_auction_slots(project, chain, deployer, accounts, gas):
    """Auction slots that were not prepared at deployment are created by the liquidation itself:
    4 storage words at 22.1k instead of 5k each (docs/liquidation.md, "Auction slots")."""
    unprepared = dataclasses.replace(configs.load("local"), auction_slots=0)
    p, account, keeper = _breach(project, chain, deployer, accounts, unprepared)
    assert p.liquidator.globals().slotCount == 0
    liquidation = p.engine.liquidate(account, keeper, sender=keeper)
    assert p.liquidator.globals().slotCount == 2
    gas.record("system.liquidate_2pos_2col_unprepared", liquidation)
