"""Liquidation: partial vs full, dust, sequencer policy, hand-off to auction, loss waterfall."""

from __future__ import annotations

import ape
import pytest
from engine_helpers import LIQ, USDC, WAD, ledger_sum, read_portfolio

from solvent.model import margin as model

MAX = 2**256 - 1


@pytest.fixture(scope="module")
def open_account(engine, usdc, weth, wbtc, deployer, configured):
    """Opens sub-account 0 of `owner`, funds it with the given deposits, returns its id."""

    def _open(owner, quote=0, weth_amount=0, wbtc_amount=0, sub=0):
        engine.openAccount(sub, sender=owner)
        account_id = engine.accountIdOf(owner, sub)
        for token, amount in ((usdc, quote), (weth, weth_amount), (wbtc, wbtc_amount)):
            if amount:
                token.mint(owner, amount, sender=deployer)
                token.approve(engine, MAX, sender=owner)
                engine.deposit(account_id, token, amount, sender=owner)
        return account_id

    return _open


@pytest.fixture(scope="module")
def long_eth(book, open_account, engine, trader):
    """10,000 USDC and 30 ETH long at 3,000: IM just covered, MM 5,850."""
    account_id = open_account(trader, quote=10_000 * USDC)
    book.trade(account_id, 0, 30 * WAD, MAX, sender=trader)
    return account_id


def _liquidate_and_compare(engine, admin, oracle, weth, wbtc, usdc, account_id, keeper):
    # A minute later: the liquidation accrues funding and borrow interest (gas measured with both).
    chain = ape.chain
    chain.mine(timestamp=chain.pending_timestamp + 60)
    portfolio = read_portfolio(engine, admin, oracle, weth, wbtc, account_id)
    plan = model.plan_liquidation(portfolio, LIQ)
    assert plan is not None
    keeper_before = usdc.balanceOf(keeper)
    tx = engine.liquidate(account_id, keeper, sender=keeper)
    [event] = tx.events.filter(engine.Liquidated)
    assert event.fraction == plan.fraction
    assert event.closedNotional == plan.closed_notional
    assert event.realizedPnl == plan.realized_pnl
    assert event.penalty == plan.penalty
    if not plan.handed_off:
        reward = model.keeper_reward(0, plan.penalty, LIQ.keeper_tip, LIQ.keeper_chip)
        assert event.keeperReward == reward
        assert usdc.balanceOf(keeper) == keeper_before + reward
        assert admin.accounts(account_id).quoteBalance == plan.quote_after_pnl - plan.penalty
    for market_id, position in enumerate(portfolio.positions):
        assert (
            admin.positions(account_id, market_id).size
            == position.size + plan.size_deltas[market_id]
        )
    return tx, plan


def test_healthy_account_cannot_be_liquidated(engine, long_eth, keeper, open_account, other):
    with ape.reverts(engine.AccountHealthy):
        engine.liquidate(long_eth, keeper, sender=keeper)
    idle = open_account(other)
    with ape.reverts(engine.AccountHealthy):
        engine.liquidate(idle, keeper, sender=keeper)
    with ape.reverts(engine.UnknownAccount):
        engine.liquidate(999, keeper, sender=keeper)
    with ape.reverts(engine.ZeroAddress):
        engine.liquidate(long_eth, ape.utils.ZERO_ADDRESS, sender=keeper)


def test_partial_liquidation_restores_target_health(
    engine, admin, oracle, weth, wbtc, usdc, long_eth, keeper, gas
):
    oracle.setPrice(weth, 2_815 * WAD, sender=keeper)
    [before] = admin.healthOf([long_eth])
    assert LIQ.full_liquidation_health <= before.health < WAD
    assert admin.liquidatableAccounts(1, 10) == [long_eth]
    tx, plan = _liquidate_and_compare(engine, admin, oracle, weth, wbtc, usdc, long_eth, keeper)
    gas.record("engine.liquidate_partial", tx)
    assert 0 < plan.fraction < WAD
    [after] = admin.healthOf([long_eth])
    assert after.health >= LIQ.target_health * 999 // 1000
    assert admin.liquidatableAccounts(1, 10) == []
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_deep_unhealthy_account_is_fully_closed(
    engine, admin, oracle, weth, wbtc, usdc, long_eth, keeper
):
    oracle.setPrice(weth, 2_740 * WAD, sender=keeper)
    assert admin.healthOf([long_eth])[0].health < LIQ.full_liquidation_health
    _, plan = _liquidate_and_compare(engine, admin, oracle, weth, wbtc, usdc, long_eth, keeper)
    assert plan.fraction == WAD
    assert admin.accounts(long_eth).marketMask == 0
    assert admin.marketSkew(0).netSize == 0
    assert admin.accounts(long_eth).quoteBalance >= 0


