// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IMarginEngineEvents
/// @notice Every custom error and event of the margin engine, declared in one place.
interface IMarginEngineEvents {
    // --- bad inputs ---
    error ZeroAmount();
    error ZeroAddress();
    error UnknownAccount(uint256 accountId);
    error AccountExists(address owner, uint256 subIndex);
    error NotAuthorized(uint256 accountId, address caller);
    error UnknownToken(address token);
    error UnknownMarket(uint256 marketId);
    error InsufficientBalance(uint256 available, uint256 requested);
    error DepositCapExceeded(address token, uint256 cap);
    error OpenInterestCapExceeded(uint256 marketId, uint256 cap);
    error FeeOnTransferNotSupported(address token);
    error CollateralDepositNotAuthorized(uint256 accountId, address caller);
    error SizeTooLarge(int256 sizeDelta);
    error InvalidFillPrice();
    /// @dev A fill would open the account's ninth market (`MAX_ACCOUNT_MARKETS`).
    error AccountMarketLimit(uint256 accountId);
    /// @dev A deposit would bring the account's collaterals, held and in auction, past
    /// `MAX_ACCOUNT_COLLATERALS`.
    error AccountCollateralLimit(uint256 accountId);
    // --- risk gates ---
    error InsufficientMargin(uint256 initialHealth);
    error RiskIncreasePaused();
    error RiskIncreaseBlockedByOracle(address asset);
    error AccountUnderAuction(uint256 accountId);
    error AccountHealthy(uint256 health);
    error SequencerRestrictedLiquidation(uint256 health);
    error PriceUnavailable(address asset);
    error PriceReadFailed(address asset);
    // --- governance ---
    error CollateralAlreadyListed(address token);
    error TooManyCollaterals();
    error TooManyMarkets();
    error InvalidCollateral(address token);
    error InvalidWeights(uint256 imWeight, uint256 mmWeight);
    error InvalidMarginParams();
    error InvalidFeeParams();
    error InvalidLiquidationParams();
    error InvalidPenaltyRate(uint256 penaltyRate);
    error InvalidRestrictedLiquidationHealth(uint256 restrictedLiquidationHealth);
    error InvalidDustNotional(uint256 dustNotional);
    error InvalidLiquidationFee(uint256 liquidationFee);
    error InvalidMinPositionMargin(uint256 minPositionMargin);
    error InvalidOpenInterestCap(uint256 openInterestCap);
    error InvalidExposureRatio(uint256 maxExposureRatio);
    error InvalidAdlParams(uint256 trigger, uint256 target);
    error AdlNotTriggered(uint256 factor, uint256 trigger);
    error AdlMarketNotInProfit(uint256 marketId);
    error AdlOvercut(uint256 accountId);
    error AdlWrongSide(uint256 accountId);
    error AdlPositionNotInProfit(uint256 accountId);
    error PoolExposureExceeded(uint256 marketId, uint256 exposure, uint256 bound);
    error InvalidFundingParams();
    error InvalidBorrowParams();
    error OracleUnknownAsset(address asset);
    error InvalidPoolParams();
    error AlreadySet();
    error InvalidExtension();
    error GuardianCannotLoosen(uint256 current, uint256 requested);
    /// @notice The risk model is not approved by governance (or is the zero address where a model
    /// is required).
    error RiskModelNotApproved(address model);
    /// @notice The model margins fewer collaterals or positions than an account may hold.
    error InvalidRiskModel(address model);
    // --- parts ---
    error OnlyLiquidator();
    error OnlyPool();
    error OnlyOrderBook();
    error LiquidatorNotSet();
    error InsuranceFundNotSet();
    error PoolLiquidityExceeded(uint256 withdrawable, uint256 requested);
    error DebtInAuctionExceeded(uint256 debtInAuction, uint256 requested);
    error AuctionCustodyExceeded(address token, uint256 held, uint256 requested);

