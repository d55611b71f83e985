// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RiskAccount, RiskHolding, RiskMargin, RiskPosition} from "../../interfaces/IRiskModel.sol";
import {IStandardRiskModel} from "../../interfaces/IStandardRiskModel.sol";
import {MarginMath} from "../engine/libraries/MarginMath.sol";
import {RiskModelBase} from "./RiskModelBase.sol";
import {Collateral, LiquidationParams} from "../engine/libraries/EngineTypes.sol";

/// @notice The engine's views the standard model reads its parameters from.
interface IStandardMarginSource {
    function marketMarginParams(uint256 marketId)
        external
        view
        returns (address asset, uint256 baseMmr, uint256 volFactor, uint256 sigmaCap, uint256 imScale);

    function collaterals(address token) external view returns (Collateral memory);

    function liquidationParams() external view returns (LiquidationParams memory);
}

/// @title StandardRiskModel
/// @notice The engine's standard margin behind `IRiskModel` (issue 18, item 2; docs/risk-models.md,
/// "The standard model"), equal to the wei to the engine's built-in rule and to
/// `solvent/model/margin.py`:
/// `equity = cash + Σ_c value_c · weight_c + Σ_p PnL_p` (initial weights for the initial equity,
/// maintenance weights for the maintenance equity), `requirement = Σ_p |size_p| · price_p · ratio_p
/// + minPositionMargin` per open position, with `mmr = max(baseMmr, volFactor · min(sigma,
/// sigmaCap))` and `imr = mmr · imScale`. It holds no parameters: each check reads the engine's
/// market and collateral parameters, so governance sets them once, for both.
/// @dev The same `MarginMath` functions as the engine's margin pass, in the same order, so the
/// roundings agree (collateral value and PnL down, requirements up).
contract StandardRiskModel is IStandardRiskModel, RiskModelBase {
    uint256 public constant MAX_COLLATERALS = 8;
    uint256 public constant MAX_POSITIONS = 8;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant NO_SCENARIO = type(uint256).max;

    /// @inheritdoc IStandardRiskModel
    address public immutable engine;

    constructor(address engine_) {
        if (engine_ == address(0)) revert ZeroEngine();
        engine = engine_;
    }

    function _margin(RiskAccount calldata account) internal view override returns (RiskMargin memory m) {
        uint256 holdings = account.holdings.length;
        uint256 positions = account.positions.length;
        if (holdings > MAX_COLLATERALS) revert TooManyHoldings(holdings, MAX_COLLATERALS);
        if (positions > MAX_POSITIONS) revert TooManyPositions(positions, MAX_POSITIONS);
        IStandardMarginSource source = IStandardMarginSource(engine);

        int256 cash = account.quoteBalance * int256(MarginMath.WAD_PER_QUOTE);
        int256 initialEquity = cash;
        int256 maintenanceEquity = cash;
        for (uint256 i; i < holdings; ++i) {
            RiskHolding calldata h = account.holdings[i];
            Collateral memory c = source.collaterals(h.asset);
            if (!c.listed) revert AssetNotCovered(h.asset);
            // The listing's decimals (the engine bounds them when it lists the token).
            uint256 unit = 10 ** uint256(c.decimals);
            initialEquity += int256(MarginMath.collateralValue(h.amount, h.price, unit, c.imWeight));
            maintenanceEquity += int256(MarginMath.collateralValue(h.amount, h.price, unit, c.mmWeight));
        }
        uint256 minMargin = positions == 0 ? 0 : source.liquidationParams().minPositionMargin;
        for (uint256 j; j < positions; ++j) {
            RiskPosition calldata q = account.positions[j];
            (uint256 mmr, uint256 imr) = _ratios(source, q);
            int256 pnl = MarginMath.unrealizedPnl(q.size, q.openNotional, q.price);
            uint256 notional = MarginMath.notional(q.size, q.price);
            initialEquity += pnl;
            maintenanceEquity += pnl;
            m.notional += notional;
            m.initialRequirement += MarginMath.mulDivUp(notional, imr, WAD) + minMargin;
            m.maintenanceRequirement += MarginMath.mulDivUp(notional, mmr, WAD) + minMargin;
            m.nonNettable += minMargin;
        }
        m.equity = initialEquity;
        m.maintenanceEquity = maintenanceEquity;
        // The minimum margins stay while a position is open, whatever fraction of it closes.
        m.fixedRequirement = m.nonNettable;
        m.worstScenario = NO_SCENARIO;
    }

    /// @dev The position's market ratios at its sigma; the market must trade the position's asset.
    function _ratios(IStandardMarginSource source, RiskPosition calldata q)
        internal
        view
        returns (uint256 mmr, uint256 imr)
    {
        (address asset, uint256 baseMmr, uint256 volFactor, uint256 sigmaCap, uint256 imScale) =
            source.marketMarginParams(q.marketId);
        if (asset != q.asset) revert MarketAssetMismatch(q.marketId, q.asset);
        return MarginMath.marginRatios(baseMmr, volFactor, q.sigma, sigmaCap, imScale);
    }
}
