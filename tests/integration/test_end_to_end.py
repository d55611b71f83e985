"""End to end on the real deployment (oracle adapter, engine, LP pool, liquidator, insurance fund):
a BTC crash, liquidation and hand-off to auction, a partial take, a capital-free take through a
swap, the leftover returned; then a deeper crash, a lot exhausted, the insurance fund exhausted and
the rest socialized on the LP pool. Every step is asserted by exact balance changes."""

from __future__ import annotations

import pytest

from solvent import config as configs
from solvent.deploy import deploy
from solvent.model import auction as ref

WAD = 10**18
USDC = 10**6
MAX = 2**256 - 1
WETH_SCALE = 10 ** (18 + 18 - 6)  # slice (18 dec) x price (WAD) -> quote units


@pytest.fixture(scope="module")
def actors(accounts):
    return {
        "lp": accounts[1],
        "rich": accounts[2],  # collateral far above its debt: leftover comes back
        "poor": accounts[3],  # collateral far below its debt: bad debt
        "keeper": accounts[4],
        "staker": accounts[5],
        "cash_only": accounts[6],  # quote only, no collateral to auction
    }


@pytest.fixture(scope="module")
def system(project, chain, deployer, actors, accounts):
    config = configs.load("local")
    # A test account plays the order book: it fills at the oracle price with a 5 bps fee.
    book = accounts[9]
    p = deploy(project, chain, config, deployer, order_book=book)
    usdc, weth = p.quote, p.tokens["WETH"]
    lp, keeper, staker = actors["lp"], actors["keeper"], actors["staker"]
    usdc.mint(lp, 1_000_000 * USDC, sender=deployer)
    usdc.approve(p.pool, MAX, sender=lp)
    p.pool.deposit(1_000_000 * USDC, lp, sender=lp)
    usdc.mint(staker, 5_000 * USDC, sender=deployer)
    usdc.approve(p.fund, MAX, sender=staker)
    p.fund.deposit(5_000 * USDC, staker, sender=staker)
    usdc.mint(keeper, 100_000 * USDC, sender=deployer)
    usdc.approve(p.liquidator, MAX, sender=keeper)
    for trader, collateral, btc_size in ((actors["rich"], 50, 10), (actors["poor"], 5, 1)):
        weth.mint(trader, collateral * WAD, sender=deployer)
        weth.approve(p.engine, MAX, sender=trader)
        p.engine.openAccount(0, sender=trader)
        account = p.engine.accountIdOf(trader, 0)
        p.engine.deposit(account, weth, collateral * WAD, sender=trader)
        fill(p, book, account, "WBTC", btc_size * WAD)
    cash_only = actors["cash_only"]
    usdc.mint(cash_only, 10_000 * USDC, sender=deployer)
    usdc.approve(p.engine, MAX, sender=cash_only)
    p.engine.openAccount(0, sender=cash_only)
    account = p.engine.accountIdOf(cash_only, 0)
    p.engine.deposit(account, usdc, 10_000 * USDC, sender=cash_only)
    fill(p, book, account, "WETH", 40 * WAD)
    exchange = deployer.deploy(project.MockExchange, usdc)
    exchange.setPrice(weth, 2_000 * WAD, sender=deployer)
    usdc.mint(exchange, 1_000_000 * USDC, sender=deployer)
    swap_taker = deployer.deploy(project.SwapTaker, p.liquidator, exchange)
    p.extra.update(exchange=exchange, swap_taker=swap_taker, config=config)
    return p


