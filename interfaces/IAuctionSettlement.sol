// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAuctionSettlement
/// @notice Hooks the margin engine exposes to its liquidator (and only to it). The engine is the
/// single ledger of quote: the LP pool's cash, debts of accounts, debt under auction and fees
/// owed to the insurance fund all live there.
interface IAuctionSettlement {
    /// @notice A take paid `debtRepaid + penaltyPaid` quote, already transferred to the engine.
    /// The engine credits `debtRepaid` to the LP pool (reducing debt under auction) and
    /// `penaltyPaid` to the insurance fund's accrued income.
    function settleAuctionProceeds(uint256 accountId, uint256 debtRepaid, uint256 penaltyPaid) external;

    /// @notice An auction's lot is exhausted and `debtUnrecovered` of its debt part remains: the
    /// engine removes it from debt under auction and runs the loss waterfall (insurance fund
    /// first, the rest socialized on the LP pool with an event).
    function writeOffBadDebt(uint256 accountId, uint256 debtUnrecovered) external;

    /// @notice Pays `amount` of seized `token`, which the engine holds in custody for running
    /// auctions, to `to` (a taker's receiver, or governance's recipient on cancel). Reverts when
    /// `amount` exceeds what the engine holds for auctions of `token`: the liquidator can never
    /// move collateral of accounts that are not under auction.
    function releaseCollateral(address token, address to, uint256 amount) external;

    /// @notice An auction ended (tab paid, lot exhausted, or cancelled by governance).
    /// `returned` units of `token` (its leftover lot, still in the engine's custody) are credited
    /// back to the account; when its last auction ends the account may add risk again.
    function onAuctionEnd(uint256 accountId, address token, uint256 returned) external;
}
