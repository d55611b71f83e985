"""Reference model of the OracleAdapter's math (contracts/oracle/OracleMath.sol), exact integers.

Formulas and rounding follow docs/oracle.md: prices are WAD USD per whole token; the volatility
estimate (variance per second, WAD) rounds up at every step so the engine's margins never come out
lower than the exact value.
"""

from __future__ import annotations

from dataclasses import dataclass

from solvent.model.fixed_point import BPS, WAD, isqrt, mul_div, mul_div_up

SECONDS_PER_YEAR = 365 * 24 * 3600
MAX_RETURN_WAD = 100 * WAD
MAX_DECIMALS = 18
UINT256_MAX = 2**256 - 1


def ceil_div(x: int, y: int) -> int:
    """ceil(x / y) for x >= 0, y > 0 (OpenZeppelin Math.ceilDiv)."""
    if x < 0 or y <= 0:
        raise ValueError("ceil_div expects x >= 0 and y > 0")
    return -(-x // y)


def ceil_sqrt(x: int) -> int:
    """ceil(sqrt(x)) (OpenZeppelin Math.sqrt with Rounding.Ceil)."""
    root = isqrt(x)
    return root if root * root == x else root + 1


def normalize(answer: int, feed_decimals: int) -> int:
    """Feed answer to WAD: answer * 10^(18 - decimals), saturating at 2^256 - 1."""
    if answer <= 0 or not 0 <= feed_decimals <= MAX_DECIMALS:
        raise ValueError("normalize expects a positive answer and 0..18 feed decimals")
    return min(answer * 10 ** (MAX_DECIMALS - feed_decimals), UINT256_MAX)


def value(amount: int, price_wad: int, token_decimals: int, round_up: bool) -> int:
    """USD value (WAD) of `amount` token units: mulDiv(amount, price, 10^tokenDecimals)."""
    return mul_div(amount, price_wad, 10**token_decimals, round_up)


def within_deviation(a: int, b: int, max_bps: int) -> bool:
    """|a - b| * 10_000 <= max_bps * min(a, b)."""
    return abs(a - b) * BPS <= max_bps * min(a, b)


def moved_beyond(anchor: int, price: int, threshold_bps: int) -> bool:
    """The breaker's test: |price - anchor| * 10_000 > threshold_bps * anchor."""
    return abs(price - anchor) * BPS > threshold_bps * anchor


def return_wad(previous_price: int, price: int) -> int:
    """|r| = ceil(|p - pPrev| * 1e18 / pPrev), capped at MAX_RETURN_WAD."""
    return min(mul_div_up(abs(price - previous_price), WAD, previous_price), MAX_RETURN_WAD)


def variance_sample(previous_price: int, price: int, dt: int) -> int:
    """Variance per second (WAD) of one sample: ceil(ceil(r * r / 1e18) / dt)."""
    r = return_wad(previous_price, price)
    return ceil_div(mul_div_up(r, r, WAD), dt)


def ewma(variance: int, sample: int, weight: int) -> int:
    """ceil((weight * variance + (1e18 - weight) * sample) / 1e18), weight the old estimate's."""
    return ceil_div(weight * variance + (WAD - weight) * sample, WAD)


def pow_down(x: int, n: int) -> int:
    """x^n for a WAD x <= 1e18 by squaring, each product rounded down (OracleMath.powDown)."""
    result = WAD
    while n != 0 and result != 0:
        if n & 1:
            result = result * x // WAD
        n >>= 1
        if n != 0:
            x = x * x // WAD
    return result


def ln_inverse(x: int) -> int:
    """ln(1e18 / x), WAD, as 2 * atanh((1 - x) / (1 + x)) summed until a term rounds to zero."""
    z = (WAD - x) * WAD // (WAD + x)
    z_squared = z * z // WAD
    total, k = 0, 1
    while z != 0:
        total += z // k
        z = z * z_squared // WAD
        k += 2
    return 2 * total


def exp_neg(y: int) -> int:
    """exp(-y), WAD, for 0 <= y < 1e18: the Taylor series until a term rounds to zero."""
    total = term = WAD
    k = 1
    while True:
        term = term * y // (k * WAD)
        if term == 0:
            return total
        total = total - term if k % 2 == 1 else total + term
        k += 1


def decay(lam: int, dt: int, interval: int) -> int:
    """The old estimate's share after dt seconds: lam^(dt / interval), WAD (OracleMath.decay)."""
    weight = pow_down(lam, dt // interval)
    rest = dt % interval
    if rest != 0 and weight != 0:
        weight = weight * exp_neg(ln_inverse(lam) * rest // interval) // WAD
    return weight


def sample_cap(variance: int, max_rise: int) -> int:
    """The largest variance one sample may leave: sigma(variance) + max_rise, back to variance."""
    return variance_from_sigma(annualized_sigma(variance) + max_rise)


def ramped_sigma(start: int, target: int, rate_per_hour: int, elapsed: int) -> int:
    """Margin sigma `elapsed` s into a ramp: min(target, start + ceil(rate * elapsed / 3600))."""
    if target <= start:
        return target
    return min(target, start + ceil_div(rate_per_hour * elapsed, 3600))


def annualized_sigma(variance_per_second: int) -> int:
    """ceil(sqrt(variance * SECONDS_PER_YEAR * 1e18)): annualized volatility, WAD."""
    return ceil_sqrt(variance_per_second * SECONDS_PER_YEAR * WAD)


def variance_from_sigma(sigma_wad: int) -> int:
    """ceil(sigma^2 / (SECONDS_PER_YEAR * 1e18)): the variance a governance seed stores."""
    return ceil_div(sigma_wad * sigma_wad, SECONDS_PER_YEAR * WAD)


@dataclass
class VolatilityState:
    """One asset's volatility state, as stored by the adapter."""

    interval: int
    lam: int
    stale_after: int
    max_sample_rise: int
    max_rise_per_hour: int
    variance: int = 0
    has_variance: bool = False
    last_sample_price: int = 0
    last_sample_time: int = 0
    # The margin sigma's ramp: from `ramp_from` at `ramp_since` toward `ramp_target`.
    ramp_from: int = 0
    ramp_target: int = 0
    ramp_since: int = 0
    # The risk steward's live forecast (OracleAdapter.setForecast): counts in the ramp's target
    # until `forecast_expiry` (0: none).
    forecast_sigma: int = 0
    forecast_expiry: int = 0

    def seed(self, sigma_wad: int, now: int) -> None:
        self.variance = variance_from_sigma(sigma_wad)
        self.has_variance = True
        seeded = annualized_sigma(self.variance)
        self.ramp_from, self.ramp_target, self.ramp_since = seeded, seeded, now

    def margin_sigma(self, now: int) -> int:
        """The sigma margins use at `now` (the adapter's `sigma`)."""
        elapsed = now - self.ramp_since
        return ramped_sigma(self.ramp_from, self.ramp_target, self.max_rise_per_hour, elapsed)

    def poke(self, price_wad: int, now: int) -> bool:
        """Applies a poke at `now`; returns whether the price was recorded (interval passed)."""
        if self.forecast_expiry != 0 and self.forecast_expiry <= now:
            self.set_forecast(0, 0, now)  # an expired forecast stops counting at the next poke
        if self.last_sample_time != 0:
            dt = now - self.last_sample_time
            if dt < self.interval:
                return False
            sample = variance_sample(self.last_sample_price, price_wad, dt)
            updated = sample
            if self.has_variance:
                updated = ewma(self.variance, sample, decay(self.lam, dt, self.interval))
                if dt > self.stale_after:
                    updated = max(updated, self.variance)
                updated = min(updated, sample_cap(self.variance, self.max_sample_rise))
            self.variance = updated
            self.has_variance = True
            target = annualized_sigma(updated)
            if self.forecast_expiry != 0:  # live
                target = max(target, self.forecast_sigma)
            self._ramp(target, now)
        self.last_sample_price = price_wad
        self.last_sample_time = now
        return True

    def set_forecast(self, sigma_wad: int, expiry: int, now: int) -> None:
        """OracleAdapter.setForecast / clearForecast (0, 0) / expireForecast (0, 0): stores the
        forecast and ramps toward max(on-chain estimate, forecast)."""
        self.forecast_sigma, self.forecast_expiry = sigma_wad, expiry
        self._ramp(max(annualized_sigma(self.variance), sigma_wad), now)

    def _ramp(self, target: int, now: int) -> None:
        """OracleAdapter._rampMarginSigma: from today's margin sigma (or the target when lower)."""
        current = self.margin_sigma(now)
        self.ramp_target = target
        self.ramp_from = min(current, target)
        self.ramp_since = now

    def sigma(self) -> int:
        return annualized_sigma(self.variance)

    def stale(self, now: int) -> bool:
        return self.last_sample_time == 0 or now - self.last_sample_time > self.stale_after
