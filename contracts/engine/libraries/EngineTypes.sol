// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice One account as the engine's code (and `accounts()`) sees it. Bit i of `collateralMask`
/// is set while the account holds listed collateral i; bit m of `marketMask` while it has a
/// position in market m. Stored in two slots: `AccountSlot` (everything but the market mask) and
/// `AccountRisk` (the market mask beside the account's risk model, which every margin check reads).
struct Account {
    address owner;
    uint16 collateralMask;
    uint64 marketMask;
    uint8 activeAuctions;
    int72 quoteBalance;
}

/// @notice The account's first slot (exactly 256 bits), written whole by `EngineBase._storeAccount`.
struct AccountSlot {
    address owner;
    uint16 collateralMask;
    uint8 activeAuctions;
    int72 quoteBalance;
}

/// @notice The account's second slot: its risk model (the zero address: the standard margin), its
/// open-market mask and a marker set when the account opens, so the slot is never zero and a
/// first position pays a nonzero-to-nonzero write (2.9k gas) instead of creating it (20k).
struct AccountRisk {
    address riskModel;
    uint64 marketMask;
    bool opened;
}

/// @notice A position in one slot: signed size (WAD of the underlying), signed open notional (WAD
/// USD) and the market's funding index when its funding was last settled (nano-USD per whole unit,
/// docs/funding.md). Sizes stay below 2^95 (the open interest cap's bound).
struct Position {
    int96 size;
    int96 openNotional;
    int64 fundingEntry;
}

/// @notice A listed collateral token. Slot 0 is all that margin math reads. Slot 1 holds what the
/// accounts own and what the engine keeps in custody for running auctions side by side, so a
/// seizure, a take's release and a leftover's return each update one slot.
struct Collateral {
    uint64 imWeight;
    uint64 mmWeight;
    uint8 index;
    uint8 decimals;
    bool listed;
    uint104 depositCap;
    uint128 totalDeposited;
    uint128 inAuction;
}

/// @notice A perpetual market in six slots (`EngineBase.MARKET_SLOTS` must follow any change).
/// Slot 0 holds the asset and the skew scale (every accrual reads the asset for its price); slot 1
/// is what margin math reads; slot 2 holds the insurance share and the cap; slots 3-4 are written
/// by every fill and carry the funding state that changes with it (the net size is
/// `longOpenInterest - shortOpenInterest`; when the market empties both slots return to zero, time
/// and index included); slot 5 holds the funding parameters and the current rate, written only
/// when the rate moves (docs/funding.md). Fee rates belong to the order book.
struct Market {
    address asset;
    /// @dev Index + 1 of the listed collateral with the same oracle asset (0 if none): one price read.
    uint8 sharedCollateral;
    /// @dev Size (WAD) at which the skew reaches 100%: funding velocity and the fill premium.
    uint88 skewScale;
    uint64 volFactor;
    uint64 sigmaCap;
    uint64 imScale;
    uint64 baseMmr;
    uint64 insuranceFeeShare;
    uint96 openInterestCap;
    /// @dev Bound on the traders' net notional as a multiple of the pool's cash (WAD); shares the
    /// cap's slot, so a fill that grows a side reads both at once.
    uint64 maxExposureRatio;
    int112 netOpenNotional;
    /// @dev Σ floor(size · fundingEntry / 1e9) over the market's positions (WAD USD): with the
    /// index, the traders' unsettled funding in aggregate (the pool's side of it).
    int112 fundingEntrySum;
    /// @dev When funding last accrued; 0 while the market has no position.
    uint32 lastFundingTime;
    uint96 longOpenInterest;
    uint96 shortOpenInterest;
    /// @dev Funding paid per whole unit held long since the market last had positions (nano-USD per
    /// unit).
    int64 fundingIndex;
    /// @dev WAD per day per day at a skew of ±skewScale.
    uint64 maxFundingVelocity;
    /// @dev WAD fraction of skewScale under which the rate does not move.
    uint64 fundingDeadband;
    /// @dev Bound on |fundingRate| (WAD per day).
    uint64 maxFundingRate;
    /// @dev Current funding rate (WAD per day; positive: longs pay).
    int64 fundingRate;
}

/// @notice Auto-deleveraging thresholds (WAD): the traders' profit (each market's net PnL, counted
/// when positive) as a share of the pool's value without the traders' PnL; ADL may run while the
/// share is above `trigger` and reduces it to at most `target` (docs/pool.md,
/// "Auto-deleveraging"). One slot.
struct AdlParams {
    uint64 trigger;
    uint64 target;
    // Set by a run that starts above the trigger and ends above the target (its market's profit
    // exhausted or its list too short), cleared by one that ends at or below the target: while
    // set, a run may start anywhere above the target, so the cuts of several markets finish the
    // job one market began.
    bool armed;
}

/// @notice Governance input for a market (all WAD; the cap and the skew scale are sizes in WAD,
/// the funding velocity is WAD per day per day, the funding rate bound WAD per day).
struct MarketParams {
    uint256 baseMmr;
    uint256 volFactor;
    uint256 sigmaCap;
    uint256 imScale;
    uint256 insuranceFeeShare;
    uint256 openInterestCap;
    uint256 skewScale;
    uint256 maxFundingVelocity;
    uint256 fundingDeadband;
    uint256 maxFundingRate;
    uint256 maxExposureRatio;
}

