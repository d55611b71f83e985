"""PortfolioRiskModel on Anvil against its reference (solvent/model/portfolio.py), to the wei:
random portfolios and grids, the basis trade against the standard model (solvent/model/margin.py),
the stress property, every reject path, and the gas of a margin check at the per-account limits."""

from __future__ import annotations

from dataclasses import dataclass

import ape
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from solvent.model import margin as standard
from solvent.model import portfolio as pm

WAD = 10**18
MAX_UINT = 2**256 - 1
ETH_PRICE = 2_000 * WAD
BTC_PRICE = 60_000 * WAD
ADDON = WAD // 100
HAIRCUT = 2 * WAD // 100
LOCAL_SIGMA = {"ETH": 80 * WAD // 100, "BTC": 60 * WAD // 100}
# The reference names assets; the contract keys them by the oracle asset's address.
ASSETS = (*(f"A{i}" for i in range(16)), "ETH", "BTC")
ADDRESS = {name: f"0x{0x1000 + i:040x}" for i, name in enumerate(ASSETS)}
STANDARD_MARKET = standard.MarketParams(  # the local deployment's ETH-PERP: IMR 10% at low sigma
    base_mmr=65 * WAD // 1000,
    vol_factor=8 * WAD // 100,
    sigma_cap=3 * WAD,
    im_scale=15385 * WAD // 10000,
)
STANDARD_WETH = standard.CollateralParams(
    decimals=18, im_weight=75 * WAD // 100, mm_weight=80 * WAD // 100
)


@dataclass(frozen=True)
class AssetRates:
    haircut: int
    addon: int


@dataclass(frozen=True)
class Grid:
    """A grid as the contract takes it: the reference's params plus each asset's rates."""

    params: pm.PortfolioParams
    rates: dict[str, AssetRates]


@pytest.fixture(scope="module")
def model(project, deployer):
    return deployer.deploy(project.PortfolioRiskModel)


@pytest.fixture(scope="module")
def probe(project, deployer):
    return deployer.deploy(project.RiskModelGasProbe)


def set_grid(model, deployer, grid: Grid):
    params = grid.params
    assets = list(params.scan)
    risks = [
        (
            params.scan[a].sigma_multiple,
            params.scan[a].floor,
            params.scan[a].cap,
            grid.rates[a].haircut,
            grid.rates[a].addon,
        )
        for a in assets
    ]
    moves = [[shock.moves.get(a, 0) for shock in params.scenarios] for a in assets]
    return model.setGrid(
        len(params.scenarios),
        params.mm_factor,
        [ADDRESS[a] for a in assets],
        risks,
        moves,
        sender=deployer,
    )


def account_args(book: pm.Book, sigmas: dict[str, int], address: dict | None = None) -> tuple:
    """The account as the contract takes it; `address`: asset name -> its key (default ADDRESS;
    a deployment passes its tokens)."""
    key = address or ADDRESS
    return (
        book.quote_balance,
        [(key[c.asset], c.amount, c.decimals, c.price, sigmas[c.asset]) for c in book.holdings],
        # The market id is the position's index: the portfolio model keys on the asset only.
        [
            (key[p.asset], p.size, p.open_notional, p.price, sigmas[p.asset], i)
            for i, p in enumerate(book.positions)
        ],
    )


def assert_matches_reference(
    model, book: pm.Book, grid: Grid, sigmas: dict[str, int], address: dict | None = None
) -> None:
    params = grid.params
    expected = pm.margin(book, params, sigmas)
    worst, name = pm.worst_loss(book, params, sigmas)
    names = [s.name for s in params.scenarios]
    args = account_args(book, sigmas, address)
    got = model.margin(args)
    assert got.equity == expected.initial_equity
    assert got.initialRequirement == expected.initial_requirement
    assert got.maintenanceRequirement == expected.maintenance_requirement
    assert got.notional == expected.notional
    assert got.nonNettable == pm.add_ons(book)
    assert got.worstScenario == (names.index(name) if worst else MAX_UINT)
    # One valuation of collateral for both requirements, and no fixed part of the requirement.
    assert got.maintenanceEquity == expected.maintenance_equity == got.equity
    assert got.fixedRequirement == 0
    initial, maintenance = model.health(args)
    assert initial == pm.initial_health(book, params, sigmas)
    assert maintenance == pm.maintenance_health(book, params, sigmas)


def shipped_grid() -> Grid:
    """The grid docs/risk-models.md ships (`portfolio.default_grid`), 2% haircut, 1% add-on."""
    return Grid(pm.default_grid(), {a: AssetRates(HAIRCUT, ADDON) for a in ("ETH", "BTC")})


# ---------------------------------------------------------------- random portfolios and grids

TICK = pm.RATE_TICK
wad_fraction = st.integers(1, WAD // TICK - 1).map(lambda n: n * TICK)
rate = st.integers(0, WAD // TICK).map(lambda n: n * TICK)
move = st.one_of(
    st.just(0), st.integers(-100, 100).map(lambda pct: pct * pm.MOVE_TICK), st.just(-WAD)
)


@st.composite
def grids(draw) -> Grid:
    count = draw(st.integers(1, pm.MAX_SCENARIOS))
    names = draw(st.lists(st.sampled_from(ASSETS[:16]), min_size=1, max_size=16, unique=True))
    scan, rates, columns = {}, {}, {}
    for name in names:
        floor = draw(wad_fraction)
        scan[name] = pm.ScanRange(
            sigma_multiple=draw(
                st.integers(0, pm.MAX_SIGMA_MULTIPLE // TICK).map(lambda n: n * TICK)
            ),
            floor=floor,
            cap=draw(st.integers(floor // TICK, WAD // TICK - 1).map(lambda n: n * TICK)),
        )
        rates[name] = AssetRates(
            draw(rate.filter(lambda h: h < WAD)), draw(st.sampled_from([0, ADDON, WAD]) | rate)
        )
        columns[name] = draw(st.lists(move, min_size=count, max_size=count))
    shocks = tuple(
        pm.Shock(f"s{k}", {n: columns[n][k] for n in names if columns[n][k]}) for k in range(count)
    )
    mm_factor = draw(st.sampled_from([WAD, 8 * WAD // 10]) | st.integers(1, WAD))
    return Grid(pm.PortfolioParams(shocks, scan, mm_factor), rates)


@st.composite
def books(draw, grid: Grid) -> tuple[pm.Book, dict[str, int]]:
    assets = list(grid.params.scan)
    prices = {a: draw(st.integers(1, 10**6 * WAD)) for a in assets}
    sigmas = {a: draw(st.integers(0, 5 * WAD)) for a in assets}
    held = draw(st.lists(st.sampled_from(assets), max_size=8, unique=True))
    traded = draw(st.lists(st.sampled_from(assets), max_size=8, unique=True))
    holdings = []
    for a in held:
        decimals = draw(st.integers(0, 24))
        amount = draw(st.integers(0, 10**9 * 10**decimals))
        holdings.append(pm.Holding(a, amount, decimals, prices[a], grid.rates[a].haircut))
    positions = []
    for a in traded:
        size = draw(st.integers(-(10**9) * WAD, 10**9 * WAD))
        entry = draw(st.integers(1, 2 * 10**6 * WAD))
        open_notional = size * entry // WAD + draw(st.integers(-(10**6), 10**6))
        positions.append(pm.Position(a, size, open_notional, prices[a], grid.rates[a].addon))
    cash = draw(st.integers(-(10**15), 10**15))
    return pm.Book(cash, tuple(holdings), tuple(positions)), sigmas


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_random_portfolios_equal_the_reference_to_the_wei(model, deployer, data):
    """≤ 8 holdings and ≤ 8 positions (long and short, hedged or not) under a random grid within
    bounds: equity, both requirements, notional, add-ons, the binding scenario and both healths."""
    grid = data.draw(grids())
    pm.validate(grid.params)
    set_grid(model, deployer, grid)
    for _ in range(3):
        book, sigmas = data.draw(books(grid))
        assert_matches_reference(model, book, grid, sigmas)


def test_the_grid_reads_back_as_set(model, deployer):
    grid = shipped_grid()
    tx = set_grid(model, deployer, grid)
    assert model.grid() == (12, 8 * WAD // 10)
    assert [a.lower() for a in model.gridAssets()] == [ADDRESS["ETH"], ADDRESS["BTC"]]
    covered, risk, moves = model.assetGrid(ADDRESS["ETH"])
    assert covered
    assert tuple(risk) == (35 * WAD // 100, 30 * WAD // 100, 60 * WAD // 100, HAIRCUT, ADDON)
    assert list(moves) == [s.moves.get("ETH", 0) for s in grid.params.scenarios]
    assert model.scanRange(ADDRESS["ETH"], LOCAL_SIGMA["ETH"]) == pm.scan_range(
        grid.params.scan["ETH"], LOCAL_SIGMA["ETH"]
    )
    assert len(tx.events.filter(model.AssetGridSet)) == 2
    assert tx.events.filter(model.GridSet)[0].scenarioCount == 12
    # a new grid drops the old one's assets
    one = Grid(
        pm.PortfolioParams((pm.Shock("down", {"A0": -WAD}),), {"A0": grid.params.scan["ETH"]}, WAD),
        {"A0": AssetRates(0, 0)},
    )
    tx = set_grid(model, deployer, one)
    assert len(tx.events.filter(model.AssetGridRemoved)) == 2
    assert not model.assetGrid(ADDRESS["ETH"])[0]
    assert [a.lower() for a in model.gridAssets()] == [ADDRESS["A0"]]


# ---------------------------------------------------------------- hedges and the standard model


def standard_cost(
    collateral_eth: int,
    size: int,
    sigma: int,
    market: standard.MarketParams = STANDARD_MARKET,
    weth: standard.CollateralParams = STANDARD_WETH,
) -> int:
    """The standard model's (solvent/model/margin.py, which the engine matches) initial requirement
    plus the equity the collateral loses to its IM weight (WAD USD)."""
    book = standard.Portfolio(
        0,
        [standard.CollateralHolding(collateral_eth, ETH_PRICE, weth)],
        [standard.PositionState(size, size * ETH_PRICE // WAD, ETH_PRICE, sigma, market)]
        if size
        else [],
    )
    value = collateral_eth * ETH_PRICE // WAD
    lost = value - standard.collateral_value(collateral_eth, ETH_PRICE, 18, weth.im_weight)
    return standard.margin(book).initial_requirement + lost


def test_a_basis_trade_costs_at_most_a_quarter_of_the_standard_model(model, deployer):
    """100 WETH collateral and a 100 ETH-PERP short under the shipped grid: the contract's cost
    (initial requirement + what the haircut takes) is the reference's, ≤ 25% of the standard's."""
    grid = shipped_grid()
    set_grid(model, deployer, grid)
    eth = 100 * WAD
    book = pm.Book(
        0,
        (pm.Holding("ETH", eth, 18, ETH_PRICE, HAIRCUT),),
        (pm.Position("ETH", -eth, -eth * ETH_PRICE // WAD, ETH_PRICE, ADDON),),
    )
    assert_matches_reference(model, book, grid, LOCAL_SIGMA)
    got = model.margin(account_args(book, LOCAL_SIGMA))
    haircut_loss = eth * ETH_PRICE // WAD - got.equity  # no cash, no PnL: equity is the holding
    cost = got.initialRequirement + haircut_loss
    theirs = standard_cost(eth, -eth, LOCAL_SIGMA["ETH"])
    assert cost == 7_200 * WAD  # the figure docs/risk-models.md reports
    assert theirs == 70_000 * WAD + WAD // 2
    assert 0 < cost * 4 <= theirs


@settings(max_examples=25, deadline=None)
@given(
    size=st.integers(1, 10_000).map(lambda n: n * WAD // 10),
    long=st.booleans(),
    sigma=st.integers(1, 300).map(lambda p: p * WAD // 100),
)
def test_a_directional_position_costs_at_least_the_standard_model(
    model, deployer, size, long, sigma
):
    """Whenever the grid's scan range for the asset is at least the standard initial ratio."""
    grid = shipped_grid()
    if model.grid()[0] != len(grid.params.scenarios):
        set_grid(model, deployer, grid)
    signed = size if long else -size
    sigmas = {**LOCAL_SIGMA, "ETH": sigma}
    book = pm.Book(
        0, (), (pm.Position("ETH", signed, signed * ETH_PRICE // WAD, ETH_PRICE, ADDON),)
    )
    _, imr = standard.margin_ratios(STANDARD_MARKET, sigma)
    ours = model.margin(account_args(book, sigmas)).initialRequirement
    assert ours == pm.margin(book, grid.params, sigmas).initial_requirement
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
    if model.scanRange(ADDRESS["ETH"], sigma) >= imr:
        assert ours >= theirs


# ---------------------------------------------------------------- the stress property


@settings(max_examples=40, deadline=None)
@given(
    holdings=st.lists(
        st.tuples(st.sampled_from(["ETH", "BTC"]), st.integers(0, 10**6)),
        max_size=2,
        unique_by=lambda t: t[0],
    ),
    positions=st.lists(
        st.tuples(
            st.sampled_from(["ETH", "BTC"]),
            st.integers(-(10**5), 10**5).filter(bool),
            st.integers(50, 150),
        ),
        min_size=1,
        max_size=2,
        unique_by=lambda t: t[0],
    ),
)
def test_an_account_at_initial_margin_survives_a_30_percent_gap(
    model, deployer, holdings, positions
):
    """The shipped grid holds ETH -30% at the local volatility (scan floor 30%). An account funded
    to exactly its initial requirement (on the contract's figure) has equity ≥ 0 — indeed ≥ its
    add-ons — after an instant -30% ETH gap, as the contract values it."""
    grid = shipped_grid()
    set_grid(model, deployer, grid)
    assert model.scanRange(ADDRESS["ETH"], LOCAL_SIGMA["ETH"]) == 30 * WAD // 100
    prices = {"ETH": ETH_PRICE, "BTC": BTC_PRICE}

    def book_with(cash: int) -> pm.Book:
        return pm.Book(
            cash,
            tuple(pm.Holding(a, n * 10**15, 18, prices[a], HAIRCUT) for a, n in holdings),
            tuple(
                pm.Position(
                    a, n * 10**15, n * 10**15 * prices[a] * entry // (100 * WAD), prices[a], ADDON
                )
                for a, n, entry in positions
            ),
        )

    unfunded = model.margin(account_args(book_with(0), LOCAL_SIGMA))
    shortfall = unfunded.initialRequirement - unfunded.equity
    book = book_with(-(-shortfall // 10**12))  # quote units, up: equity ≥ IM by < 1e12 wei
    at_margin = model.margin(account_args(book, LOCAL_SIGMA))
    assert 0 <= at_margin.equity - at_margin.initialRequirement < 10**12
    after = pm.moved(book, {"ETH": -30 * WAD // 100})
    gapped = model.margin(account_args(after, LOCAL_SIGMA))
    assert gapped.equity == pm.equity(after)
    slack = len(book.holdings) + len(book.positions)  # a wei per term for the extra rounding
    assert gapped.equity >= at_margin.nonNettable - slack
    assert gapped.equity >= 0


# ---------------------------------------------------------------- reject paths


def test_an_unset_grid_margins_nothing(project, deployer):
    fresh = deployer.deploy(project.PortfolioRiskModel)
    with ape.reverts(fresh.GridNotSet):
        fresh.margin((0, [], []))
    with ape.reverts(fresh.GridNotSet):
        fresh.health((0, [], []))


def test_bad_accounts_are_refused(model, deployer):
    set_grid(model, deployer, shipped_grid())
    eth, btc = ADDRESS["ETH"], ADDRESS["BTC"]
    holding = (eth, WAD, 18, ETH_PRICE, WAD)
    position = (btc, WAD, BTC_PRICE, BTC_PRICE, WAD, 0)
    with ape.reverts(model.TooManyHoldings, count=9, max=8):
        model.margin((0, [holding] * 9, []))
    with ape.reverts(model.TooManyPositions, count=9, max=8):
        model.health((0, [], [position] * 9))
    with ape.reverts(model.DecimalsOutOfBounds):
        model.margin((0, [(eth, WAD, 37, ETH_PRICE, WAD)], []))
    stranger = ADDRESS["A5"]
    with ape.reverts(model.AssetNotCovered, asset=stranger):
        model.margin((0, [(stranger, WAD, 18, ETH_PRICE, WAD)], []))
    with ape.reverts(model.AssetNotCovered, asset=stranger):
        model.margin((0, [], [(stranger, WAD, 0, ETH_PRICE, WAD, 0)]))
    with ape.reverts(model.AssetNotCovered, asset=stranger):
        model.scanRange(stranger, WAD)
    huge = 2**128 - 1  # beyond any real account: kept out of the unchecked scenario loop
    with ape.reverts(model.ExposureOutOfBounds, asset=eth):
        model.margin((0, [(eth, huge, 0, huge, WAD)], []))
    with ape.reverts(model.ExposureOutOfBounds, asset=btc):
        model.margin((0, [], [(btc, 2**127 - 1, 0, huge, WAD, 0)]))
    # the limits themselves pass
    model.margin((0, [holding] * 8, [position] * 8))


def good_grid_args() -> dict:
    scan = (35 * WAD // 100, 30 * WAD // 100, 60 * WAD // 100, HAIRCUT, ADDON)
    return {
        "count": 2,
        "mm": 8 * WAD // 10,
        "assets": [ADDRESS["ETH"], ADDRESS["BTC"]],
        "risks": [scan, scan],
        "moves": [[-WAD, WAD], [0, WAD // 2]],
    }


def with_risk(i: int, **fields) -> list:
    names = ("sigmaMultiple", "floor", "cap", "haircut", "addOn")
    risks = [list(r) for r in good_grid_args()["risks"]]
    for name, value in fields.items():
        risks[i][names.index(name)] = value
    return [tuple(r) for r in risks]


ETH = ADDRESS["ETH"]
BAD_GRIDS = [
    ("ScenarioCountOutOfBounds", {"count": 0}),
    ("ScenarioCountOutOfBounds", {"count": 17}),
    ("MaintenanceFactorOutOfBounds", {"mm": 0}),
    ("MaintenanceFactorOutOfBounds", {"mm": WAD + 1}),
    ("GridAssetCountOutOfBounds", {"assets": [], "risks": [], "moves": []}),
    ("GridAssetCountOutOfBounds", {"assets": [ETH] * 81}),
    ("LengthMismatch", {"risks": good_grid_args()["risks"][:1]}),
    ("LengthMismatch", {"moves": [[-WAD, WAD]]}),
    ("LengthMismatch", {"moves": [[-WAD, WAD], [0]]}),
    ("ZeroAsset", {"assets": [ETH, "0x" + "00" * 20]}),
    ("DuplicateAsset", {"assets": [ETH, ETH]}),
    ("ScanRangeOutOfBounds", {"risks": with_risk(0, floor=0)}),
    ("ScanRangeOutOfBounds", {"risks": with_risk(0, floor=61 * WAD // 100)}),
    ("ScanRangeOutOfBounds", {"risks": with_risk(1, cap=WAD)}),
    ("RateOutOfBounds", {"risks": with_risk(0, haircut=WAD)}),
    ("RateOutOfBounds", {"risks": with_risk(0, addOn=WAD + TICK)}),
    ("ScanRangeOutOfBounds", {"risks": with_risk(1, sigmaMultiple=17 * WAD)}),
    ("ParameterNotOnTick", {"risks": with_risk(1, haircut=HAIRCUT + 1)}),
    ("ParameterNotOnTick", {"risks": with_risk(1, addOn=ADDON + TICK // 2)}),
    ("ParameterNotOnTick", {"risks": with_risk(0, sigmaMultiple=WAD // 3)}),
    ("ParameterNotOnTick", {"risks": with_risk(0, floor=WAD // 7)}),
    ("ParameterNotOnTick", {"risks": with_risk(0, cap=WAD // 7 * 4)}),
    ("MoveOutOfBounds", {"moves": [[-WAD - pm.MOVE_TICK, WAD], [0, 0]]}),
    ("MoveOutOfBounds", {"moves": [[-WAD, WAD], [0, WAD + pm.MOVE_TICK]]}),
    ("MoveNotOnTick", {"moves": [[-WAD, WAD], [0, WAD // 3]]}),
]


@pytest.mark.parametrize(("error", "overrides"), BAD_GRIDS, ids=[e for e, _ in BAD_GRIDS])
def test_out_of_bounds_grids_are_refused(model, deployer, error, overrides):
    args = {**good_grid_args(), **overrides}
    before = model.grid()
    with ape.reverts(getattr(model, error)):
        model.setGrid(
            args["count"], args["mm"], args["assets"], args["risks"], args["moves"], sender=deployer
        )
    assert model.grid() == before


def test_the_good_grid_passes_and_agrees_with_the_reference_bounds(model, deployer):
    args = good_grid_args()
    model.setGrid(
        args["count"], args["mm"], args["assets"], args["risks"], args["moves"], sender=deployer
    )
    assert model.grid() == (2, 8 * WAD // 10)
    with pytest.raises(ValueError):  # the reference refuses what the contract refuses for ticks
        pm.validate(
            pm.PortfolioParams(
                (pm.Shock("x", {"ETH": WAD // 3}),), {"ETH": pm.default_grid().scan["ETH"]}, WAD
            )
        )
    with pytest.raises(ValueError):
        pm.validate_rates(HAIRCUT + 1, ADDON)


ANY_PARAMETER = st.sampled_from(
    [0, 1, TICK, WAD // 3, 3 * WAD // 10, WAD - TICK, WAD, WAD + TICK, 17 * WAD]
)
GOOD_RISK = st.tuples(
    st.sampled_from([0, 35 * WAD // 100, WAD, pm.MAX_SIGMA_MULTIPLE]),
    st.sampled_from([TICK, 3 * WAD // 10]),
    st.sampled_from([6 * WAD // 10, WAD - TICK]),
    st.sampled_from([0, HAIRCUT, WAD - TICK]),
    st.sampled_from([0, ADDON, WAD]),
)
GOOD_MOVE = st.sampled_from([0, WAD, -WAD, WAD // 2, -7 * pm.MOVE_TICK])
BAD_MOVE = st.sampled_from([WAD // 3, pm.MOVE_TICK + 1, -WAD - pm.MOVE_TICK, WAD + pm.MOVE_TICK])


@settings(max_examples=80, deadline=None)
@given(
    count=st.integers(1, 16) | st.sampled_from([0, 17]),
    mm=st.sampled_from([8 * WAD // 10, WAD]) | st.sampled_from([0, 1, WAD + 1]),
    risks=st.lists(GOOD_RISK | st.tuples(*[ANY_PARAMETER] * 5), min_size=1, max_size=2),
    data=st.data(),
)
def test_the_contract_refuses_exactly_what_the_reference_refuses(
    model, deployer, count, mm, risks, data
):
    """Random grids in and out of bounds: `setGrid` reverts iff the reference's `validate` and
    `validate_rates` refuse (the reference is the one statement of the bounds)."""
    names = ASSETS[: len(risks)]
    bad_moves = data.draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
    moves = [
        data.draw(
            st.lists(GOOD_MOVE | BAD_MOVE if bad else GOOD_MOVE, min_size=count, max_size=count)
        )
        for bad in bad_moves
    ]
    params = pm.PortfolioParams(
        tuple(
            pm.Shock(f"s{k}", {n: moves[i][k] for i, n in enumerate(names)}) for k in range(count)
        ),
        {n: pm.ScanRange(r[0], r[1], r[2]) for n, r in zip(names, risks, strict=True)},
        mm,
    )
    try:
        pm.validate(params)
        for r in risks:
            pm.validate_rates(r[3], r[4])
        refused = False
    except ValueError:
        refused = True
    args = (count, mm, [ADDRESS[n] for n in names], risks, moves)
    event("refused" if refused else "accepted")
    if refused:
        with ape.reverts():
            model.setGrid(*args, sender=deployer)
    else:
        model.setGrid(*args, sender=deployer)
        assert model.grid() == (count, mm)
        for n, r, m in zip(names, risks, moves, strict=True):
            assert model.assetGrid(ADDRESS[n]) == (True, r, m)


def test_only_the_governor_sets_the_grid(model, accounts):
    args = good_grid_args()
    with ape.reverts(model.AccessControlUnauthorizedAccount):
        model.setGrid(
            args["count"],
            args["mm"],
            args["assets"],
            args["risks"],
            args["moves"],
            sender=accounts[3],
        )


# ---------------------------------------------------------------- gas


def limits_grid() -> Grid:
    """16 assets (8 markets, 8 collaterals, none shared: the most storage a check reads), 16
    scenarios, every asset moving in every scenario."""
    names = ASSETS[:16]
    scan = pm.ScanRange(35 * WAD // 100, 30 * WAD // 100, 60 * WAD // 100)
    shocks = tuple(
        pm.Shock(
            f"s{k}",
            {
                n: (WAD if (i + k) % 2 else -WAD) // (1 + (k % 3)) // pm.MOVE_TICK * pm.MOVE_TICK
                for i, n in enumerate(names)
            },
        )
        for k in range(16)
    )
    return Grid(
        pm.PortfolioParams(shocks, {n: scan for n in names}, 8 * WAD // 10),
        {n: AssetRates(HAIRCUT, ADDON) for n in names},
    )


def test_gas_health_of_an_account_at_the_limits(model, probe, deployer, gas):
    grid = limits_grid()
    pm.validate(grid.params)
    set_grid(model, deployer, grid)
    names = ASSETS[:16]
    sigmas = {n: 80 * WAD // 100 for n in names}
    book = pm.Book(
        -5_000 * 10**6,
        tuple(
            pm.Holding(n, (i + 1) * 10**18, 18, (i + 1) * 1_000 * WAD, HAIRCUT)
            for i, n in enumerate(names[:8])
        ),
        tuple(
            pm.Position(
                n, (-1) ** i * (i + 1) * WAD, (-1) ** i * (i + 1) * 900 * WAD, 1_000 * WAD, ADDON
            )
            for i, n in enumerate(names[8:])
        ),
    )
    assert_matches_reference(model, book, grid, sigmas)
    probe.measureHealth(model, account_args(book, sigmas), sender=deployer)
    assert probe.lastInitialHealth() == pm.initial_health(book, grid.params, sigmas)
    assert probe.lastMaintenanceHealth() == pm.maintenance_health(book, grid.params, sigmas)
    used = probe.lastHealthGas()
    gas.record_value("risk.portfolio_health_8m_8c", used)
    assert used <= 150_000


def test_the_model_fits_the_mainnet_code_size_limit(project):
    """EIP-170 (24,576 bytes); the unrolled scenario loop is the largest part of the code."""
    code = project.PortfolioRiskModel.contract_type.runtime_bytecode.bytecode
    assert 0 < (len(code) - 2) // 2 <= 24_576
