"""The whole story against the stand-in engine: a crash, auctions for two collaterals, partial
and full takes with and without the callback, leftover returned, a shortfall covered by the
fund, the fund exhausted and the rest socialized. Every step is checked by exact balances."""

from __future__ import annotations

from liquidation_support import (
    BTC,
    BUF,
    CHIP,
    ETH,
    FUND_SEED,
    SCALE_WBTC,
    SCALE_WETH,
    STEP_CUT,
    STEP_SECONDS,
    TIP,
    USDC,
    WAD,
    bad_debt,
    ends,
    settled,
    start_price,
)

from solvent.model.auction import exponential_price, keeper_reward, split_by_value, stairstep_price
from solvent.model.auction import take as ref_take

EXP_CUT = 9_999 * WAD // 10_000


def test_crash_to_socialized_loss(system, chain, project, deployer):
    s = system
    # The crash: ETH 2,000 -> 1,500, BTC 60,000 -> 45,000 (oracle and market alike).
    eth_px, btc_px = 1_500 * WAD, 45_000 * WAD
    for token, px in ((s.weth, eth_px), (s.wbtc, btc_px)):
        s.oracle.setPrice(token, px, sender=deployer)
        s.exchange.setPrice(token, px, sender=deployer)

    # Account 1 (solvent collateral): 20 ETH + 1 BTC = 75,000 USD against 60,000 debt.
    lots = [20 * ETH, BTC]
    debt, penalty = 60_000 * USDC, 3_000 * USDC
    start, first = s.start([s.weth, s.wbtc], lots, debt, penalty, account=1)
    tx = start
    values = [lots[0] * eth_px // SCALE_WETH, lots[1] * btc_px // SCALE_WBTC]
    debts, penalties = split_by_value(debt, values), split_by_value(penalty, values)
    tabs = [d + p for d, p in zip(debts, penalties, strict=True)]
    reward = keeper_reward([TIP, TIP], [CHIP, CHIP], tabs, penalty)
    assert s.quote.balanceOf(s.keeper) == reward
    fund_balance = FUND_SEED - reward
    assert s.quote.balanceOf(s.fund) == fund_balance

    # Partial take of ETH without callback, 3 steps in.
    taker = s.fund_taker(100_000 * USDC)
    t0 = s.liquidator.status(first).startTime
    eth_top, btc_top = start_price(eth_px, BUF), start_price(btc_px, BUF)
    price = stairstep_price(eth_top, 3 * STEP_SECONDS, STEP_CUT, STEP_SECONDS)
    exp = ref_take(lots[0], tabs[0], debts[0], price, SCALE_WETH, 5 * ETH, 100 * USDC)
    chain.pending_timestamp = t0 + 3 * STEP_SECONDS
    tx = s.liquidator.take(first, 5 * ETH, price, taker, b"", sender=taker)
    assert settled(tx, s.engine) == (exp.debt_repaid, exp.penalty_paid)
    assert s.weth.balanceOf(taker) == 5 * ETH

    # Full take of the ETH rest through the callback (the keeper contract holds no quote).
    swapper = deployer.deploy(project.SwapTaker, s.liquidator, s.exchange)
    elapsed = 20 * STEP_SECONDS  # the price is now below the market: a capital-free profit
    price = stairstep_price(eth_top, elapsed, STEP_CUT, STEP_SECONDS)
    assert price < eth_px
    exp2 = ref_take(exp.lot_left, exp.tab_left, exp.debt_left, price, SCALE_WETH, 10**30, 100)
    chain.pending_timestamp = t0 + elapsed
    tx = swapper.take(first, 10**30, price, sender=s.taker)
    assert exp2.tab_left == 0 and exp2.lot_left > 0
    assert s.quote.balanceOf(swapper) == exp2.slice * eth_px // SCALE_WETH - exp2.owe
    assert ends(tx, s.engine) == [(1, s.weth.address, exp2.lot_left)]  # leftover returned
    assert s.weth.balanceOf(s.engine) == exp2.lot_left

    # Full take of BTC at the exponential price.
    elapsed = 1_900
    chain.pending_timestamp = t0 + elapsed
    price = exponential_price(btc_top, elapsed, EXP_CUT)
    exp3 = ref_take(lots[1], tabs[1], debts[1], price, SCALE_WBTC, BTC, 100 * USDC)
    tx = s.liquidator.take(s.auction_ids(start)[1], BTC, price, taker, b"", sender=taker)
    assert settled(tx, s.engine) == (exp3.debt_repaid, exp3.penalty_paid)
    assert ends(tx, s.engine) == [(1, s.wbtc.address, exp3.lot_left)]
    recovered = exp.owe + exp2.owe + exp3.owe
    assert s.quote.balanceOf(s.engine) == recovered == debt + penalty
    assert s.liquidator.globals().dirt == 0

    # Account 2 (underwater): 2 ETH = 3,000 USD against 5,000 debt -> shortfall, fund covers.
    tx, second = s.start([s.weth], [2 * ETH], 5_000 * USDC, 250 * USDC, account=2)
    fund_balance -= tx.events.filter(s.liquidator.KeeperRewarded)[0].paid
    chain.pending_timestamp = s.liquidator.status(second).startTime + 1
    tx = s.liquidator.take(second, 2 * ETH, eth_top, taker, b"", sender=taker)
    assert settled(tx, s.engine) == (3_600 * USDC, 0)  # 2 ETH at 1,800
    assert bad_debt(tx, s.engine) == [(1_400 * USDC, 1_400 * USDC, 0)]
    fund_balance -= 1_400 * USDC
    assert s.quote.balanceOf(s.fund) == fund_balance

    # The fund shrinks to 1,000 USD; account 3's shortfall exceeds it: the rest is socialized.
    s.fund.grantRole(s.fund.COVER_ROLE(), deployer, sender=deployer)
    s.fund.coverShortfall(fund_balance - 1_000 * USDC, sender=deployer)
    tx, third = s.start([s.weth], [ETH], 4_000 * USDC, 0, account=3)
    chain.pending_timestamp = s.liquidator.status(third).startTime + 1
    tx = s.liquidator.take(third, ETH, eth_top, taker, b"", sender=taker)
    assert bad_debt(tx, s.engine) == [(2_200 * USDC, 1_000 * USDC, 1_200 * USDC)]
    assert s.quote.balanceOf(s.fund) == 0
    assert s.liquidator.activeAuctionIds() == []
    assert s.engine.collateralInAuction(s.weth) == s.engine.collateralInAuction(s.wbtc) == 0
