"""The engine's guardian acts at once only in the safer direction (issue 16): it pauses risk
increases and raises a market's initial-margin scale within its bound; it cannot lower it, resume
trading, change a parameter, an address or move funds."""

from __future__ import annotations

import ape
from engine_helpers import ETH_MARKET, LIQ, WAD, liquidation_tuple, market_tuple

MAX_IM_SCALE = 5 * WAD


def test_guardian_raises_initial_margin_only(admin, engine, guardian, deployer, trader, configured):
    before = admin.markets(0)
    tx = admin.raiseInitialMargin(0, 2 * WAD, sender=guardian)
    assert tx.events.filter(admin.InitialMarginRaised)[0].imScale == 2 * WAD
    after = admin.markets(0)
    assert after.imScale == 2 * WAD
    assert after.baseMmr == before.baseMmr  # maintenance unchanged: nobody becomes liquidatable
    with ape.reverts(admin.GuardianCannotLoosen, current=2 * WAD, requested=2 * WAD - 1):
        admin.raiseInitialMargin(0, 2 * WAD - 1, sender=guardian)
    with ape.reverts(admin.InvalidMarginParams):
        admin.raiseInitialMargin(0, MAX_IM_SCALE + 1, sender=guardian)
    with ape.reverts(admin.UnknownMarket):
        admin.raiseInitialMargin(9, 2 * WAD, sender=guardian)
    with ape.reverts(engine.AccessControlUnauthorizedAccount):
        admin.raiseInitialMargin(0, 3 * WAD, sender=trader)
    admin.raiseInitialMargin(0, MAX_IM_SCALE, sender=guardian)
    assert admin.markets(0).imScale == MAX_IM_SCALE
    # The governor lowers it again through the ordinary (timelocked) setter.
    admin.setMarketParams(0, market_tuple(ETH_MARKET), sender=deployer)
    assert admin.markets(0).imScale == ETH_MARKET.im_scale


def test_guardian_cannot_loosen_rewire_or_move_funds(
    admin, engine, guardian, trader, fund, usdc, configured
):
    err = engine.AccessControlUnauthorizedAccount
    with ape.reverts(err):
        admin.unpauseRiskIncrease(sender=guardian)
    with ape.reverts(err):
        admin.setMarketParams(0, market_tuple(ETH_MARKET), sender=guardian)
    with ape.reverts(err):
        admin.setLiquidationParams(liquidation_tuple(LIQ), sender=guardian)
    with ape.reverts(err):
        admin.setLiquidator(guardian, sender=guardian)
    with ape.reverts(err):
        admin.setInsuranceFund(guardian, sender=guardian)
    with ape.reverts(err):
        admin.setOrderBook(guardian, sender=guardian)
    with ape.reverts(err):
        admin.setPoolReserveRatio(0, sender=guardian)
    with ape.reverts(err):
        admin.setBorrowParams(0, WAD // 2, 0, sender=guardian)
    with ape.reverts(err):
        engine.grantRole(admin.GOVERNOR_ROLE(), guardian, sender=guardian)
    with ape.reverts(admin.OnlyLiquidator):
        admin.releaseCollateral(usdc, guardian, 1, sender=guardian)
