// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {ILiquidator} from "../../interfaces/ILiquidator.sol";
import {IInsuranceFund} from "../../interfaces/IInsuranceFund.sol";
import {IMarginEngineEvents} from "./IMarginEngineEvents.sol";
import {ISocializedLossSink} from "./IPoolLedger.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {
    Account,
    AccountRisk,
    AccountSlot,
    AdlParams,
    BorrowState,
    Closure,
    ClosurePlan,
    Collateral,
    Ledger,
    LiquidationParams,
    Margin,
    Market,
    Position,
    PriceCache,
    IRiskModelBridge
} from "./libraries/EngineTypes.sol";

/// @title EngineBase
/// @notice Storage and internal logic shared by the margin engine and its extension, which runs
/// by delegatecall in the engine's storage (the engine alone would exceed the 24 KiB code limit).
/// Neither declares storage of its own.
abstract contract EngineBase is IMarginEngineEvents, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    uint256 internal constant WAD = 1e18;
    /// @dev Listed markets and collaterals at most (the widths of the accounts' masks and of the
    /// `PriceCache` arrays), and what one account may hold at once: the per-account bounds keep
    /// every margin computation at most 8 positions and 8 collaterals (docs/margin.md, "Capacity").
    uint256 internal constant MAX_MARKETS = 64;
    uint256 internal constant MAX_COLLATERALS = 16;
    uint256 internal constant MAX_ACCOUNT_MARKETS = 8;
    uint256 internal constant MAX_ACCOUNT_COLLATERALS = 8;
    uint256 internal constant MAX_MMR = 0.5e18;
    uint256 internal constant MAX_VOL_FACTOR = 1e18;
    uint256 internal constant MAX_SIGMA_CAP = 10e18;
    uint256 internal constant MAX_IM_SCALE = 5e18;
    uint256 internal constant MAX_PENALTY_RATE = 0.2e18;
    uint256 internal constant MAX_TARGET_HEALTH = 2e18;
    uint256 internal constant MAX_KEEPER_CHIP = 0.1e18;
    uint256 internal constant MAX_KEEPER_TIP = 1000e6;
    /// @dev Keepers must always be paid something: 0.5% of closed notional at least.
    uint256 internal constant MIN_PENALTY_RATE = 0.005e18;
    /// @dev Below this, a restricted sequencer would freeze (almost) every liquidation.
    uint256 internal constant MIN_RESTRICTED_HEALTH = 0.5e18;
    uint256 internal constant MAX_DUST_NOTIONAL = 100_000e18;
    uint256 internal constant MIN_LIQUIDATION_FEE = 0.001e18;
    uint256 internal constant MAX_LIQUIDATION_FEE = 0.2e18;
    uint256 internal constant MAX_MIN_POSITION_MARGIN = 1000e18;
    /// @dev Open interest caps stay below 2^94 WAD (1.9e10 units): every position size and open
    /// interest fits the 96-bit fields of `Position` and `Market`.
    uint256 internal constant MAX_OPEN_INTEREST_CAP = 1 << 94;
    /// @dev `maxExposureRatio` at most 10: the traders' net notional in a market at most ten times
    /// the pool's cash.
    uint256 internal constant MAX_EXPOSURE_RATIO = 10 * WAD;
    uint256 internal constant MAX_FUNDING_VELOCITY = 18e18;
    uint256 internal constant MAX_FUNDING_RATE = 1e18;
    /// @dev Funding index units (nano-USD per whole unit) per WAD USD per whole unit.
    int256 internal constant FUNDING_INDEX_PER_WAD = 1e9;
    /// @dev Δindex = (rate0 + rate1) · dt · price / (2 · 1 day · 1e27): WAD rates per day, WAD price.
    int256 internal constant FUNDING_ACCRUAL_DIVISOR = 2 * 86_400 * 1e27;
    /// @dev size (WAD) · Δindex (nano-USD per unit) / 1e21 = quote units.
    int256 internal constant FUNDING_QUOTE_DIVISOR = 1e21;
    /// @dev Annual WAD rate · seconds.
    uint256 internal constant YEAR_WAD = 365 days * 1e18;
    uint256 internal constant MAX_BORROW_RATE = 10e18;
    /// @dev Borrow parameters are stored in millionths of a WAD.
    uint256 internal constant BORROW_PARAM_UNIT = 1e12;
    uint256 internal constant MAX_SKEW_SCALE = 1 << 88;
    int256 internal constant MAX_SIZE_DELTA = int256(1 << 120);
    /// @dev Memoized in a `PriceCache` for a price a liquidation could not read.
    uint256 internal constant UNPRICED = type(uint256).max;
    /// @dev A seizure leaves this bit in the account's balance slot instead of zeroing it, so the
    /// return of an auction's leftover updates a live slot (2.9k gas) instead of re-creating it
    /// (22.1k). Balances stay below 2^128 (`totalDeposited` is a uint128): the bit never mixes
    /// with an amount.
    uint256 internal constant SEIZED_MARK = 1 << 255;
    /// @dev Storage slots of one `Market`, for `_marketAt`.
    uint256 private constant MARKET_SLOTS = 6;

    IERC20 public immutable quote;
    IOracleAdapter public immutable oracle;

    // Written by MarginEngineExtension, which runs on this storage through the engine's delegatecall
    // fallback. Slither analyses one contract at a time and cannot see those writes.
    // slither-disable-next-line uninitialized-state,constable-states
    ILiquidator public liquidator;
    // slither-disable-next-line uninitialized-state,constable-states
    IInsuranceFund public insuranceFund;
    // slither-disable-next-line uninitialized-state,constable-states
    address public lpPool;
    // slither-disable-next-line uninitialized-state,constable-states
    bool public riskPaused;
    /// @dev `LiquidationParams.minPositionMargin` (WAD USD), kept here as well: it shares the slot
    /// of `riskPaused`, which every risk increase reads before its margin check.
    // slither-disable-next-line uninitialized-state,constable-states
    uint88 internal _minPositionMargin;
    // slither-disable-next-line uninitialized-state,constable-states
    uint256 public poolReserveRatio;

    // slither-disable-next-line uninitialized-state
    uint256 public accountCount;
    // Written by `_storeAccount` in one SSTORE (assembly), which Slither does not follow.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 accountId => AccountSlot) internal _accounts;
    mapping(address owner => mapping(uint256 subIndex => uint256 accountId)) public accountIdOf;
    // slither-disable-next-line uninitialized-state
    mapping(address owner => mapping(address operator => bool)) public isOperator;
    /// @dev Collateral units per account and token, possibly with `SEIZED_MARK` set: read them
    /// through `_collateralBalanceOf`.
    mapping(uint256 accountId => mapping(address token => uint256)) internal _collateralBalance;
    mapping(uint256 accountId => mapping(uint256 marketId => Position)) internal _positions;

    // slither-disable-next-line uninitialized-state
    address[] public collateralTokens;
    // Written by MarginEngineGovernance (listing, parameters) through the extension's delegatecall.
    // slither-disable-next-line uninitialized-state
    mapping(address token => Collateral) internal _collaterals;
    // Created by the extension; the engine writes markets through `_marketAt`'s storage pointer
    // (assembly), which Slither does not follow.
    // slither-disable-next-line uninitialized-state
    Market[] internal _markets;
    // slither-disable-next-line uninitialized-state
    LiquidationParams internal _liquidationParams;
    Ledger internal _ledger;
    /// @notice The order book: the only caller of `fillOrder` and `chargeOrderFee`.
    // slither-disable-next-line uninitialized-state,constable-states
    address public orderBook;
    BorrowState internal _borrow;
    /// @dev The borrow index at the account's last touch while it owed quote.
    mapping(uint256 accountId => uint256) internal _borrowIndexOf;
    /// @dev Risk models accounts may choose (issue 18; set by governance through the timelock).
    // slither-disable-next-line uninitialized-state
    mapping(address model => bool) internal _riskModelApproved;
    /// @dev The account's risk model (the zero address is the engine's standard margin) and its
    /// open-market mask, in one slot: every margin check reads both.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 accountId => AccountRisk) internal _accountRisk;
    /// @dev Auto-deleveraging thresholds (issue 15; GMX v2's 0.85 / 0.77 from the constructor).
    AdlParams internal _adl;

    constructor(IERC20 quote_, IOracleAdapter oracle_) {
        if (address(quote_) == address(0) || address(oracle_) == address(0)) revert ZeroAddress();
        quote = quote_;
        oracle = oracle_;
        _borrow = BorrowState(uint88(WAD), uint32(block.timestamp), 0, 0, 0, 0);
    }

    /// @dev Runs the call's calldata on `target`'s code in this contract's storage and returns or
    /// reverts with its result.
    function _delegate(address target) internal {
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev `_delegate` for a view: the target's function is a view as well, so the delegatecall
    /// writes nothing (and runs inside the caller's static call when there is one). Solidity has no
    /// view delegatecall: the function pointer is retyped.
    function _delegateView(address target) internal view {
        function(address) internal viewDelegate;
        function(address) internal view asView;
        viewDelegate = _delegate;
        assembly ("memory-safe") {
            asView := viewDelegate
        }
        asView(target);
    }

    // ------------------------------------------------------------------ internals: accounts

    function _existingAccount(uint256 accountId) internal view returns (Account memory account) {
        account = _loadAccount(accountId);
        if (account.owner == address(0)) revert UnknownAccount(accountId);
    }

    /// @dev The account's two slots in memory.
    function _loadAccount(uint256 accountId) internal view returns (Account memory account) {
        account = _loadAccountSlot(accountId);
        account.marketMask = _accountRisk[accountId].marketMask;
    }

    /// @dev The account's first slot only (one SLOAD): `marketMask` is left 0, for the paths that
    /// neither read nor write it (deposits, fees, an auction's end). `_storeAccount` never writes
    /// the market mask, so storing the result back is safe.
    function _loadAccountSlot(uint256 accountId) internal view returns (Account memory account) {
        AccountSlot storage stored = _accounts[accountId];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(stored.slot)
        }
        account.owner = address(uint160(word));
        account.collateralMask = uint16(word >> 160);
        account.activeAuctions = uint8(word >> 176);
        account.quoteBalance = int72(int256(word) >> 184);
    }

    /// @dev `_loadAccountSlot` of an account that must exist.
    function _existingAccountSlot(uint256 accountId) internal view returns (Account memory account) {
        account = _loadAccountSlot(accountId);
        if (account.owner == address(0)) revert UnknownAccount(accountId);
    }

    function _authorizedAccount(uint256 accountId) internal view returns (Account memory account) {
        account = _existingAccount(accountId);
        if (msg.sender != account.owner && !isOperator[account.owner][msg.sender]) {
            revert NotAuthorized(accountId, msg.sender);
        }
    }

    /// @dev One SSTORE of the account's first slot: a struct assignment writes (and first reads
    /// back) the slot once per field. The market mask lives in `_accountRisk` and is written where
    /// it changes (`_storePosition`).
    function _storeAccount(uint256 accountId, Account memory account) internal {
        uint256 word = uint256(uint160(account.owner)) | (uint256(account.collateralMask) << 160)
            | (uint256(account.activeAuctions) << 176) | (uint256(uint72(account.quoteBalance)) << 184);
        AccountSlot storage stored = _accounts[accountId];
        assembly ("memory-safe") {
            sstore(stored.slot, word)
        }
    }

    /// @dev One SSTORE, as `_storeAccount`.
    function _storeLedger(Ledger memory ledger) internal {
        uint256 word = uint256(uint64(ledger.poolCash)) | (uint256(ledger.accountDebt) << 64)
            | (uint256(ledger.debtInAuction) << 128) | (uint256(ledger.insuranceFees) << 192);
        assembly ("memory-safe") {
            sstore(_ledger.slot, word)
        }
    }

    function _collateralBalanceOf(uint256 accountId, address token) internal view returns (uint256) {
        return _collateralBalance[accountId][token] & ~SEIZED_MARK;
    }

    function _listedCollateral(address token) internal view returns (Collateral storage collateral) {
        collateral = _collaterals[token];
        if (!collateral.listed) revert UnknownToken(token);
    }

    function _market(uint256 marketId) internal view returns (Market storage) {
        if (marketId >= _markets.length) revert UnknownMarket(marketId);
        return _marketAt(marketId);
    }

    /// @dev `_market` without the array's length (a cold SLOAD on a settlement's path): a listed
    /// market has a non-zero asset (governance refuses zero) in the slot that holds its skew scale,
    /// which the callers read anyway; markets are never removed, so the slots of an id below
    /// `MAX_MARKETS` and past the array's end are zero.
    function _listedMarket(uint256 marketId) internal view returns (Market storage market) {
        if (marketId >= MAX_MARKETS) revert UnknownMarket(marketId);
        market = _marketAt(marketId);
        if (market.asset == address(0)) revert UnknownMarket(marketId);
    }

    /// @dev `_markets[marketId]` without the length check (an SLOAD) for an id known to exist:
    /// checked by `_market`, or taken from an account's market mask, which only holds existing ids.
    function _marketAt(uint256 marketId) internal pure returns (Market storage market) {
        assembly ("memory-safe") {
            mstore(0, _markets.slot)
            market.slot := add(keccak256(0, 0x20), mul(marketId, MARKET_SLOTS))
        }
    }

    /// @dev `collateralTokens[index]` without the length check (an SLOAD) for an index taken from
    /// an account's collateral mask, which only holds listed indexes.
    function _collateralToken(uint256 index) internal view returns (address token) {
        assembly ("memory-safe") {
            mstore(0, collateralTokens.slot)
            token := sload(add(keccak256(0, 0x20), index))
        }
    }

    /// @dev Pulls exactly `amount`: a token that delivers less (fee on transfer) is rejected.
    function _pullExact(address token, uint256 amount) internal {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        if (IERC20(token).balanceOf(address(this)) - before != amount) {
            revert FeeOnTransferNotSupported(token);
        }
    }

    /// @dev Settles a change of an account's quote against the pool (docs/ARCHITECTURE.md):
    /// `poolCash -= Δmax(q, 0)`, `accountDebt += Δmax(-q, 0)`.
    function _moveQuote(Ledger memory ledger, int256 quoteBalance, int256 delta)
        internal
        pure
        returns (int72)
    {
        int256 updated = quoteBalance + delta;
        ledger.poolCash -= SafeCast.toInt64(
            int256(MarginMath.positivePart(updated)) - int256(MarginMath.positivePart(quoteBalance))
        );
        ledger.accountDebt = SafeCast.toUint64(
            ledger.accountDebt + MarginMath.negativePart(updated) - MarginMath.negativePart(quoteBalance)
        );
        return updated.toInt72();
    }

    /// @dev `_moveQuote` for a change that may pay the account a profit (a fill, a liquidation's
    /// closure, funding): the pool pays out of its own cash only, so the part of the account's gain
    /// in positive quote that `max(poolCash, 0)` does not cover is not credited (`ProfitUnpaid`).
    /// Other accounts' cash never pays a profit (docs/pool.md, "Profit paid from the pool's cash").
    function _moveQuotePaying(Ledger memory ledger, uint256 accountId, int256 quoteBalance, int256 delta)
        internal
        returns (int72)
    {
        if (delta > 0) {
            int256 gain = int256(MarginMath.positivePart(quoteBalance + delta))
                - int256(MarginMath.positivePart(quoteBalance));
            int256 cash = ledger.poolCash > 0 ? int256(ledger.poolCash) : int256(0);
            if (gain > cash) {
                delta -= gain - cash;
                emit ProfitUnpaid(accountId, uint256(gain - cash));
            }
        }
        return _moveQuote(ledger, quoteBalance, delta);
    }

    /// @dev A risk increase needs every asset the account holds (collateral in `account`'s mask,
    /// markets in `marketMask`, which includes the market being traded) to allow it: initial health
    /// values all of them, so a tripped breaker on any one blocks (docs/margin.md, "Risk gates").
    /// An account holding only quote waits for the sequencer alone. The oracle returns each allowed
    /// asset's price with the gate (`riskIncreasePrice`): memoized in `cache`, it is the price the
    /// margin check then reads (the oracle price, same block), without a second call.
    function _checkRiskIncrease(
        uint256 accountId,
        Account memory account,
        uint256 marketMask,
        PriceCache memory cache
    ) internal view {
        if (account.activeAuctions != 0) revert AccountUnderAuction(accountId);
        if (riskPaused) revert RiskIncreasePaused();
        uint256 collateralMask = account.collateralMask;
        bool checked = false;
        for (uint256 mask = collateralMask; mask != 0; mask &= mask - 1) {
            uint256 index = _lowestBit(mask);
            cache.collateralPrice[index] = _requireRiskIncreaseAllowed(_collateralToken(index));
            checked = true;
        }
        for (uint256 mask = marketMask; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            Market storage market = _marketAt(marketId);
            uint256 shared = market.sharedCollateral;
            // Its asset was checked as collateral already (and its price is in the cache).
            if (shared != 0 && collateralMask & (1 << (shared - 1)) != 0) continue;
            cache.marketPrice[marketId] = _requireRiskIncreaseAllowed(market.asset);
            checked = true;
        }
        if (!checked && oracle.sequencerRestricted()) revert RiskIncreaseBlockedByOracle(address(quote));
    }

    function _requireRiskIncreaseAllowed(address asset) internal view returns (uint256 priceWad) {
        priceWad = oracle.riskIncreasePrice(asset);
        if (priceWad == 0) revert RiskIncreaseBlockedByOracle(asset);
    }

    function _requireInitialHealth(Account memory account, uint256 accountId, PriceCache memory cache)
        internal
        view
    {
        Margin memory margin = _margin(account, accountId, cache);
        uint256 health =
            MarginMath.health(margin.initialEquity, margin.initialRequirement, account.quoteBalance < 0);
        if (health < WAD) revert InsufficientMargin(health);
    }

    /// @dev A fill increases risk unless it only shrinks the position on the same side.
    function _increasesRisk(int256 size, int256 newSize) internal pure returns (bool) {
        if (newSize == 0) return false;
        if (size == 0 || (size > 0) != (newSize > 0)) return true;
        return MarginMath.abs(newSize) > MarginMath.abs(size);
    }

    // ------------------------------------------------------------------ internals: margin

    function _collateralPrice(PriceCache memory cache, uint256 index, address token)
        internal
        view
        returns (uint256 p)
    {
        p = cache.collateralPrice[index];
        if (p == 0) {
            p = _readPrice(cache, token);
            cache.collateralPrice[index] = p;
        }
    }

    /// @dev The oracle's price; in a lenient (liquidation) read, `UNPRICED` when the oracle rejects
    /// every feed (stale, deviation, bounds...). A revert without data (out of gas, a call to no
    /// code) is not a rejected price: it propagates, so a keeper cannot starve the oracle call of
    /// gas to have collateral valued at 0.
    function _readPrice(PriceCache memory cache, address asset) internal view returns (uint256) {
        if (!cache.lenient) return oracle.price(asset);
        try oracle.price(asset) returns (uint256 p) {
            return p;
        } catch (bytes memory reason) {
            if (reason.length == 0) revert PriceReadFailed(asset);
            if (cache.unpriced == address(0)) cache.unpriced = asset;
            return UNPRICED;
        }
    }

    function _marketPrice(PriceCache memory cache, uint256 marketId, Market storage market)
        internal
        view
        returns (uint256 p)
    {
        p = cache.marketPrice[marketId];
        if (p != 0) return p;
        address asset = market.asset;
        uint256 shared = market.sharedCollateral;
        p = shared != 0 ? _collateralPrice(cache, shared - 1, asset) : _readPrice(cache, asset);
        cache.marketPrice[marketId] = p;
    }

    function _marketRatios(PriceCache memory cache, uint256 marketId, Market storage market)
        internal
        view
        returns (uint256 mmr, uint256 imr)
    {
        uint256 ratios = cache.marketRatios[marketId];
        if (ratios != 0) return (ratios >> 128, uint128(ratios));
        (mmr, imr) = MarginMath.marginRatios(
            market.baseMmr, market.volFactor, oracle.sigma(market.asset), market.sigmaCap, market.imScale
        );
        // Both below 2^128: baseMmr <= MAX_MMR plus volFactor · sigmaCap, times imScale (bounded by
        // governance to a few WAD).
        cache.marketRatios[marketId] = (mmr << 128) | imr;
    }

    /// @dev Equity and requirement, initial and maintenance, in one pass over the account's bitmasks.
    /// Each open position adds `minPositionMargin` to both requirements. A lenient read (liquidation)
    /// values a collateral without a price at 0 and leaves a market without a price out (its
    /// position can be neither valued nor closed; docs/margin.md, "Unpriceable assets").
    function _margin(Account memory account, uint256 accountId, PriceCache memory cache)
        internal
        view
        returns (Margin memory margin)
    {
        int256 quoteBalance = account.quoteBalance;
        if (quoteBalance < 0 && !cache.interestSettled) {
            quoteBalance -= int256(_pendingInterest(accountId, quoteBalance, cache));
        }
        // An account on a model needs only the model, which memoizes the prices it reads in
        // `cache` (a liquidation closes at them). Only a lenient read whose model reverted goes on
        // to the standard margin (`_modelMargin`).
        if (_accountRisk[accountId].riskModel != address(0)) {
            bool answered;
            (margin, answered) = _modelMargin(accountId, quoteBalance, cache);
            if (answered) return margin;
        }
        // A lenient read (a liquidation, the keeper views) uses only the maintenance half: the
        // initial equity and requirement are left out of it (0; docs/margin.md, "Issue 18").
        bool initial = !cache.lenient;
        {
            int256 cash = quoteBalance * int256(MarginMath.WAD_PER_QUOTE);
            if (initial) margin.initialEquity = cash;
            margin.maintenanceEquity = cash;
        }
        for (uint256 mask = account.collateralMask; mask != 0; mask &= mask - 1) {
            uint256 index = _lowestBit(mask);
            address token = _collateralToken(index);
            Collateral storage collateral = _collaterals[token];
            uint256 amount = _collateralBalanceOf(accountId, token);
            uint256 price = _collateralPrice(cache, index, token);
            if (price == UNPRICED) continue;
            // Slot 0 (weights, decimals) in one SLOAD: field by field, each read loads it again.
            uint256 params;
            assembly ("memory-safe") {
                params := sload(collateral.slot)
            }
            // `MarginMath.collateralValue`'s first step, shared by both weights.
            uint256 worth = MarginMath.mulDivDown(amount, price, 10 ** uint8(params >> 136));
            if (initial) margin.initialEquity += int256(MarginMath.mulDivDown(worth, uint64(params), WAD));
            margin.maintenanceEquity += int256(MarginMath.mulDivDown(worth, uint64(params >> 64), WAD));
        }
        uint256 mask = account.marketMask;
        uint256 minMargin = cache.minPositionMargin;
        if (minMargin == 0 && mask != 0) minMargin = _minPositionMargin;
        int256 pnlSum;
        uint256 positions;
        for (; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            Market storage market = _marketAt(marketId);
            uint256 price = _marketPrice(cache, marketId, market);
            if (price == UNPRICED) continue;
            Position memory position = _positions[accountId][marketId];
            (uint256 mmr, uint256 imr) = _marketRatios(cache, marketId, market);
            int256 pnl = MarginMath.unrealizedPnl(position.size, position.openNotional, price)
                - _fundingOwed(position.size, position.fundingEntry, _fundingIndexNow(market, price))
                * int256(MarginMath.WAD_PER_QUOTE);
            uint256 notional = MarginMath.notional(position.size, price);
            // The sums from 0 cannot overflow: at most 64 terms (the market mask's bits; 8 per
            // account in practice), each with |size| < 2^95 (int96) at a price below 2^128 (the
            // oracle's bounds are uint128): notional < 2^164 and a requirement (ratios below 2^128,
            // over WAD) < 2^233; |pnl| < 2^228: size · price / WAD < 2^164, and the funding term's
            // size · Δindex is below 2^255 (checked above, or it reverted), over 10^21, times 10^12.
            unchecked {
                pnlSum += pnl;
                margin.notional += notional;
                margin.maintenanceRequirement += MarginMath.mulDivUp(notional, mmr, WAD);
                if (initial) margin.initialRequirement += MarginMath.mulDivUp(notional, imr, WAD);
                ++positions;
            }
        }
        // Checked: the collateral's value is bounded only by the oracle's and the token's figures.
        uint256 minimum = positions * minMargin;
        if (initial) {
            margin.initialEquity += pnlSum;
            margin.initialRequirement += minimum;
        }
        margin.maintenanceEquity += pnlSum;
        margin.maintenanceRequirement += minimum;
        margin.minimumMargin = minimum;
    }

    /// @dev The account's margin under its chosen model, through the bridge (`IRiskModelBridge`: the
    /// engine routes it to `MarginEngineGovernance`, which overrides this with the bridge's code
    /// itself), starting from the prices `cache` holds and writing back every price the bridge read
    /// (and the first unpriced asset, unless `cache` already names one). A strict read propagates
    /// the model's revert. A lenient read (liquidation, keeper views) returns `answered = false`
    /// when the model reverts with a reason (a grid that no longer covers an asset, for instance):
    /// the caller then uses the standard margin, so no model can block a liquidation; a revert
    /// without data (out of gas) propagates, so a keeper cannot starve the call to pick the
    /// margin it prefers.
    function _modelMargin(uint256 accountId, int256 quoteBalance, PriceCache memory cache)
        internal
        view
        virtual
        returns (Margin memory margin, bool answered)
    {
        // A static call to this engine, encoded and decoded in place (the ABI coder would cost
        // code the engine does not have): the two price arrays (16 and 64 words) are behind the
        // cache's first two pointers, `unpriced` its fifth word; the answer is `Margin` (six
        // words), the two arrays and the unpriced asset.
        bytes4 selector = IRiskModelBridge.riskModelMargin.selector;
        bool lenient = cache.lenient;
        assembly ("memory-safe") {
            let p := mload(0x40)
            let collateralPrices := mload(cache)
            let marketPrices := mload(add(cache, 0x20))
            mstore(p, selector)
            mstore(add(p, 0x04), accountId)
            mstore(add(p, 0x24), quoteBalance)
            mstore(add(p, 0x44), lenient)
            mcopy(add(p, 0x64), collateralPrices, 0x200)
            mcopy(add(p, 0x264), marketPrices, 0x800)
            answered := staticcall(gas(), address(), p, 0xa64, 0, 0)
            switch answered
            case 0 {
                if or(iszero(lenient), iszero(returndatasize())) {
                    returndatacopy(p, 0, returndatasize())
                    revert(p, returndatasize())
                }
            }
            default {
                // Copying past the end of the return data reverts: a short answer cannot pass.
                returndatacopy(margin, 0, 0xc0)
                returndatacopy(collateralPrices, 0xc0, 0x200)
                returndatacopy(marketPrices, 0x2c0, 0x800)
                // The bridge knows only the prices it was handed: its unpriced asset is news only
                // when this read had none yet (a price it skipped as UNPRICED was failed here).
                if iszero(mload(add(cache, 0x80))) {
                    returndatacopy(add(cache, 0x80), 0xac0, 0x20)
                }
            }
        }
    }

    /// @dev Index of the lowest set bit of a nonzero mask below 2^64 (every mask of the engine), in
    /// constant gas: the bit is isolated, its upper or lower half chosen, and its index in the
    /// half read from the De Bruijn sequence 0x077CB531's 32-entry table.
    function _lowestBit(uint256 mask) internal pure returns (uint256 index) {
        assembly ("memory-safe") {
            let bit := and(mask, add(not(mask), 1))
            index := shl(5, gt(bit, 0xffffffff))
            bit := shr(index, bit)
            index := or(
                index,
                byte(
                    and(shr(27, mul(bit, 0x077cb531)), 31),
                    0x00011c021d0e18031e16140f191104081f1b0d17151310071a0c12060b050a09
                )
            )
        }
    }

    /// @dev Number of set bits of a mask below 2^64 (SWAR).
    function _bitCount(uint256 mask) internal pure returns (uint256 count) {
        unchecked {
            mask -= (mask >> 1) & 0x5555555555555555;
            mask = (mask & 0x3333333333333333) + ((mask >> 2) & 0x3333333333333333);
            mask = (mask + (mask >> 4)) & 0x0f0f0f0f0f0f0f0f;
            count = ((mask * 0x0101010101010101) >> 56) & 0xff;
        }
    }

    // ------------------------------------------------------------------ internals: funding

    /// @dev Funding owed by a position since `entry` (quote units, positive: the account pays),
    /// rounded against the account: up when owed, down when received.
    function _fundingOwed(int256 size, int256 entry, int256 index) internal pure returns (int256) {
        return MarginMath.ceilDiv(size * (index - entry), FUNDING_QUOTE_DIVISOR);
    }

    /// @dev The market's funding index now at `price`, without writing it.
    function _fundingIndexNow(Market storage market, uint256 price) internal view returns (int256 index) {
        uint256 last = market.lastFundingTime;
        // No position since `last` (or ever): nothing accrues to anyone.
        if (last == 0 || last == block.timestamp) return market.fundingIndex;
        (, index) = _fundingStep(market, price, block.timestamp - last);
    }

    /// @dev Accrues the market's funding up to now at the oracle `price` (docs/funding.md):
    /// `rate' = clamp(rate + velocity · dt / 1 day, ±maxFundingRate)`, the index grows by the
    /// trapezoid `(rate + rate') / 2 · dt / 1 day · price`. Returns the index.
    function _accrueFunding(Market storage market, uint256 price) internal returns (int256 index) {
        // Slot 3 read once and rewritten with the time (its other fields unchanged).
        uint256 books;
        assembly ("memory-safe") {
            books := sload(add(market.slot, 3))
        }
        uint256 last = books >> 224;
        if (last == block.timestamp) return market.fundingIndex;
        books = uint224(books) | (uint256(uint32(block.timestamp)) << 224);
        if (last == 0) {
            // The market had no position: the index restarts from 0 (nobody holds an entry in it)
            // and the rate, which a zero skew does not move, stays.
            assembly ("memory-safe") {
                sstore(add(market.slot, 3), books)
            }
            return 0;
        }
        int256 rate;
        (rate, index) = _fundingStep(market, price, block.timestamp - last);
        assembly ("memory-safe") {
            sstore(add(market.slot, 3), books)
        }
        market.fundingIndex = index.toInt64();
        // |rate| <= maxFundingRate <= MAX_FUNDING_RATE. The slot is rewritten only when it moves.
        if (rate != market.fundingRate) market.fundingRate = int64(rate);
    }

    function _fundingStep(Market storage market, uint256 price, uint256 elapsed)
        internal
        view
        returns (int256 rate, int256 index)
    {
        // Slots 0 (skew scale), 4 (open interest, index) and 5 (funding parameters and rate), read
        // once each: field by field, each read loads its slot again.
        uint256 head;
        uint256 interest;
        uint256 params;
        assembly ("memory-safe") {
            head := sload(market.slot)
            interest := sload(add(market.slot, 4))
            params := sload(add(market.slot, 5))
        }
        int256 rate0 = int64(uint64(params >> 192));
        int256 bound = int256(uint256(uint64(params >> 128)));
        rate = rate0 + _fundingVelocity(head, interest, params) * int256(elapsed) / 1 days;
        if (rate > bound) rate = bound;
        else if (rate < -bound) rate = -bound;
        index = int256(int64(uint64(interest >> 192)))
            + MarginMath.floorDiv((rate0 + rate) * int256(elapsed) * int256(price), FUNDING_ACCRUAL_DIVISOR);
    }

    /// @dev `clamp(skew / skewScale, -1, 1) · maxFundingVelocity` (WAD per day per day, toward
    /// zero), 0 while |skew / skewScale| is below the dead-band. The proportion is divided first on
    /// purpose: it is clamped to ±1 before it scales the velocity (solvent/model/funding.py rounds alike).
    /// Reads the market's slots 0 (`head`: the skew scale), 4 (`interest`: the net size) and 5
    /// (`params`: the velocity and the dead-band) as `_fundingStep` loaded them.
    // slither-disable-next-line divide-before-multiply
    function _fundingVelocity(uint256 head, uint256 interest, uint256 params) internal pure returns (int256) {
        int256 netSize = int256(uint256(uint96(interest))) - int256(uint256(uint96(interest >> 96)));
        int256 proportion = netSize * int256(WAD) / int256(uint256(uint88(head >> 168)));
        if (proportion > int256(WAD)) proportion = int256(WAD);
        else if (proportion < -int256(WAD)) proportion = -int256(WAD);
        if (MarginMath.abs(proportion) < uint64(params >> 64)) return 0;
        return proportion * int256(uint256(uint64(params))) / int256(WAD);
    }

    /// @dev Settles the funding of every priced position of the account into its quote (a market
    /// without a price keeps its funding pending; it is left out of the margin as well).
    function _settleFunding(
        Account memory account,
        uint256 accountId,
        Ledger memory ledger,
        PriceCache memory cache
    ) internal {
        int256 owedTotal;
        for (uint256 mask = account.marketMask; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            Market storage market = _marketAt(marketId);
            uint256 price = _marketPrice(cache, marketId, market);
            if (price == UNPRICED) continue;
            int256 index = _accrueFunding(market, price);
            Position storage position = _positions[accountId][marketId];
            int256 size = position.size;
            int256 entry = position.fundingEntry;
            if (index == entry) continue;
            int256 owed = _fundingOwed(size, entry, index);
            market.fundingEntrySum =
                (market.fundingEntrySum + _entryShare(size, index) - _entryShare(size, entry)).toInt112();
            position.fundingEntry = int64(index);
            if (owed != 0) emit FundingSettled(accountId, marketId, owed);
            owedTotal += owed;
        }
        if (owedTotal != 0) {
            account.quoteBalance = _moveQuotePaying(ledger, accountId, account.quoteBalance, -owedTotal);
        }
    }

    // ------------------------------------------------------------------ internals: borrow

    /// @dev The borrow state now, without writing it: between two accruals the index grows by
    /// simple interest at the rate of the utilization at the accrual (rounded up), and all debt
    /// (booked and pending) earns the pool `debt · Δindex / index` (rounded down).
    function _borrowNow(Ledger memory ledger) internal view returns (BorrowState memory state) {
        state = _borrow;
        uint256 elapsed = block.timestamp - state.lastTime;
        if (elapsed == 0) return state;
        state.lastTime = uint32(block.timestamp);
        uint256 debt = uint256(ledger.accountDebt) + state.pendingInterest;
        if (debt == 0) return state;
        uint256 rate = _borrowRate(state, ledger.poolCash, debt);
        if (rate == 0) return state;
        uint256 index = state.index;
        uint256 grown = index + MarginMath.mulDivUp(index, rate * elapsed, YEAR_WAD);
        state.pendingInterest += MarginMath.mulDivDown(debt, grown - index, index).toUint64();
        if (grown > type(uint88).max) revert SafeCast.SafeCastOverflowedUintDowncast(88, grown);
        state.index = uint88(grown);
    }

    /// @dev Kinked on utilization `u = debt / (poolCash + debt)` (up; 1 when the pool has no cash):
    /// `u / opt · base` up to the optimal utilization, `base + (u - opt) / (1 - opt) · (max - base)`
    /// above it (annual WAD, up).
    function _borrowRate(BorrowState memory state, int256 poolCash, uint256 debt)
        internal
        pure
        returns (uint256)
    {
        uint256 optimal = uint256(state.optimalUtilization) * BORROW_PARAM_UNIT;
        if (optimal == 0) return 0; // never configured
        uint256 utilization = poolCash <= 0 ? WAD : MarginMath.mulDivUp(debt, WAD, uint256(poolCash) + debt);
        uint256 base = uint256(state.baseRate) * BORROW_PARAM_UNIT;
        if (utilization <= optimal) return MarginMath.mulDivUp(utilization, base, optimal);
        uint256 maxRate = uint256(state.maxRate) * BORROW_PARAM_UNIT;
        return base + MarginMath.mulDivUp(utilization - optimal, maxRate - base, WAD - optimal);
    }

    /// @dev Accrues the borrow index and charges the account the interest on its debt since its
    /// last touch (`debt · index / indexThen - debt`, up): it joins the debt, income of the pool.
    /// The caller records the index (`_recordBorrowIndex`) once the account's quote is final, and
    /// marks its margin cache `interestSettled`.
    function _touchBorrow(Account memory account, uint256 accountId, Ledger memory ledger)
        internal
        returns (uint256 index)
    {
        BorrowState memory state = _borrowNow(ledger);
        index = state.index;
        int256 quoteBalance = account.quoteBalance;
        if (quoteBalance < 0) {
            uint256 interest = _interest(accountId, quoteBalance, index);
            if (interest != 0) {
                account.quoteBalance = _moveQuote(ledger, quoteBalance, -int256(interest));
                uint256 pending = state.pendingInterest;
                state.pendingInterest = uint64(interest < pending ? pending - interest : 0);
                emit InterestCharged(accountId, interest);
            }
        }
        // One SSTORE, as `_storeAccount` (a struct assignment rewrites the slot once per field).
        uint256 word = uint256(state.index) | (uint256(state.lastTime) << 88)
            | (uint256(state.pendingInterest) << 120) | (uint256(state.baseRate) << 184)
            | (uint256(state.optimalUtilization) << 208) | (uint256(state.maxRate) << 232);
        assembly ("memory-safe") {
            sstore(_borrow.slot, word)
        }
    }

    /// @dev Records the borrow index for an account that owes quote after a touch.
    function _recordBorrowIndex(Account memory account, uint256 accountId, uint256 index) internal {
        if (account.quoteBalance < 0 && _borrowIndexOf[accountId] != index) {
            _borrowIndexOf[accountId] = index;
        }
    }

    function _interest(uint256 accountId, int256 quoteBalance, uint256 index)
        internal
        view
        returns (uint256)
    {
        uint256 from = _borrowIndexOf[accountId];
        if (from == 0 || from >= index) return 0;
        uint256 debt = uint256(-quoteBalance);
        return MarginMath.mulDivUp(debt, index, from) - debt;
    }

    /// @dev Interest the account owes now and has not been charged (quote units).
    function _pendingInterest(uint256 accountId, int256 quoteBalance, PriceCache memory cache)
        internal
        view
        returns (uint256)
    {
        uint256 index = cache.borrowIndex;
        if (index == 0) {
            index = _borrowNow(_ledger).index;
            cache.borrowIndex = index;
        }
        return _interest(accountId, quoteBalance, index);
    }

    // ------------------------------------------------------------------ internals: fills

    /// @dev Applies a fill at `price` to the position, the market aggregates and the quote books in
    /// memory (`account`, `ledger`: the caller stores them), after charging the account's borrow
    /// interest and settling the position's funding (accrued at the oracle price).
    function _fill(
        Account memory account,
        uint256 accountId,
        uint256 marketId,
        int256 sizeDelta,
        uint256 price,
        uint256 tradeFee,
        Ledger memory ledger,
        PriceCache memory cache
    ) internal returns (bool increasesRisk) {
        Market storage market = _marketAt(marketId);
        Position memory position = _positions[accountId][marketId];
        // A first position in the market (its bit is clear) must stay within the account's bound.
        if (position.size == 0 && _bitCount(account.marketMask) >= MAX_ACCOUNT_MARKETS) {
            revert AccountMarketLimit(accountId);
        }
        increasesRisk = _increasesRisk(position.size, position.size + sizeDelta);
        if (increasesRisk) {
            _checkRiskIncrease(accountId, account, account.marketMask | (1 << marketId), cache);
        }

        cache.borrowIndex = _touchBorrow(account, accountId, ledger);
        cache.interestSettled = true;
        (int256 realizedPnl, int256 funding) =
            _movePosition(account, accountId, market, marketId, position, sizeDelta, price, cache);
        if (increasesRisk) _requireExposureBound(market, marketId, sizeDelta, price, ledger.poolCash);
        _payInsuranceCut(ledger, tradeFee * market.insuranceFeeShare / WAD);
        _creditPaying(
            ledger, account, accountId, MarginMath.toQuoteFloor(realizedPnl) - int256(tradeFee) - funding
        );
        emit Traded(accountId, marketId, sizeDelta, price, tradeFee, realizedPnl);
    }

    /// @dev The insurance fund's share of a trade fee, out of the pool's cash (which took the fee).
    function _payInsuranceCut(Ledger memory ledger, uint256 insuranceCut) internal pure {
        ledger.poolCash -= int256(insuranceCut).toInt64();
        ledger.insuranceFees += insuranceCut.toUint64();
    }

    /// @dev `_moveQuotePaying` on the account's quote in memory.
    function _creditPaying(Ledger memory ledger, Account memory account, uint256 accountId, int256 delta)
        internal
    {
        account.quoteBalance = _moveQuotePaying(ledger, accountId, account.quoteBalance, delta);
    }

    /// @dev A fill that grows the traders' net size (the pool's exposure, long or short) must keep
    /// it within `maxExposureRatio` times the pool's cash, at the fill price (bound rounded down):
    /// the pool is the counterparty, and its cash is what pays the traders' profit
    /// (docs/pool.md, "Exposure bound"). A fill that shrinks the net size is never refused.
    function _requireExposureBound(
        Market storage market,
        uint256 marketId,
        int256 sizeDelta,
        uint256 price,
        int256 poolCash
    ) internal view {
        int256 net = _netSize(market);
        int256 netBefore = net - sizeDelta;
        if ((net < 0 ? -net : net) <= (netBefore < 0 ? -netBefore : netBefore)) return;
        uint256 exposure = MarginMath.notional(net, price);
        uint256 bound =
            MarginMath.positivePart(poolCash) * MarginMath.WAD_PER_QUOTE * market.maxExposureRatio / WAD;
        if (exposure > bound) revert PoolExposureExceeded(marketId, exposure, bound);
    }

    /// @dev The position and the market after the fill; returns the PnL it realizes (WAD) and the
    /// funding the position owed up to now (quote units), accrued at the oracle price.
    function _movePosition(
        Account memory account,
        uint256 accountId,
        Market storage market,
        uint256 marketId,
        Position memory position,
        int256 sizeDelta,
        uint256 price,
        PriceCache memory cache
    ) internal returns (int256 realizedPnl, int256 funding) {
        int256 index = market.lastFundingTime == block.timestamp
            ? int256(market.fundingIndex)
            : _accrueFunding(market, _marketPrice(cache, marketId, market));
        funding = _fundingOwed(position.size, position.fundingEntry, index);
        if (funding != 0) emit FundingSettled(accountId, marketId, funding);
        int256 newSize = position.size + sizeDelta;
        int256 newOpenNotional;
        (newOpenNotional, realizedPnl) =
            MarginMath.applyFill(position.size, position.openNotional, sizeDelta, price);
        _updateMarket(market, marketId, position, newSize, newOpenNotional, index);
        _storePosition(accountId, marketId, account, newSize, newOpenNotional, index);
    }

    // ------------------------------------------------------------------ internals: positions

    /// @dev The traders' net size (WAD, long > 0): the skew the pool carries.
    function _netSize(Market storage market) internal view returns (int256) {
        return int256(uint256(market.longOpenInterest)) - int256(uint256(market.shortOpenInterest));
    }

    /// @dev The market's aggregates after a position moves from `position` to `newSize` with open
    /// notional `newOpenNotional` and funding entry `index` (its funding is settled up to `index`).
    function _updateMarket(
        Market storage market,
        uint256 marketId,
        Position memory position,
        int256 newSize,
        int256 newOpenNotional,
        int256 index
    ) internal {
        // Slots 3 (open notional, entry sum, funding time) and 4 (open interest, funding index)
        // are read and written once each: field by field, every assignment reads the slot back.
        uint256 books;
        uint256 interest;
        assembly ("memory-safe") {
            books := sload(add(market.slot, 3))
            interest := sload(add(market.slot, 4))
        }
        books = _marketSums(books, position, newSize, newOpenNotional, index);
        uint256 longBefore = uint96(interest);
        uint256 shortBefore = uint96(interest >> 96);
        uint256 longOi =
            longBefore + MarginMath.positivePart(newSize) - MarginMath.positivePart(position.size);
        uint256 shortOi =
            shortBefore + MarginMath.negativePart(newSize) - MarginMath.negativePart(position.size);
        // Only a side that grows is capped: closing must work even after governance lowers a cap.
        // A fill that grows neither side (every close, every liquidation) skips the cap's slot.
        if (longOi > longBefore || shortOi > shortBefore) {
            uint256 cap = market.openInterestCap;
            if ((longOi > longBefore && longOi > cap) || (shortOi > shortBefore && shortOi > cap)) {
                revert OpenInterestCapExceeded(marketId, cap);
            }
        }
        // Both open interests <= cap <= MAX_OPEN_INTEREST_CAP, or no larger than before. The
        // funding time and index stay, unless the last position closed (its open notional and
        // entry share with it): the funding clock and index restart with the next position, and
        // both slots return to zero.
        if (longOi == 0 && shortOi == 0) {
            books = uint224(books);
            interest = 0;
        } else {
            interest = longOi | (shortOi << 96) | (interest >> 192 << 192);
        }
        assembly ("memory-safe") {
            sstore(add(market.slot, 3), books)
            sstore(add(market.slot, 4), interest)
        }
    }

    /// @dev Slot 3 of a market (`books`) with its open notional and funding entry sum moved by a
    /// position's change (`_updateMarket`); the funding time is kept.
    function _marketSums(
        uint256 books,
        Position memory position,
        int256 newSize,
        int256 newOpenNotional,
        int256 index
    ) internal pure returns (uint256) {
        int256 netOpenNotional =
            int256(int112(uint112(books))) + newOpenNotional - position.openNotional;
        int256 entrySum = int256(int112(uint112(books >> 112))) + _entryShare(newSize, index)
            - _entryShare(position.size, position.fundingEntry);
        return uint256(uint112(netOpenNotional.toInt112())) | (uint256(uint112(entrySum.toInt112())) << 112)
            | (books >> 224 << 224);
    }

    /// @dev A position's share of `Market.fundingEntrySum`: floor(size · index / 1e9) (WAD USD).
    function _entryShare(int256 size, int256 index) internal pure returns (int256) {
        return MarginMath.floorDiv(size * index, FUNDING_INDEX_PER_WAD);
    }

    function _storePosition(
        uint256 accountId,
        uint256 marketId,
        Account memory account,
        int256 newSize,
        int256 newOpenNotional,
        int256 index
    ) internal {
        uint64 mask = account.marketMask;
        if (newSize == 0) {
            delete _positions[accountId][marketId];
            mask &= ~uint64(1 << marketId);
        } else {
            _positions[accountId][marketId] =
                Position(newSize.toInt96(), newOpenNotional.toInt96(), index.toInt64());
            mask |= uint64(1 << marketId);
        }
        if (mask != account.marketMask) {
            account.marketMask = mask;
            // The market mask shares its slot with the risk model (and the marker set at opening).
            _accountRisk[accountId].marketMask = mask;
        }
    }

    /// @dev Checks the account is liquidatable and closes the partial fraction, or everything when
    /// health is below the full-liquidation threshold or when the account's quote could not pay the
    /// partial closure's penalty (its collateral then goes to auction, so nothing may stay open). A
    /// partial closure is computed once: checked, then written as computed.
    function _closeForLiquidation(
        Account memory account,
        uint256 accountId,
        PriceCache memory cache,
        LiquidationParams memory params
    ) internal returns (Closure memory closure) {
        closure.fraction = _liquidationFraction(account, accountId, cache, params);
        if (closure.fraction < WAD) {
            if (_partialMayPay(account, accountId, cache, params.keeperTip)) {
                // slither-disable-next-line uninitialized-local
                ClosurePlan memory plan;
                plan.fraction = closure.fraction;
                plan.dustNotional = params.dustNotional;
                _planClosure(account, accountId, cache, plan);
                (closure.realizedPnl, closure.closedNotional) = (plan.realizedPnl, plan.closedNotional);
                closure.penalty =
                    MarginMath.penalty(closure.closedNotional, params.penaltyRate, 0, 0, params.keeperTip);
                if (
                    account.quoteBalance + MarginMath.toQuoteFloor(closure.realizedPnl)
                        >= int256(closure.penalty)
                ) {
                    _applyClosure(account, accountId, plan);
                    return closure;
                }
            }
            closure.fraction = WAD;
        }
        (closure.realizedPnl, closure.closedNotional) =
            _closePositions(account, accountId, cache, WAD, params.dustNotional);
        closure.penalty =
            MarginMath.penalty(closure.closedNotional, params.penaltyRate, 0, 0, params.keeperTip);
    }

    /// @dev False when no partial closure's PnL can pay its penalty, so planning one (a pass of
    /// closing fills) would only find that out: quote below the keeper tip (a floor of any
    /// penalty that closes something) with every priced position's PnL added at most. Closing a
    /// part c/h of a position realizes at most (c/h) * (size * price - openNotional) (PnL down,
    /// open notional up), below max(unrealizedPnl, 0) + 1 wei, so the bound is exact: the plan
    /// is skipped only when it would fail the check of `_closeForLiquidation`.
    function _partialMayPay(
        Account memory account,
        uint256 accountId,
        PriceCache memory cache,
        uint256 keeperTip
    ) internal view returns (bool) {
        int256 quoteBalance = account.quoteBalance;
        if (quoteBalance >= int256(keeperTip)) return true;
        int256 gain = 0;
        bool priced = false;
        for (uint256 mask = account.marketMask; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            uint256 price = cache.marketPrice[marketId];
            if (price == UNPRICED) continue;
            Position memory position = _positions[accountId][marketId];
            int256 pnl = MarginMath.unrealizedPnl(position.size, position.openNotional, price);
            gain += (pnl > 0 ? pnl : int256(0)) + 1;
            priced = true;
        }
        // Nothing priced: nothing closes and the penalty is 0, which the plan's check decides.
        return !priced || quoteBalance + MarginMath.toQuoteFloor(gain) >= int256(keeperTip);
    }

    function _liquidationFraction(
        Account memory account,
        uint256 accountId,
        PriceCache memory cache,
        LiquidationParams memory params
    ) internal view returns (uint256 fraction) {
        Margin memory margin = _margin(account, accountId, cache);
        uint256 health = MarginMath.health(
            margin.maintenanceEquity, margin.maintenanceRequirement, account.quoteBalance < 0
        );
        if (health >= WAD) revert AccountHealthy(health);
        if (health >= params.restrictedLiquidationHealth && oracle.sequencerRestricted()) {
            revert SequencerRestrictedLiquidation(health);
        }
        fraction = health < params.fullLiquidationHealth
            ? WAD
            : MarginMath.liquidationFraction(
                margin.maintenanceEquity,
                margin.maintenanceRequirement,
                margin.notional,
                margin.minimumMargin,
                params.penaltyRate,
                params.targetHealth
            );
    }

    /// @dev Closes `fraction` (WAD, up) of every position at the oracle price; a position whose rest
    /// would be below `dustNotional` closes fully.
    function _closePositions(
        Account memory account,
        uint256 accountId,
        PriceCache memory cache,
        uint256 fraction,
        uint256 dustNotional
    ) internal returns (int256 realizedPnl, uint256 closedNotional) {
        for (uint256 mask = account.marketMask; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            uint256 price = cache.marketPrice[marketId];
            if (price == UNPRICED) continue;
            Position memory position = _positions[accountId][marketId];
            (int256 sizeDelta, int256 newOpenNotional, int256 pnl, uint256 notional) =
                _closingFill(position, price, fraction, dustNotional);
            realizedPnl += pnl;
            closedNotional += notional;
            _writeFill(account, accountId, marketId, position, position.size + sizeDelta, newOpenNotional);
        }
    }

    /// @dev `_closePositions` of `plan.fraction` without writing: the fills, their realized PnL
    /// and closed notional go to `plan`.
    function _planClosure(
        Account memory account,
        uint256 accountId,
        PriceCache memory cache,
        ClosurePlan memory plan
    ) internal view {
        uint256 rank = 0;
        for (uint256 mask = account.marketMask; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            uint256 price = cache.marketPrice[marketId];
            if (price != UNPRICED) _planFill(plan, rank, _positions[accountId][marketId], price);
            ++rank;
        }
    }

    /// @dev One market's closing fill into `plan` at `rank`.
    function _planFill(ClosurePlan memory plan, uint256 rank, Position memory position, uint256 price)
        internal
        pure
    {
        (int256 sizeDelta, int256 newOpenNotional, int256 pnl, uint256 notional) =
            _closingFill(position, price, plan.fraction, plan.dustNotional);
        plan.realizedPnl += pnl;
        plan.closedNotional += notional;
        plan.sizeDelta[rank] = sizeDelta;
        plan.newOpenNotional[rank] = newOpenNotional;
    }

    function _applyClosure(Account memory account, uint256 accountId, ClosurePlan memory plan) internal {
        // The same mask as the plan's (it changes only below, on the memory copy), so the same ranks.
        uint256 rank = 0;
        for (uint256 mask = account.marketMask; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            // No fill planned: the market has no price (a planned closing fill is never 0).
            int256 sizeDelta = plan.sizeDelta[rank];
            if (sizeDelta != 0) {
                Position memory position = _positions[accountId][marketId];
                _writeFill(
                    account,
                    accountId,
                    marketId,
                    position,
                    position.size + sizeDelta,
                    plan.newOpenNotional[rank]
                );
            }
            ++rank;
        }
    }

    function _writeFill(
        Account memory account,
        uint256 accountId,
        uint256 marketId,
        Position memory position,
        int256 newSize,
        int256 newOpenNotional
    ) internal {
        Market storage market = _marketAt(marketId);
        int256 index = market.fundingIndex;
        _updateMarket(market, marketId, position, newSize, newOpenNotional, index);
        _storePosition(accountId, marketId, account, newSize, newOpenNotional, index);
    }

    function _closingFill(Position memory position, uint256 price, uint256 fraction, uint256 dustNotional)
        internal
        pure
        returns (int256 sizeDelta, int256 newOpenNotional, int256 realizedPnl, uint256 closedNotional)
    {
        sizeDelta = _closingDelta(position.size, price, fraction, dustNotional);
        (newOpenNotional, realizedPnl) =
            MarginMath.applyFill(position.size, position.openNotional, sizeDelta, price);
        closedNotional = MarginMath.notional(sizeDelta, price);
    }

    /// @dev The fill that closes `fraction` (up) of a position, or all of it when the rest is dust.
    function _closingDelta(int256 size, uint256 price, uint256 fraction, uint256 dustNotional)
        internal
        pure
        returns (int256)
    {
        uint256 held = MarginMath.abs(size);
        uint256 closing = MarginMath.mulDivUp(held, fraction, WAD);
        if (closing > held || MarginMath.mulDivUp(held - closing, price, WAD) < dustNotional) {
            closing = held;
        }
        return size > 0 ? -int256(closing) : int256(closing);
    }

    // ------------------------------------------------------------------ internals: hand-off & waterfall

    /// @dev Quote does not cover the penalty: the penalty grows by the fee on the debt recovered
    /// (`liquidationFee * debt`, Maker's chop), cash pays what it can of it, the debt leaves the
    /// account for auction with the collateral, or is written off at once when there is none.
    /// Returns the keeper's reward as actually paid (the insurance fund fronts it and may pay less).
    function _handOff(
        Account memory account,
        uint256 accountId,
        Ledger memory ledger,
        Closure memory closure,
        LiquidationParams memory params,
        PriceCache memory cache,
        address keeper
    ) internal returns (uint256 reward) {
        uint256 penaltyPaid = MarginMath.positivePart(account.quoteBalance);
        uint256 debt = MarginMath.negativePart(account.quoteBalance);
        uint256 penaltyDue = MarginMath.penalty(
            closure.closedNotional, params.penaltyRate, debt, params.liquidationFee, params.keeperTip
        );
        closure.penalty = penaltyDue;
        uint256 unpaidPenalty = penaltyDue - penaltyPaid;
        ledger.insuranceFees += penaltyPaid.toUint64();
        ledger.accountDebt -= debt.toUint64();
        account.quoteBalance = 0;
        reward = MarginMath.keeperReward(debt, penaltyDue, params.keeperTip, params.keeperChip);

        if (account.collateralMask == 0) {
            _writeOff(ledger, accountId, debt);
            _storeLedger(ledger);
            _storeAccount(accountId, account);
            IInsuranceFund fund = insuranceFund;
            if (address(fund) == address(0)) revert InsuranceFundNotSet();
            if (reward != 0) reward = fund.payKeeperReward(keeper, reward);
            return reward;
        }

        ledger.debtInAuction += debt.toUint64();
        // The liquidator has the fund pay the keeper and reports what it paid.
        reward = _auction(account, accountId, ledger, debt, unpaidPenalty, cache, keeper);
    }

    /// @dev Seizes the collateral and hands it, the debt and the unpaid penalty to the liquidator.
    function _auction(
        Account memory account,
        uint256 accountId,
        Ledger memory ledger,
        uint256 debt,
        uint256 unpaidPenalty,
        PriceCache memory cache,
        address keeper
    ) internal returns (uint256 keeperReward) {
        ILiquidator auctions = liquidator;
        if (address(auctions) == address(0)) revert LiquidatorNotSet();
        (address[] memory tokens, uint256[] memory lots, uint256[] memory prices) =
            _seizeCollateral(account, accountId, cache);
        account.activeAuctions += uint8(tokens.length);
        _storeLedger(ledger);
        _storeAccount(accountId, account);
        uint256 firstAuctionId;
        (firstAuctionId, keeperReward) =
            auctions.startAuctions(accountId, tokens, lots, prices, debt, unpaidPenalty, keeper);
        emit HandedToAuction(accountId, debt, unpaidPenalty, firstAuctionId);
    }

    /// @dev Moves every collateral of the account into the engine's custody for auctions (no token
    /// transfer: the liquidator has takes paid out of it); also returns the prices the margin check
    /// read (every listed collateral of the account is in `cache`), so the liquidator need not.
    function _seizeCollateral(Account memory account, uint256 accountId, PriceCache memory cache)
        internal
        returns (address[] memory tokens, uint256[] memory lots, uint256[] memory prices)
    {
        uint256 mask = account.collateralMask;
        uint256 count = 0;
        for (uint256 m = mask; m != 0; m &= m - 1) {
            ++count;
        }
        tokens = new address[](count);
        lots = new uint256[](count);
        prices = new uint256[](count);
        for (uint256 i; mask != 0; mask &= mask - 1) {
            uint256 index = _lowestBit(mask);
            address token = _collateralToken(index);
            uint256 lot = _collateralBalanceOf(accountId, token);
            _collateralBalance[accountId][token] = SEIZED_MARK;
            Collateral storage collateral = _collaterals[token];
            // Slot 1 holds `totalDeposited` (low half) and `inAuction` (high half): one SLOAD and
            // one SSTORE (field by field, each assignment reads the slot back).
            uint256 custody;
            assembly ("memory-safe") {
                custody := sload(add(collateral.slot, 1))
            }
            uint128 deposited = uint128(custody) - uint128(lot);
            uint128 inAuction = uint128(custody >> 128) + uint128(lot);
            uint256 seized = uint256(deposited) | (uint256(inAuction) << 128);
            assembly ("memory-safe") {
                sstore(add(collateral.slot, 1), seized)
            }
            tokens[i] = token;
            prices[i] = _collateralPrice(cache, index, token);
            lots[i++] = lot;
        }
        account.collateralMask = 0;
    }

    /// @dev Takes `amount` of `token` out of auction custody; reverts beyond what is held.
    function _releaseFromCustody(Collateral storage collateral, address token, uint256 amount) internal {
        uint256 held = collateral.inAuction;
        if (amount > held) revert AuctionCustodyExceeded(token, held, amount);
        collateral.inAuction = uint128(held - amount);
    }

    /// @dev Loss waterfall: the insurance fund covers what it can, its income held here swept to it
    /// first (a crash's loss is not socialized while the fund's fees sit in the engine); the rest
    /// is socialized on the pool.
    function _writeOff(Ledger memory ledger, uint256 accountId, uint256 debt) internal {
        if (debt == 0) return;
        IInsuranceFund fund = insuranceFund;
        if (address(fund) == address(0)) revert InsuranceFundNotSet();
        uint256 fees = ledger.insuranceFees;
        if (fees != 0) {
            ledger.insuranceFees = 0;
            quote.safeTransfer(address(fund), fees);
            emit InsuranceFeesSwept(address(fund), fees);
        }
        uint256 before = quote.balanceOf(address(this));
        // The fund's own figure is not trusted: the balance change below is what counts.
        // slither-disable-next-line unused-return
        fund.coverShortfall(debt);
        // What actually arrived counts; anything beyond the debt goes back to the fund's income.
        uint256 received = quote.balanceOf(address(this)) - before;
        uint256 covered = Math.min(received, debt);
        ledger.poolCash += int256(covered).toInt64();
        ledger.insuranceFees += (received - covered).toUint64();
        uint256 socialized = debt - covered;
        emit BadDebtWrittenOff(accountId, debt, covered, socialized);
        if (socialized != 0 && lpPool != address(0)) {
            ISocializedLossSink(lpPool).recordSocializedLoss(accountId, debt, covered, socialized);
        }
    }

    function _traderPnlAndNetNotional() internal view returns (int256 traderPnl, uint256 netNotional) {
        uint256 count = _markets.length;
        for (uint256 m; m < count; ++m) {
            Market storage market = _marketAt(m);
            (int256 pnl, int256 netSize, uint256 price) = _marketTraderPnl(market);
            traderPnl += pnl;
            netNotional += MarginMath.notional(netSize, price);
        }
    }

    /// @dev One market's net traders' PnL at the oracle price (WAD USD), the traders' unsettled
    /// funding (what they owe the pool) lowering it; an empty market reads no price (0).
    function _marketTraderPnl(Market storage market)
        internal
        view
        returns (int256 pnl, int256 netSize, uint256 price)
    {
        netSize = _netSize(market);
        int256 netOpenNotional = market.netOpenNotional;
        int256 entrySum = market.fundingEntrySum;
        if (netSize == 0 && netOpenNotional == 0 && entrySum == 0) return (0, 0, 0);
        price = oracle.price(market.asset);
        int256 owed =
            MarginMath.floorDiv(netSize * _fundingIndexNow(market, price), FUNDING_INDEX_PER_WAD) - entrySum;
        pnl = MarginMath.mulDivCeil(netSize, price, WAD) - netOpenNotional - owed;
    }
}