def test_dust_remainder_is_closed_fully(
    engine, admin, oracle, weth, wbtc, usdc, long_eth, keeper, deployer
):
    params = LIQ.__class__(**{**LIQ.__dict__, "dust_notional": 60_000 * WAD})
    admin.setLiquidationParams(
        tuple(params.__dict__[k] for k in LIQ.__dataclass_fields__), sender=deployer
    )
    oracle.setPrice(weth, 2_815 * WAD, sender=keeper)
    portfolio = read_portfolio(engine, admin, oracle, weth, wbtc, long_eth)
    plan = model.plan_liquidation(portfolio, params)
    assert 0 < plan.fraction < WAD and plan.size_deltas == [-30 * WAD]
    engine.liquidate(long_eth, keeper, sender=keeper)
    assert admin.positions(long_eth, 0).size == 0


def test_sequencer_restriction_needs_deeper_health(engine, admin, oracle, weth, long_eth, keeper):
    oracle.setSequencerRestricted(True, sender=keeper)
    oracle.setPrice(weth, 2_845 * WAD, sender=keeper)
    health = admin.healthOf([long_eth])[0].health
    assert LIQ.restricted_liquidation_health <= health < WAD
    with ape.reverts(engine.SequencerRestrictedLiquidation):
        engine.liquidate(long_eth, keeper, sender=keeper)
    assert admin.liquidatableAccounts(1, 10) == []
    oracle.setPrice(weth, 2_800 * WAD, sender=keeper)
    assert admin.healthOf([long_eth])[0].health < LIQ.restricted_liquidation_health
    assert admin.liquidatableAccounts(1, 10) == [long_eth]
    engine.liquidate(long_eth, keeper, sender=keeper)


