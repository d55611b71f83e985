"""Reference model of the MarginEngine's margin math: exact integers, the contract's rounding.

Units (docs/ARCHITECTURE.md): prices, sizes, notionals, equity and ratios are WADs; quote balances,
fees, penalties and rewards are quote-token units (6 decimals). Every rounding goes against the
account: collateral value and profits down; requirements, losses, fees and penalties up.
The keeper reuses these functions to predict health and liquidation outcomes off-chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solvent.model.fixed_point import WAD, mul_div_down, mul_div_up

__all__ = ["WAD", "mul_div_down", "mul_div_up"]

WAD_PER_QUOTE = 10**12
MAX_HEALTH = 2**256 - 1


def _floor_div(x: int, d: int) -> int:
    return x // d


def _ceil_div(x: int, d: int) -> int:
    return -(-x // d)


def signed_mul_div_floor(x: int, y: int, d: int) -> int:
    """floor(x * y / d) for a signed x (toward minus infinity), as MarginMath.mulDivFloor."""
    return _floor_div(x * y, d)


def signed_mul_div_ceil(x: int, y: int, d: int) -> int:
    """ceil(x * y / d) for a signed x (toward plus infinity), as MarginMath.mulDivCeil."""
    return _ceil_div(x * y, d)


def to_quote_floor(wad: int) -> int:
    """A WAD amount the account receives, in quote units (toward minus infinity)."""
    return _floor_div(wad, WAD_PER_QUOTE)


@dataclass(frozen=True)
class CollateralParams:
    decimals: int
    im_weight: int
    mm_weight: int


@dataclass(frozen=True)
class MarketParams:
    base_mmr: int
    vol_factor: int
    sigma_cap: int
    im_scale: int
    fee_rate: int = 0
    insurance_fee_share: int = 0


@dataclass(frozen=True)
class CollateralHolding:
    """`price` None: the oracle rejects every feed (a liquidation values the holding at 0)."""

    amount: int
    price: int | None
    params: CollateralParams


@dataclass(frozen=True)
class PositionState:
    """`price` None: the oracle rejects every feed (a liquidation leaves the market out)."""

    size: int
    open_notional: int
    price: int | None
    sigma: int
    params: MarketParams


@dataclass(frozen=True)
class Portfolio:
    quote_balance: int
    collaterals: list[CollateralHolding] = field(default_factory=list)
    positions: list[PositionState] = field(default_factory=list)


@dataclass(frozen=True)
class Margin:
    initial_equity: int
    initial_requirement: int
    maintenance_equity: int
    maintenance_requirement: int
    notional: int
    minimum_margin: int = 0


@dataclass(frozen=True)
class LiquidationParams:
    penalty_rate: int
    target_health: int
    full_liquidation_health: int
    restricted_liquidation_health: int
    keeper_chip: int
    dust_notional: int
    keeper_tip: int
    liquidation_fee: int = 0  # WAD, on the debt handed to auction (Maker's chop - 1)
    min_position_margin: int = 0  # WAD USD, added to both requirements per open position


def margin_ratios(params: MarketParams, sigma: int) -> tuple[int, int]:
    """(mmr, imr): mmr = max(baseMmr, volFactor * min(sigma, sigmaCap)), imr = mmr * imScale; up."""
    vol_mmr = mul_div_up(params.vol_factor, min(sigma, params.sigma_cap), WAD)
    mmr = max(params.base_mmr, vol_mmr)
    return mmr, mul_div_up(mmr, params.im_scale, WAD)


def notional(size: int, price: int) -> int:
    return mul_div_up(abs(size), price, WAD)


def unrealized_pnl(size: int, open_notional: int, price: int) -> int:
    return signed_mul_div_floor(size, price, WAD) - open_notional


def collateral_value(amount: int, price: int, decimals: int, weight: int) -> int:
    return mul_div_down(mul_div_down(amount, price, 10**decimals), weight, WAD)


def margin(portfolio: Portfolio, min_position_margin: int = 0) -> Margin:
    """Equity and requirement, initial and maintenance (WAD), the total notional and the minimum
    margins in the requirements. As a liquidation reads it: a collateral without a price counts 0,
    a market without one is left out (MarginEngine's lenient `_margin`)."""
    cash = portfolio.quote_balance * WAD_PER_QUOTE
    im_equity = mm_equity = cash
    im_req = mm_req = total_notional = minimum = 0
    for c in portfolio.collaterals:
        if c.price is None:
            continue
        im_equity += collateral_value(c.amount, c.price, c.params.decimals, c.params.im_weight)
        mm_equity += collateral_value(c.amount, c.price, c.params.decimals, c.params.mm_weight)
    for p in portfolio.positions:
        if p.price is None:
            continue
        mmr, imr = margin_ratios(p.params, p.sigma)
        pnl = unrealized_pnl(p.size, p.open_notional, p.price)
        n = notional(p.size, p.price)
        im_equity += pnl
        mm_equity += pnl
        total_notional += n
        im_req += mul_div_up(n, imr, WAD) + min_position_margin
        mm_req += mul_div_up(n, mmr, WAD) + min_position_margin
        minimum += min_position_margin
    return Margin(im_equity, im_req, mm_equity, mm_req, total_notional, minimum)


def health(equity: int, requirement: int, has_debt: bool) -> int:
    """equity / requirement (WAD, down); MAX_HEALTH if nothing is owed; 0 if equity <= 0."""
    if equity <= 0:
        return MAX_HEALTH if (equity == 0 and requirement == 0 and not has_debt) else 0
    if requirement == 0:
        return MAX_HEALTH
    return mul_div_down(equity, WAD, requirement)


def maintenance_health(portfolio: Portfolio, min_position_margin: int = 0) -> int:
    m = margin(portfolio, min_position_margin)
    return health(m.maintenance_equity, m.maintenance_requirement, portfolio.quote_balance < 0)


def initial_health(portfolio: Portfolio, min_position_margin: int = 0) -> int:
    m = margin(portfolio, min_position_margin)
    return health(m.initial_equity, m.initial_requirement, portfolio.quote_balance < 0)


def apply_fill(size: int, open_notional: int, size_delta: int, price: int) -> tuple[int, int]:
    """(new open notional, realized PnL) of a fill, as MarginMath.applyFill."""
    if size == 0 or (size > 0) == (size_delta > 0):
        return open_notional + signed_mul_div_ceil(size_delta, price, WAD), 0
    closed, held = abs(size_delta), abs(size)
    if closed <= held:
        closed_notional = signed_mul_div_ceil(open_notional, closed, held)
        realized = signed_mul_div_floor(-size_delta, price, WAD) - closed_notional
        return open_notional - closed_notional, realized
    realized = signed_mul_div_floor(size, price, WAD) - open_notional
    return signed_mul_div_ceil(size + size_delta, price, WAD), realized


def trade_fee(size_delta: int, price: int, fee_rate: int) -> int:
    """Fee in quote units: notional (up) * feeRate, up."""
    return mul_div_up(notional(size_delta, price), fee_rate, WAD * WAD_PER_QUOTE)


def insurance_cut(fee: int, insurance_fee_share: int) -> int:
    return fee * insurance_fee_share // WAD


def increases_risk(size: int, new_size: int) -> bool:
    if new_size == 0:
        return False
    if size == 0 or (size > 0) != (new_size > 0):
        return True
    return abs(new_size) > abs(size)


def liquidation_fraction(
    equity: int,
    requirement: int,
    total_notional: int,
    penalty_rate: int,
    target_health: int,
    fixed_requirement: int = 0,
) -> int:
    """Smallest f (WAD, up) with E - f*p*N >= T*((1-f)*(R - F) + F), F the minimum margins that a
    partial closure keeps: f = (T*R - E) / (T*(R - F) - p*N)."""
    target_req = mul_div_up(target_health, requirement, WAD)
    # down, where the target requirement rounds up: the relief is never overstated
    variable_target = target_health * (requirement - fixed_requirement) // WAD
    max_penalty = mul_div_up(penalty_rate, total_notional, WAD)
    if variable_target <= max_penalty or equity >= target_req:
        return WAD
    shortfall = target_req - equity
    relief = variable_target - max_penalty
    if shortfall >= relief:
        return WAD
    return mul_div_up(shortfall, WAD, relief)


def closing_delta(size: int, price: int, fraction: int, dust_notional: int) -> int:
    """The fill closing `fraction` (up) of a position, or all of it when the rest is dust."""
    held = abs(size)
    closing = mul_div_up(held, fraction, WAD)
    if closing > held or mul_div_up(held - closing, price, WAD) < dust_notional:
        closing = held
    return -closing if size > 0 else closing


def penalty(
    closed_notional: int, penalty_rate: int, debt: int = 0, fee: int = 0, floor: int = 0
) -> int:
    """penaltyRate * closed notional + fee * debt (quote units, each part up), at least `floor`
    (the keeper tip) once anything is closed or any debt recovered."""
    if closed_notional == 0 and debt == 0:
        return 0
    charged = mul_div_up(closed_notional, penalty_rate, WAD * WAD_PER_QUOTE) + mul_div_up(
        debt, fee, WAD
    )
    return max(charged, floor)


def keeper_reward(debt: int, penalty_quote: int, tip: int, chip: int) -> int:
    return min(tip + mul_div_down(chip, debt + penalty_quote, WAD), penalty_quote)


@dataclass(frozen=True)
class LiquidationOutcome:
    """`penalty` is what the liquidation charges: with the fee on the debt when it hands off.
    `deferred`: an asset without a price keeps the collateral from auction, so the pool lends the
    penalty and the debt stays on the account. `size_deltas` is 0 for a market without a price."""

    fraction: int
    size_deltas: list[int]
    realized_pnl: int
    closed_notional: int
    penalty: int
    quote_after_pnl: int
    handed_off: bool
    deferred: bool = False


class PriceUnavailableError(Exception):
    """`MarginEngine.liquidate` reverts `PriceUnavailable`: nothing can be closed and an asset
    without a price keeps the collateral from auction."""


def plan_liquidation(
    portfolio: Portfolio, params: LiquidationParams, verdict: Margin | None = None
) -> LiquidationOutcome | None:
    """What `MarginEngine.liquidate` does to `portfolio`, or None if it is not liquidatable.
    Raises PriceUnavailableError where the engine reverts `PriceUnavailable`. `verdict`: the
    margin of the account's risk model (issue 18; its `minimum_margin` is 0), which then decides
    whether and how much to close instead of the standard margin."""
    m = verdict if verdict is not None else margin(portfolio, params.min_position_margin)
    h = health(m.maintenance_equity, m.maintenance_requirement, portfolio.quote_balance < 0)
    if h >= WAD:
        return None
    if h < params.full_liquidation_health:
        fraction = WAD
    else:
        fraction = liquidation_fraction(
            m.maintenance_equity,
            m.maintenance_requirement,
            m.notional,
            params.penalty_rate,
            params.target_health,
            m.minimum_margin,
        )

    def size(f: int) -> tuple[list[int], int, int, int]:
        deltas, realized, closed = [], 0, 0
        for p in portfolio.positions:
            if p.price is None:
                deltas.append(0)
                continue
            d = closing_delta(p.size, p.price, f, params.dust_notional)
            realized += apply_fill(p.size, p.open_notional, d, p.price)[1]
            closed += notional(d, p.price)
            deltas.append(d)
        return (
            deltas,
            realized,
            closed,
            penalty(closed, params.penalty_rate, floor=params.keeper_tip),
        )

    deltas, realized, closed, pen = size(fraction)
    if fraction < WAD and portfolio.quote_balance + to_quote_floor(realized) < pen:
        fraction = WAD
        deltas, realized, closed, pen = size(fraction)
    quote_after = portfolio.quote_balance + to_quote_floor(realized)
    unpriced = any(c.price is None for c in portfolio.collaterals) or any(
        p.price is None for p in portfolio.positions
    )
    if quote_after >= pen:
        return LiquidationOutcome(fraction, deltas, realized, closed, pen, quote_after, False)
    if unpriced:
        if closed == 0:
            raise PriceUnavailableError
        return LiquidationOutcome(
            fraction, deltas, realized, closed, pen, quote_after, False, deferred=True
        )
    debt = max(-quote_after, 0)
    pen = penalty(closed, params.penalty_rate, debt, params.liquidation_fee, params.keeper_tip)
    return LiquidationOutcome(fraction, deltas, realized, closed, pen, quote_after, True)
