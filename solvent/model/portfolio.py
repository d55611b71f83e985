"""Reference model of the portfolio risk model (issue 18; docs/risk-models.md): margin as the worst
loss of the whole account over a grid of price scenarios, in which perps and collateral of the same
asset move together, so hedges net. Exact integers (WAD), rounding against the account: equity
and gains down, losses and requirements up. The contract to come must equal it to the wei.

    scan_a     = clamp(sigma_a · sigmaMultiple_a, floor_a, cap_a)               (WAD fraction)
    r_k,a      = m_k,a · scan_a                                             (m ∈ [-1, 1], |r| up)
    equity     = cash + Σ_c value_c · (1 - h_c) + Σ_p (size_p · price_p - openNotional_p)
    loss_k     = -Σ_c value_c · (1 - h_c) · r_k,c - Σ_p size_p · price_p · r_k,p
    IM         = max(0, max_k loss_k) + Σ_p |size_p| · price_p · addon_p
    MM         = IM · mmFactor

`h_c` is the collateral's liquidity haircut (price risk is in the scenarios, so it is small);
`addon_p` is the non-nettable floor per position (idiosyncratic risk: funding, basis, a hedge's
other leg failing). Because the scenario values collateral as the equity does (after its
haircut), equity after an instant move equal to scenario k is exactly `equity - loss_k` (up to the
rounding of each term): an account at or above IM keeps equity ≥ its add-ons after any move the
grid holds (the stress property, tested)."""

from __future__ import annotations

from dataclasses import dataclass

from solvent.model.fixed_point import mul_div_down, mul_div_up
from solvent.model.margin import (
    WAD,
    WAD_PER_QUOTE,
    Margin,
    collateral_value,
    health,
    notional,
    signed_mul_div_ceil,
    unrealized_pnl,
)


@dataclass(frozen=True)
class Holding:
    """A collateral balance: `amount` in token units, `price` WAD USD per whole token."""

    asset: str
    amount: int
    decimals: int
    price: int
    haircut: int  # WAD: the liquidity haircut (the standard model's 1 - weight is much larger)


@dataclass(frozen=True)
class Position:
    asset: str
    size: int  # WAD, signed
    open_notional: int  # WAD USD, signed
    price: int  # WAD
    addon: int  # WAD ratio of notional, not nettable


@dataclass(frozen=True)
class Book:
    quote_balance: int  # quote units, signed
    holdings: tuple[Holding, ...] = ()
    positions: tuple[Position, ...] = ()


@dataclass(frozen=True)
class ScanRange:
    sigma_multiple: int  # WAD: scan = sigma · multiple, clamped to [floor, cap]
    floor: int  # WAD fraction
    cap: int  # WAD fraction


@dataclass(frozen=True)
class Shock:
    name: str
    moves: dict[str, int]  # asset -> WAD multiple of its scan range, in [-WAD, WAD]; absent: 0
    reason: str = ""


@dataclass(frozen=True)
class PortfolioParams:
    scenarios: tuple[Shock, ...]
    scan: dict[str, ScanRange]
    mm_factor: int  # WAD, <= 1 (Derive: 0.8)


MAX_SCENARIOS = 16
MAX_ASSETS = 16  # 8 markets + 8 collaterals per account
# The contract (contracts/risk/PortfolioRiskModel.sol) stores an asset in one slot: its 16 moves as
# int8 percent of its scan range, its scan parameters, haircut and add-on as uint24 millionths. The
# grid's values must sit on these ticks (a governance input off them is refused, never rounded).
MOVE_TICK = WAD // 100
RATE_TICK = 10**12
MAX_SIGMA_MULTIPLE = (2**24 - 1) * RATE_TICK


def scan_range(scan: ScanRange, sigma: int) -> int:
    """The asset's scan range (WAD fraction), from its volatility, rounded up."""
    return min(max(mul_div_up(sigma, scan.sigma_multiple, WAD), scan.floor), scan.cap)


def scenario_returns(
    shock: Shock, params: PortfolioParams, sigmas: dict[str, int]
) -> dict[str, int]:
    """Each asset's return in the scenario (WAD), magnitude rounded up."""
    out = {}
    for asset, multiple in shock.moves.items():
        scan = scan_range(params.scan[asset], sigmas[asset])
        magnitude = mul_div_up(abs(multiple), scan, WAD)
        out[asset] = magnitude if multiple >= 0 else -magnitude
    return out


def scenario_loss(book: Book, returns: dict[str, int]) -> int:
    """The account's loss (WAD USD, up; negative: a gain, rounded toward a smaller gain) if every
    asset moves by its return at once."""
    loss = 0
    for c in book.holdings:
        r = returns.get(c.asset, 0)
        if r:
            value = collateral_value(c.amount, c.price, c.decimals, WAD - c.haircut)
            loss += signed_mul_div_ceil(-value, r, WAD)
    for p in book.positions:
        r = returns.get(p.asset, 0)
        if r:
            exposure = p.size * p.price // WAD if p.size >= 0 else -(-p.size * p.price // WAD)
            loss += signed_mul_div_ceil(-exposure, r, WAD)
    return loss


def equity(book: Book) -> int:
    """Cash, collateral after its liquidity haircut (down) and unrealized PnL (WAD USD)."""
    value = book.quote_balance * WAD_PER_QUOTE
    for c in book.holdings:
        value += collateral_value(c.amount, c.price, c.decimals, WAD - c.haircut)
    for p in book.positions:
        value += unrealized_pnl(p.size, p.open_notional, p.price)
    return value


