"""Issue 16: whoever held the governor role had instant, unbounded custody of every user's funds.

Each test replays one of the issue's attacks on the real deployment (`solvent.deploy` with
config/local.yaml: the timelock holds every governor and admin role, the deployer renounced them).
The figures in the docstrings are what the attack took on the landed code (commit 874f013, the
deployer holding every role), replayed with this file's set-up."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from solvent import governance
from solvent.governance import call, govern

WAD = 10**18
USDC = 10**6
ONE_ETH = 10**18
MAX = 2**256 - 1
LP_USD = 1_000_000
MARGIN_USD = 500_000
STAKE_USD = 100_000


@pytest.fixture(scope="module")
def actors(accounts):
    return {
        "lp": accounts[5],
        "trader": accounts[6],
        "keeper": accounts[7],
        "attacker": accounts[8],
        "staker": accounts[4],
    }


@pytest.fixture(scope="module")
def guardian(system):
    return governance.guardian_of(system)


@pytest.fixture
def as_timelock(system):
    """The timelock's address as a sender (Anvil impersonation): shows which named error a
    proposal's call meets when executed, without waiting out a proposal per check."""
    ape.chain.set_balance(system.timelock.address, 10**18)  # gas for the impersonated sender
    return ape.accounts[system.timelock.address]


def _engine_holding_1_5m(attack: Any, actors: dict[str, Any]) -> int:
    """The issue's set-up: $1M in the LP pool, a trader's $500k of quote margin: the engine
    holds $1.5M of quote (less the pool deposit's 2 USDC execution fee)."""
    attack.fund_pool(actors["lp"], LP_USD)
    account = attack.open_account(actors["trader"])
    attack.deposit(actors["trader"], account, "quote", MARGIN_USD * USDC)
    held = int(attack.system.quote.balanceOf(attack.system.engine))
    assert (LP_USD + MARGIN_USD - 2) * USDC <= held <= (LP_USD + MARGIN_USD) * USDC
    return held


def _settlement(token: str, penalty: int) -> tuple:
    """A fake liquidator's settlement: no collateral, `penalty` booked as the fund's fee."""
    return (0, token, ape.utils.ZERO_ADDRESS, 0, 0, penalty, 0, 0, False)


