// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPriceCurve} from "../../../interfaces/IPriceCurve.sol";
import {WadPow} from "../libraries/WadPow.sol";

/// @title StairstepExponentialDecrease
/// @notice Price multiplied by `cut` once every `step` seconds:
/// `price = startPrice * cut^(elapsed / step) / WAD` (integer division of time, floored product).
/// Keepers see a price that holds for `step` seconds, which tames gas wars between them.
contract StairstepExponentialDecrease is IPriceCurve {
    error InvalidCut(uint256 cut);
    error InvalidStep(uint256 step);

    /// @notice Multiplier applied at every step, as a WAD in (0, 1).
    uint256 public immutable cut;
    /// @notice Seconds between two price drops.
    uint256 public immutable step;

    constructor(uint256 cut_, uint256 step_) {
        if (cut_ == 0 || cut_ >= WadPow.WAD) revert InvalidCut(cut_);
        if (step_ == 0) revert InvalidStep(step_);
        cut = cut_;
        step = step_;
    }

    /// @inheritdoc IPriceCurve
    function price(uint256 startPrice, uint256 elapsed) external view returns (uint256) {
        return startPrice * WadPow.pow(cut, elapsed / step) / WadPow.WAD;
    }
}