def worst_loss(book: Book, params: PortfolioParams, sigmas: dict[str, int]) -> tuple[int, str]:
    """(max(0, the largest scenario loss), the scenario's name; "" when no scenario loses)."""
    worst, name = 0, ""
    for shock in params.scenarios:
        loss = scenario_loss(book, scenario_returns(shock, params, sigmas))
        if loss > worst:
            worst, name = loss, shock.name
    return worst, name


def add_ons(book: Book) -> int:
    return sum(mul_div_up(notional(p.size, p.price), p.addon, WAD) for p in book.positions)


def margin(book: Book, params: PortfolioParams, sigmas: dict[str, int]) -> Margin:
    """Equity and requirements under the portfolio model (the standard model's `Margin` shape:
    the same equity for initial and maintenance)."""
    e = equity(book)
    worst, _ = worst_loss(book, params, sigmas)
    initial = worst + add_ons(book)
    maintenance = mul_div_up(initial, params.mm_factor, WAD)
    total = sum(notional(p.size, p.price) for p in book.positions)
    return Margin(e, initial, e, maintenance, total)


def initial_health(book: Book, params: PortfolioParams, sigmas: dict[str, int]) -> int:
    m = margin(book, params, sigmas)
    return health(m.initial_equity, m.initial_requirement, book.quote_balance < 0)


def maintenance_health(book: Book, params: PortfolioParams, sigmas: dict[str, int]) -> int:
    m = margin(book, params, sigmas)
    return health(m.maintenance_equity, m.maintenance_requirement, book.quote_balance < 0)


def moved(book: Book, returns: dict[str, int]) -> Book:
    """The book after every asset's price moves by its return at once (prices rounded down)."""

    def price(asset: str, p: int) -> int:
        return mul_div_down(p, WAD + returns.get(asset, 0), WAD)

    return Book(
        book.quote_balance,
        tuple(
            Holding(c.asset, c.amount, c.decimals, price(c.asset, c.price), c.haircut)
            for c in book.holdings
        ),
        tuple(
            Position(p.asset, p.size, p.open_notional, price(p.asset, p.price), p.addon)
            for p in book.positions
        ),
    )


def validate(params: PortfolioParams) -> None:
    """The bounds a governance setter would enforce (each a named error in the contract)."""
    if not 0 < len(params.scenarios) <= MAX_SCENARIOS:
        raise ValueError(f"1 to {MAX_SCENARIOS} scenarios, got {len(params.scenarios)}")
    if not 0 < params.mm_factor <= WAD:
        raise ValueError("mm_factor must be in (0, 1]")
    for shock in params.scenarios:
        for asset, multiple in shock.moves.items():
            if asset not in params.scan:
                raise ValueError(f"{shock.name}: no scan range for {asset}")
            if abs(multiple) > WAD:
                raise ValueError(f"{shock.name}: |move| of {asset} above one scan range")
            if multiple % MOVE_TICK:
                raise ValueError(f"{shock.name}: move of {asset} not a multiple of {MOVE_TICK}")
    for asset, scan in params.scan.items():
        if (
            not 0 < scan.floor <= scan.cap < WAD
            or not 0 <= scan.sigma_multiple <= MAX_SIGMA_MULTIPLE
        ):
            raise ValueError(f"{asset}: need 0 < floor <= cap < 1, sigma_multiple <= 16.77")
        if any(v % RATE_TICK for v in (scan.sigma_multiple, scan.floor, scan.cap)):
            raise ValueError(f"{asset}: scan parameters must be multiples of {RATE_TICK}")


def validate_rates(haircut: int, addon: int) -> None:
    """The bounds on an asset's liquidity haircut and add-on the contract's setter enforces."""
    if not 0 <= haircut < WAD or not 0 <= addon <= WAD:
        raise ValueError("need 0 <= haircut < 1 and 0 <= addon <= 1")
    if haircut % RATE_TICK or addon % RATE_TICK:
        raise ValueError(f"haircut and addon must be multiples of {RATE_TICK}")


def default_grid(assets: tuple[str, ...] = ("ETH", "BTC")) -> PortfolioParams:
    """The grid docs/risk-models.md explains, for two correlated majors: each asset alone, both
    together and in opposition, at full and half range, both directions (12 scenarios)."""
    first, second = assets
    full, half = WAD, WAD // 2
    shocks = []
    for sign, word in ((-1, "down"), (1, "up")):
        shocks += [
            Shock(f"{first} {word}", {first: sign * full}, "a move of one asset alone"),
            Shock(f"{second} {word}", {second: sign * full}, "a move of one asset alone"),
            Shock(f"both {word}", {first: sign * full, second: sign * full}, "a market-wide gap"),
            Shock(
                f"both {word} half",
                {first: sign * half, second: sign * half},
                "a smaller common move: a spread position's worst can sit inside the range",
            ),
            Shock(
                f"{first} {word}, {second} against",
                {first: sign * full, second: -sign * full},
                "decorrelation: a long/short pair across the two assets",
            ),
            Shock(
                f"{first} {word} half, {second} against half",
                {first: sign * half, second: -sign * half},
                "a smaller decorrelation",
            ),
        ]
    scan = ScanRange(sigma_multiple=35 * WAD // 100, floor=30 * WAD // 100, cap=60 * WAD // 100)
    return PortfolioParams(tuple(shocks), {first: scan, second: scan}, mm_factor=8 * WAD // 10)
