// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IPriceCurve} from "../../../interfaces/IPriceCurve.sol";

/// @title LinearDecrease
/// @notice Price falls linearly from the start price to zero over `tau` seconds:
/// `price = startPrice * (tau - elapsed) / tau`, rounded down, and 0 from `tau` on.
/// @dev The liquidator's `cusp > 0` makes an auction resettable before the price reaches 0.
contract LinearDecrease is IPriceCurve {
    error InvalidDuration(uint256 tau);

    /// @notice Seconds from the start price to zero.
    uint256 public immutable tau;

    constructor(uint256 tau_) {
        if (tau_ == 0) revert InvalidDuration(tau_);
        tau = tau_;
    }

    /// @inheritdoc IPriceCurve
    function price(uint256 startPrice, uint256 elapsed) external view returns (uint256) {
        if (elapsed >= tau) return 0;
        return Math.mulDiv(startPrice, tau - elapsed, tau);
    }
}
