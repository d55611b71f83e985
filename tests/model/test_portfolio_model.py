"""The portfolio risk model's reference (solvent/model/portfolio.py), before its contract: the
stress property, hedges netting against the standard model's charges, and the grid's bounds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.model import margin as standard
from solvent.model import portfolio as pm

WAD = 10**18
USDC = 10**6
ETH_PRICE = 2_000 * WAD
BTC_PRICE = 60_000 * WAD
SIGMA = {"ETH": 80 * WAD // 100, "BTC": 60 * WAD // 100}
ADDON = WAD // 100  # 1% of notional per position
HAIRCUT = 2 * WAD // 100  # liquidity haircut on collateral
# the local deployment's standard model: IMR 10% at low sigma, collateral IM weight 0.75
STANDARD_MARKET = standard.MarketParams(
    base_mmr=65 * WAD // 1000,
    vol_factor=8 * WAD // 100,
    sigma_cap=3 * WAD,
    im_scale=15385 * WAD // 10000,
)
STANDARD_WETH = standard.CollateralParams(
    decimals=18, im_weight=75 * WAD // 100, mm_weight=80 * WAD // 100
)


def standard_cost(collateral_eth: int, size: int, sigma: int) -> int:
    """Initial requirement plus the equity the collateral loses to its IM weight (WAD USD)."""
    book = standard.Portfolio(
        0,
        [standard.CollateralHolding(collateral_eth, ETH_PRICE, STANDARD_WETH)],
        [standard.PositionState(size, size * ETH_PRICE // WAD, ETH_PRICE, sigma, STANDARD_MARKET)]
        if size
        else [],
    )
    m = standard.margin(book)
    value = collateral_eth * ETH_PRICE // WAD
    return (
        m.initial_requirement
        + value
        - standard.collateral_value(collateral_eth, ETH_PRICE, 18, STANDARD_WETH.im_weight)
    )


def portfolio_cost(book: pm.Book, params: pm.PortfolioParams) -> int:
    m = pm.margin(book, params, SIGMA)
    haircuts = sum(
        c.amount * c.price // 10**c.decimals
        - pm.collateral_value(c.amount, c.price, c.decimals, WAD - c.haircut)
        for c in book.holdings
    )
    return m.initial_requirement + haircuts


def test_a_basis_trade_costs_at_most_a_quarter_of_the_standard_model():
    """WETH collateral and an ETH-PERP short of equal delta: the scenarios net the two legs."""
    params = pm.default_grid()
    eth = 100 * WAD
    book = pm.Book(
        0,
        (pm.Holding("ETH", eth, 18, ETH_PRICE, HAIRCUT),),
        (pm.Position("ETH", -eth, -eth * ETH_PRICE // WAD, ETH_PRICE, ADDON),),
    )
    ours, theirs = portfolio_cost(book, params), standard_cost(eth, -eth, SIGMA["ETH"])
    assert ours * 4 <= theirs
    assert ours > 0  # the hedge is not free: the add-on, the haircut and its residual move


@given(
    size=st.integers(1, 10_000).map(lambda n: n * WAD // 10),
    long=st.booleans(),
    sigma=st.integers(1, 300).map(lambda p: p * WAD // 100),
)
@settings(max_examples=200, deadline=None)
def test_a_directional_position_costs_at_least_the_standard_model(size, long, sigma):
    """Whenever the grid's worst move for the asset is at least the standard initial ratio."""
    params = pm.default_grid()
    signed = size if long else -size
    book = pm.Book(
        0, (), (pm.Position("ETH", signed, signed * ETH_PRICE // WAD, ETH_PRICE, ADDON),)
    )
    sigmas = {**SIGMA, "ETH": sigma}
    _, imr = standard.margin_ratios(STANDARD_MARKET, sigma)
    if pm.scan_range(params.scan["ETH"], sigma) < imr:
        return
    ours = pm.margin(book, params, sigmas).initial_requirement
    theirs = standard.margin(
        standard.Portfolio(
            0,
            [],
            [
                standard.PositionState(
                    signed, signed * ETH_PRICE // WAD, ETH_PRICE, sigma, STANDARD_MARKET
                )
            ],
        )
    ).initial_requirement
    assert ours >= theirs


holdings = st.lists(st.tuples(st.sampled_from(["ETH", "BTC"]), st.integers(0, 10**6)), max_size=4)
positions = st.lists(
    st.tuples(st.sampled_from(["ETH", "BTC"]), st.integers(-(10**5), 10**5), st.integers(50, 150)),
    max_size=4,
)


@given(
    holdings=holdings,
    positions=positions,
    gap=st.sampled_from([-30, -20, 20, 30]),
    asset=st.sampled_from(["ETH", "BTC"]),
)
@settings(max_examples=400, deadline=None)
def test_stress_property_an_account_at_initial_margin_survives_the_grids_move(
    holdings, positions, gap, asset
):
    """Grid with an instant move of X% (scan floor = cap = |X|) for an asset; an account whose
    equity is exactly its initial requirement (the cash tops it up to the wei) keeps equity >= its
    add-ons after that move: the scenario's loss is exactly what the move takes."""
    x = abs(gap) * WAD // 100
    scan = pm.ScanRange(sigma_multiple=WAD, floor=x, cap=x)
    sign = WAD if gap > 0 else -WAD
    params = pm.PortfolioParams(
        (pm.Shock("gap", {asset: sign}),), {"ETH": scan, "BTC": scan}, mm_factor=8 * WAD // 10
    )
    prices = {"ETH": ETH_PRICE, "BTC": BTC_PRICE}

    def book_with(cash: int) -> pm.Book:
        return pm.Book(
            cash,
            tuple(pm.Holding(a, units * 10**15, 18, prices[a], HAIRCUT) for a, units in holdings),
            tuple(
                pm.Position(
                    a,
                    units * 10**15,
                    units * 10**15 * prices[a] * entry // (100 * WAD),
                    prices[a],
                    ADDON,
                )
                for a, units, entry in positions
            ),
        )

    unfunded = pm.margin(book_with(0), params, SIGMA)
    shortfall = unfunded.initial_requirement - unfunded.initial_equity
    book = book_with(-(-shortfall // 10**12))  # quote units, rounded up: equity >= IM by < $1e-6
    m = pm.margin(book, params, SIGMA)
    assert m.initial_equity >= m.initial_requirement
    after = pm.moved(book, pm.scenario_returns(params.scenarios[0], params, SIGMA))
    # each term of the book rounds once more after the move (a wei per holding and position)
    slack = len(book.holdings) + len(book.positions)
    assert pm.equity(after) >= pm.add_ons(book) - slack


def test_the_default_grid_is_within_bounds():
    params = pm.default_grid()
    pm.validate(params)
    assert len(params.scenarios) == 12
    assert all(s.reason for s in params.scenarios)


@pytest.mark.parametrize(
    "broken",
    [
        pm.PortfolioParams((), {}, WAD),
        pm.PortfolioParams(pm.default_grid().scenarios, pm.default_grid().scan, 0),
        pm.PortfolioParams((pm.Shock("x", {"ETH": 2 * WAD}),), pm.default_grid().scan, WAD),
        pm.PortfolioParams((pm.Shock("x", {"SOL": WAD}),), pm.default_grid().scan, WAD),
        pm.PortfolioParams(
            (pm.Shock("x", {"ETH": WAD}),), {"ETH": pm.ScanRange(WAD, 0, WAD // 2)}, WAD
        ),
        # off the contract's storage ticks: a move between two percents, a scan floor off 1e-6
        pm.PortfolioParams((pm.Shock("x", {"ETH": WAD // 3}),), pm.default_grid().scan, WAD),
        pm.PortfolioParams(
            (pm.Shock("x", {"ETH": WAD}),), {"ETH": pm.ScanRange(WAD, WAD // 3, WAD // 2)}, WAD
        ),
        pm.PortfolioParams(
            (pm.Shock("x", {"ETH": WAD}),), {"ETH": pm.ScanRange(17 * WAD, WAD // 4, WAD // 2)}, WAD
        ),
    ],
)
def test_out_of_bounds_grids_are_refused(broken):
    with pytest.raises(ValueError):
        pm.validate(broken)


@pytest.mark.parametrize(
    ("haircut", "addon"),
    [(WAD, 0), (0, WAD + pm.RATE_TICK), (HAIRCUT + 1, ADDON), (HAIRCUT, ADDON + pm.RATE_TICK // 2)],
)
def test_out_of_bounds_rates_are_refused(haircut, addon):
    with pytest.raises(ValueError):
        pm.validate_rates(haircut, addon)


def test_the_shipped_rates_are_within_bounds():
    pm.validate_rates(HAIRCUT, ADDON)
    pm.validate_rates(0, WAD)
