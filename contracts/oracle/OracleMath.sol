// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title OracleMath
/// @notice Fixed-point formulas of the oracle adapter (docs/oracle.md, mirrored exactly by
/// solvent/model/oracle_math.py). Every rounding that feeds the volatility estimate rounds up: a higher
/// volatility means higher margins, i.e. against the account and for the protocol.
library OracleMath {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant SECONDS_PER_YEAR = 365 days;
    /// @dev Largest one-sample return taken into the estimate (100 = +10,000%). Beyond it the margin
    /// is absurdly high anyway; the cap keeps every product far inside 256 bits.
    uint256 internal constant MAX_RETURN_WAD = 100 * WAD;

    /// @notice `answer * 10^(18 - feedDecimals)`, saturating at type(uint256).max so that an absurd
    /// answer fails the max-price check instead of overflowing. Requires `feedDecimals <= 18`.
    function normalize(uint256 answer, uint8 feedDecimals) internal pure returns (uint256) {
        return Math.saturatingMul(answer, 10 ** (18 - feedDecimals));
    }

    /// @notice True when `|a - b| * 10_000 <= maxBps * min(a, b)`: the gap is measured against the
    /// smaller price, which makes the check symmetric and the stricter of the two readings.
    function withinDeviation(uint256 a, uint256 b, uint256 maxBps) internal pure returns (bool) {
        (uint256 low, uint256 high) = a < b ? (a, b) : (b, a);
        return (high - low) * BPS <= maxBps * low;
    }

    /// @notice True when `|price - anchor| * 10_000 > thresholdBps * anchor`.
    function movedBeyond(uint256 anchor, uint256 price, uint256 thresholdBps) internal pure returns (bool) {
        uint256 move = price > anchor ? price - anchor : anchor - price;
        return move * BPS > thresholdBps * anchor;
    }

    /// @notice Variance per second (WAD) of one sample: `r^2 / dt` with `r = |p - pPrev| / pPrev`,
    /// `r` capped at MAX_RETURN_WAD; each step rounds up.
    function varianceSample(uint256 previousPrice, uint256 price, uint256 dt)
        internal
        pure
        returns (uint256)
    {
        uint256 move = price > previousPrice ? price - previousPrice : previousPrice - price;
        uint256 r = Math.min(Math.mulDiv(move, WAD, previousPrice, Math.Rounding.Ceil), MAX_RETURN_WAD);
        return Math.ceilDiv(Math.mulDiv(r, r, WAD, Math.Rounding.Ceil), dt);
    }

    /// @notice EWMA step in WAD: `ceil((weight * variance + (1e18 - weight) * sample) / 1e18)`, with
    /// `weight` the old estimate's share (`decay(lambda, dt, interval)`).
    function ewma(uint256 variance, uint256 sample, uint256 weight) internal pure returns (uint256) {
        return Math.ceilDiv(weight * variance + (WAD - weight) * sample, WAD);
    }

    /// @notice The old estimate's share after `dt` seconds, `lambda^(dt / interval)` (WAD), evaluated
    /// exactly as `lambda^q * exp(-(r / interval) * ln(1 / lambda))` with `dt = q * interval + r`:
    /// the whole powers by squaring, the fraction by the series of `ln` and `exp`, every product
    /// and quotient rounded down. A sample one interval apart weighs exactly `1 - lambda`.
    /// Requires `0 < lambda < 1e18` and `interval > 0`.
    function decay(uint256 lambda, uint256 dt, uint256 interval) internal pure returns (uint256 weight) {
        weight = powDown(lambda, dt / interval);
        uint256 rest = dt % interval;
        if (rest != 0 && weight != 0) {
            weight = weight * expNeg(lnInverse(lambda) * rest / interval) / WAD;
        }
    }

    /// @notice `x^n` for a WAD `x <= 1e18`, by squaring, each product rounded down.
    function powDown(uint256 x, uint256 n) internal pure returns (uint256 result) {
        result = WAD;
        // Flooring every square and product is the specified rounding (solvent.model.oracle_math
        // mirrors it), as in WadPow.pow.
        while (n != 0 && result != 0) {
            // slither-disable-next-line divide-before-multiply
            if (n & 1 != 0) result = result * x / WAD;
            n >>= 1;
            // slither-disable-next-line divide-before-multiply
            if (n != 0) x = x * x / WAD;
        }
    }

    /// @notice `ln(1e18 / x)` (WAD) for `0 < x <= 1e18`, as `2 * atanh(z)`, `z = (1 - x) / (1 + x)`:
    /// `2 * sum(z^(2k+1) / (2k+1))` until a term rounds to zero (z <= 1/3 for x >= 0.5).
    function lnInverse(uint256 x) internal pure returns (uint256) {
        // Each power of z is floored, the specified rounding of the series (mirrored in Python).
        uint256 z = (WAD - x) * WAD / (WAD + x);
        // slither-disable-next-line divide-before-multiply
        uint256 zSquared = z * z / WAD;
        uint256 sum = 0;
        for (uint256 k = 1; z != 0; k += 2) {
            sum += z / k;
            // slither-disable-next-line divide-before-multiply
            z = z * zSquared / WAD;
        }
        return 2 * sum;
    }

    /// @notice `exp(-y)` (WAD) for `0 <= y < 1e18`, by its Taylor series until a term rounds to zero
    /// (alternating with shrinking terms, so every partial sum stays in (0, 1e18]).
    function expNeg(uint256 y) internal pure returns (uint256 sum) {
        sum = WAD;
        uint256 term = WAD;
        for (uint256 k = 1;; ++k) {
            term = term * y / (k * WAD);
            if (term == 0) return sum;
            sum = k % 2 == 1 ? sum - term : sum + term;
        }
    }

    /// @notice The largest variance one sample may leave: the variance of the current annualized
    /// sigma plus `maxRise`, `varianceFromSigma(annualizedSigma(variance) + maxRise)`.
    function sampleCap(uint256 variance, uint256 maxRise) internal pure returns (uint256) {
        return varianceFromSigma(annualizedSigma(variance) + maxRise);
    }

    /// @notice The sigma margins use at `elapsed` seconds into a ramp from `from` toward `target`:
    /// `min(target, from + ceil(ratePerHour * elapsed / 3600))`.
    function rampedSigma(uint256 from, uint256 target, uint256 ratePerHour, uint256 elapsed)
        internal
        pure
        returns (uint256)
    {
        if (target <= from) return target;
        return Math.min(target, from + Math.ceilDiv(ratePerHour * elapsed, 1 hours));
    }

    /// @notice Annualized volatility (WAD) of a variance per second (WAD):
    /// `ceil(sqrt(variance * SECONDS_PER_YEAR * 1e18))`.
    function annualizedSigma(uint256 variancePerSecond) internal pure returns (uint256) {
        return Math.sqrt(variancePerSecond * SECONDS_PER_YEAR * WAD, Math.Rounding.Ceil);
    }

    /// @notice Variance per second (WAD) of an annualized sigma (WAD), rounded up so that
    /// `annualizedSigma(varianceFromSigma(s)) >= s`.
    function varianceFromSigma(uint256 sigmaWad) internal pure returns (uint256) {
        return Math.ceilDiv(sigmaWad * sigmaWad, SECONDS_PER_YEAR * WAD);
    }
}
