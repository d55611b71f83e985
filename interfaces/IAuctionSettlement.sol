// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAuctionSettlement
/// @notice Hooks the margin engine exposes to its liquidator (and only to it). The engine is the
/// single ledger of quote: the LP pool's cash, debts of accounts, debt under auction and fees
/// owed to the insurance fund all live there. A take or a cancel settles in one `settleAuction`
/// call; `releaseCollateral` only serves a take whose receiver must hold the collateral before
/// its callback.
interface IAuctionSettlement {
    /// @notice What one take or cancel settles (quote units for debt and penalty, token units for
    /// collateral).
    /// @param accountId The auctioned account.
    /// @param token The auction's collateral token.
    /// @param receiver Gets `released` units of `token` out of the engine's custody.
    /// @param released Collateral paid out to `receiver` (0 when `releaseCollateral` already did).
    /// @param debtRepaid Quote that repays debt under auction (credited to the LP pool).
    /// @param penaltyPaid Quote that pays the penalty (credited to the insurance fund's income).
    /// @param badDebt Debt part left when the lot is exhausted or the auction is cancelled: removed
    /// from debt under auction and run through the loss waterfall (fund first, then the LP pool).
    /// @param returned Leftover lot credited back to the account (only with `ended`).
    /// @param ended The auction is over; when the account's last auction ends it may add risk again.
    struct Settlement {
        uint256 accountId;
        address token;
        address receiver;
        uint256 released;
        uint256 debtRepaid;
        uint256 penaltyPaid;
        uint256 badDebt;
        uint256 returned;
        bool ended;
    }

    /// @notice Settles a take or a cancel. `debtRepaid + penaltyPaid` quote is already in the
    /// engine (the liquidator pulled it from the taker; the engine trusts it). Reverts when
    /// `released + returned` exceeds what the engine holds for auctions of `token` (the
    /// liquidator can never move collateral of accounts that are not under auction) or
    /// `debtRepaid + badDebt` exceeds the debt under auction.
    function settleAuction(Settlement calldata settlement) external;

    /// @notice Pays `amount` of seized `token` out of the engine's custody to `to` ahead of the
    /// settlement, for a taker's callback (capital-free take). Reverts beyond the custody of `token`.
    function releaseCollateral(address token, address to, uint256 amount) external;
}
