// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IOracleAdapter
/// @notice What the margin engine and the liquidator read from the oracle adapter. Assets are keyed
/// by token address (a perpetual market is keyed by its underlying token, e.g. WETH for ETH-PERP).
interface IOracleAdapter {
    /// @notice Validated USD price of one whole token as a WAD (18 decimals). Uses the secondary
    /// feed when the primary fails a check; reverts with the failing check's error when both fail.
    function price(address asset) external view returns (uint256 priceWad);

    /// @notice USD value (WAD) of `amount` token units (in the token's own decimals), rounded up
    /// when `roundUp` (debts) and down otherwise (collateral).
    function value(address asset, uint256 amount, bool roundUp) external view returns (uint256 valueWad);

    /// @notice False while the L2 sequencer is down or in its grace period, or while `asset`'s
    /// price circuit breaker is tripped: risk-increasing actions on `asset` must wait.
    function riskIncreaseAllowed(address asset) external view returns (bool);

    /// @notice `price(asset)` while `riskIncreaseAllowed(asset)`, 0 otherwise: a risk increase
    /// checks its gate and reads the price its margin check uses in one call.
    function riskIncreasePrice(address asset) external view returns (uint256 priceWad);

    /// @notice True while the L2 sequencer is down or within its grace period after a restart.
    /// Liquidations are then allowed only below the engine's deeper health threshold.
    function sequencerRestricted() external view returns (bool);

    /// @notice Annualized realized volatility of `asset` (WAD, 0.8e18 = 80%), and whether the
    /// estimate is stale (nobody poked it for longer than the configured time). A stale estimate
    /// never decays: it is the last value.
    function volatility(address asset) external view returns (uint256 sigmaWad, bool stale);

    /// @notice The sigma margins use (WAD): it follows `volatility(asset)`'s estimate down at once and
    /// up at most at the asset's `volMaxRisePerHour`, so no single poke can spike margins; no
    /// staleness flag (the engine uses the last estimate either way).
    function sigma(address asset) external view returns (uint256 sigmaWad);

    /// @notice Permissionless: records the current price for the volatility estimate (at most
    /// once per interval) and updates the price circuit breaker.
    function poke(address asset) external;
}
