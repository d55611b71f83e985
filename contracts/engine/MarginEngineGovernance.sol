// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {EngineBase} from "./EngineBase.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {
    Account,
    BorrowState,
    Collateral,
    LiquidationParams,
    Market,
    MarketParams,
    PriceCache
} from "./libraries/EngineTypes.sol";

/// @title MarginEngineGovernance
/// @notice The margin engine's heavier governance setters (listing collateral, creating markets and
/// setting their parameters, the liquidation and borrow parameters).
/// Deployed by `MarginEngineExtension`; stubs of the extension and of the engine forward to it by
/// delegatecall, so it runs in the engine's storage (two contracts would exceed the 24 KiB limit).
contract MarginEngineGovernance is EngineBase {
    using SafeCast for uint256;

    constructor(IERC20 quote_, IOracleAdapter oracle_) EngineBase(quote_, oracle_) {}

    // ------------------------------------------------------------------ governance

    /// @notice Lists `token` as collateral (it is also its own oracle asset, which the oracle must
    /// know already).
    function listCollateral(address token, uint256 imWeight, uint256 mmWeight, uint256 depositCap)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        if (token == address(0) || token == address(quote)) revert InvalidCollateral(token);
        _requireOracleKnows(token);
        if (_collaterals[token].listed) revert CollateralAlreadyListed(token);
        uint256 index = collateralTokens.length;
        if (index == MAX_ASSETS) revert TooManyCollaterals();
        uint8 decimals = IERC20Metadata(token).decimals();
        if (decimals > 18) revert InvalidCollateral(token);
        collateralTokens.push(token);
        Collateral storage collateral = _collaterals[token];
        collateral.index = uint8(index);
        collateral.decimals = decimals;
        collateral.listed = true;
        for (uint256 m; m < _markets.length; ++m) {
            if (_markets[m].asset == token) _markets[m].sharedCollateral = uint8(index + 1);
        }
        emit CollateralListed(token, index);
        _setCollateralParams(token, imWeight, mmWeight, depositCap);
    }

    /// @notice Sets a listed collateral's weights (0 < imWeight <= mmWeight <= 1) and deposit cap.
    function setCollateralParams(address token, uint256 imWeight, uint256 mmWeight, uint256 depositCap)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        _listedCollateral(token);
        _setCollateralParams(token, imWeight, mmWeight, depositCap);
    }

    /// @notice Creates a perpetual market on `asset`'s oracle price.
    /// @return marketId The new market's id.
    function createMarket(address asset, MarketParams calldata params)
        external
        onlyRole(GOVERNOR_ROLE)
        returns (uint256 marketId)
    {
        if (asset == address(0)) revert ZeroAddress();
        _requireOracleKnows(asset);
        marketId = _markets.length;
        if (marketId == MAX_ASSETS) revert TooManyMarkets();
        Market storage market = _markets.push();
        market.asset = asset;
        Collateral storage collateral = _collaterals[asset];
        if (collateral.listed) market.sharedCollateral = collateral.index + 1;
        emit MarketCreated(marketId, asset);
        _setMarketParams(marketId, params);
    }

    /// @notice Sets a market's margin, fee, open-interest and funding parameters.
    function setMarketParams(uint256 marketId, MarketParams calldata params)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        Market storage market = _market(marketId);
        // Funding so far accrues under the old parameters (this needs the market's price).
        _accrueFunding(market, oracle.price(market.asset));
        _setMarketParams(marketId, params);
    }

    /// @notice Sets the liquidation parameters (bounds in docs/margin.md).
    function setLiquidationParams(LiquidationParams calldata params) external onlyRole(GOVERNOR_ROLE) {
        if (
            params.targetHealth < WAD || params.targetHealth > MAX_TARGET_HEALTH
                || params.fullLiquidationHealth > WAD || params.keeperChip > MAX_KEEPER_CHIP
                || params.keeperTip > MAX_KEEPER_TIP
        ) revert InvalidLiquidationParams();
        if (params.penaltyRate < MIN_PENALTY_RATE || params.penaltyRate > MAX_PENALTY_RATE) {
            revert InvalidPenaltyRate(params.penaltyRate);
        }
        if (
            params.restrictedLiquidationHealth < MIN_RESTRICTED_HEALTH
                || params.restrictedLiquidationHealth < params.fullLiquidationHealth
                || params.restrictedLiquidationHealth > WAD
        ) revert InvalidRestrictedLiquidationHealth(params.restrictedLiquidationHealth);
        if (params.dustNotional > MAX_DUST_NOTIONAL) revert InvalidDustNotional(params.dustNotional);
        if (params.liquidationFee < MIN_LIQUIDATION_FEE || params.liquidationFee > MAX_LIQUIDATION_FEE) {
            revert InvalidLiquidationFee(params.liquidationFee);
        }
        // The minimum margin must hold at least the penalty's floor (the keeper tip, in WAD USD).
        if (
            params.minPositionMargin > MAX_MIN_POSITION_MARGIN
                || params.minPositionMargin < uint256(params.keeperTip) * MarginMath.WAD_PER_QUOTE
        ) revert InvalidMinPositionMargin(params.minPositionMargin);
        _liquidationParams = params;
        _minPositionMargin = uint88(params.minPositionMargin); // <= MAX_MIN_POSITION_MARGIN
        emit LiquidationParamsSet(
            params.penaltyRate,
            params.targetHealth,
            params.fullLiquidationHealth,
            params.restrictedLiquidationHealth,
            params.dustNotional,
            params.keeperTip,
            params.keeperChip,
            params.liquidationFee,
            params.minPositionMargin
        );
    }

    /// @notice Sets the borrow rate on quote debt (docs/funding.md): annual WAD rates `baseRate` at
    /// the optimal utilization and `maxRate` at full utilization, `0 < optimalUtilization < 1`,
    /// each a whole number of millionths. Interest accrued so far is accrued at the old rate first.
    function setBorrowParams(uint256 baseRate, uint256 optimalUtilization, uint256 maxRate)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        if (
            optimalUtilization == 0 || optimalUtilization >= WAD || baseRate > maxRate
                || maxRate > MAX_BORROW_RATE || baseRate % BORROW_PARAM_UNIT != 0
                || optimalUtilization % BORROW_PARAM_UNIT != 0 || maxRate % BORROW_PARAM_UNIT != 0
        ) {
            revert InvalidBorrowParams();
        }
        BorrowState memory state = _borrowNow(_ledger);
        // Whole millionths <= MAX_BORROW_RATE: each fits 24 bits.
        state.baseRate = uint24(baseRate / BORROW_PARAM_UNIT);
        state.optimalUtilization = uint24(optimalUtilization / BORROW_PARAM_UNIT);
        state.maxRate = uint24(maxRate / BORROW_PARAM_UNIT);
        _borrow = state;
        emit BorrowParamsSet(baseRate, optimalUtilization, maxRate);
    }

    /// @notice Raises market `marketId`'s initial-margin scale at once (guardian or governor): the
    /// safer direction only (`GuardianCannotLoosen` below the current scale) and within the bound
    /// every market parameter has (`InvalidMarginParams` above `MAX_IM_SCALE`). It blocks new risk
    /// without liquidating anyone: the maintenance requirement is unchanged.
    function raiseInitialMargin(uint256 marketId, uint256 imScale) external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender)) _checkRole(GOVERNOR_ROLE);
        Market storage market = _market(marketId);
        if (imScale < market.imScale) revert GuardianCannotLoosen(market.imScale, imScale);
        if (imScale > MAX_IM_SCALE) revert InvalidMarginParams();
        market.imScale = uint64(imScale); // <= MAX_IM_SCALE
        emit InitialMarginRaised(marketId, imScale);
    }

    // ------------------------------------------------------------------ internals

    /// @dev The oracle has a configuration for `asset` (`sigma` reverts `UnknownAsset` otherwise and
    /// reads no feed, so a stale feed does not block governance).
    function _requireOracleKnows(address asset) internal view {
        // Only whether it reverts matters: the value is not needed.
        // slither-disable-next-line unused-return
        try oracle.sigma(asset) returns (uint256) {}
        catch {
            revert OracleUnknownAsset(asset);
        }
    }

    function _setCollateralParams(address token, uint256 imWeight, uint256 mmWeight, uint256 depositCap)
        internal
    {
        if (imWeight == 0 || imWeight > mmWeight || mmWeight > WAD) {
            revert InvalidWeights(imWeight, mmWeight);
        }
        Collateral storage collateral = _collaterals[token];
        collateral.imWeight = uint64(imWeight);
        collateral.mmWeight = uint64(mmWeight);
        collateral.depositCap = depositCap.toUint104();
        emit CollateralParamsSet(token, imWeight, mmWeight, depositCap);
    }

    function _setMarketParams(uint256 marketId, MarketParams calldata params) internal {
        if (
            params.baseMmr == 0 || params.baseMmr > MAX_MMR || params.volFactor > MAX_VOL_FACTOR
                || params.sigmaCap > MAX_SIGMA_CAP || params.imScale < WAD || params.imScale > MAX_IM_SCALE
        ) revert InvalidMarginParams();
        if (params.insuranceFeeShare > WAD) revert InvalidFeeParams();
        if (params.openInterestCap == 0 || params.openInterestCap > MAX_OPEN_INTEREST_CAP) {
            revert InvalidOpenInterestCap(params.openInterestCap);
        }
        if (
            params.skewScale == 0 || params.skewScale > MAX_SKEW_SCALE
                || params.maxFundingVelocity > MAX_FUNDING_VELOCITY || params.fundingDeadband > WAD
                || params.maxFundingRate > MAX_FUNDING_RATE
        ) revert InvalidFundingParams();
        Market storage market = _markets[marketId];
        market.baseMmr = uint64(params.baseMmr);
        market.volFactor = uint64(params.volFactor);
        market.sigmaCap = uint64(params.sigmaCap);
        market.imScale = uint64(params.imScale);
        market.insuranceFeeShare = uint64(params.insuranceFeeShare);
        market.openInterestCap = uint96(params.openInterestCap); // <= MAX_OPEN_INTEREST_CAP
        market.skewScale = uint88(params.skewScale);
        market.maxFundingVelocity = uint64(params.maxFundingVelocity);
        market.fundingDeadband = uint64(params.fundingDeadband);
        market.maxFundingRate = uint64(params.maxFundingRate);
        emit MarketParamsSet(
            marketId,
            params.baseMmr,
            params.volFactor,
            params.sigmaCap,
            params.imScale,
            params.insuranceFeeShare,
            params.openInterestCap
        );
        emit FundingParamsSet(
            marketId,
            params.skewScale,
            params.maxFundingVelocity,
            params.fundingDeadband,
            params.maxFundingRate
        );
    }
}