def test_handoff_two_positions_two_collaterals(
    book,
    engine,
    admin,
    oracle,
    weth,
    wbtc,
    usdc,
    trader,
    keeper,
    open_account,
    liquidator,
    fund,
    gas,
):
    account_id = open_account(trader, weth_amount=10 * WAD, wbtc_amount=10**8, sub=1)
    book.trade(account_id, 0, 100 * WAD, MAX, sender=trader)
    book.trade(account_id, 1, 4 * WAD, MAX, sender=trader)
    fee_debt = -admin.accounts(account_id).quoteBalance
    assert fee_debt > 0  # fees borrowed from the pool
    oracle.setPrice(weth, 2_700 * WAD, sender=keeper)
    oracle.setPrice(wbtc, 54_000 * WAD, sender=keeper)
    debt_before = admin.ledger().accountDebt
    keeper_before = usdc.balanceOf(keeper)
    tx, plan = _liquidate_and_compare(engine, admin, oracle, weth, wbtc, usdc, account_id, keeper)
    gas.record("engine.liquidate_handoff_2pos_2col", tx)
    assert plan.handed_off and plan.fraction == WAD
    debt = -plan.quote_after_pnl
    [handed] = tx.events.filter(engine.HandedToAuction)
    assert handed.debt == debt and handed.unpaidPenalty == plan.penalty
    reward = model.keeper_reward(debt, plan.penalty, LIQ.keeper_tip, LIQ.keeper_chip)
    assert usdc.balanceOf(keeper) == keeper_before + reward
    account = admin.accounts(account_id)
    assert (account.quoteBalance, account.collateralMask, account.marketMask) == (0, 0, 0)
    assert account.activeAuctions == 2
    ledger = admin.ledger()
    assert ledger.debtInAuction == debt
    assert ledger.accountDebt == debt_before - fee_debt
    # The seized collateral stays in the engine's custody for the auctions.
    assert weth.balanceOf(liquidator) == 0 and wbtc.balanceOf(liquidator) == 0
    assert admin.collateralInAuction(weth) == 10 * WAD and admin.collateralInAuction(wbtc) == 10**8

    # Under auction: no new risk, deposits still welcome.
    weth.mint(trader, WAD, sender=trader)
    engine.deposit(account_id, weth, WAD, sender=trader)
    with ape.reverts(engine.AccountUnderAuction):
        book.trade(account_id, 0, WAD, MAX, sender=trader)
    with ape.reverts(engine.AccountUnderAuction):
        engine.withdraw(account_id, weth, 1, trader, sender=trader)

    # A taker pays the whole tab for the WETH lot; the WBTC lot returns untouched.
    first = handed.firstAuctionId
    usdc.mint(keeper, debt + plan.penalty, sender=trader)
    usdc.approve(liquidator, MAX, sender=keeper)
    liquidator.take(first, 10 * WAD, debt + plan.penalty, sender=keeper)
    ledger = admin.ledger()
    assert ledger.debtInAuction == 0
    liquidator.close(first, sender=keeper)
    liquidator.close(first + 1, sender=keeper)
    account = admin.accounts(account_id)
    assert account.activeAuctions == 0
    assert admin.collateralBalance(account_id, wbtc) == 10**8
    engine.withdraw(account_id, wbtc, 10**8, trader, sender=trader)  # free again
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_unrecovered_auction_debt_runs_the_waterfall(
    book, engine, admin, oracle, weth, usdc, trader, keeper, open_account, liquidator, fund, pool
):
    account_id = open_account(trader, weth_amount=10 * WAD, sub=1)
    book.trade(account_id, 0, 60 * WAD, MAX, sender=trader)
    oracle.setPrice(weth, 2_600 * WAD, sender=keeper)
    tx = engine.liquidate(account_id, keeper, sender=keeper)
    [handed] = tx.events.filter(engine.HandedToAuction)
    assets_before = pool.totalAssets()
    fund_before = usdc.balanceOf(fund)
    tx = liquidator.close(handed.firstAuctionId, sender=keeper)  # lot returned, debt unpaid
    [written] = tx.events.filter(engine.BadDebtWrittenOff)
    # the fund's income still in the engine is swept to it before it covers
    swept = sum(e.amount for e in tx.events.filter(engine.InsuranceFeesSwept))
    assert written.debt == handed.debt
    assert swept > 0 and written.coveredByInsurance == min(fund_before + swept, handed.debt)
    assert written.socialized == handed.debt - written.coveredByInsurance
    [loss] = tx.events.filter(pool.LossSocialized)
    assert loss.socialized == written.socialized
    assert pool.totalAssets() == assets_before - written.socialized
    assert admin.ledger().debtInAuction == 0
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_debt_without_collateral_is_written_off_at_once(
    engine, admin, oracle, weth, usdc, long_eth, keeper, fund, pool
):
    oracle.setPrice(weth, 2_500 * WAD, sender=keeper)  # loss 15,000 > 9,955 of quote
    fund_before = usdc.balanceOf(fund)
    assets_before = pool.totalAssets()
    tx = engine.liquidate(long_eth, keeper, sender=keeper)
    [written] = tx.events.filter(engine.BadDebtWrittenOff)
    swept = sum(e.amount for e in tx.events.filter(engine.InsuranceFeesSwept))  # swept first
    assert written.coveredByInsurance == min(fund_before + swept, written.debt)
    assert written.socialized == written.debt - written.coveredByInsurance > 0
    [loss] = tx.events.filter(pool.LossSocialized)
    assert (loss.accountId, loss.shortfall) == (long_eth, written.debt)
    assert admin.accounts(long_eth).quoteBalance == 0
    assert admin.ledger().accountDebt == 0
    # The pool had already marked the trader's loss; only the uncovered part leaves it now.
    assert pool.totalAssets() == assets_before - written.socialized
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_liquidatable_scan_and_batch_health(
    book, engine, admin, oracle, weth, usdc, trader, keeper, accounts, open_account
):
    ids = []
    for i, signer in enumerate(accounts[6:10]):
        account_id = open_account(signer, quote=10_000 * USDC)
        book.trade(account_id, 0, (10 + 6 * i) * WAD, MAX, sender=signer)
        ids.append(account_id)
    oracle.setPrice(weth, 2_800 * WAD, sender=keeper)
    everyone = list(range(1, engine.accountCount() + 1))
    healths = admin.healthOf(everyone)
    expected = [i for i, h in zip(everyone, healths, strict=True) if h.health < WAD]
    assert set(ids) & set(expected) and not set(ids) <= set(expected)
    assert admin.liquidatableAccounts(0, 10**6) == expected
    assert admin.liquidatableAccounts(ids[-1] + 1, 10**6) == []


