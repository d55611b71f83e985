// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPriceCurve
/// @notice A Dutch-auction price decay curve (Maker abaci-style): one tiny contract per shape.
interface IPriceCurve {
    /// @notice Price `elapsed` seconds after an auction started at `startPrice` (same units).
    /// Non-increasing in `elapsed`.
    function price(uint256 startPrice, uint256 elapsed) external view returns (uint256);
}
