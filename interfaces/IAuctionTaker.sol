// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAuctionTaker
/// @notice Callback for capital-free takes: the receiver gets the collateral first, may sell it,
/// and must have approved `owe` quote to the liquidator when the callback returns.
interface IAuctionTaker {
    function onAuctionTake(address taker, uint256 owe, uint256 amount, bytes calldata data) external;
}
