// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {
    IRiskModel,
    RiskAccount,
    RiskHolding,
    RiskMargin,
    RiskPosition
} from "../../interfaces/IRiskModel.sol";
import {EngineBase} from "./EngineBase.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {
    Account,
    AccountHealth,
    BorrowState,
    Collateral,
    LiquidationParams,
    Margin,
    Market,
    MarketParams,
    Position,
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
        if (index == MAX_COLLATERALS) revert TooManyCollaterals();
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
        if (marketId == MAX_MARKETS) revert TooManyMarkets();
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

    // ------------------------------------------------------------------ keeper views

    /// @notice Maintenance equity, requirement and health of each account, oracle reads shared, as
    /// `liquidate` sees them: a collateral without a price counts 0, a market without one is left out.
    function healthOf(uint256[] calldata accountIds) external view returns (AccountHealth[] memory healths) {
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        cache.lenient = true;
        healths = new AccountHealth[](accountIds.length);
        for (uint256 i; i < accountIds.length; ++i) {
            Account memory account = _existingAccount(accountIds[i]);
            Margin memory margin = _margin(account, accountIds[i], cache);
            healths[i] = AccountHealth(
                margin.maintenanceEquity,
                margin.maintenanceRequirement,
                MarginMath.health(
                    margin.maintenanceEquity, margin.maintenanceRequirement, account.quoteBalance < 0
                )
            );
        }
    }

    /// @notice Initial equity, requirement and health of one account (what risk increases need).
    function initialHealthOf(uint256 accountId) external view returns (AccountHealth memory) {
        Account memory account = _existingAccount(accountId);
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        Margin memory margin = _margin(account, accountId, cache);
        return AccountHealth(
            margin.initialEquity,
            margin.initialRequirement,
            MarginMath.health(margin.initialEquity, margin.initialRequirement, account.quoteBalance < 0)
        );
    }

    /// @notice Ids in [fromId, toId] (clamped to existing accounts) that `liquidate` would accept now.
    function liquidatableAccounts(uint256 fromId, uint256 toId) external view returns (uint256[] memory ids) {
        if (fromId == 0) fromId = 1;
        if (toId > accountCount) toId = accountCount;
        if (toId < fromId) return ids;
        uint256 threshold =
            oracle.sequencerRestricted() ? _liquidationParams.restrictedLiquidationHealth : WAD;
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        cache.lenient = true;
        ids = new uint256[](toId - fromId + 1);
        uint256 found;
        for (uint256 id = fromId; id <= toId; ++id) {
            Account memory account = _loadAccount(id);
            if (account.marketMask == 0 && account.quoteBalance >= 0) continue;
            Margin memory margin = _margin(account, id, cache);
            uint256 health = MarginMath.health(
                margin.maintenanceEquity, margin.maintenanceRequirement, account.quoteBalance < 0
            );
            if (health < threshold) ids[found++] = id;
        }
        assembly ("memory-safe") {
            mstore(ids, found)
        }
    }

    /// @notice The account's funding owed in `marketId` as of now (quote units, positive: owed by the
    /// account), and the borrow interest it owes as of now (quote units).
    function pendingCharges(uint256 accountId, uint256 marketId)
        external
        view
        returns (int256 funding, uint256 interest)
    {
        Market storage market = _market(marketId);
        Position memory position = _positions[accountId][marketId];
        if (position.size != 0) {
            funding = _fundingOwed(
                position.size, position.fundingEntry, _fundingIndexNow(market, oracle.price(market.asset))
            );
        }
        int256 quoteBalance = _accounts[accountId].quoteBalance;
        if (quoteBalance < 0) interest = _interest(accountId, quoteBalance, _borrowNow(_ledger).index);
    }

    // ------------------------------------------------------------------ risk models (issue 18)

    /// @notice Approves `model` for accounts to choose, or withdraws its approval (governor: the
    /// timelock). A withdrawn approval stops new choices; accounts on the model keep it until they
    /// switch (governance cannot move an account's margin rules under it). A model must margin at
    /// least the engine's per-account maximum of collaterals and positions (`InvalidRiskModel`).
    function approveRiskModel(address model, bool approved) external onlyRole(GOVERNOR_ROLE) {
        if (model == address(0)) revert ZeroAddress();
        if (approved && !_marginsEveryAccount(IRiskModel(model))) revert InvalidRiskModel(model);
        _riskModelApproved[model] = approved;
        emit RiskModelApproved(model, approved);
    }

    /// @dev The model answers the interface's bounds and margins as many collaterals and positions
    /// as an account may hold (a contract without them, or no contract, does not).
    function _marginsEveryAccount(IRiskModel model) internal view returns (bool) {
        // A call to no code returns nothing, which the decoder would reject outside the `try`.
        if (address(model).code.length == 0) return false;
        try model.MAX_COLLATERALS() returns (uint256 collaterals) {
            try model.MAX_POSITIONS() returns (uint256 positions) {
                return collaterals >= MAX_ACCOUNT_COLLATERALS && positions >= MAX_ACCOUNT_MARKETS;
            } catch {
                return false;
            }
        } catch {
            return false;
        }
    }

    /// @notice The account chooses the rules it is margined by: an approved model, or the zero
    /// address for the engine's standard margin. A switch is a risk increase: unless the account is
    /// idle (no position, no debt, no auction), every asset it holds must allow risk increases and
    /// its initial health under the new rules must be at least 1 (`InsufficientMargin`).
    function setRiskModel(uint256 accountId, address model) external {
        Account memory account = _authorizedAccount(accountId);
        if (model != address(0) && !_riskModelApproved[model]) revert RiskModelNotApproved(model);
        _accountRisk[accountId].riskModel = model;
        emit RiskModelChosen(accountId, model);
        if (account.marketMask != 0 || account.quoteBalance < 0 || account.activeAuctions != 0) {
            // slither-disable-next-line uninitialized-local
            PriceCache memory cache;
            _checkRiskIncrease(accountId, account, account.marketMask, cache);
            _requireInitialHealth(account, accountId, cache);
        }
    }

    /// @notice The account's margin under its chosen model (`IRiskModelBridge`): the engine's own
    /// margin checks call it on the engine's address for accounts that chose a model.
    function riskModelMargin(
        uint256 accountId,
        int256 quoteBalance,
        bool lenient,
        uint256[16] calldata collateralPrices,
        uint256[64] calldata marketPrices
    )
        external
        view
        returns (
            Margin memory margin,
            uint256[16] memory collateralPricesRead,
            uint256[64] memory marketPricesRead,
            address unpriced
        )
    {
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        cache.lenient = lenient;
        collateralPricesRead = cache.collateralPrice;
        marketPricesRead = cache.marketPrice;
        // The prices copied into the cache's own arrays, and the answer returned as one block
        // (`Margin`'s six words, the arrays, the unpriced asset): the ABI coder copies and encodes
        // a static array word by word, 80 words each way on every margin check of a model account.
        assembly ("memory-safe") {
            calldatacopy(collateralPricesRead, collateralPrices, 0x200)
            calldatacopy(marketPricesRead, marketPrices, 0x800)
        }
        margin = _bridgeMargin(accountId, quoteBalance, cache);
        unpriced = cache.unpriced;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mcopy(p, margin, 0xc0)
            mcopy(add(p, 0xc0), collateralPricesRead, 0x200)
            mcopy(add(p, 0x2c0), marketPricesRead, 0x800)
            mstore(add(p, 0xac0), unpriced)
            return(p, 0xae0)
        }
    }

    /// @dev A strict read runs the bridge here, without a call. A lenient one (the keeper's views)
    /// makes the engine's call, whose failure falls back to the standard margin as a liquidation's
    /// does: a model that cannot answer for one account does not break a scan of many.
    function _modelMargin(uint256 accountId, int256 quoteBalance, PriceCache memory cache)
        internal
        view
        override
        returns (Margin memory, bool)
    {
        if (cache.lenient) return super._modelMargin(accountId, quoteBalance, cache);
        return (_bridgeMargin(accountId, quoteBalance, cache), true);
    }

    /// @dev Builds the model's input from the ledger (collateral with a balance, every open position
    /// with its pending funding folded into its open notional, so the model's PnL is the standard
    /// margin's PnL after funding) and maps the model's verdict to the engine's `Margin`.
    function _bridgeMargin(uint256 accountId, int256 quoteBalance, PriceCache memory cache)
        internal
        view
        returns (Margin memory margin)
    {
        address model = _accountRisk[accountId].riskModel;
        if (model == address(0)) revert RiskModelNotApproved(model);
        Account memory account = _existingAccount(accountId);
        // slither-disable-next-line uninitialized-local
        RiskAccount memory input;
        input.quoteBalance = int128(quoteBalance); // an int72 less pending interest
        input.holdings = new RiskHolding[](MAX_ACCOUNT_COLLATERALS);
        // Each held collateral's sigma by its index: a perp on the same asset reuses it.
        // slither-disable-next-line uninitialized-local
        uint256[16] memory heldSigma;
        uint256 count = 0;
        for (uint256 mask = account.collateralMask; mask != 0; mask &= mask - 1) {
            uint256 index = _lowestBit(mask);
            address token = _collateralToken(index);
            uint256 amount = _collateralBalanceOf(accountId, token);
            if (amount == 0) continue;
            uint256 price = _collateralPrice(cache, index, token);
            if (price == UNPRICED) continue;
            heldSigma[index] = oracle.sigma(token);
            input.holdings[count++] = RiskHolding({
                asset: token,
                amount: uint128(amount), // totalDeposited is a uint128
                decimals: _collaterals[token].decimals,
                price: uint128(price),
                sigma: uint128(heldSigma[index])
            });
        }
        _truncate(input.holdings, count);
        input.positions = new RiskPosition[](MAX_ACCOUNT_MARKETS);
        count = 0;
        for (uint256 mask = account.marketMask; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            Market storage market = _marketAt(marketId);
            uint256 price = _marketPrice(cache, marketId, market);
            if (price == UNPRICED) continue;
            Position memory position = _positions[accountId][marketId];
            int256 owed = _fundingOwed(position.size, position.fundingEntry, _fundingIndexNow(market, price));
            address asset = market.asset;
            uint256 shared = market.sharedCollateral;
            uint256 sigma = shared != 0 ? heldSigma[shared - 1] : 0;
            if (sigma == 0) sigma = oracle.sigma(asset);
            input.positions[count++] = RiskPosition({
                asset: asset,
                size: position.size,
                openNotional: int128(position.openNotional + owed * int256(MarginMath.WAD_PER_QUOTE)),
                price: uint128(price),
                sigma: uint128(sigma),
                marketId: marketId
            });
        }
        _truncate(input.positions, count);
        RiskMargin memory verdict = IRiskModel(model).margin(input);
        margin.initialEquity = verdict.equity;
        margin.maintenanceEquity = verdict.maintenanceEquity;
        margin.initialRequirement = verdict.initialRequirement;
        margin.maintenanceRequirement = verdict.maintenanceRequirement;
        margin.notional = verdict.notional;
        // At most the requirement: the fraction's formula subtracts it (a model's slip must not
        // turn a liquidation into an arithmetic panic).
        margin.minimumMargin = Math.min(verdict.fixedRequirement, verdict.maintenanceRequirement);
    }

    /// @dev Shortens a memory array to its first `length` entries (the rest stays allocated, unused).
    function _truncate(RiskHolding[] memory entries, uint256 length) private pure {
        assembly ("memory-safe") {
            mstore(entries, length)
        }
    }

    function _truncate(RiskPosition[] memory entries, uint256 length) private pure {
        assembly ("memory-safe") {
            mstore(entries, length)
        }
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
        if (params.maxExposureRatio == 0 || params.maxExposureRatio > MAX_EXPOSURE_RATIO) {
            revert InvalidExposureRatio(params.maxExposureRatio);
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
        market.maxExposureRatio = uint64(params.maxExposureRatio); // <= MAX_EXPOSURE_RATIO
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
            params.openInterestCap,
            params.maxExposureRatio
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
