"""Gas of the keeper-facing operations, measured in a warm steady state (recorded, not asserted).

Steady state: other auctions are running (caps are non-zero), keepers and the engine already hold
the tokens involved, auction slots are prepared (as `solvent/deploy.py` does) and the new
auctions reuse the slots of finished ones.
"""

from __future__ import annotations

import pytest
from liquidation_support import BTC, BUF, ETH, TAIL, USDC, WBTC_PRICE, WETH_PRICE, start_price


@pytest.fixture(scope="module")
def warm(system, project, chain):
    s = system
    s.liquidator.prepareAuctionSlots(4, sender=s.deployer)  # as a deployment does
    taker = s.fund_taker(1_000_000 * USDC)
    s.quote.mint(s.keeper, USDC, sender=s.deployer)
    s.weth.mint(taker, 1, sender=s.deployer)
    s.wbtc.mint(taker, 1, sender=s.deployer)
    s.weth.mint(s.engine, 1, sender=s.deployer)
    s.wbtc.mint(s.engine, 1, sender=s.deployer)
    _, background = s.start([s.weth, s.wbtc], [ETH, BTC], 10_000 * USDC, 500 * USDC, account=1)
    _, finished = s.start([s.weth, s.wbtc], [ETH, BTC], 1_000 * USDC, 50 * USDC, account=2)
    for i, price in ((finished, WETH_PRICE), (finished + 1, WBTC_PRICE)):
        s.liquidator.take(i, 10**30, start_price(price, BUF), taker, b"", sender=taker)
    swapper = s.deployer.deploy(project.SwapTaker, s.liquidator, s.exchange)
    s.quote.mint(swapper, USDC, sender=s.deployer)
    return taker, background, swapper


def test_gas_start_take_reset(system, warm, gas, chain):
    s = system
    taker, background, swapper = warm
    lots = [10 * ETH, BTC]
    for token, lot in zip([s.weth, s.wbtc], lots, strict=True):
        token.mint(s.engine, lot, sender=s.deployer)
    s.engine.hold([s.weth, s.wbtc], lots, sender=s.deployer)
    t0 = chain.pending_timestamp + 10
    chain.pending_timestamp = t0  # fixed elapsed times: curve gas depends on them
    tx = s.engine.start(
        3, [s.weth, s.wbtc], lots, 30_000 * USDC, 1_500 * USDC, s.keeper, sender=s.deployer
    )
    gas.record("liquidator.start_2_lots", tx)
    first, second = s.auction_ids(tx)
    [rewarded] = tx.events.filter(s.liquidator.KeeperRewarded)
    assert tx.return_value == (first, rewarded.paid) and rewarded.paid > 0
    weth_top, wbtc_top = start_price(WETH_PRICE, BUF), start_price(WBTC_PRICE, BUF)

    chain.pending_timestamp = t0 + 30
    tx = s.liquidator.take(second, BTC // 4, wbtc_top, taker, b"", sender=taker)
    gas.record("liquidator.take_partial", tx)
    chain.pending_timestamp = t0 + 60
    tx = s.liquidator.take(first, 10 * ETH, weth_top, taker, b"", sender=taker)
    assert s.liquidator.status(first).active is False
    gas.record("liquidator.take_full", tx)

    s.exchange.setPrice(s.wbtc, WBTC_PRICE * 13 // 10, sender=s.deployer)
    chain.pending_timestamp = t0 + 120
    tx = swapper.take(second, BTC, wbtc_top, sender=s.taker)
    assert s.liquidator.status(second).active is False
    gas.record("liquidator.take_callback", tx)

    chain.pending_timestamp = s.liquidator.status(background).startTime + TAIL + 1
    tx = s.liquidator.reset(background, s.keeper, sender=s.keeper)
    assert tx.events.filter(s.liquidator.AuctionReset)[0].rewardPaid > 0
    gas.record("liquidator.reset", tx)


def test_gas_cover_shortfall(system, gas):
    s = system
    s.fund.grantRole(s.fund.COVER_ROLE(), s.deployer, sender=s.deployer)
    s.quote.mint(s.deployer, USDC, sender=s.deployer)
    tx = s.fund.coverShortfall(1_000 * USDC, sender=s.deployer)
    gas.record("fund.cover_shortfall", tx)