    event AccountOpened(uint256 indexed accountId, address indexed owner, uint256 subIndex);
    event OperatorSet(address indexed owner, address indexed operator, bool approved);
    event Deposited(uint256 indexed accountId, address indexed token, address from, uint256 amount);
    event Withdrawn(uint256 indexed accountId, address indexed token, address to, uint256 amount);
    event Traded(
        uint256 indexed accountId,
        uint256 indexed marketId,
        int256 sizeDelta,
        uint256 price,
        uint256 fee,
        int256 realizedPnl
    );
    event Liquidated(
        uint256 indexed accountId,
        address indexed keeper,
        uint256 fraction,
        uint256 closedNotional,
        int256 realizedPnl,
        uint256 penalty,
        uint256 keeperReward
    );
    /// @dev A liquidation that closed positions but could not hand the collateral to auction because
    /// `asset` has no price: the debt stays on the account until the price returns.
    event HandOffDeferred(uint256 indexed accountId, address asset, int256 quoteBalance);
    event HandedToAuction(
        uint256 indexed accountId, uint256 debt, uint256 unpaidPenalty, uint256 firstAuctionId
    );
    /// @dev One position reduced by auto-deleveraging at the oracle price (`realizedPnl` WAD USD).
    event AutoDeleveraged(
        uint256 indexed accountId,
        uint256 indexed marketId,
        int256 sizeDelta,
        uint256 price,
        int256 realizedPnl
    );
    /// @dev One auto-deleveraging run on a market: the pool's PnL factor before and after (WAD).
    event AdlExecuted(uint256 indexed marketId, uint256 factorBefore, uint256 factorAfter);
    event AdlParamsSet(uint256 trigger, uint256 target);
    /// @dev The part of a profit the pool's cash could not pay, so not credited to the account.
    event ProfitUnpaid(uint256 indexed accountId, uint256 amount);
    event BadDebtWrittenOff(
        uint256 indexed accountId, uint256 debt, uint256 coveredByInsurance, uint256 socialized
    );
    event AuctionProceeds(uint256 indexed accountId, uint256 debtRepaid, uint256 penaltyPaid);
    event AuctionEnded(uint256 indexed accountId, address indexed token, uint256 returned);
    event InsuranceFeesSwept(address indexed fund, uint256 amount);
    /// @dev Funding settled into the account's quote (positive: the account paid the pool).
    event FundingSettled(uint256 indexed accountId, uint256 indexed marketId, int256 amount);
    /// @dev Borrow interest charged on the account's quote debt (income of the pool).
    event InterestCharged(uint256 indexed accountId, uint256 amount);
    /// @dev The order book charged the account `fee` (settlement fee) and paid it to `to`.
    event OrderFeeCharged(uint256 indexed accountId, address indexed to, uint256 fee);
    event PoolDeposit(uint256 amount);
    event PoolWithdrawal(address indexed receiver, uint256 amount);

    event CollateralListed(address indexed token, uint256 index);
    event CollateralParamsSet(address indexed token, uint256 imWeight, uint256 mmWeight, uint256 depositCap);
    event MarketCreated(uint256 indexed marketId, address indexed asset);
    event MarketParamsSet(
        uint256 indexed marketId,
        uint256 baseMmr,
        uint256 volFactor,
        uint256 sigmaCap,
        uint256 imScale,
        uint256 insuranceFeeShare,
        uint256 openInterestCap,
        uint256 maxExposureRatio
    );
    event FundingParamsSet(
        uint256 indexed marketId,
        uint256 skewScale,
        uint256 maxFundingVelocity,
        uint256 fundingDeadband,
        uint256 maxFundingRate
    );
    event LiquidationParamsSet(
        uint256 penaltyRate,
        uint256 targetHealth,
        uint256 fullLiquidationHealth,
        uint256 restrictedLiquidationHealth,
        uint256 dustNotional,
        uint256 keeperTip,
        uint256 keeperChip,
        uint256 liquidationFee,
        uint256 minPositionMargin
    );
    event PoolReserveRatioSet(uint256 reserveRatio);
    event BorrowParamsSet(uint256 baseRate, uint256 optimalUtilization, uint256 maxRate);
    event LiquidatorSet(address liquidator);
    event InsuranceFundSet(address fund);
    event LPPoolSet(address pool);
    /// @notice Governance approved (or withdrew approval of) a risk model accounts may choose.
    event RiskModelApproved(address indexed model, bool approved);
    /// @notice An account chose its risk model (the zero address: the engine's standard margin).
    event RiskModelChosen(uint256 indexed accountId, address indexed model);
    event OrderBookSet(address orderBook);
    event InitialMarginRaised(uint256 indexed marketId, uint256 imScale);
    event RiskPausedSet(bool paused);
}
