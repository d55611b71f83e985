"""The RiskSteward's acceptance rule in Python (contracts/risk/RiskSteward.sol): what a push would
be refused for, and the nearest forecast it would accept. The risk keeper sends only what this
accepts; tests hold it to the contract."""

from __future__ import annotations

from dataclasses import dataclass

BPS = 10_000


@dataclass(frozen=True)
class StewardBounds:
    floor: int  # WAD annualized sigma
    ceiling: int
    max_change_bps: int
    min_delay: int  # seconds
    ttl: int


@dataclass(frozen=True)
class LivePush:
    sigma: int  # the last pushed forecast (WAD)
    at: int  # when (0: never)
    expiry: int


def reference(onchain_sigma: int, last: LivePush, now: int) -> int:
    """What a change is measured from: the larger of the on-chain estimate and the live forecast."""
    if last.expiry > now and last.sigma > onchain_sigma:
        return last.sigma
    return onchain_sigma


def refusal(
    sigma: int, bounds: StewardBounds, last: LivePush, onchain_sigma: int, now: int
) -> str | None:
    """The steward's error for pushing `sigma` now, or None when it would be accepted."""
    if bounds.ceiling == 0:
        return "AssetNotConfigured"
    if sigma < bounds.floor or sigma > bounds.ceiling:
        return "ForecastOutOfBounds"
    if last.at != 0 and now < last.at + bounds.min_delay:
        return "ForecastTooSoon"
    ref = reference(onchain_sigma, last, now)
    if abs(sigma - ref) * BPS > ref * bounds.max_change_bps:
        return "ForecastChangeTooLarge"
    return None


def nearest_allowed(
    sigma: int, bounds: StewardBounds, last: LivePush, onchain_sigma: int, now: int
) -> int | None:
    """The accepted forecast nearest `sigma` (clamped to the floor, the ceiling and the change
    bound around the reference), or None while the minimum delay has not passed."""
    if last.at != 0 and now < last.at + bounds.min_delay:
        return None
    ref = reference(onchain_sigma, last, now)
    step = ref * bounds.max_change_bps // BPS
    low = max(bounds.floor, ref - step)
    high = min(bounds.ceiling, ref + step)
    if low > high:  # the reference is outside the floor/ceiling by more than one step
        return None
    return min(max(sigma, low), high)