def fill(p, book, account, key, size):
    """`fillOrder` from the test order book at the oracle price, 5 bps fee (notional up, fee up)."""
    price = p.oracle.price(p.tokens[key])
    notional = -(-abs(size) * price // WAD)
    fee = -(-notional * 5 // (10_000 * 10**12))
    return p.engine.fillOrder(account, p.market_ids[key], size, price, fee, 0, book, sender=book)


def advance(chain, seconds):
    """Mines a block `seconds` later, so views see the new time too."""
    chain.mine(timestamp=chain.pending_timestamp + seconds)


def account_of(system, trader):
    return system.engine.accountIdOf(trader, 0)


def set_btc(system, chain, deployer, price):
    for feed in (system.feeds["WBTC"], system.secondary_feeds["WBTC"]):
        feed.setAnswer(price * 10 ** feed.decimals(), sender=deployer)


def expected_take(system, auction_id, max_amount):
    status = system.liquidator.status(auction_id)
    chost = system.extra["config"].asset("WETH").auction.chost
    return status, ref.take(
        status.lot, status.tab, status.debt, status.price, WETH_SCALE, max_amount, chost
    )


def test_crash_liquidation_takes_and_leftover(system, chain, deployer, actors):
    p, keeper = system, actors["keeper"]
    usdc, weth = p.quote, p.tokens["WETH"]
    rich = account_of(p, actors["rich"])
    assert p.admin.collateralBalance(rich, weth) == 50 * WAD

    # 1. BTC -10%: the 10 BTC long breaches maintenance; the account has no quote to pay the
    #    penalty, so the engine closes it fully and hands its WETH to auction.
    set_btc(p, chain, deployer, 54_000)
    assert rich in p.admin.liquidatableAccounts(1, 3)
    fund_before = usdc.balanceOf(p.fund)
    keeper_before = usdc.balanceOf(keeper)
    tx = p.engine.liquidate(rich, keeper, sender=keeper)
    [handed] = tx.events.filter(p.engine.HandedToAuction)
    [started] = tx.events.filter(p.liquidator.AuctionStarted)
    [rewarded] = tx.events.filter(p.liquidator.KeeperRewarded)
    auction = started.id
    assert started.lot == 50 * WAD and started.accountId == rich
    assert started.tab == handed.debt + handed.unpaidPenalty and started.debt == handed.debt
    assert p.admin.collateralBalance(rich, weth) == 0
    assert p.admin.collateralInAuction(weth) == 50 * WAD
    assert p.admin.ledger().debtInAuction == handed.debt
    assert usdc.balanceOf(keeper) - keeper_before == rewarded.paid > 0
    assert fund_before - usdc.balanceOf(p.fund) == rewarded.paid
    assert rich not in p.admin.liquidatableAccounts(1, 3)

    # 2. Ten minutes of decay, then a partial take of 10 WETH by a keeper with capital.
    advance(chain, 600)
    status, want = expected_take(p, auction, 10 * WAD)
    assert status.price == ref.stairstep_price(status.startPrice, 600, 99 * WAD // 100, 60)
    engine_quote = usdc.balanceOf(p.engine)
    tx = p.liquidator.take(auction, 10 * WAD, status.price, keeper, b"", sender=keeper)
    [take] = tx.events.filter(p.liquidator.Take)
    assert (take.slice, take.owe, take.tabLeft) == (want.slice, want.owe, want.tab_left)
    assert weth.balanceOf(keeper) == want.slice
    assert usdc.balanceOf(p.engine) - engine_quote == want.owe
    assert p.admin.ledger().debtInAuction == handed.debt - want.debt_repaid

    # 3. A capital-free take of the rest: the swap taker sells WETH on the exchange inside the
    #    callback and pays the remaining tab; the leftover WETH goes back to the account.
    status, want = expected_take(p, auction, MAX)
    assert want.owe == status.tab  # the tab caps the payment
    engine_quote = usdc.balanceOf(p.engine)
    fees_before = p.admin.ledger().insuranceFees
    tx = p.extra["swap_taker"].take(auction, MAX, status.price, sender=keeper)
    [take] = tx.events.filter(p.liquidator.Take)
    assert (take.slice, take.owe, take.tabLeft) == (want.slice, want.owe, 0)
    assert usdc.balanceOf(p.engine) - engine_quote == want.owe
    assert p.admin.collateralBalance(rich, weth) == status.lot - want.slice
    assert p.admin.collateralInAuction(weth) == 0
    assert weth.balanceOf(p.extra["exchange"]) == want.slice
    assert p.admin.ledger().debtInAuction == 0
    assert p.admin.ledger().insuranceFees - fees_before == want.penalty_paid
    assert p.liquidator.activeAuctionCount() == 0
    assert p.admin.accounts(rich).activeAuctions == 0


def test_lot_exhausted_fund_exhausted_loss_socialized(system, chain, deployer, actors):
    p, keeper = system, actors["keeper"]
    usdc, weth = p.quote, p.tokens["WETH"]
    poor = account_of(p, actors["poor"])

    # BTC -50%: the 1 BTC long loses $30,000 against 5 WETH ($10,000) of collateral.
    set_btc(p, chain, deployer, 30_000)
    tx = p.engine.liquidate(poor, keeper, sender=keeper)
    [started] = tx.events.filter(p.liquidator.AuctionStarted)
    auction = started.id
    advance(chain, 600)

    status, want = expected_take(p, auction, MAX)
    assert want.lot_left == 0 and want.debt_left > 0  # the whole lot cannot pay the debt
    # what the fund can pay: its balance and its income still in the engine (swept first)
    fund_held = usdc.balanceOf(p.fund)
    fund_balance = fund_held + p.admin.ledger().insuranceFees
    assert fund_balance < want.debt_left  # the fund cannot cover the shortfall
    pool_assets = p.pool.totalAssets()
    engine_quote = usdc.balanceOf(p.engine)

    tx = p.liquidator.take(auction, MAX, status.price, keeper, b"", sender=keeper)
    [bad] = tx.events.filter(p.engine.BadDebtWrittenOff)
    [social] = tx.events.filter(p.pool.LossSocialized)
    [ended] = tx.events.filter(p.liquidator.AuctionEnded)
    shortfall = want.debt_left
    assert (bad.debt, bad.coveredByInsurance, bad.socialized) == (
        shortfall,
        fund_balance,
        shortfall - fund_balance,
    )
    assert (social.shortfall, social.coveredByInsurance, social.socialized) == (
        shortfall,
        fund_balance,
        shortfall - fund_balance,
    )
    assert ended.badDebt == shortfall and ended.returned == 0
    assert usdc.balanceOf(p.fund) == 0
    # the engine swept the fees out and got them back with the fund's own quote
    assert usdc.balanceOf(p.engine) - engine_quote == want.owe + fund_held
    assert weth.balanceOf(keeper) == want.slice == 5 * WAD
    # No position is open any more, so the pool loses exactly what was socialized.
    assert pool_assets - p.pool.totalAssets() == shortfall - fund_balance
    assert p.admin.ledger().debtInAuction == 0
    assert p.admin.collateralBalance(poor, weth) == 0


def test_cash_only_account_written_off_at_liquidation(system, chain, deployer, actors):
    """No collateral to auction: the engine writes the deficit off at once (the fund covers it)
    and then pays the keeper through the fund. Losses come before rewards: a fund too small for
    both pays the shortfall first."""
    p, keeper = system, actors["keeper"]
    usdc = p.quote
    account = account_of(p, actors["cash_only"])
    # ETH -15%: the 40 ETH long loses $12,000 against $10,000 of cash.
    for feed in (p.feeds["WETH"], p.secondary_feeds["WETH"]):
        feed.setAnswer(1_700 * 10 ** feed.decimals(), sender=deployer)
    # the fund's balance and its income still in the engine, swept to it before it covers
    fund_before = usdc.balanceOf(p.fund) + p.admin.ledger().insuranceFees
    keeper_before = usdc.balanceOf(keeper)
    pool_before, debt_before = p.pool.totalAssets(), p.admin.ledger().accountDebt
    tx = p.engine.liquidate(account, keeper, sender=keeper)
    [liquidated] = tx.events.filter(p.engine.Liquidated)
    [bad] = tx.events.filter(p.engine.BadDebtWrittenOff)
    assert not tx.events.filter(p.liquidator.AuctionStarted)
    paid_reward = usdc.balanceOf(keeper) - keeper_before
    assert 0 < paid_reward <= liquidated.keeperReward
    assert fund_before - usdc.balanceOf(p.fund) == paid_reward + bad.coveredByInsurance
    assert bad.debt == bad.coveredByInsurance > 0 and bad.socialized == 0
    assert p.admin.accounts(account).quoteBalance == 0
    assert p.admin.ledger().accountDebt == debt_before  # the deficit left the books at once
    # The pool had booked the trader's whole loss as unrealized gain; the fund paid the part the
    # trader's cash could not, so the pool's value is unchanged.
    assert p.pool.totalAssets() == pool_before
