// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title OrderMath
/// @notice Fill price with a skew premium and maker/taker fees (docs/orders.md, mirrored exactly by
/// solvent/model/orders.py). Every rounding goes against the trader: a buy's fill price up, a
/// sell's down, fees up.
library OrderMath {
    uint256 internal constant WAD = 1e18;
    /// @dev A WAD rate on a WAD notional, in quote units (6 decimals): 1e18 * 1e12.
    uint256 internal constant WAD_TIMES_WAD_PER_QUOTE = 1e30;
    uint256 internal constant BPS = 10_000;

    function abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }

    /// @notice `oracle * (1 + (skew + sizeDelta/2) / skewScale)`, evaluated as
    /// `oracle * (2 skewScale + 2 skew + sizeDelta) / (2 skewScale)` in one rounding (up for a buy,
    /// down for a sell); `ok` is false when the premium takes the price to zero or below. A zero
    /// skew scale means no premium.
    function fillPrice(uint256 oraclePrice, int256 skew, uint256 skewScale, int256 sizeDelta)
        internal
        pure
        returns (bool ok, uint256 price)
    {
        if (skewScale == 0) return (true, oraclePrice);
        int256 numerator = 2 * int256(skewScale) + 2 * skew + sizeDelta;
        if (numerator <= 0) return (false, 0);
        price = Math.mulDiv(
            oraclePrice,
            uint256(numerator),
            2 * skewScale,
            sizeDelta > 0 ? Math.Rounding.Ceil : Math.Rounding.Floor
        );
        ok = price != 0;
    }

    /// @notice The sizes of a fill that reduce |skew| (maker) and extend it (taker): the maker part
    /// is `min(|sizeDelta|, |skew|)` when the fill goes against the skew, else 0.
    function makerTakerSizes(int256 skew, int256 sizeDelta)
        internal
        pure
        returns (uint256 maker, uint256 taker)
    {
        uint256 size = abs(sizeDelta);
        if ((skew > 0 && sizeDelta < 0) || (skew < 0 && sizeDelta > 0)) maker = Math.min(size, abs(skew));
        taker = size - maker;
    }

    /// @notice Trade fee in quote units: each part's notional at the fill price (up) times its
    /// rate (up), so a crossing fill pays the maker rate on the part that closes the skew and the
    /// taker rate on the part that opens it on the other side.
    function tradeFee(
        int256 skew,
        int256 sizeDelta,
        uint256 price,
        uint256 makerFeeRate,
        uint256 takerFeeRate
    ) internal pure returns (uint256) {
        (uint256 maker, uint256 taker) = makerTakerSizes(skew, sizeDelta);
        return fee(notional(maker, price), makerFeeRate) + fee(notional(taker, price), takerFeeRate);
    }

    /// @notice True when `|a - b| * 10_000 <= toleranceBps * a` (false for `a == 0`).
    function within(uint256 a, uint256 b, uint256 toleranceBps) internal pure returns (bool) {
        if (a == 0) return false;
        uint256 gap = a > b ? a - b : b - a;
        return gap * BPS <= toleranceBps * a;
    }

    /// @notice `size * price` (WAD, up).
    function notional(uint256 size, uint256 price) internal pure returns (uint256) {
        return Math.mulDiv(size, price, WAD, Math.Rounding.Ceil);
    }

    /// @notice `notional * rate` in quote units (up).
    function fee(uint256 notionalWad, uint256 rate) internal pure returns (uint256) {
        return Math.mulDiv(notionalWad, rate, WAD_TIMES_WAD_PER_QUOTE, Math.Rounding.Ceil);
    }

    /// @notice The pre-check's margin for a risk-increasing order (WAD USD): the order's notional at
    /// the reference price (up) times `commitMarginBps` (up), plus its taker fee and the settlement
    /// fee, both as WAD USD.
    function commitMargin(
        uint256 size,
        uint256 referencePrice,
        uint256 commitMarginBps,
        uint256 takerFeeRate,
        uint256 settlementFee
    ) internal pure returns (uint256) {
        uint256 orderNotional = notional(size, referencePrice);
        return Math.mulDiv(orderNotional, commitMarginBps, BPS, Math.Rounding.Ceil)
            + Math.mulDiv(orderNotional, takerFeeRate, WAD, Math.Rounding.Ceil) + settlementFee * 1e12;
    }
}
