// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAuctionTaker
/// @notice Callback for capital-free takes: the receiver gets the collateral first and may sell it;
/// when the callback returns, the taker (`msg.sender` of `take`, usually the receiver itself) must
/// have approved `owe` quote to the liquidator, which pulls it from the taker.
interface IAuctionTaker {
    function onAuctionTake(address taker, uint256 owe, uint256 amount, bytes calldata data) external;
}
