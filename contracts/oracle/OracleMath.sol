// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title OracleMath
/// @notice Fixed-point formulas of the oracle adapter (docs/oracle.md, mirrored exactly by
/// solvent/oracle_math.py). Every rounding that feeds the volatility estimate rounds up: a higher
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

    /// @notice EWMA step in WAD: `ceil((lambda * variance + (1e18 - lambda) * sample) / 1e18)`.
    function ewma(uint256 variance, uint256 sample, uint256 lambda) internal pure returns (uint256) {
        return Math.ceilDiv(lambda * variance + (WAD - lambda) * sample, WAD);
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