/// @notice Liquidation parameters in three slots (WAD unless named: `dustNotional` and
/// `minPositionMargin` WAD USD, `keeperTip` quote units). `liquidationFee` is the fee on the debt a
/// liquidation hands to auction (Maker's `chop - 1` on the tab); `minPositionMargin` is added to both
/// requirements once per open position (docs/margin.md, "Keeper pay").
struct LiquidationParams {
    uint64 penaltyRate;
    uint64 targetHealth;
    uint64 fullLiquidationHealth;
    uint64 restrictedLiquidationHealth;
    uint64 keeperChip;
    uint128 dustNotional;
    uint64 keeperTip;
    uint64 liquidationFee;
    uint128 minPositionMargin;
}

/// @notice The engine's books of quote besides trader balances (quote units), in one slot:
/// liquidations, settlements and trades touch several of them at once. 64 bits hold ±9.2e12 USD
/// of a 6-decimal quote; what enters is cast with SafeCast, so an overflow reverts.
struct Ledger {
    int64 poolCash;
    uint64 accountDebt;
    uint64 debtInAuction;
    uint64 insuranceFees;
}

/// @notice The borrow index on quote debt (WAD, 1 at deployment), when it last accrued, the
/// interest accrued on all debt that no account has been charged yet (quote units: income of the
/// pool) and the rate parameters (annual rates and the optimal utilization in millionths), in one
/// slot: an accrual reads it once (docs/funding.md).
struct BorrowState {
    uint88 index;
    uint32 lastTime;
    uint64 pendingInterest;
    uint24 baseRate;
    uint24 optimalUtilization;
    uint24 maxRate;
}

/// @notice Margin of one account: equity and requirement, initial and maintenance (WAD), and the
/// total notional of its positions and the part of the requirements that is the per-position minimum
/// margin (WAD, for the liquidation fraction: a partial closure does not shrink it).
struct Margin {
    int256 initialEquity;
    uint256 initialRequirement;
    int256 maintenanceEquity;
    uint256 maintenanceRequirement;
    uint256 notional;
    uint256 minimumMargin;
}

/// @notice Oracle reads memoized for one call: prices by collateral index and by market id, margin
/// ratios by market id, `mmr << 128 | imr` (0 = not read yet; the adapter never returns a zero
/// price, and a maintenance ratio is never 0). A liquidation
/// reads prices leniently: an unavailable price is memoized as `EngineBase.UNPRICED` and the first
/// such asset is kept in `unpriced`.
struct PriceCache {
    uint256[16] collateralPrice;
    uint256[64] marketPrice;
    uint256[64] marketRatios;
    bool lenient;
    address unpriced;
    /// @dev `minPositionMargin` when the caller has it in memory already (0: read it from storage).
    uint256 minPositionMargin;
    /// @dev The borrow index now (0: not computed yet).
    uint256 borrowIndex;
    /// @dev The account's interest is charged already in this call (its index is recorded at the
    /// end, if it still owes quote).
    bool interestSettled;
}

/// @notice Health of one account as the keeper sees it.
struct AccountHealth {
    int256 equity;
    uint256 requirement;
    uint256 health;
}

/// @notice One liquidation's closure: fraction closed (WAD), PnL realized (WAD), notional closed
/// (WAD), penalty and keeper reward (quote units).
struct Closure {
    uint256 fraction;
    int256 realizedPnl;
    uint256 closedNotional;
    uint256 penalty;
    uint256 keeperReward;
}

/// @notice A partial liquidation's fills, computed before anything is written: the fill (WAD) and
/// the open notional after it (WAD), by the market's rank among the account's open markets (the
/// order `_lowestBit` walks its mask: at most `MAX_ACCOUNT_MARKETS`); the fraction closed and the
/// dust bound it was planned with (WAD), and the PnL it realizes and the notional it closes (WAD).
struct ClosurePlan {
    int256[8] sizeDelta;
    int256[8] newOpenNotional;
    uint256 fraction;
    uint256 dustNotional;
    int256 realizedPnl;
    uint256 closedNotional;
}

/// @notice How the engine's own code reaches the risk-model bridge (issue 18): the engine and its
/// extension call it on the engine's address (a static call), and the engine runs it in
/// `MarginEngineGovernance`, where the code that builds a model's input has room.
interface IRiskModelBridge {
    /// @notice The account's margin under its chosen model (`riskModelOf`), in the engine's
    /// `Margin` form: one equity for both requirements, the positions' notional, and no fixed part
    /// (a partial liquidation closes every position proportionally, and the model's add-ons shrink
    /// with it). `quoteBalance` is the account's quote with pending interest deducted (the caller's
    /// memory may be ahead of storage inside a liquidation). `collateralPrices` (by collateral
    /// index) and `marketPrices` (by market id) are the prices the caller read already, 0 where it
    /// read none (the bridge then reads the oracle). A lenient read (liquidation) leaves out an
    /// asset the oracle cannot price, as the standard margin does. Returns, besides the margin,
    /// both price arrays with every price read (`EngineBase.UNPRICED` for one the oracle refused
    /// in a lenient read) and the first unpriced asset, for the caller's closing fills. A view: the
    /// prices given only change the answer, never the state.
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
        );
}
