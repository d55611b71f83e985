"""LP pool (ERC-4626 over the engine's books); quote conservation over random action sequences."""

from __future__ import annotations

import ape
import pytest
from engine_helpers import ETH_PRICE, USDC, WAD, ledger_sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.model import margin as model

MAX = 2**256 - 1


def expected_pool_assets(engine, admin, oracle) -> int:
    ledger = admin.ledger()
    trader_pnl = 0
    for market_id in range(admin.marketCount()):
        market = admin.markets(market_id)
        price = oracle.prices(market.asset)
        trader_pnl += (
            model.signed_mul_div_ceil(admin.marketSkew(market_id).netSize, price, WAD)
            - market.netOpenNotional
        )
    assets = (
        ledger.poolCash
        + ledger.accountDebt
        + ledger.debtInAuction
        - model.signed_mul_div_ceil(trader_pnl, 1, model.WAD_PER_QUOTE)
    )
    return max(assets, 0)


def test_lp_deposit_and_withdraw_round_trip(engine, admin, pool, usdc, lp, configured):
    assert pool.totalAssets() == 500_000 * USDC
    assert pool.balanceOf(lp) == 500_000 * USDC * 10**6  # 6 extra share decimals
    assert pool.decimals() == 12
    before = usdc.balanceOf(lp)
    pool.withdraw(100_000 * USDC, lp, lp, sender=lp)
    assert usdc.balanceOf(lp) == before + 100_000 * USDC
    assert admin.ledger().poolCash == 400_000 * USDC
    assert usdc.balanceOf(pool) == 0  # the engine holds everything


def test_a_deposit_beyond_the_64_bit_ledger_reverts_and_moves_nothing(
    project, engine, admin, pool, usdc, lp, deployer, configured
):
    """The quote ledger's books are 64-bit (docs/margin.md): an amount that would overflow
    `poolCash` is refused by SafeCast instead of wrapping."""
    huge = 2**63
    usdc.mint(lp, huge, sender=deployer)
    usdc.approve(pool, huge, sender=lp)
    cash, held = admin.ledger().poolCash, usdc.balanceOf(engine)
    # `creditPool` runs in the extension (through the engine's fallback), which raises it.
    extension = project.MarginEngineExtension.at(engine.extension())
    with ape.reverts(extension.SafeCastOverflowedIntDowncast):
        pool.deposit(huge, lp, sender=lp)
    assert admin.ledger().poolCash == cash and usdc.balanceOf(engine) == held


def test_donation_does_not_move_share_price(engine, pool, usdc, lp, configured):
    assets, share_price = pool.totalAssets(), pool.convertToAssets(10**12)
    usdc.transfer(engine, 50_000 * USDC, sender=lp)
    assert pool.totalAssets() == assets
    assert pool.convertToAssets(10**12) == share_price


def test_only_the_engine_records_socialized_losses(pool, lp, configured):
    with ape.reverts(pool.OnlyEngine):
        pool.recordSocializedLoss(1, 10 * USDC, 4 * USDC, 6 * USDC, sender=lp)


