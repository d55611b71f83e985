// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ILiquidator
/// @notice What the margin engine calls to hand an account's seized collateral to auction.
interface ILiquidator {
    /// @notice Starts one auction per token for an account in deficit. The engine has seized
    /// `lots[i]` of `tokens[i]` and keeps them in custody (no transfer to the liquidator): a take
    /// or a cancel has the engine pay them out (`IAuctionSettlement.settleAuction`), and an
    /// ended auction's leftover simply stays in the engine. The liquidator splits `debt`
    /// (quote owed to the LP pool) and `penalty` (unpaid liquidation penalty, owed to the
    /// insurance fund) across the lots in proportion to their oracle value, and pays `keeper`
    /// its reward `min(tip + chip * (debt + penalty), penalty)` once.
    /// `prices[i]` is `IOracleAdapter.price(tokens[i])` as the engine read it in this same
    /// transaction (WAD USD per whole token): passing it saves the liquidator a second oracle
    /// read per lot (~7.7k gas each); only the engine may call, so the values are trusted.
    /// @dev Never refuses because of the caps on debt under auction, the auction breaker or a
    /// collateral the liquidator does not know: a lot that does not fit waits in the engine's
    /// custody in the liquidator's queue (or starts for the part that fits) and anyone starts it
    /// later (`startQueued`); its debt stays in the engine's debt under auction. Reverts only for
    /// the caller and the shape of the call. Amounts are in quote-token units.
    /// @return firstAuctionId The id of the first auction started (each lot's id is in its
    /// `AuctionStarted` event; ids are unique but not consecutive: auction slots are recycled);
    /// 0 when every lot waits in the queue.
    /// @return keeperReward The reward the insurance fund paid `keeper` (quote units; below the
    /// reward due when the fund runs short, 0 when none was due): the engine reports it in
    /// `Liquidated` without reading the keeper's balance.
    function startAuctions(
        uint256 accountId,
        address[] calldata tokens,
        uint256[] calldata lots,
        uint256[] calldata prices,
        uint256 debt,
        uint256 penalty,
        address keeper
    ) external returns (uint256 firstAuctionId, uint256 keeperReward);
}
