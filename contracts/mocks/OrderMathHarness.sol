// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {OrderMath} from "../orders/OrderMath.sol";

/// @title OrderMathHarness
/// @notice Exposes OrderMath for the tests that compare it with solvent/model/orders.py.
contract OrderMathHarness {
    function fillPrice(uint256 oraclePrice, int256 skew, uint256 skewScale, int256 sizeDelta)
        external
        pure
        returns (bool, uint256)
    {
        return OrderMath.fillPrice(oraclePrice, skew, skewScale, sizeDelta);
    }

    function tradeFee(
        int256 skew,
        int256 sizeDelta,
        uint256 price,
        uint256 makerFeeRate,
        uint256 takerFeeRate
    ) external pure returns (uint256) {
        return OrderMath.tradeFee(skew, sizeDelta, price, makerFeeRate, takerFeeRate);
    }

    function makerTakerSizes(int256 skew, int256 sizeDelta) external pure returns (uint256, uint256) {
        return OrderMath.makerTakerSizes(skew, sizeDelta);
    }

    function commitMargin(
        uint256 size,
        uint256 referencePrice,
        uint256 commitMarginBps,
        uint256 takerFeeRate,
        uint256 settlementFee
    ) external pure returns (uint256) {
        return OrderMath.commitMargin(size, referencePrice, commitMarginBps, takerFeeRate, settlementFee);
    }
}
