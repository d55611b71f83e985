// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRiskModel} from "./IRiskModel.sol";

/// @title IStandardRiskModel
/// @notice The engine's standard margin behind the risk-model interface (issue 18, item 2;
/// docs/risk-models.md, "The standard model"): per market `Σ |size| · price · ratio` with the
/// volatility-scaled ratios, a minimum margin per open position, and collateral at its initial and
/// maintenance weights. Its parameters are the engine's own (markets, collateral listings,
/// `minPositionMargin`), read from the engine at each check, so the model and the engine's built-in
/// rule cannot drift apart: an account on this model is margined to the wei as one on the default.
interface IStandardRiskModel is IRiskModel {
    /// @notice The model needs the engine whose parameters it applies.
    error ZeroEngine();
    /// @notice A position's asset is not its market's oracle asset.
    error MarketAssetMismatch(uint256 marketId, address asset);

    /// @notice The engine whose parameters the model applies.
    function engine() external view returns (address);
}
