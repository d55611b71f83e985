"""Velocity funding per market and the borrow rate on quote debt, as `EngineBase` computes them.

Units (docs/funding.md): funding rates are WAD per day, velocities WAD per day per day, the
funding index is nano-USD per whole unit of the underlying (1e9 per USD), sizes and prices are
WADs, quote amounts are quote units (6 decimals). Borrow rates are annual WADs, the borrow index
is a WAD (1 at deployment). Rounding is the contracts': funding owed up and received down (against
the account), interest charged up, the pool's claims down.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from solvent.model.fixed_point import WAD, mul_div_down, mul_div_up

DAY = 86_400
YEAR = 365 * DAY
FUNDING_INDEX_PER_WAD = 10**9
FUNDING_ACCRUAL_DIVISOR = 2 * DAY * 10**27
FUNDING_QUOTE_DIVISOR = 10**21
WAD_PER_QUOTE = 10**12


def _div_toward_zero(x: int, d: int) -> int:
    """Solidity's signed division (d > 0)."""
    q = abs(x) // d
    return q if x >= 0 else -q


@dataclass(frozen=True)
class FundingParams:
    skew_scale: int  # WAD size
    max_velocity: int  # WAD per day per day
    deadband: int  # WAD fraction of skew_scale
    max_rate: int  # WAD per day


@dataclass(frozen=True)
class FundingState:
    rate: int = 0  # WAD per day, positive: longs pay
    index: int = 0  # nano-USD per unit
    last_time: int = 0  # 0 while the market has no position


def view_index(
    state: FundingState, net_size: int, price: int, now: int, params: FundingParams
) -> int:
    """The index a view computes now (`_fundingIndexNow`): no accrual from an empty market."""
    if state.last_time in (0, now):
        return state.index
    return accrue(state, net_size, price, now, params).index


def velocity(net_size: int, params: FundingParams) -> int:
    """`clamp(skew / skewScale, -1, 1) · maxVelocity` (toward zero), 0 inside the dead-band."""
    proportion = _div_toward_zero(net_size * WAD, params.skew_scale)
    proportion = max(-WAD, min(WAD, proportion))
    if abs(proportion) < params.deadband:
        return 0
    return _div_toward_zero(proportion * params.max_velocity, WAD)


def accrue(
    state: FundingState, net_size: int, price: int, now: int, params: FundingParams
) -> FundingState:
    """The market's funding at `now`: the rate moves by velocity · dt (clamped), the index by the
    trapezoid (rate + rate') / 2 · dt · price (toward minus infinity)."""
    if state.last_time == now:
        return state
    if state.last_time == 0:  # no position since the market emptied: the clock restarts
        return FundingState(rate=state.rate, index=0, last_time=now)
    elapsed = now - state.last_time
    rate = state.rate + _div_toward_zero(velocity(net_size, params) * elapsed, DAY)
    rate = max(-params.max_rate, min(params.max_rate, rate))
    index = state.index + (state.rate + rate) * elapsed * price // FUNDING_ACCRUAL_DIVISOR
    return FundingState(rate=rate, index=index, last_time=now)


def funding_owed(size: int, entry: int, index: int) -> int:
    """Quote units a position owes since `entry` (negative: receives), rounded up."""
    return -(-(size * (index - entry)) // FUNDING_QUOTE_DIVISOR)


def entry_share(size: int, index: int) -> int:
    """A position's share of `Market.fundingEntrySum` (WAD USD, floor)."""
    return size * index // FUNDING_INDEX_PER_WAD


def traders_unsettled_funding_wad(net_size: int, index: int, entry_sum: int) -> int:
    """What the traders owe the pool in funding, in aggregate (WAD, floor): the pool's claim."""
    return net_size * index // FUNDING_INDEX_PER_WAD - entry_sum


@dataclass(frozen=True)
class BorrowParams:
    base_rate: int  # annual WAD at the optimal utilization
    optimal_utilization: int  # WAD, 0 < opt < 1
    max_rate: int  # annual WAD at full utilization


@dataclass(frozen=True)
class BorrowState:
    index: int = WAD
    last_time: int = 0
    pending_interest: int = 0  # quote units accrued to the pool, not yet charged to accounts


def utilization(pool_cash: int, debt: int) -> int:
    """`debt / (poolCash + debt)` (WAD, up); 1 when the pool has no cash."""
    if pool_cash <= 0:
        return WAD
    return mul_div_up(debt, WAD, pool_cash + debt)


def borrow_rate(pool_cash: int, debt: int, params: BorrowParams | None) -> int:
    """Annual WAD rate, kinked at the optimal utilization (each part up)."""
    if params is None or params.optimal_utilization == 0:
        return 0
    u = utilization(pool_cash, debt)
    opt = params.optimal_utilization
    if u <= opt:
        return mul_div_up(u, params.base_rate, opt)
    return params.base_rate + mul_div_up(u - opt, params.max_rate - params.base_rate, WAD - opt)


def accrue_borrow(
    state: BorrowState, pool_cash: int, account_debt: int, now: int, params: BorrowParams | None
) -> BorrowState:
    """The borrow state at `now`: simple interest since the last accrual at the rate of the
    utilization now; all debt (booked and pending) earns the pool debt · Δindex / index (down)."""
    elapsed = now - state.last_time
    if elapsed == 0:
        return state
    state = replace(state, last_time=now)
    debt = account_debt + state.pending_interest
    if debt == 0:
        return state
    rate = borrow_rate(pool_cash, debt, params)
    if rate == 0:
        return state
    grown = state.index + mul_div_up(state.index, rate * elapsed, YEAR * WAD)
    pending = state.pending_interest + mul_div_down(debt, grown - state.index, state.index)
    return BorrowState(index=grown, last_time=now, pending_interest=pending)


def interest(debt: int, from_index: int, index: int) -> int:
    """Interest on `debt` (quote units > 0) since the account's index (up); 0 if never recorded."""
    if from_index == 0 or from_index >= index or debt <= 0:
        return 0
    return mul_div_up(debt, index, from_index) - debt


def charge_interest(state: BorrowState, charged: int) -> BorrowState:
    """The pending interest after an account was charged `charged` (floored at 0)."""
    return replace(state, pending_interest=max(state.pending_interest - charged, 0))
