// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {ILiquidator} from "../../interfaces/ILiquidator.sol";
import {IInsuranceFund} from "../../interfaces/IInsuranceFund.sol";
import {EngineBase} from "./EngineBase.sol";
import {IPoolLedger} from "./IPoolLedger.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {
    Account,
    AccountHealth,
    Collateral,
    Ledger,
    LiquidationParams,
    Margin,
    Market,
    MarketParams,
    Position,
    PriceCache
} from "./libraries/EngineTypes.sol";

/// @title MarginEngineExtension
/// @notice Governance, keeper views, getters, the LP pool's ledger and the insurance fee sweep of
/// the margin engine. Only meaningful through the engine's fallback (delegatecall): it then reads
/// and writes the engine's storage. Called directly it only touches its own, unused, storage.
contract MarginEngineExtension is EngineBase, IPoolLedger {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    constructor(IERC20 quote_, IOracleAdapter oracle_) EngineBase(quote_, oracle_) {}

    modifier onlyPool() {
        if (msg.sender != lpPool) revert OnlyPool();
        _;
    }

    // ------------------------------------------------------------------ insurance fees and LP pool ledger

    /// @notice Units of `token` the account holds as collateral (not counting any in auction).
    function collateralBalance(uint256 accountId, address token) external view returns (uint256) {
        return _collateralBalanceOf(accountId, token);
    }

    /// @notice Sends the fees accrued to the insurance fund; anyone may call it.
    function sweepInsuranceFees() external nonReentrant {
        address fund = address(insuranceFund);
        if (fund == address(0)) revert InsuranceFundNotSet();
        uint256 amount = _ledger.insuranceFees;
        if (amount == 0) revert ZeroAmount();
        _ledger.insuranceFees = 0;
        quote.safeTransfer(fund, amount);
        emit InsuranceFeesSwept(fund, amount);
    }

    /// @inheritdoc IPoolLedger
    function creditPool(uint256 amount) external onlyPool nonReentrant {
        _ledger.poolCash += amount.toInt256().toInt64();
        emit PoolDeposit(amount);
    }

    /// @inheritdoc IPoolLedger
    function payFromPool(address receiver, uint256 amount) external onlyPool nonReentrant {
        uint256 withdrawable = poolWithdrawable();
        if (amount > withdrawable) revert PoolLiquidityExceeded(withdrawable, amount);
        _ledger.poolCash -= int256(amount).toInt64();
        quote.safeTransfer(receiver, amount);
        emit PoolWithdrawal(receiver, amount);
    }

    /// @inheritdoc IPoolLedger
    function poolAssets() external view returns (uint256) {
        Ledger memory ledger = _ledger;
        (int256 traderPnl,) = _traderPnlAndNetNotional();
        int256 assets = int256(ledger.poolCash) + int256(uint256(ledger.accountDebt))
            + int256(uint256(ledger.debtInAuction))
            - MarginMath.mulDivCeil(traderPnl, 1, MarginMath.WAD_PER_QUOTE);
        return MarginMath.positivePart(assets);
    }

    /// @inheritdoc IPoolLedger
    /// @dev `poolCash - max(traderPnl, 0) - reserveRatio * Σ|netSize|·price`, clamped at zero.
    function poolWithdrawable() public view returns (uint256) {
        (int256 traderPnl, uint256 netNotional) = _traderPnlAndNetNotional();
        int256 locked = MarginMath.mulDivCeil(
            traderPnl > 0 ? traderPnl : int256(0), 1, MarginMath.WAD_PER_QUOTE
        ) + int256(MarginMath.fee(netNotional, poolReserveRatio));
        return MarginMath.positivePart(int256(_ledger.poolCash) - locked);
    }

    // ------------------------------------------------------------------ views

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
            Account memory account = _accounts[id];
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

    /// @notice The account's owner, held-collateral and open-market bitmasks, auctions and quote.
    function accounts(uint256 accountId) external view returns (Account memory) {
        return _accounts[accountId];
    }

    /// @notice The account's position in `marketId`.
    function positions(uint256 accountId, uint256 marketId) external view returns (Position memory) {
        return _positions[accountId][marketId];
    }

    /// @notice A listed collateral's configuration and total deposits.
    function collaterals(address token) external view returns (Collateral memory) {
        return _collaterals[token];
    }

    /// @notice Seized `token` the engine holds in custody for running auctions.
    function collateralInAuction(address token) external view returns (uint256) {
        return _collaterals[token].inAuction;
    }

    /// @notice A market's configuration and aggregates.
    function markets(uint256 marketId) external view returns (Market memory) {
        return _markets[marketId];
    }

    /// @notice Number of markets; ids are 0 .. marketCount - 1.
    function marketCount() external view returns (uint256) {
        return _markets.length;
    }

    /// @notice The liquidation parameters.
    function liquidationParams() external view returns (LiquidationParams memory) {
        return _liquidationParams;
    }

    /// @notice The traders' net size (WAD, long > 0) in `marketId` and the market's skew scale
    /// (WAD size): what the order book prices a fill's skew premium with.
    function marketSkew(uint256 marketId) external view returns (int256 netSize, uint256 skewScale) {
        Market storage market = _market(marketId);
        return (_netSize(market), market.skewScale);
    }

    /// @notice The quote books: poolCash, accountDebt, debtInAuction, insuranceFees.
    function ledger() external view returns (Ledger memory) {
        return _ledger;
    }

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
        market.lastFundingTime = uint32(block.timestamp);
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
        _market(marketId);
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

    /// @notice Sets the share of net open notional the pool keeps as cash against LP withdrawals.
    function setPoolReserveRatio(uint256 reserveRatio) external onlyRole(GOVERNOR_ROLE) {
        if (reserveRatio > WAD) revert InvalidPoolParams();
        poolReserveRatio = reserveRatio;
        emit PoolReserveRatioSet(reserveRatio);
    }

    /// @notice Sets the auction liquidator the engine hands collateral to.
    function setLiquidator(ILiquidator liquidator_) external onlyRole(GOVERNOR_ROLE) {
        if (address(liquidator_) == address(0)) revert ZeroAddress();
        liquidator = liquidator_;
        emit LiquidatorSet(address(liquidator_));
    }

    /// @notice Sets the insurance fund (fee sweeps, shortfall cover, keeper rewards).
    function setInsuranceFund(IInsuranceFund fund) external onlyRole(GOVERNOR_ROLE) {
        if (address(fund) == address(0)) revert ZeroAddress();
        insuranceFund = fund;
        emit InsuranceFundSet(address(fund));
    }

    /// @notice Sets the order book, the only caller of `fillOrder` and `chargeOrderFee`.
    function setOrderBook(address book) external onlyRole(GOVERNOR_ROLE) {
        if (book == address(0)) revert ZeroAddress();
        orderBook = book;
        emit OrderBookSet(book);
    }

    /// @notice Sets the LP pool, once: its share price depends on the ledger it is bound to.
    function setLPPool(address pool) external onlyRole(GOVERNOR_ROLE) {
        if (pool == address(0)) revert ZeroAddress();
        if (lpPool != address(0)) revert AlreadySet();
        lpPool = pool;
        emit LPPoolSet(pool);
    }

    /// @notice Pauses risk-increasing actions (guardian or governor).
    function pauseRiskIncrease() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender)) _checkRole(GOVERNOR_ROLE);
        riskPaused = true;
        emit RiskPausedSet(true);
    }

    /// @notice Resumes risk-increasing actions (governor only).
    function unpauseRiskIncrease() external onlyRole(GOVERNOR_ROLE) {
        riskPaused = false;
        emit RiskPausedSet(false);
    }

    // ------------------------------------------------------------------ internals: governance

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
        if (params.feeRate > MAX_FEE_RATE || params.insuranceFeeShare > WAD) revert InvalidFeeParams();
        if (params.openInterestCap == 0 || params.openInterestCap > MAX_OPEN_INTEREST_CAP) {
            revert InvalidOpenInterestCap(params.openInterestCap);
        }
        if (
            params.skewScale == 0 || params.skewScale > MAX_OPEN_INTEREST_CAP
                || params.maxFundingVelocity > MAX_FUNDING_VELOCITY || params.fundingDeadband > WAD
                || params.maxFundingRate > MAX_FUNDING_RATE
        ) revert InvalidFundingParams();
        Market storage market = _markets[marketId];
        market.baseMmr = uint64(params.baseMmr);
        market.volFactor = uint64(params.volFactor);
        market.sigmaCap = uint64(params.sigmaCap);
        market.imScale = uint64(params.imScale);
        market.feeRate = uint64(params.feeRate);
        market.insuranceFeeShare = uint64(params.insuranceFeeShare);
        market.openInterestCap = uint96(params.openInterestCap); // <= MAX_OPEN_INTEREST_CAP
        market.skewScale = uint96(params.skewScale);
        market.maxFundingVelocity = uint64(params.maxFundingVelocity);
        market.fundingDeadband = uint64(params.fundingDeadband);
        market.maxFundingRate = uint64(params.maxFundingRate);
        emit MarketParamsSet(
            marketId,
            params.baseMmr,
            params.volFactor,
            params.sigmaCap,
            params.imScale,
            params.feeRate,
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
