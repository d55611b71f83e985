"""Exact-integer fixed-point helpers mirroring the contracts' rounding (OpenZeppelin Math.mulDiv).

Every helper takes the rounding direction explicitly: round *down* what the account is owed or
holds (collateral value, profits), round *up* what it owes (debts, requirements, fees).
"""

from __future__ import annotations

WAD = 10**18
BPS = 10_000


def mul_div_down(x: int, y: int, denominator: int) -> int:
    """floor(x * y / denominator) for non-negative integers."""
    if x < 0 or y < 0 or denominator <= 0:
        raise ValueError("mul_div expects non-negative operands and a positive denominator")
    return x * y // denominator


def mul_div_up(x: int, y: int, denominator: int) -> int:
    """ceil(x * y / denominator) for non-negative integers."""
    if x < 0 or y < 0 or denominator <= 0:
        raise ValueError("mul_div expects non-negative operands and a positive denominator")
    return -(-(x * y) // denominator)


def mul_div(x: int, y: int, denominator: int, round_up: bool) -> int:
    return mul_div_up(x, y, denominator) if round_up else mul_div_down(x, y, denominator)


def wad_mul_down(x: int, y: int) -> int:
    return mul_div_down(x, y, WAD)


def wad_mul_up(x: int, y: int) -> int:
    return mul_div_up(x, y, WAD)


def wad_div_down(x: int, y: int) -> int:
    return mul_div_down(x, WAD, y)


def wad_div_up(x: int, y: int) -> int:
    return mul_div_up(x, WAD, y)


def signed_mul_div_toward_neg_inf(x: int, y: int, denominator: int) -> int:
    """floor(x * y / denominator) for signed x, y (rounds against a signed PnL)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return x * y // denominator


def isqrt(x: int) -> int:
    """floor(sqrt(x)), as OpenZeppelin Math.sqrt."""
    if x < 0:
        raise ValueError("sqrt of a negative number")
    from math import isqrt as _isqrt

    return _isqrt(x)