def test_cash_short_of_the_penalty_escalates_to_full_handoff(
    book, engine, admin, oracle, weth, wbtc, usdc, trader, keeper, open_account
):
    account_id = open_account(trader, quote=500 * USDC, wbtc_amount=10**8, sub=1)
    book.trade(account_id, 0, 100 * WAD, MAX, sender=trader)
    oracle.setPrice(wbtc, 20_000 * WAD, sender=keeper)  # the collateral falls, not the position
    portfolio = read_portfolio(engine, admin, oracle, weth, wbtc, account_id)
    assert 0 < _partial_fraction(portfolio) < WAD  # a partial closure would restore health...
    plan = model.plan_liquidation(portfolio, LIQ)
    assert plan.fraction == WAD and plan.handed_off  # ...but cash cannot pay its penalty
    cash = portfolio.quote_balance
    assert 0 < cash < plan.penalty
    fees_before = admin.ledger().insuranceFees
    tx = engine.liquidate(account_id, keeper, sender=keeper)
    [handed] = tx.events.filter(engine.HandedToAuction)
    assert (handed.debt, handed.unpaidPenalty) == (0, plan.penalty - cash)
    assert admin.ledger().insuranceFees == fees_before + cash
    assert admin.accounts(account_id).activeAuctions == 1
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def _partial_fraction(portfolio):
    """The fraction a partial closure would need (`MarginMath.liquidationFraction`)."""
    margin = model.margin(portfolio, LIQ.min_position_margin)
    return model.liquidation_fraction(
        margin.maintenance_equity,
        margin.maintenance_requirement,
        margin.notional,
        LIQ.penalty_rate,
        LIQ.target_health,
        margin.minimum_margin,
    )


def test_quote_below_the_tip_without_profit_escalates_without_planning(
    book, engine, admin, oracle, weth, wbtc, usdc, trader, keeper, open_account
):
    """Quote below the keeper tip (the trade's fee made it negative) and no position in profit:
    no partial closure can pay its penalty, so the engine does not plan one (`_partialMayPay`)
    and closes everything; fraction, closure and penalty are what the model plans."""
    account_id = open_account(trader, wbtc_amount=10**8, sub=3)
    book.trade(account_id, 0, 100 * WAD, MAX, sender=trader)
    oracle.setPrice(wbtc, 20_000 * WAD, sender=keeper)
    portfolio = read_portfolio(engine, admin, oracle, weth, wbtc, account_id)
    assert portfolio.quote_balance < LIQ.keeper_tip
    assert 0 < _partial_fraction(portfolio) < WAD  # a partial closure would restore health...
    tx, plan = _liquidate_and_compare(engine, admin, oracle, weth, wbtc, usdc, account_id, keeper)
    assert plan.fraction == WAD and plan.handed_off  # ...but nothing could pay its penalty
    assert admin.positions(account_id, 0).size == 0
    assert len(tx.events.filter(engine.HandedToAuction)) == 1


