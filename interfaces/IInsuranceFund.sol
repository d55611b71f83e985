// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IInsuranceFund
/// @notice The first loss absorber, called by the engine and the liquidator only.
interface IInsuranceFund {
    /// @notice Pays up to `amount` quote to the caller to cover a shortfall; returns what it paid
    /// (less than `amount` only when the fund is exhausted).
    function coverShortfall(uint256 amount) external returns (uint256 covered);

    /// @notice Pays a keeper's liquidation reward, fronted by the fund and recovered from the
    /// penalty; returns what it paid (capped by the fund's balance).
    function payKeeperReward(address keeper, uint256 amount) external returns (uint256 paid);
}
