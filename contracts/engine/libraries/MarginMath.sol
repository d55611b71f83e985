// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title MarginMath
/// @notice Pure fixed-point margin math of the engine, mirrored exactly by `solvent/model/margin.py`.
/// Every rounding goes against the account: collateral value and profits down; requirements,
/// losses, fees and penalties up. Signed values round toward minus infinity when they are the
/// account's gain (PnL) and toward plus infinity when they are its cost (open notional).
library MarginMath {
    uint256 internal constant WAD = 1e18;
    /// @dev WAD per quote unit: the quote token has 6 decimals.
    uint256 internal constant WAD_PER_QUOTE = 1e12;
    /// @dev A WAD rate applied to a WAD amount, expressed in quote units.
    uint256 internal constant WAD_TIMES_WAD_PER_QUOTE = 1e30;

    function abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }

    function positivePart(int256 x) internal pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }

    function negativePart(int256 x) internal pure returns (uint256) {
        return x < 0 ? uint256(-x) : 0;
    }

    /// @notice floor(x * y / d), as `Math.mulDiv`, whose 512-bit product the margin math's values
    /// never need: the 256-bit division is taken (in assembly) whenever x * y fits and d is not
    /// zero, and a margin pass runs dozens; anything else goes to `Math.mulDiv` (which reverts for
    /// d = 0 or a result beyond 256 bits).
    function mulDivDown(uint256 x, uint256 y, uint256 d) internal pure returns (uint256 z) {
        bool fast;
        assembly ("memory-safe") {
            let product := mul(x, y)
            fast := and(gt(d, 0), or(iszero(x), eq(div(product, x), y)))
            z := div(product, d)
        }
        if (!fast) z = Math.mulDiv(x, y, d);
    }

    /// @notice ceil(x * y / d), as `Math.mulDiv` rounding up (see `mulDivDown`).
    function mulDivUp(uint256 x, uint256 y, uint256 d) internal pure returns (uint256 z) {
        bool fast;
        assembly ("memory-safe") {
            let product := mul(x, y)
            fast := and(gt(d, 0), or(iszero(x), eq(div(product, x), y)))
            // No overflow: with d = 1 there is no remainder, with d >= 2 the quotient is below 2^255.
            z := add(div(product, d), gt(mod(product, d), 0))
        }
        if (!fast) z = Math.mulDiv(x, y, d, Math.Rounding.Ceil);
    }

    /// @notice floor(x * y / d) for a signed x (toward minus infinity).
    function mulDivFloor(int256 x, uint256 y, uint256 d) internal pure returns (int256) {
        if (x >= 0) return int256(mulDivDown(uint256(x), y, d));
        return -int256(mulDivUp(uint256(-x), y, d));
    }

    /// @notice ceil(x * y / d) for a signed x (toward plus infinity).
    function mulDivCeil(int256 x, uint256 y, uint256 d) internal pure returns (int256) {
        if (x >= 0) return int256(mulDivUp(uint256(x), y, d));
        return -int256(mulDivDown(uint256(-x), y, d));
    }

    /// @notice floor(x / d) for a signed x and d > 0 (toward minus infinity).
    function floorDiv(int256 x, int256 d) internal pure returns (int256 q) {
        q = x / d;
        // A non-zero remainder means d != 1 and d != -1 (checked above for the one overflow of
        // `x / d`): |q| < |x|, so q - 1 cannot overflow.
        unchecked {
            if (x % d < 0) --q;
        }
    }

    /// @notice ceil(x / d) for a signed x and d > 0 (toward plus infinity).
    function ceilDiv(int256 x, int256 d) internal pure returns (int256 q) {
        q = x / d;
        // As in `floorDiv`: a non-zero remainder means |q| < |x|, so q + 1 cannot overflow.
        unchecked {
            if (x % d > 0) ++q;
        }
    }

    /// @notice A WAD amount the account receives, in quote units (toward minus infinity).
    function toQuoteFloor(int256 wad) internal pure returns (int256) {
        return mulDivFloor(wad, 1, WAD_PER_QUOTE);
    }

    /// @notice Maintenance and initial margin ratios of a market (WAD), scaled by volatility.
    /// `mmr = max(baseMmr, volFactor * min(sigma, sigmaCap))`, `imr = mmr * imScale`, both up.
    function marginRatios(
        uint256 baseMmr,
        uint256 volFactor,
        uint256 sigma,
        uint256 sigmaCap,
        uint256 imScale
    ) internal pure returns (uint256 mmr, uint256 imr) {
        uint256 volMmr = mulDivUp(volFactor, Math.min(sigma, sigmaCap), WAD);
        mmr = Math.max(baseMmr, volMmr);
        imr = mulDivUp(mmr, imScale, WAD);
    }

    /// @notice Notional |size| * price (WAD, up).
    function notional(int256 size, uint256 price) internal pure returns (uint256) {
        return mulDivUp(abs(size), price, WAD);
    }

    /// @notice Unrealized PnL size * price - openNotional (WAD, toward minus infinity).
    function unrealizedPnl(int256 size, int256 openNotional, uint256 price) internal pure returns (int256) {
        return mulDivFloor(size, price, WAD) - openNotional;
    }

    /// @notice Collateral value `amount * price / unit * weight` (WAD, down at each step).
    function collateralValue(uint256 amount, uint256 price, uint256 unit, uint256 weight)
        internal
        pure
        returns (uint256)
    {
        return mulDivDown(mulDivDown(amount, price, unit), weight, WAD);
    }

    /// @notice A position after a fill of `sizeDelta` at `price`. Increases add the fill's cost to
    /// the open notional (up); reductions realize PnL pro rata on the open notional; a flip closes
    /// the whole position and opens the rest on the other side.
    /// @return newOpenNotional The open notional after the fill (WAD, signed).
    /// @return realizedPnl The PnL realized by the fill (WAD, signed, against the account).
    function applyFill(int256 size, int256 openNotional, int256 sizeDelta, uint256 price)
        internal
        pure
        returns (int256 newOpenNotional, int256 realizedPnl)
    {
        if (size == 0 || (size > 0) == (sizeDelta > 0)) {
            return (openNotional + mulDivCeil(sizeDelta, price, WAD), 0);
        }
        uint256 closed = abs(sizeDelta);
        uint256 held = abs(size);
        if (closed <= held) {
            int256 closedNotional = mulDivCeil(openNotional, closed, held);
            realizedPnl = mulDivFloor(-sizeDelta, price, WAD) - closedNotional;
            return (openNotional - closedNotional, realizedPnl);
        }
        realizedPnl = mulDivFloor(size, price, WAD) - openNotional;
        newOpenNotional = mulDivCeil(size + sizeDelta, price, WAD);
    }

    /// @notice Trading fee in quote units: `notional * feeRate`, up.
    function fee(uint256 notionalWad, uint256 rate) internal pure returns (uint256) {
        return mulDivUp(notionalWad, rate, WAD_TIMES_WAD_PER_QUOTE);
    }

    /// @notice Health = equity / requirement (WAD, down); maximal without requirement and debt,
    /// zero for non-positive equity that backs a requirement or a debt.
    function health(int256 equity, uint256 requirement, bool hasDebt) internal pure returns (uint256) {
        if (equity <= 0) {
            return (equity == 0 && requirement == 0 && !hasDebt) ? type(uint256).max : 0;
        }
        if (requirement == 0) return type(uint256).max;
        return mulDivDown(uint256(equity), WAD, requirement);
    }

    /// @notice Smallest fraction f (WAD, up) of every position to close so that maintenance
    /// health returns to `targetHealth` after a penalty `penaltyRate * f * notional`, when `fixed`
    /// of the requirement R (the per-position minimum margins) does not shrink with f:
    /// `f = (T*R - E) / (T*(R - fixed) - p*N)`. Returns WAD (close everything) when no f < 1 gets
    /// there.
    function liquidationFraction(
        int256 equity,
        uint256 requirement,
        uint256 notionalWad,
        uint256 fixedRequirement,
        uint256 penaltyRate,
        uint256 targetHealth
    ) internal pure returns (uint256) {
        uint256 targetRequirement = mulDivUp(targetHealth, requirement, WAD);
        // Down, where the target requirement rounds up: the relief is never overstated, so the
        // fraction never falls short of restoring the target (sub-wei, but against the account).
        uint256 variableTarget = targetHealth * (requirement - fixedRequirement) / WAD;
        uint256 maxPenalty = mulDivUp(penaltyRate, notionalWad, WAD);
        if (variableTarget <= maxPenalty || equity >= int256(targetRequirement)) return WAD;
        uint256 shortfall = uint256(int256(targetRequirement) - equity);
        uint256 relief = variableTarget - maxPenalty;
        if (shortfall >= relief) return WAD;
        return mulDivUp(shortfall, WAD, relief);
    }

    /// @notice Liquidation penalty in quote units: `penaltyRate * closedNotional + fee * debt` (each
    /// part up), at least `floor` (the keeper tip) once anything is closed or any debt recovered.
    function penalty(
        uint256 closedNotionalWad,
        uint256 penaltyRate,
        uint256 debt,
        uint256 liquidationFee,
        uint256 floor
    ) internal pure returns (uint256 charged) {
        if (closedNotionalWad == 0 && debt == 0) return 0;
        charged = mulDivUp(closedNotionalWad, penaltyRate, WAD_TIMES_WAD_PER_QUOTE)
            + mulDivUp(debt, liquidationFee, WAD);
        if (charged < floor) charged = floor;
    }

    /// @notice Keeper reward `min(tip + chip * (debt + penalty), penalty)` in quote units (chip
    /// part down).
    function keeperReward(uint256 debt, uint256 penaltyQuote, uint256 tip, uint256 chip)
        internal
        pure
        returns (uint256)
    {
        return Math.min(tip + mulDivDown(chip, debt + penaltyQuote, WAD), penaltyQuote);
    }
}
