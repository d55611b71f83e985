"""Issue 12, engine side: nothing planted or unpriceable shields an account, a tripped breaker on
any asset the account holds blocks its risk increases, and a debt-only account pays its keeper.

Replayed on the real deployment (config/local.yaml: WETH $2,000, WBTC $60,000, feeds stale after
4,500 s, breaker at 15%, penalty 2.5%, keeper tip $5, chip 0.1%). Each docstring records what the
landed code (before this change) gave on the same steps."""

from __future__ import annotations

import ape
import pytest

WAD = 10**18
USDC = 10**6
STALE_AFTER = 4_600  # > max_staleness 4,500 s
SATOSHI = 1


@pytest.fixture
def actors(accounts):
    return {
        "lp": accounts[1],
        "whale": accounts[2],
        "keeper": accounts[3],
        "stranger": accounts[4],
        "victim": accounts[5],
        "staker": accounts[6],
    }


def _stale_btc(attack, eth_usd: float) -> None:
    """Lets the BTC feeds (primary and secondary) go stale; ETH keeps updating."""
    attack.advance(STALE_AFTER)
    attack.set_price("WETH", eth_usd)


def _position(system, account: int, market: str):
    return system.admin.positions(account, system.market_ids[market])


def test_own_dust_wbtc_and_a_stale_btc_feed_do_not_block_liquidation(system, attack, actors):
    """The dust-WBTC pill. The whale holds $100k of quote, 300 ETH long ($600k) and 1 satoshi of
    WBTC; ETH falls to $1,600 (equity -$20.3k) while the BTC feeds go stale.

    Landed code: `liquidate` reverted `StalePrice` (the margin check read the WBTC price); ETH
    then came back to $2,100, the whale closed and, once the BTC feed returned, withdrew
    $129,385 (a free option on the whole position).
    Now: the dust is worth 0 for the liquidation check, the position closes at $1,600 and the
    insurance fund's keeper is paid."""
    lp, whale, keeper = actors["lp"], actors["whale"], actors["keeper"]
    attack.fund_pool(lp, 2_000_000)
    attack.fund_insurance(actors["staker"], 100_000)
    account = attack.open_account(whale)
    attack.deposit(whale, account, "quote", 100_000 * USDC)
    attack.deposit(whale, account, "WBTC", SATOSHI)
    attack.trade(whale, account, "WETH", 300 * WAD)

    _stale_btc(attack, 1_600)
    with ape.reverts():  # the BTC feed itself is stale: a strict read still fails
        system.oracle.price(system.tokens["WBTC"])
    assert attack.health(account).health < WAD

    receipt = system.engine.liquidate(account, keeper, sender=keeper)

    assert _position(system, account, "WETH").size == 0
    event = receipt.events.filter(system.admin.Liquidated)[0]
    assert event.fraction == WAD and event.closedNotional == 300 * 1_600 * WAD
    # Quote cannot cover the penalty, and the WBTC cannot go to auction without a price: the pool
    # lends the penalty, the keeper is paid from it, the debt waits on the account.
    [deferred] = receipt.events.filter(system.admin.HandOffDeferred)
    assert deferred.asset == system.tokens["WBTC"]
    quote_after = int(system.admin.accounts(account).quoteBalance)
    assert deferred.quoteBalance == quote_after < 0
    assert event.penalty == 300 * 1_600 * 25 // 1000 * USDC  # 2.5% of the closed notional
    assert event.keeperReward == 5 * USDC + event.penalty // 1000  # tip + chip x penalty

    # The loss is realized at $1,600: the whale can no longer wait for a rebound.
    attack.set_price("WETH", 2_100)
    assert int(system.admin.accounts(account).marketMask) == 0
    # With a debt it is no idle account: its collateral stays while the BTC feed is down.
    with ape.reverts(system.admin.RiskIncreaseBlockedByOracle):
        system.engine.withdraw(account, system.tokens["WBTC"], SATOSHI, whale, sender=whale)

    # Once the BTC feed is back, the debt-only account goes to auction with the fee on its debt.
    attack.set_price("WBTC", 60_000)
    receipt = system.engine.liquidate(account, keeper, sender=keeper)
    [handed] = receipt.events.filter(system.admin.HandedToAuction)
    assert handed.debt == -quote_after
    [event] = receipt.events.filter(system.admin.Liquidated)
    assert event.penalty == -(quote_after * 2 // 100)  # ceil(2% of the debt)


def test_deviation_between_feeds_cannot_block_liquidating_an_underwater_account(
    system, attack, actors
):
    """A manipulable secondary feed: the whale moves BTC's backup feed 10% away from the primary
    (deviation 3% allowed), so every BTC read reverts `PriceDeviation`, then hopes its 0.1 WBTC
    shields its under-water ETH position. The WBTC counts 0 and the position closes."""
    lp, whale, keeper = actors["lp"], actors["whale"], actors["keeper"]
    attack.fund_pool(lp, 2_000_000)
    attack.fund_insurance(actors["staker"], 100_000)
    account = attack.open_account(whale)
    attack.deposit(whale, account, "quote", 100_000 * USDC)
    attack.deposit(whale, account, "WBTC", 10**7)
    attack.trade(whale, account, "WETH", 300 * WAD)
    attack.set_price("WETH", 1_600)
    system.secondary_feeds["WBTC"].setAnswer(66_000 * 10**6, sender=attack.deployer)
    system.feeds["WBTC"].setAnswer(60_000 * 10**8, sender=attack.deployer)
    with ape.reverts(system.oracle.PriceDeviation):
        system.oracle.price(system.tokens["WBTC"])

    receipt = system.engine.liquidate(account, keeper, sender=keeper)
    assert _position(system, account, "WETH").size == 0
    assert len(receipt.events.filter(system.admin.HandOffDeferred)) == 1


def test_nothing_to_close_and_no_price_is_a_named_revert(system, attack, actors):
    """A debt-only account whose only collateral has no price: nothing can be closed and nothing
    auctioned, so `liquidate` reverts `PriceUnavailable(WBTC)` (the account's own holdings), and
    charges no penalty a keeper could farm block by block."""
    lp, whale, keeper = actors["lp"], actors["whale"], actors["keeper"]
    attack.fund_pool(lp, 2_000_000)
    account = attack.open_account(whale)
    attack.deposit(whale, account, "WBTC", 10**7)  # $6,000
    attack.trade(whale, account, "WETH", 10 * WAD)
    attack.set_price("WETH", 1_400)  # -$6,000
    attack.trade(whale, account, "WETH", -10 * WAD)
    assert int(system.admin.accounts(account).quoteBalance) < -6_000 * USDC
    _stale_btc(attack, 1_400)

    assert attack.health(account).health == 0  # the WBTC counts 0
    with ape.reverts(system.admin.PriceUnavailable, asset=system.tokens["WBTC"]):
        system.engine.liquidate(account, keeper, sender=keeper)


def test_governance_lists_only_what_the_oracle_knows(system, project, attack):
    """`listCollateral` and `createMarket` require the oracle's configuration for the token."""
    stray = attack.deployer.deploy(project.MockERC20, "Stray", "STRAY", 18)
    market = (65 * WAD // 1000, 8 * WAD // 100, 3 * WAD, 15385 * WAD // 10000, 0, 0, WAD)
    with ape.reverts(system.admin.OracleUnknownAsset, asset=stray):
        system.admin.listCollateral(stray, WAD // 2, WAD // 2, 10**24, sender=attack.deployer)
    with ape.reverts(system.admin.OracleUnknownAsset, asset=stray):
        system.admin.createMarket(stray, market, sender=attack.deployer)


def test_absurd_amounts_end_in_named_errors(system, attack, actors):
    """A uint256-max collateral deposit overflowed `totalDeposited + amount` before the cap check
    (`Panic(0x11)`); a size beyond int128 overflowed the position arithmetic."""
    whale = actors["whale"]
    account = attack.open_account(whale)
    attack.deposit(whale, account, "quote", 1_000 * USDC)
    weth = system.tokens["WETH"]
    weth.approve(system.engine, 2**256 - 1, sender=whale)
    with ape.reverts(system.admin.DepositCapExceeded):
        system.engine.deposit(account, weth, 2**256 - 1, sender=whale)
    for size in (2**255 - 1, -(2**255) + 1, 2**120 + 1):
        with ape.reverts(system.admin.SizeTooLarge):
            system.engine.trade(account, 0, size, 2**256 - 1 if size > 0 else 0, sender=whale)


def test_a_stranger_cannot_plant_collateral(system, attack, actors):
    """The planted pill. A stranger deposits 1 satoshi of WBTC into the victim's idle account.

    Landed code: the deposit went through (anyone could deposit any collateral), and while the
    BTC feed was stale the victim's withdrawal of its $10,000 reverted `StalePrice`.
    Now: only the owner or its operators may deposit non-quote collateral."""
    stranger, victim = actors["stranger"], actors["victim"]
    account = attack.open_account(victim)
    attack.deposit(victim, account, "quote", 10_000 * USDC)
    attack.mint(stranger, "WBTC", SATOSHI)
    wbtc = system.tokens["WBTC"]
    wbtc.approve(system.engine, SATOSHI, sender=stranger)

    with ape.reverts(
        system.admin.CollateralDepositNotAuthorized, accountId=account, caller=stranger
    ):
        system.engine.deposit(account, wbtc, SATOSHI, sender=stranger)
    assert system.engine.collateralBalance(account, wbtc) == 0

    # Quote stays open to anyone (repaying someone's debt is always welcome).
    attack.deposit(stranger, account, "quote", 1 * USDC)
    assert int(system.admin.accounts(account).quoteBalance) == 10_001 * USDC


def test_an_idle_account_withdraws_while_a_feed_is_down_and_risk_is_paused(system, attack, actors):
    """An account without positions or debt withdraws whatever the feeds and the pause say.

    Landed code: with its own WBTC and a stale BTC feed, the victim's quote withdrawal reverted
    `StalePrice`; the guardian's pause reverted every withdrawal with `RiskIncreasePaused`.
    Now: nothing owed and nothing at risk, so neither the feed nor the pause is consulted."""
    victim = actors["victim"]
    account = attack.open_account(victim)
    attack.deposit(victim, account, "quote", 10_000 * USDC)
    attack.deposit(victim, account, "WBTC", 10**8)
    _stale_btc(attack, 2_000)
    system.admin.pauseRiskIncrease(sender=attack.deployer)

    quote, wbtc = system.quote, system.tokens["WBTC"]
    before = quote.balanceOf(victim), wbtc.balanceOf(victim)
    system.engine.withdraw(account, quote, 10_000 * USDC, victim, sender=victim)
    system.engine.withdraw(account, wbtc, 10**8, victim, sender=victim)
    assert quote.balanceOf(victim) - before[0] == 10_000 * USDC
    assert wbtc.balanceOf(victim) - before[1] == 10**8


def _trip_weth_breaker(system, attack) -> None:
    """A +20% WETH glitch, poked: the breaker (15% within the window) trips."""
    weth = system.tokens["WETH"]
    system.oracle.poke(weth, sender=attack.deployer)
    attack.set_price("WETH", 2_400)
    system.oracle.poke(weth, sender=attack.deployer)
    assert not system.oracle.riskIncreaseAllowed(weth)
    assert system.oracle.riskIncreaseAllowed(system.tokens["WBTC"])


def test_a_tripped_breaker_on_held_collateral_blocks_a_trade_in_another_market(
    system, attack, actors
):
    """The cross-asset breaker bypass. The whale holds 98 WETH; WETH glitches +20% to $2,400 and
    trips its breaker; the whale buys 31 BTC ($1.86M) against the inflated WETH.

    Landed code: the trade went through (only BTC's breaker was checked); when WETH came back to
    $2,000 the account's initial health was 0.838.
    Now: `RiskIncreaseBlockedByOracle(WETH)`: every asset the account holds must allow it."""
    lp, whale = actors["lp"], actors["whale"]
    attack.fund_pool(lp, 2_000_000)
    account = attack.open_account(whale)
    attack.deposit(whale, account, "WETH", 98 * WAD)
    _trip_weth_breaker(system, attack)

    weth = system.tokens["WETH"]
    with ape.reverts(system.admin.RiskIncreaseBlockedByOracle, asset=weth):
        attack.trade(whale, account, "WBTC", 31 * WAD)
    assert _position(system, account, "WBTC").size == 0


def test_a_tripped_breaker_on_held_collateral_blocks_a_quote_withdrawal(system, attack, actors):
    """Quote withdrawals are risk increases too. The whale holds $50k of quote, 98 WETH and an ETH
    position; WETH's breaker trips.

    Landed code: the quote withdrawal only waited for the sequencer and went through against the
    inflated WETH.
    Now: `RiskIncreaseBlockedByOracle(WETH)`."""
    lp, whale = actors["lp"], actors["whale"]
    attack.fund_pool(lp, 2_000_000)
    account = attack.open_account(whale)
    attack.deposit(whale, account, "quote", 50_000 * USDC)
    attack.deposit(whale, account, "WETH", 98 * WAD)
    attack.trade(whale, account, "WETH", 10 * WAD)
    _trip_weth_breaker(system, attack)

    with ape.reverts(system.admin.RiskIncreaseBlockedByOracle, asset=system.tokens["WETH"]):
        system.engine.withdraw(account, system.quote, 40_000 * USDC, whale, sender=whale)


def test_a_debt_only_account_pays_its_keeper(system, attack, actors):
    """Debt, collateral, no positions. The trader holds 10 WETH, loses $10k on 1 BTC long and
    closes (debt ~$10,055); ETH falls to $1,100, so its WETH (mm value $9,350) no longer covers
    the debt.

    Landed code: the penalty was charged on closed notional only, so the liquidation charged 0 and
    the keeper got 0 (`Liquidated.keeperReward == 0`).
    Now: the fee on the debt handed to auction (2%: ~$201) pays the keeper min(tip + chip x
    (debt + penalty), penalty) = ~$15.26, and the event reports what the keeper received."""
    lp, whale, keeper = actors["lp"], actors["whale"], actors["keeper"]
    attack.fund_pool(lp, 2_000_000)
    attack.fund_insurance(actors["staker"], 100_000)
    account = attack.open_account(whale)
    attack.deposit(whale, account, "WETH", 10 * WAD)
    attack.trade(whale, account, "WBTC", 1 * WAD)
    attack.set_price("WBTC", 50_000)
    attack.trade(whale, account, "WBTC", -1 * WAD)
    debt = -int(system.admin.accounts(account).quoteBalance)
    assert debt > 10_000 * USDC and int(system.admin.accounts(account).marketMask) == 0

    attack.set_price("WETH", 1_100)
    assert attack.health(account).health == 0
    before = system.quote.balanceOf(keeper)
    receipt = system.engine.liquidate(account, keeper, sender=keeper)

    event = receipt.events.filter(system.admin.Liquidated)[0]
    paid = system.quote.balanceOf(keeper) - before
    assert paid > 0
    assert event.keeperReward == paid
    expected_penalty = max(-(-debt * 2 // 100), 5 * USDC)
    assert event.penalty == expected_penalty
    assert paid == min(5 * USDC + (debt + expected_penalty) // 1000, expected_penalty)
