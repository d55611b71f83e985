"""The contract's margin math equals solvent/model/margin.py exactly, rounding included."""

from __future__ import annotations

import pytest
from engine_helpers import BTC_MARKET, ETH_MARKET, LIQ, USDC, WAD, read_portfolio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.model import margin as model

amounts = st.fixed_dictionaries(
    {
        "quote": st.integers(min_value=0, max_value=200_000 * USDC),
        "weth": st.integers(min_value=0, max_value=50 * WAD),
        "wbtc": st.integers(min_value=0, max_value=3 * 10**8),
        "eth_size": st.integers(min_value=-40 * WAD, max_value=40 * WAD),
        "btc_size": st.integers(min_value=-2 * WAD, max_value=2 * WAD),
        "eth_move": st.integers(min_value=60, max_value=140),
        "btc_move": st.integers(min_value=60, max_value=140),
        "eth_sigma": st.integers(min_value=0, max_value=4 * WAD),
        "btc_sigma": st.integers(min_value=0, max_value=4 * WAD),
        "eth_reduce": st.integers(min_value=0, max_value=100),
    }
)


# ~20 s alone: `make test-slow` (and CI) runs it; `make test` stays under 10 minutes
@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(a=amounts)
def test_random_portfolios_match_model(
    book, a, chain, engine, admin, oracle, weth, wbtc, usdc, trader, funded_trader
):
    account_id = funded_trader
    with chain.isolate():
        engine.deposit(account_id, usdc, 1_000_000 * USDC, sender=trader)  # margin to open anything
        for token, key in ((weth, "weth"), (wbtc, "wbtc")):
            if a[key]:
                engine.deposit(account_id, token, a[key], sender=trader)
        for market_id, key in ((0, "eth_size"), (1, "btc_size")):
            if a[key]:
                limit = 2**256 - 1 if a[key] > 0 else 0
                book.trade(account_id, market_id, a[key], limit, sender=trader)
        # Take the cash back down to the random level (PnL and fees may leave it negative).
        quote_now = admin.accounts(account_id).quoteBalance
        initial = admin.initialHealthOf(account_id)
        free = (initial.equity - initial.requirement) // model.WAD_PER_QUOTE
        amount = min(quote_now - a["quote"], free)
        if amount > 0:
            engine.withdraw(account_id, usdc, amount, trader, sender=trader)

        oracle.setPrice(weth, oracle.prices(weth) * a["eth_move"] // 100, sender=trader)
        oracle.setPrice(wbtc, oracle.prices(wbtc) * a["btc_move"] // 100, sender=trader)
        oracle.setVolatility(weth, a["eth_sigma"], sender=trader)
        oracle.setVolatility(wbtc, a["btc_sigma"], sender=trader)

        portfolio = read_portfolio(engine, admin, oracle, weth, wbtc, account_id)
        expected = model.margin(portfolio, LIQ.min_position_margin)
        has_debt = portfolio.quote_balance < 0
        [maintenance] = admin.healthOf([account_id])
        initial = admin.initialHealthOf(account_id)
        assert maintenance.equity == expected.maintenance_equity
        assert maintenance.requirement == expected.maintenance_requirement
        assert maintenance.health == model.health(
            expected.maintenance_equity, expected.maintenance_requirement, has_debt
        )
        assert initial.equity == expected.initial_equity
        assert initial.requirement == expected.initial_requirement
        assert initial.health == model.health(
            expected.initial_equity, expected.initial_requirement, has_debt
        )

        # A reducing fill at the moved price realizes PnL and charges the fee as modelled.
        if a["eth_size"] and a["eth_reduce"]:
            before = admin.positions(account_id, 0)
            delta = -before.size * a["eth_reduce"] // 100
            if delta:
                price = oracle.prices(weth)
                quote_before = admin.accounts(account_id).quoteBalance
                limit = 2**256 - 1 if delta > 0 else 0
                book.trade(account_id, 0, delta, limit, sender=trader)
                new_notional, realized = model.apply_fill(
                    before.size, before.openNotional, delta, price
                )
                fee = model.trade_fee(delta, price, ETH_MARKET.fee_rate)
                after = admin.positions(account_id, 0)
                assert after.size == before.size + delta
                if after.size:
                    assert after.openNotional == new_notional
                assert (
                    admin.accounts(account_id).quoteBalance
                    == quote_before + model.to_quote_floor(realized) - fee
                )


def test_vol_scaled_margin_ratio_kicks_in_above_base(
    book, engine, admin, oracle, weth, usdc, trader, funded_trader
):
    engine.deposit(funded_trader, usdc, 100_000 * USDC, sender=trader)
    book.trade(funded_trader, 0, 10 * WAD, 2**256 - 1, sender=trader)
    low = admin.healthOf([funded_trader])[0].requirement
    oracle.setVolatility(weth, 2 * WAD, sender=trader)  # 8% * 2.0 = 16% > 6.5% base
    high = admin.healthOf([funded_trader])[0].requirement
    mmr, _ = model.margin_ratios(ETH_MARKET, 2 * WAD)
    assert mmr == 16 * WAD // 100
    minimum = LIQ.min_position_margin  # one position
    assert (
        high == model.mul_div_up(model.notional(10 * WAD, oracle.prices(weth)), mmr, WAD) + minimum
    )
    assert high > low
    oracle.setVolatility(weth, 50 * WAD, sender=trader)  # capped at sigmaCap = 3.0
    assert model.margin_ratios(ETH_MARKET, 50 * WAD)[0] == 24 * WAD // 100
    assert admin.healthOf([funded_trader])[0].requirement == minimum + model.mul_div_up(
        model.notional(10 * WAD, oracle.prices(weth)), 24 * WAD // 100, WAD
    )
    assert BTC_MARKET.base_mmr == ETH_MARKET.base_mmr
