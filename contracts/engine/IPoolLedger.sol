// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPoolLedger
/// @notice What the LP pool asks of the engine, which holds the pool's quote.
interface IPoolLedger {
    /// @notice Pool value in quote units: poolCash + accountDebt + debtInAuction - traders' unrealized
    /// PnL (rounded up), clamped at zero.
    function poolAssets() external view returns (uint256);

    /// @notice Quote the pool may pay out now without leaving open trader profits uncovered.
    function poolWithdrawable() external view returns (uint256);

    /// @notice Credits `amount` quote, already transferred to the engine by the pool, to poolCash.
    function creditPool(uint256 amount) external;

    /// @notice Pays `amount` of poolCash to `receiver`.
    function payFromPool(address receiver, uint256 amount) external;
}

/// @title ISocializedLossSink
/// @notice The pool's hook that publishes a loss written off its receivables.
interface ISocializedLossSink {
    /// @notice Emits the loss: `shortfall` of account `accountId`'s debt went unrecovered, the
    /// fund covered `coveredByInsurance`, and `socialized` leaves the pool's assets. Engine only.
    function recordSocializedLoss(
        uint256 accountId,
        uint256 shortfall,
        uint256 coveredByInsurance,
        uint256 socialized
    ) external;
}
