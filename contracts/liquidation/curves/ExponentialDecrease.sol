// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPriceCurve} from "../../../interfaces/IPriceCurve.sol";
import {WadPow} from "../libraries/WadPow.sol";

/// @title ExponentialDecrease
/// @notice Price multiplied by `cut` every second: `price = startPrice * cut^elapsed / WAD`,
/// with `cut^elapsed` from `WadPow.pow` (floored at every step), and the product floored.
contract ExponentialDecrease is IPriceCurve {
    error InvalidCut(uint256 cut);

    /// @notice Per-second price multiplier as a WAD, in (0, 1).
    uint256 public immutable cut;

    constructor(uint256 cut_) {
        if (cut_ == 0 || cut_ >= WadPow.WAD) revert InvalidCut(cut_);
        cut = cut_;
    }

    /// @inheritdoc IPriceCurve
    function price(uint256 startPrice, uint256 elapsed) external view returns (uint256) {
        return startPrice * WadPow.pow(cut, elapsed) / WadPow.WAD;
    }
}