def test_quote_below_the_tip_with_a_profit_that_pays_stays_partial(
    book, engine, admin, oracle, weth, wbtc, usdc, trader, keeper, open_account
):
    """Quote below the keeper tip, but the position's profit pays the partial closure's penalty:
    the bound of `_partialMayPay` lets the plan run, and the closure stays partial, as planned."""
    account_id = open_account(trader, wbtc_amount=10**8, sub=3)
    book.trade(account_id, 0, 100 * WAD, MAX, sender=trader)
    oracle.setPrice(weth, 3_090 * WAD, sender=keeper)  # +9,000 USD on the position
    oracle.setPrice(wbtc, 8_000 * WAD, sender=keeper)  # the collateral falls further
    portfolio = read_portfolio(engine, admin, oracle, weth, wbtc, account_id)
    assert portfolio.quote_balance < LIQ.keeper_tip
    tx, plan = _liquidate_and_compare(engine, admin, oracle, weth, wbtc, usdc, account_id, keeper)
    assert 0 < plan.fraction < WAD and not plan.handed_off
    assert plan.realized_pnl > 0
    assert 0 < admin.positions(account_id, 0).size < 100 * WAD
    assert not tx.events.filter(engine.HandedToAuction)


def test_unpriceable_assets_neither_shield_nor_block_and_the_hand_off_waits(
    book, engine, admin, oracle, weth, wbtc, usdc, trader, keeper, open_account
):
    """Issue 12: WBTC collateral and a BTC position whose price the oracle rejects. The WBTC counts
    0, the BTC market is left out and stays open, the ETH position closes; quote cannot pay the
    penalty and the WBTC cannot be auctioned without a price, so the pool lends the penalty and
    the debt waits on the account (`HandOffDeferred`), as the model plans it."""
    account_id = open_account(trader, quote=5_000 * USDC, wbtc_amount=10**7, sub=2)
    book.trade(account_id, 0, 20 * WAD, MAX, sender=trader)
    book.trade(account_id, 1, WAD // 10, MAX, sender=trader)
    oracle.setPrice(weth, 2_500 * WAD, sender=keeper)
    oracle.setPrice(wbtc, 0, sender=keeper)  # the mock then reverts PriceNotSet
    [health] = admin.healthOf([account_id])
    portfolio = read_portfolio(engine, admin, oracle, weth, wbtc, account_id)
    margin = model.margin(portfolio, LIQ.min_position_margin)
    assert (health.equity, health.requirement) == (
        margin.maintenance_equity,
        margin.maintenance_requirement,
    )
    btc_before = admin.positions(account_id, 1)
    tx, plan = _liquidate_and_compare(engine, admin, oracle, weth, wbtc, usdc, account_id, keeper)
    assert plan.deferred and plan.fraction == WAD
    [deferred] = tx.events.filter(engine.HandOffDeferred)
    assert deferred.asset == wbtc
    assert admin.positions(account_id, 0).size == 0
    assert admin.positions(account_id, 1) == btc_before
    assert admin.accounts(account_id).activeAuctions == 0
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


def test_unswept_insurance_fees_are_swept_before_the_fund_covers(
    engine, admin, oracle, weth, usdc, long_eth, keeper, fund, pool, deployer
):
    """Fees owed to the insurance fund are swept to it before it covers a write-off, so a loss is
    not socialized on LPs while the fund's income sits in the engine (issue 17: in a -50% gap,
    $9.2k was socialized while $579k of the fund's fees were unswept)."""
    fund.coverShortfall(usdc.balanceOf(fund), sender=deployer)  # empty: only the fees are left
    assert usdc.balanceOf(fund) == 0
    fees = admin.ledger().insuranceFees
    assert fees > 0  # the opening trade's fee share
    oracle.setPrice(weth, 2_500 * WAD, sender=keeper)
    assets_before = pool.totalAssets()
    tx = engine.liquidate(long_eth, keeper, sender=keeper)
    [swept] = tx.events.filter(engine.InsuranceFeesSwept)
    [written] = tx.events.filter(engine.BadDebtWrittenOff)
    assert (swept.fund, swept.amount) == (fund.address, fees)
    assert written.coveredByInsurance == min(fees, written.debt)
    assert written.socialized == written.debt - written.coveredByInsurance
    assert admin.ledger().insuranceFees == 0
    assert pool.totalAssets() == assets_before - written.socialized
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed
