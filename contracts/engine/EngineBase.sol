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
    Closure,
    ClosurePlan,
    Collateral,
    Ledger,
    LiquidationParams,
    Margin,
    Market,
    Position,
    PriceCache
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
    uint256 internal constant MAX_ASSETS = 8;
    uint256 internal constant MAX_MMR = 0.5e18;
    uint256 internal constant MAX_VOL_FACTOR = 1e18;
    uint256 internal constant MAX_SIGMA_CAP = 10e18;
    uint256 internal constant MAX_IM_SCALE = 5e18;
    uint256 internal constant MAX_FEE_RATE = 0.01e18;
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
    uint256 internal constant MAX_FUNDING_VELOCITY = 18e18;
    uint256 internal constant MAX_FUNDING_RATE = 1e18;
    /// @dev Funding index units (nano-USD per whole unit) per WAD USD per whole unit.
    int256 internal constant FUNDING_INDEX_PER_WAD = 1e9;
    int256 internal constant MAX_SIZE_DELTA = int256(1 << 120);
    /// @dev Memoized in a `PriceCache` for a price a liquidation could not read.
    uint256 internal constant UNPRICED = type(uint256).max;
    /// @dev A seizure leaves this bit in the account's balance slot instead of zeroing it, so the
    /// return of an auction's leftover updates a live slot (2.9k gas) instead of re-creating it
    /// (22.1k). Balances stay below 2^128 (`totalDeposited` is a uint128): the bit never mixes
    /// with an amount.
    uint256 internal constant SEIZED_MARK = 1 << 255;
    /// @dev Storage slots of one `Market`, for `_marketAt`.
    uint256 private constant MARKET_SLOTS = 7;

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
    mapping(uint256 accountId => Account) internal _accounts;
    mapping(address owner => mapping(uint256 subIndex => uint256 accountId)) public accountIdOf;
    // slither-disable-next-line uninitialized-state
    mapping(address owner => mapping(address operator => bool)) public isOperator;
    /// @dev Collateral units per account and token, possibly with `SEIZED_MARK` set: read them
    /// through `_collateralBalanceOf`.
    mapping(uint256 accountId => mapping(address token => uint256)) internal _collateralBalance;
    mapping(uint256 accountId => mapping(uint256 marketId => Position)) internal _positions;

    // slither-disable-next-line uninitialized-state
    address[] public collateralTokens;
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

    constructor(IERC20 quote_, IOracleAdapter oracle_) {
        if (address(quote_) == address(0) || address(oracle_) == address(0)) revert ZeroAddress();
        quote = quote_;
        oracle = oracle_;
    }

    // ------------------------------------------------------------------ internals: accounts

    function _existingAccount(uint256 accountId) internal view returns (Account memory account) {
        account = _accounts[accountId];
        if (account.owner == address(0)) revert UnknownAccount(accountId);
    }

    function _authorizedAccount(uint256 accountId) internal view returns (Account memory account) {
        account = _existingAccount(accountId);
        if (msg.sender != account.owner && !isOperator[account.owner][msg.sender]) {
            revert NotAuthorized(accountId, msg.sender);
        }
    }

    /// @dev One SSTORE: a struct assignment writes (and first reads back) the slot once per field.
    function _storeAccount(uint256 accountId, Account memory account) internal {
        uint256 word = uint256(uint160(account.owner)) | (uint256(account.collateralMask) << 160)
            | (uint256(account.marketMask) << 168) | (uint256(account.activeAuctions) << 176)
            | (uint256(uint72(account.quoteBalance)) << 184);
        Account storage stored = _accounts[accountId];
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

    /// @dev A risk increase needs every asset the account holds (collateral in `account`'s mask,
    /// markets in `marketMask`, which includes the market being traded) to allow it: initial health
    /// values all of them, so a tripped breaker on any one blocks (docs/margin.md, "Risk gates").
    /// An account holding only quote waits for the sequencer alone.
    function _checkRiskIncrease(uint256 accountId, Account memory account, uint256 marketMask) internal view {
        if (account.activeAuctions != 0) revert AccountUnderAuction(accountId);
        if (riskPaused) revert RiskIncreasePaused();
        uint256 collateralMask = account.collateralMask;
        bool checked = false;
        for (uint256 mask = collateralMask; mask != 0; mask &= mask - 1) {
            _requireRiskIncreaseAllowed(_collateralToken(_lowestBit(mask)));
            checked = true;
        }
        for (uint256 mask = marketMask; mask != 0; mask &= mask - 1) {
            Market storage market = _marketAt(_lowestBit(mask));
            uint256 shared = market.sharedCollateral;
            // Its asset was checked as collateral already.
            if (shared != 0 && collateralMask & (1 << (shared - 1)) != 0) continue;
            _requireRiskIncreaseAllowed(market.asset);
            checked = true;
        }
        if (!checked && oracle.sequencerRestricted()) revert RiskIncreaseBlockedByOracle(address(quote));
    }

    function _requireRiskIncreaseAllowed(address asset) internal view {
        if (!oracle.riskIncreaseAllowed(asset)) revert RiskIncreaseBlockedByOracle(asset);
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
        mmr = cache.marketMmr[marketId];
        if (mmr != 0) return (mmr, cache.marketImr[marketId]);
        (mmr, imr) = MarginMath.marginRatios(
            market.baseMmr, market.volFactor, oracle.sigma(market.asset), market.sigmaCap, market.imScale
        );
        cache.marketMmr[marketId] = mmr;
        cache.marketImr[marketId] = imr;
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
        int256 cash = int256(account.quoteBalance) * int256(MarginMath.WAD_PER_QUOTE);
        margin.initialEquity = cash;
        margin.maintenanceEquity = cash;
        for (uint256 mask = account.collateralMask; mask != 0; mask &= mask - 1) {
            uint256 index = _lowestBit(mask);
            address token = _collateralToken(index);
            Collateral storage collateral = _collaterals[token];
            uint256 amount = _collateralBalanceOf(accountId, token);
            uint256 price = _collateralPrice(cache, index, token);
            if (price == UNPRICED) continue;
            uint256 unit = 10 ** collateral.decimals;
            margin.initialEquity += int256(
                MarginMath.collateralValue(amount, price, unit, collateral.imWeight)
            );
            margin.maintenanceEquity += int256(
                MarginMath.collateralValue(amount, price, unit, collateral.mmWeight)
            );
        }
        uint256 mask = account.marketMask;
        uint256 minMargin = cache.minPositionMargin;
        if (minMargin == 0 && mask != 0) minMargin = _minPositionMargin;
        for (; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            Market storage market = _marketAt(marketId);
            uint256 price = _marketPrice(cache, marketId, market);
            if (price == UNPRICED) continue;
            Position memory position = _positions[accountId][marketId];
            (uint256 mmr, uint256 imr) = _marketRatios(cache, marketId, market);
            int256 pnl = MarginMath.unrealizedPnl(position.size, position.openNotional, price);
            uint256 notional = MarginMath.notional(position.size, price);
            margin.initialEquity += pnl;
            margin.maintenanceEquity += pnl;
            margin.notional += notional;
            margin.initialRequirement += MarginMath.mulDivUp(notional, imr, WAD) + minMargin;
            margin.maintenanceRequirement += MarginMath.mulDivUp(notional, mmr, WAD) + minMargin;
            margin.minimumMargin += minMargin;
        }
    }

    function _lowestBit(uint256 mask) internal pure returns (uint256 index) {
        uint256 bit = mask & (~mask + 1);
        while (bit > 1) {
            bit >>= 1;
            ++index;
        }
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
        int256 netOpenNotional =
            market.netOpenNotional + newOpenNotional - position.openNotional;
        int256 entrySum = market.fundingEntrySum + _entryShare(newSize, index)
            - _entryShare(position.size, position.fundingEntry);
        // Assigned back to back, the fields of the slot are written by one SSTORE.
        market.netOpenNotional = netOpenNotional.toInt112();
        market.fundingEntrySum = entrySum.toInt112();
        uint256 longBefore = market.longOpenInterest;
        uint256 shortBefore = market.shortOpenInterest;
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
        // Both <= cap <= MAX_OPEN_INTEREST_CAP, or no larger than before.
        market.longOpenInterest = uint96(longOi);
        market.shortOpenInterest = uint96(shortOi);
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
        if (newSize == 0) {
            delete _positions[accountId][marketId];
            account.marketMask &= ~uint8(1 << marketId);
        } else {
            _positions[accountId][marketId] =
                Position(newSize.toInt96(), newOpenNotional.toInt96(), index.toInt64());
            account.marketMask |= uint8(1 << marketId);
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
            // slither-disable-next-line uninitialized-local
            ClosurePlan memory plan;
            (closure.realizedPnl, closure.closedNotional) =
                _planClosure(account, accountId, cache, closure.fraction, params.dustNotional, plan);
            closure.penalty =
                MarginMath.penalty(closure.closedNotional, params.penaltyRate, 0, 0, params.keeperTip);
            if (
                account.quoteBalance + MarginMath.toQuoteFloor(closure.realizedPnl) >= int256(closure.penalty)
            ) {
                _applyClosure(account, accountId, plan);
                return closure;
            }
            closure.fraction = WAD;
        }
        (closure.realizedPnl, closure.closedNotional) =
            _closePositions(account, accountId, cache, WAD, params.dustNotional);
        closure.penalty =
            MarginMath.penalty(closure.closedNotional, params.penaltyRate, 0, 0, params.keeperTip);
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

    /// @dev `_closePositions` without writing: the fills go to `plan`.
    function _planClosure(
        Account memory account,
        uint256 accountId,
        PriceCache memory cache,
        uint256 fraction,
        uint256 dustNotional,
        ClosurePlan memory plan
    ) internal view returns (int256 realizedPnl, uint256 closedNotional) {
        for (uint256 mask = account.marketMask; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            if (cache.marketPrice[marketId] == UNPRICED) continue;
            (int256 sizeDelta, int256 newOpenNotional, int256 pnl, uint256 notional) = _closingFill(
                _positions[accountId][marketId], cache.marketPrice[marketId], fraction, dustNotional
            );
            realizedPnl += pnl;
            closedNotional += notional;
            plan.sizeDelta[marketId] = sizeDelta;
            plan.newOpenNotional[marketId] = newOpenNotional;
        }
    }

    function _applyClosure(Account memory account, uint256 accountId, ClosurePlan memory plan) internal {
        for (uint256 mask = account.marketMask; mask != 0; mask &= mask - 1) {
            uint256 marketId = _lowestBit(mask);
            // No fill planned: the market has no price (a planned closing fill is never 0).
            if (plan.sizeDelta[marketId] == 0) continue;
            Position memory position = _positions[accountId][marketId];
            _writeFill(
                account,
                accountId,
                marketId,
                position,
                position.size + plan.sizeDelta[marketId],
                plan.newOpenNotional[marketId]
            );
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
        // The liquidator has the fund pay the keeper; what arrived is what the event reports.
        uint256 before = quote.balanceOf(keeper);
        _auction(account, accountId, ledger, debt, unpaidPenalty, cache, keeper);
        uint256 received = quote.balanceOf(keeper);
        reward = received > before ? received - before : 0;
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
    ) internal {
        ILiquidator auctions = liquidator;
        if (address(auctions) == address(0)) revert LiquidatorNotSet();
        (address[] memory tokens, uint256[] memory lots, uint256[] memory prices) =
            _seizeCollateral(account, accountId, cache);
        account.activeAuctions += uint8(tokens.length);
        _storeLedger(ledger);
        _storeAccount(accountId, account);
        uint256 firstAuctionId =
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
            uint128 deposited = collateral.totalDeposited - uint128(lot);
            uint128 inAuction = collateral.inAuction + uint128(lot);
            // Back to back: one SSTORE for both halves of the slot.
            collateral.totalDeposited = deposited;
            collateral.inAuction = inAuction;
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

    /// @dev Loss waterfall: the insurance fund covers what it can, the rest is socialized on the pool.
    function _writeOff(Ledger memory ledger, uint256 accountId, uint256 debt) internal {
        if (debt == 0) return;
        IInsuranceFund fund = insuranceFund;
        if (address(fund) == address(0)) revert InsuranceFundNotSet();
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
            int256 netSize = _netSize(market);
            if (netSize == 0 && market.netOpenNotional == 0) continue;
            uint256 price = oracle.price(market.asset);
            traderPnl += MarginMath.mulDivCeil(netSize, price, WAD) - market.netOpenNotional;
            netNotional += MarginMath.notional(netSize, price);
        }
    }
}
