// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarginMath} from "../engine/libraries/MarginMath.sol";

/// @title MarginMathHarness
/// @notice Exposes MarginMath's multiply-divide helpers to tests (both the 256-bit fast path and
/// the 512-bit fallback). Local chains only.
contract MarginMathHarness {
    function mulDivDown(uint256 x, uint256 y, uint256 d) external pure returns (uint256) {
        return MarginMath.mulDivDown(x, y, d);
    }

    function mulDivUp(uint256 x, uint256 y, uint256 d) external pure returns (uint256) {
        return MarginMath.mulDivUp(x, y, d);
    }

    function mulDivFloor(int256 x, uint256 y, uint256 d) external pure returns (int256) {
        return MarginMath.mulDivFloor(x, y, d);
    }

    function mulDivCeil(int256 x, uint256 y, uint256 d) external pure returns (int256) {
        return MarginMath.mulDivCeil(x, y, d);
    }
}
