// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRiskModel} from "./IRiskModel.sol";

/// @notice Governance input for one asset of the portfolio model's grid (all WAD, each a multiple
/// of `RATE_TICK` = 1e12: stored in millionths, so an asset fits one slot).
/// @param sigmaMultiple Scan range = clamp(sigma · sigmaMultiple, floor, cap) (<= 16.77).
/// @param floor Smallest scan range (0 < floor <= cap).
/// @param cap Largest scan range (cap < 1).
/// @param haircut Liquidity haircut on the asset held as collateral (< 1).
/// @param addOn Non-nettable add-on on the notional of a position in the asset (<= 1).
struct AssetRisk {
    uint64 sigmaMultiple;
    uint64 floor;
    uint64 cap;
    uint64 haircut;
    uint64 addOn;
}

/// @title IPortfolioRiskModel
/// @notice The portfolio model (docs/risk-models.md): margin is the worst loss of the whole account
/// over a governance-set grid of scenarios, plus a non-nettable add-on per position; collateral
/// counts after a small liquidity haircut; maintenance = initial · mmFactor. Errors and events of
/// the model are all declared here.
interface IPortfolioRiskModel is IRiskModel {
    /// @notice The grid is not set yet: the model margins nothing.
    error GridNotSet();
    /// @notice A grid needs 1 to `MAX_SCENARIOS` scenarios.
    error ScenarioCountOutOfBounds(uint256 count);
    /// @notice mmFactor must be in (0, 1].
    error MaintenanceFactorOutOfBounds(uint256 mmFactor);
    /// @notice A grid covers 1 to `MAX_GRID_ASSETS` assets.
    error GridAssetCountOutOfBounds(uint256 count);
    /// @notice The grid's arrays must have one entry per asset, and one move per scenario.
    error LengthMismatch();
    /// @notice The zero address is no asset.
    error ZeroAsset();
    /// @notice An asset appears twice in one grid.
    error DuplicateAsset(address asset);
    /// @notice Need 0 < floor <= cap < 1 and sigmaMultiple <= `MAX_SIGMA_MULTIPLE`.
    error ScanRangeOutOfBounds(address asset, uint256 sigmaMultiple, uint256 floor, uint256 cap);
    /// @notice Need haircut < 1 and addOn <= 1.
    error RateOutOfBounds(address asset, uint256 haircut, uint256 addOn);
    /// @notice An asset's parameters must be multiples of `RATE_TICK` (1e12: stored in millionths,
    /// so an asset's parameters and moves fit one slot).
    error ParameterNotOnTick(address asset);
    /// @notice A move's magnitude is above one scan range (1e18).
    error MoveOutOfBounds(address asset, uint256 scenario, int256 move);
    /// @notice A move is not a multiple of `MOVE_TICK` (1e16: moves are stored in percent of the
    /// scan range, an asset's 16 scenarios in half a slot).
    error MoveNotOnTick(address asset, uint256 scenario, int256 move);

    /// @notice A new grid replaced the old one (every asset of the old grid is removed first).
    event GridSet(uint256 scenarioCount, uint256 mmFactor, uint256 assetCount);
    /// @notice One asset of a new grid: its parameters and its move in each scenario (WAD
    /// multiples of its scan range).
    event AssetGridSet(address indexed asset, AssetRisk risk, int256[] moves);
    /// @notice An asset of the previous grid that a new grid dropped.
    event AssetGridRemoved(address indexed asset);

    /// @notice Replaces the whole grid (GOVERNOR_ROLE, the timelock): `moves[i][k]` is asset i's
    /// move in scenario k as a WAD multiple of its scan range, |move| <= 1e18, a multiple of
    /// `MOVE_TICK`; every `moves[i]` has `scenarioCount` entries. Each bound has its named error.
    function setGrid(
        uint256 scenarioCount,
        uint256 mmFactor,
        address[] calldata assets,
        AssetRisk[] calldata risks,
        int256[][] calldata moves
    ) external;

    /// @notice Number of scenarios and maintenance factor (WAD) of the current grid.
    function grid() external view returns (uint256 scenarioCount, uint256 mmFactor);

    /// @notice The assets the current grid covers.
    function gridAssets() external view returns (address[] memory);

    /// @notice An asset's parameters (WAD) and its moves (WAD multiples of its scan range, one per
    /// scenario); `covered` is false for an asset outside the grid.
    function assetGrid(address asset)
        external
        view
        returns (bool covered, AssetRisk memory risk, int256[] memory moves);

    /// @notice The asset's scan range (WAD fraction) at volatility `sigma`, rounded up.
    function scanRange(address asset, uint256 sigma) external view returns (uint256);
}
