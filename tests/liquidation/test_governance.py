"""Configuration bounds and roles, circuit breaker, cancel, the active list, reentrancy."""

from __future__ import annotations

import ape
import pytest
from liquidation_support import (
    BTC,
    BUF,
    CHOST,
    ETH,
    HOLE,
    LINEAR_TAU,
    USDC,
    WAD,
    WETH_PRICE,
    active_tabs,
    bad_debt,
    collateral_params,
    ends,
    start_price,
)

from solvent.testing import deploy_reverts

TOP = start_price(WETH_PRICE, BUF)

OUT_OF_RANGE = [
    {"buf": WAD - 1},
    {"buf": 2 * WAD + 1},
    {"tail": 299},
    {"tail": 7 * 86_400 + 1},
    {"cusp": 0},
    {"cusp": 99 * WAD // 100 + 1},
    {"chip": WAD // 20 + 1},
    {"tip": 10_000 * USDC + 1},
    {"chost": 1_000_000 * USDC + 1},
    {"hole": 2**80},
    {"hole": CHOST - 1},  # below chost no piece of a larger tab could ever start
]


@pytest.mark.parametrize("override", OUT_OF_RANGE, ids=lambda o: next(iter(o)))
def test_collateral_parameters_are_bounded(system, override):
    s = system
    with ape.reverts(s.liquidator.ParameterOutOfRange):
        s.liquidator.setCollateral(
            s.weth, collateral_params(s.stairstep, **override), sender=s.deployer
        )


def test_collateral_config_checks_addresses_and_emits(system):
    s = system
    with ape.reverts(s.liquidator.ZeroAddress):
        s.liquidator.setCollateral(
            s.weth, collateral_params(ape.utils.ZERO_ADDRESS), sender=s.deployer
        )
    params = collateral_params(s.linear, buf=WAD, chost=0, hole=HOLE // 2)
    tx = s.liquidator.setCollateral(s.weth, params, sender=s.deployer)
    [event] = tx.events.filter(s.liquidator.CollateralConfigured)
    assert event.token == s.weth.address
    c = s.liquidator.collaterals(s.weth)
    assert (c.curve, c.buf, c.chost, c.hole, c.scaleExp) == (
        s.linear.address,
        WAD,
        0,
        HOLE // 2,
        30,
    )
    assert s.liquidator.collaterals(s.wbtc).scaleExp == 20


def test_only_roles_configure(system):
    s = system
    with ape.reverts(s.liquidator.AccessControlUnauthorizedAccount):
        s.liquidator.setCollateral(s.weth, collateral_params(s.linear), sender=s.taker)
    with ape.reverts(s.liquidator.AccessControlUnauthorizedAccount):
        s.liquidator.setGlobalHole(1, sender=s.taker)
    with ape.reverts(s.liquidator.AccessControlUnauthorizedAccount):
        s.liquidator.setStopped(3, sender=s.taker)
    with ape.reverts(s.liquidator.AccessControlUnauthorizedAccount):
        s.liquidator.cancel(1, sender=s.taker)
    with ape.reverts(s.liquidator.AccessControlUnauthorizedAccount):
        s.liquidator.allowCurve(s.taker, sender=s.taker)


def test_global_hole_and_breaker_bounds_and_events(system):
    s = system
    with ape.reverts(s.liquidator.ParameterOutOfRange):
        s.liquidator.setGlobalHole(2**96, sender=s.deployer)
    with ape.reverts(s.liquidator.ParameterOutOfRange):
        s.liquidator.setStopped(4, sender=s.deployer)
    tx = s.liquidator.setGlobalHole(123, sender=s.deployer)
    assert tx.events.filter(s.liquidator.GlobalHoleSet)[0].hole == 123
    tx = s.liquidator.setStopped(2, sender=s.deployer)
    assert tx.events.filter(s.liquidator.StoppedSet)[0].level == 2
    assert s.liquidator.globals().hole == 123 and s.liquidator.globals().stopped == 2


def test_cancel_moves_lot_and_writes_off_debt(system):
    s = system
    tx, first = s.start([s.weth, s.wbtc], [10 * ETH, BTC], 40_000 * USDC, 2_000 * USDC)
    second = s.auction_ids(tx)[1]
    a = s.liquidator.status(first)
    fund_before = s.quote.balanceOf(s.fund)
    s.liquidator.setStopped(3, sender=s.deployer)  # cancel works at every breaker level
    tx = s.liquidator.cancel(first, sender=s.deployer)
    # The lot goes to the insurance fund, the only recipient a cancel has.
    assert s.weth.balanceOf(s.fund) == 10 * ETH and s.weth.balanceOf(s.treasury) == 0
    assert tx.events.filter(s.liquidator.AuctionCancelled)[0].recipient == s.fund.address
    assert bad_debt(tx, s.engine) == [(a.debt, a.debt, 0)]
    assert ends(tx, s.engine) == [(7, s.weth.address, 0)]
    assert fund_before - s.quote.balanceOf(s.fund) == a.debt
    assert not s.liquidator.status(first).active
    assert s.liquidator.activeAuctionIds() == [second]
    assert s.liquidator.globals().dirt == active_tabs(s.liquidator) == 42_000 * USDC - a.tab
    assert s.liquidator.collaterals(s.weth).dirt == 0
    with ape.reverts(s.liquidator.AuctionNotActive):
        s.liquidator.cancel(first, sender=s.deployer)


def test_finished_auctions_free_their_slots_for_new_ids(system):
    """Slots are recycled through a free list (last freed, first reused); ids never are: a new
    auction in a reused slot gets a new id, and the old id stays inactive."""
    s = system
    ids = [s.start([s.weth], [ETH], 500 * USDC, 0, account=i)[1] for i in range(4)]
    slots = [i % 2**24 for i in ids]
    assert slots == [1, 2, 3, 4] and s.liquidator.globals().slotCount == 4
    assert s.liquidator.activeAuctionIds() == ids  # by slot
    taker = s.fund_taker(10_000 * USDC)
    for gone in (ids[1], ids[3], ids[0]):
        s.liquidator.take(gone, ETH, TOP, taker, b"", sender=taker)
        remaining = list(s.liquidator.activeAuctionIds())
        assert gone not in remaining
        assert s.liquidator.activeAuctionCount() == len(remaining)
    assert s.liquidator.activeAuctionIds() == [ids[2]]
    assert s.liquidator.globals().freeHead == slots[0]
    renewed = [s.start([s.weth], [ETH], 500 * USDC, 0, account=9)[1] for _ in range(4)]
    assert [i % 2**24 for i in renewed] == [slots[0], slots[3], slots[1], 5]
    assert not set(renewed) & set(ids)
    assert s.liquidator.globals().slotCount == 5
    assert s.liquidator.activeAuctionIds() == sorted([ids[2], *renewed], key=lambda i: i % 2**24)
    for old in (ids[0], ids[1], ids[3]):
        assert not s.liquidator.status(old).active
        with ape.reverts(s.liquidator.AuctionNotActive):
            s.liquidator.take(old, ETH, TOP, taker, b"", sender=taker)


def test_prepared_slots_are_used_first_and_cost_less(system):
    s = system
    with ape.reverts(s.liquidator.ParameterOutOfRange):
        s.liquidator.prepareAuctionSlots(0, sender=s.deployer)
    with ape.reverts(s.liquidator.ParameterOutOfRange):
        s.liquidator.prepareAuctionSlots(s.liquidator.MAX_PREPARE() + 1, sender=s.deployer)
    with ape.reverts():
        s.liquidator.prepareAuctionSlots(2, sender=s.keeper)
    _, fresh = s.start([s.weth], [ETH], 500 * USDC, 0)  # slot 1, created by the start
    fresh_tx = s.start([s.weth], [ETH], 500 * USDC, 0)[0]  # slot 2, created by the start
    tx = s.liquidator.prepareAuctionSlots(3, sender=s.deployer)
    [event] = tx.events.filter(s.liquidator.AuctionSlotsPrepared)
    assert (event.firstSlot, event.count) == (3, 3)
    assert s.liquidator.globals().slotCount == 5 and s.liquidator.globals().freeHead == 3
    assert s.liquidator.activeAuctionCount() == 2
    prepared_tx, first = s.start([s.weth], [ETH], 500 * USDC, 0)
    assert first % 2**24 == 3 and s.liquidator.globals().freeHead == 4
    assert s.liquidator.status(first).active and s.liquidator.status(first).lot == ETH
    # Two storage words rewritten instead of created: 2 x (22.1k - 5k) less.
    assert fresh_tx.gas_used - prepared_tx.gas_used >= 2 * 17_000
    assert s.liquidator.status(fresh).active


@pytest.fixture
def reentrant(system, project):
    return system.deployer.deploy(project.ReentrantTaker, system.liquidator)


def _reentries(s, first, reentrant):
    liq = s.liquidator
    return {
        "take": liq.take.encode_input(first, ETH, TOP, reentrant, b""),
        "reset": liq.reset.encode_input(first, reentrant),
        "start": liq.startAuctions.encode_input(1, [s.weth], [ETH], [WAD], USDC, 0, reentrant),
        "config": liq.setCollateral.encode_input(s.weth, collateral_params(s.linear)),
        "cancel": liq.cancel.encode_input(first),
    }


@pytest.mark.parametrize("target", ["take", "reset", "start", "config", "cancel"])
def test_reentry_from_callback_reverts(system, reentrant, target):
    s = system
    _, first = s.start([s.weth], [10 * ETH], 15_000 * USDC, 750 * USDC)
    calldata = _reentries(s, first, reentrant)[target]
    with ape.reverts(s.liquidator.ReentrancyGuardReentrantCall):
        reentrant.take(first, ETH, TOP, calldata, sender=s.taker)
    assert s.engine.collateralInAuction(s.weth) == 10 * ETH
    assert s.liquidator.status(first).tab == 15_750 * USDC


def test_constructor_and_decimals_checks(system, project, chain):
    s = system
    liquidator = project.DutchAuctionLiquidator
    args = [s.engine, s.quote, s.oracle, s.fund, s.deployer]
    for i in range(len(args)):
        bad = list(args)
        bad[i] = ape.utils.ZERO_ADDRESS
        deploy_reverts(chain, s.deployer, liquidator.ZeroAddress, liquidator, *bad)
    quote19 = s.deployer.deploy(project.MockERC20, "Wide", "W19", 19)
    deploy_reverts(
        chain,
        s.deployer,
        liquidator.UnsupportedDecimals,
        liquidator,
        s.engine,
        quote19,
        s.oracle,
        s.fund,
        s.deployer,
    )
    token37 = s.deployer.deploy(project.MockERC20, "Wide", "W37", 37)
    with ape.reverts(s.liquidator.UnsupportedDecimals):
        s.liquidator.setCollateral(token37, collateral_params(s.linear), sender=s.deployer)


def test_account_id_must_fit_its_slot(system):
    s = system
    with ape.reverts(s.liquidator.SafeCastOverflowedUintDowncast):
        s.start([s.weth], [ETH], USDC, 0, account=2**48)
    s.start([s.weth], [ETH], USDC, 0, account=2**48 - 1)


def test_mock_callbacks_are_guarded(system, project):
    s = system
    swapper = s.deployer.deploy(project.SwapTaker, s.liquidator, s.exchange)
    with ape.reverts(swapper.NotLiquidator):
        swapper.onAuctionTake(s.taker, 1, 1, b"", sender=s.taker)
    with ape.reverts(s.engine.NotLiquidator):
        s.engine.settleAuction((1, s.weth, s.taker, 0, 1, 1, 0, 0, False), sender=s.taker)


def test_only_allow_listed_curves_configure_a_collateral(system, project):
    """A curve outside the allow-list is refused (issue 16: any `IPriceCurve` could be plugged in);
    governance adds one with `allowCurve` (the timelock in a deployment), then it is accepted."""
    s = system
    rogue = s.deployer.deploy(project.LinearDecrease, LINEAR_TAU)
    assert not s.liquidator.curveAllowed(rogue)
    with ape.reverts(s.liquidator.CurveNotAllowed, curve=rogue.address):
        s.liquidator.setCollateral(s.weth, collateral_params(rogue), sender=s.deployer)
    with ape.reverts(s.liquidator.ZeroAddress):
        s.liquidator.allowCurve(ape.utils.ZERO_ADDRESS, sender=s.deployer)
    tx = s.liquidator.allowCurve(rogue, sender=s.deployer)
    assert tx.events.filter(s.liquidator.CurveAllowed)[0].curve == rogue.address
    s.liquidator.setCollateral(s.weth, collateral_params(rogue), sender=s.deployer)
    assert s.liquidator.collaterals(s.weth).curve == rogue.address


def test_guardian_only_raises_the_breaker(system, accounts):
    """The guardian stops more at once; lowering the level (resuming) is the governor's."""
    s = system
    guardian = accounts[7]
    s.liquidator.grantRole(s.liquidator.GUARDIAN_ROLE(), guardian, sender=s.deployer)
    s.liquidator.setStopped(1, sender=guardian)
    s.liquidator.setStopped(3, sender=guardian)
    with ape.reverts(s.liquidator.AccessControlUnauthorizedAccount):
        s.liquidator.setStopped(0, sender=guardian)
    with ape.reverts(s.liquidator.AccessControlUnauthorizedAccount):
        s.liquidator.cancel(1, sender=guardian)
    assert s.liquidator.globals().stopped == 3
    s.liquidator.setStopped(0, sender=s.deployer)
    assert s.liquidator.globals().stopped == 0