# ~20 s alone: `make test-slow` (and CI) runs it; `make test` stays under 10 minutes
@pytest.mark.slow
def test_pool_value_tracks_trader_pnl_and_withdrawals_keep_profits_covered(
    book, chain, engine, admin, pool, usdc, weth, oracle, lp, trader, funded_trader
):
    engine.deposit(funded_trader, usdc, 100_000 * USDC, sender=trader)
    book.trade(funded_trader, 0, 100 * WAD, MAX, sender=trader)
    oracle.setPrice(weth, ETH_PRICE + 1_000 * WAD, sender=trader)  # trader +100k
    assert pool.totalAssets() == expected_pool_assets(engine, admin, oracle)
    assert pool.totalAssets() < 500_000 * USDC - 99_000 * USDC
    withdrawable = admin.poolWithdrawable()
    net_notional = 100 * (ETH_PRICE + 1_000 * WAD)  # WAD USD
    locked = 100_000 * USDC + model.mul_div_up(net_notional, WAD // 10, WAD * 10**12)
    assert withdrawable == admin.ledger().poolCash - locked
    # With a position open the pool's value moves with the price: exits are requests (ERC-7540),
    # executed later at the value the request determines, within what the engine can pay.
    assert not pool.isFlat()
    with ape.reverts(pool.RequestRequired):
        pool.withdraw(USDC, lp, lp, sender=lp)
    with ape.reverts(pool.AsyncFlow):
        pool.previewRedeem(10**12)
    rounds = [0] * int(admin.marketCount())  # the mock oracle prices any round id
    shares = pool.balanceOf(lp)
    pool.requestRedeem(shares, lp, lp, sender=lp)
    target, _ = pool.requestTimes(lp, False)
    chain.mine(timestamp=max(target, chain.pending_timestamp))
    value = pool.executionValue(target, rounds, False)
    assert shares * (value + 1) // (pool.totalSupply() + 10**6) > withdrawable
    with ape.reverts(admin.PoolLiquidityExceeded):
        pool.executeRedeem(lp, rounds, sender=lp)
    # Past its window the request goes back to the LP; a part within the withdrawable is paid.
    chain.mine(timestamp=target + pool.REQUEST_WINDOW() + 1)
    pool.cancelRequest(lp, False, sender=trader)
    assert pool.balanceOf(lp) == shares
    part = shares * withdrawable // pool.totalAssets() // 2
    pool.requestRedeem(part, lp, lp, sender=lp)
    target, _ = pool.requestTimes(lp, False)
    chain.mine(timestamp=max(target, chain.pending_timestamp))
    pool.executeRedeem(lp, rounds, sender=trader)
    claimable = pool.maxWithdraw(lp)
    assert 0 < claimable <= withdrawable
    before = usdc.balanceOf(lp)
    pool.redeem(pool.maxRedeem(lp), lp, lp, sender=lp)
    assert usdc.balanceOf(lp) == before + claimable
    # The trader can still take the whole profit out.
    book.trade(funded_trader, 0, -100 * WAD, 0, sender=trader)
    quote = admin.accounts(funded_trader).quoteBalance
    engine.withdraw(funded_trader, usdc, quote, trader, sender=trader)
    held, owed = ledger_sum(engine, admin, usdc)
    assert held == owed


actions = st.lists(
    st.tuples(
        st.sampled_from(
            ["deposit", "weth", "withdraw", "trade", "price", "lp_in", "lp_out", "liq", "sweep"]
        ),
        st.integers(min_value=1, max_value=10**6),
        st.integers(min_value=-(10**6), max_value=10**6),
    ),
    min_size=5,
    max_size=14,
)


@pytest.mark.slow  # ten random sequences on the chain: `make test-slow` (CI)
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=actions,
    opening=st.integers(min_value=-50, max_value=50).filter(bool),
    crash=st.integers(min_value=3, max_value=30),
)
def test_random_sequences_conserve_quote(
    book,
    steps,
    opening,
    crash,
    chain,
    engine,
    admin,
    pool,
    usdc,
    weth,
    wbtc,
    oracle,
    lp,
    trader,
    keeper,
    funded_trader,
):
    with chain.isolate():
        engine.deposit(funded_trader, usdc, 20_000 * USDC, sender=trader)
        book.trade(funded_trader, 0, opening * WAD, MAX if opening > 0 else 0, sender=trader)
        # Random actions, then a move of `crash`% against the opening position and a liquidation.
        adverse = -crash * 10_000 if opening > 0 else crash * 10_000
        steps = [*steps, ("price", 1, 4 * adverse), ("liq", 1, 0), ("lp_out", 10**6, 0)]
        for action, amount, signed in steps:
            try:
                if action == "deposit":
                    engine.deposit(funded_trader, usdc, amount * 10 * USDC // 10**3, sender=trader)
                elif action == "weth":
                    engine.deposit(funded_trader, weth, amount * WAD // 10**5, sender=trader)
                elif action == "withdraw":
                    engine.withdraw(
                        funded_trader, usdc, amount * USDC // 10**2, trader, sender=trader
                    )
                elif action == "trade" and signed:
                    limit = MAX if signed > 0 else 0
                    book.trade(
                        funded_trader, abs(signed) % 2, signed * WAD // 10**5, limit, sender=trader
                    )
                elif action == "price":
                    for token in (weth, wbtc):  # both move together by up to ±25%
                        price = oracle.prices(token) * (1_000_000 + signed // 4) // 1_000_000
                        oracle.setPrice(token, max(price, WAD), sender=trader)
                elif action == "lp_in":
                    pool.deposit(amount * USDC // 10, lp, sender=lp)
                elif action == "lp_out":
                    pool.withdraw(min(amount * USDC // 10, pool.maxWithdraw(lp)), lp, lp, sender=lp)
                elif action == "liq":
                    engine.liquidate(funded_trader, keeper, sender=keeper)
                elif action == "sweep":
                    admin.sweepInsuranceFees(sender=keeper)
            except ape.exceptions.ContractLogicError:
                pass  # a rejected action moves nothing; the books must still balance
            held, owed = ledger_sum(engine, admin, usdc)
            assert held == owed
            count = engine.accountCount()
            debts = sum(max(-admin.accounts(i).quoteBalance, 0) for i in range(1, count + 1))
            assert admin.ledger().accountDebt == debts
            assert pool.totalAssets() == expected_pool_assets(engine, admin, oracle)
