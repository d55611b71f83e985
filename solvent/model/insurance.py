"""Reference model of the insurance fund's sweepable surplus (docs/governance.md, issue 16):
only income above a high-water mark of the stakers' principal can leave for the treasury."""

from __future__ import annotations


def principal_after_redeem(principal: int, shares: int, total_supply: int) -> int:
    """Redeemed shares take their pro-rata part of the principal, rounded down (the principal
    left stays on the stakers' side)."""
    return principal - principal * shares // total_supply


def surplus(total_assets: int, target: int, principal: int) -> int:
    """What `sweepSurplus` may send: the balance above both the target and the principal."""
    return max(0, total_assets - max(target, principal))