def test_fake_liquidator_and_fund_swap_needs_a_visible_proposal_the_guardian_cancels(
    system, attack, actors, guardian, chain
):
    """The drain: `setLiquidator(attacker)` (instant), the fake liquidator settles an "auction"
    booking the engine's whole balance as penalty, `setInsuranceFund(attacker)`, then
    `sweepInsuranceFees`.

    Landed code (replayed on 874f013 with this set-up): the deployer (governor) and the attacker
    did it in four transactions: 1,499,998 USDC, all the engine held, went to the attacker (the
    LP's cash and the trader's margin); the engine was left with 0.
    Now: the deployer holds no role (AccessControlUnauthorizedAccount); the only way is a
    timelock proposal, pending and visible for the whole delay (60 s locally, 48 h on Sepolia),
    not executable before it (TimelockUnexpectedOperationState), and the guardian cancels it."""
    s = system
    attacker = actors["attacker"]
    held = _engine_holding_1_5m(attack, actors)
    for setter in ("setLiquidator", "setInsuranceFund"):
        with ape.reverts(s.engine.AccessControlUnauthorizedAccount):
            getattr(s.admin, setter)(attacker, sender=attack.deployer)

    calls = [call(s.admin, "setLiquidator", attacker), call(s.admin, "setInsuranceFund", attacker)]
    proposer = governance.proposer_of(s)
    proposal = governance.propose(s.timelock, calls, proposer)
    scheduled = s.timelock.getTimestamp(proposal.operation_id)
    assert s.timelock.isOperationPending(proposal.operation_id)
    assert scheduled == proposal.ready_at >= chain.blocks.head.timestamp + s.timelock.getMinDelay()
    with ape.reverts(s.timelock.TimelockUnexpectedOperationState):
        governance.execute(s.timelock, proposal, proposer)
    attack.advance(int(s.timelock.getMinDelay()) // 2)
    with ape.reverts(s.timelock.TimelockUnexpectedOperationState):
        governance.execute(s.timelock, proposal, proposer)

    receipt = governance.cancel(s.timelock, proposal, guardian)
    assert receipt.events.filter(s.timelock.Cancelled)[0].id == proposal.operation_id
    governance.wait_past(chain, proposal.ready_at)
    with ape.reverts(s.timelock.TimelockUnexpectedOperationState):
        governance.execute(s.timelock, proposal, proposer)
    assert s.engine.liquidator() == s.liquidator.address
    assert s.engine.insuranceFund() == s.fund.address
    with ape.reverts(s.engine.OnlyLiquidator):
        s.admin.settleAuction(_settlement(s.quote.address, held), sender=attacker)
    assert s.quote.balanceOf(s.engine) == held and s.quote.balanceOf(attacker) == 0


def test_stakers_principal_cannot_be_swept(system, attack, actors, as_timelock):
    """`setTarget(0)` then `sweepSurplus(balance)`.

    Landed code (replayed): the deployer swept the 100,000 USDC a staker had staked to the
    treasury; the staker's shares were worth 0.
    Now: the deployer cannot call either; through the timelock the target goes to 0 but the sweep
    reverts `SurplusExceeded(100000e6, 0)`: only income above the principal is surplus."""
    s = system
    attack.fund_insurance(actors["staker"], STAKE_USD)
    with ape.reverts(s.fund.AccessControlUnauthorizedAccount):
        s.fund.setTarget(0, sender=attack.deployer)
    with ape.reverts(s.fund.AccessControlUnauthorizedAccount):
        s.fund.sweepSurplus(STAKE_USD * USDC, sender=attack.deployer)
    govern(s, [call(s.fund, "setTarget", 0)])
    assert s.fund.target() == 0 and s.fund.surplus() == 0
    with ape.reverts(s.fund.SurplusExceeded, amount=STAKE_USD * USDC, surplus=0):
        s.fund.sweepSurplus(STAKE_USD * USDC, sender=as_timelock)
    with ape.reverts(s.fund.SurplusExceeded, amount=STAKE_USD * USDC, surplus=0):
        govern(s, [call(s.fund, "sweepSurplus", STAKE_USD * USDC)])
    shares = s.fund.balanceOf(actors["staker"])
    assert s.fund.convertToAssets(shares) >= STAKE_USD * USDC - 1
    # Income above the principal is still sweepable (fees swept in from the engine, say).
    attack.mint(s.fund, "quote", 1_000 * USDC)
    govern(s, [call(s.fund, "sweepSurplus", 1_000 * USDC)])
    assert s.quote.balanceOf(s.fund.treasury()) >= 1_000 * USDC


def test_a_curve_outside_the_allow_list_is_refused(system, attack, project, as_timelock):
    """A curve that prices every auction at 0 (here: a linear curve of 1 second, which is at 0
    one second after the start, so the attacker takes the whole lot for nothing).

    Landed code (replayed): `setCollateral` accepted the rogue curve at once (only
    `cusp >= 1%` was checked).
    Now: `setCollateral` reverts `CurveNotAllowed` even through the timelock until a separate,
    visible `allowCurve` proposal has passed."""
    s = system
    weth = s.tokens["WETH"]
    rogue = attack.deployer.deploy(project.LinearDecrease, 1)
    current = s.liquidator.collaterals(weth)
    params = (rogue, current.buf, current.tail, current.cusp, current.chip, current.tip,
              current.chost, current.hole)  # fmt: skip
    with ape.reverts(s.liquidator.CurveNotAllowed, curve=rogue.address):
        s.liquidator.setCollateral(weth, params, sender=as_timelock)
    with ape.reverts(s.liquidator.CurveNotAllowed, curve=rogue.address):
        govern(s, [call(s.liquidator, "setCollateral", weth, params)])
    assert s.liquidator.collaterals(weth).curve == current.curve
    assert not s.liquidator.curveAllowed(rogue)
    assert s.liquidator.curveAllowed(current.curve)


def _auction(attack: Any, actors: dict[str, Any]) -> Any:
    """A trader posts 50 WETH and goes long 150 ETH at $2,000; ETH falls to $1,210 and a keeper
    liquidates: the WETH goes to auction. Returns the AuctionStarted event."""
    s = attack.system
    attack.fund_pool(actors["lp"], 5_000_000)
    attack.fund_insurance(actors["staker"], 200_000)
    trader = actors["trader"]
    account = attack.open_account(trader)
    attack.deposit(trader, account, "WETH", 50 * ONE_ETH)
    attack.trade(trader, account, "WETH", 150 * WAD)
    attack.set_price("WETH", 1_210)
    tx = s.engine.liquidate(account, actors["keeper"], sender=actors["keeper"])
    [started] = tx.events.filter(s.liquidator.AuctionStarted)
    return started


def test_cancel_pays_only_the_insurance_fund(system, attack, actors):
    """`cancel(id, anyRecipient)` sent an auction's collateral anywhere.

    Landed code (replayed): the deployer cancelled the auction and its 50 WETH ($60,500 at
    $1,210) went to the attacker's address.
    Now: `cancel(id)` has no recipient: the lot goes to the insurance fund, and only the
    timelock may call it."""
    s = system
    weth = s.tokens["WETH"]
    started = _auction(attack, actors)
    with ape.reverts(s.liquidator.AccessControlUnauthorizedAccount):
        s.liquidator.cancel(started.id, sender=attack.deployer)
    receipt = govern(s, [call(s.liquidator, "cancel", started.id)])
    [cancelled] = receipt.events.filter(s.liquidator.AuctionCancelled)
    assert cancelled.recipient == s.fund.address and cancelled.lot == started.lot
    assert weth.balanceOf(s.fund) == started.lot
    assert weth.balanceOf(actors["attacker"]) == 0


def test_the_guardian_only_makes_the_system_safer(system, attack, actors, guardian):
    """The guardian acts at once, but only to stop more or require more margin; every loosening,
    wiring change or fund movement is refused with its named error.

    Landed code (replayed): the guardian was the deployer, which also held the governor role,
    and it unpaused risk increases and reset the auction breaker from 1 to 0 at once."""
    s = system
    attacker = actors["attacker"]
    attack.fund_insurance(actors["staker"], STAKE_USD)
    # Safer, at once.
    s.admin.pauseRiskIncrease(sender=guardian)
    assert s.engine.riskPaused()
    s.liquidator.setStopped(1, sender=guardian)
    market = s.market_ids["WETH"]
    im = int(s.admin.markets(market).imScale)
    s.admin.raiseInitialMargin(market, im + WAD // 10, sender=guardian)
    assert s.admin.markets(market).imScale == im + WAD // 10
    # Never looser.
    with ape.reverts(s.admin.GuardianCannotLoosen, current=im + WAD // 10, requested=im):
        s.admin.raiseInitialMargin(market, im, sender=guardian)
    unauthorized = [
        (s.admin.unpauseRiskIncrease, ()),
        (s.liquidator.setStopped, (0,)),
        (s.admin.setLiquidator, (attacker,)),
        (s.admin.setInsuranceFund, (attacker,)),
        (s.admin.setOrderBook, (attacker,)),
        (s.admin.setPoolReserveRatio, (0,)),
        (s.liquidator.cancel, (1,)),
        (s.fund.sweepSurplus, (1,)),
        (s.fund.setTarget, (0,)),
        (s.fund.setTreasury, (attacker,)),
        (s.oracle.setForecaster, (attacker,)),
        (s.steward.enable, ()),
    ]
    for method, args in unauthorized:
        with ape.reverts(method.contract.AccessControlUnauthorizedAccount):
            method(*args, sender=guardian)
    # Resuming is the timelock's.
    govern(s, [call(s.admin, "unpauseRiskIncrease"), call(s.liquidator, "setStopped", 0)])
    assert not s.engine.riskPaused() and s.liquidator.globals().stopped == 0


def test_roles_after_deployment(system, attack):
    """The deployment hands every governor and admin role to the timelock and the deployer keeps
    only what the config names it for (locally: proposer, executor, guardian, risk keeper); the
    record lists every holder; the L2 sequencer feed is deployed and read."""
    s = system
    timelock = s.timelock.address
    me = attack.deployer.address
    for key, contract in (
        ("engine", s.engine),
        ("oracle", s.oracle),
        ("liquidator", s.liquidator),
        ("insurance_fund", s.fund),
        ("order_book", s.orders),
        ("risk_steward", s.steward),
    ):
        for role in ("DEFAULT_ADMIN_ROLE", "GOVERNOR_ROLE"):
            assert contract.hasRole(getattr(contract, role)(), timelock), (key, role)
            assert not contract.hasRole(getattr(contract, role)(), me), (key, role)
            assert s.roles[key][role] == [timelock]
    assert s.roles["engine"]["GUARDIAN_ROLE"] == [me]
    assert s.timelock.hasRole(s.timelock.CANCELLER_ROLE(), me)
    assert not s.timelock.hasRole(s.timelock.DEFAULT_ADMIN_ROLE(), me)
    assert s.timelock.getMinDelay() == 60
    assert s.sequencer_feed is not None
    assert s.oracle.sequencerFeed() == s.sequencer_feed.address
