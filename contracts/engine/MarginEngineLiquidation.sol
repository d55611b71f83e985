// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {EngineBase} from "./EngineBase.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {
    Account,
    AdlParams,
    Closure,
    Ledger,
    LiquidationParams,
    Market,
    Position,
    PriceCache
} from "./libraries/EngineTypes.sol";

/// @title MarginEngineLiquidation
/// @notice The margin engine's enforcement: partial liquidation, the hand-off to auction, the
/// write-off of what is left, and auto-deleveraging. Deployed by `MarginEngine`, whose `liquidate` stub forwards here by
/// delegatecall, so it runs in the engine's storage. A module of its own because the engine's
/// runtime code is at the 24 KiB limit: liquidation is the largest mechanism the engine does not
/// need on its hot path (fills and deposits), and the room it frees is where the pool's bounds go.
contract MarginEngineLiquidation is EngineBase {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    constructor(IERC20 quote_, IOracleAdapter oracle_) EngineBase(quote_, oracle_) {}

    /// @notice Liquidates an account whose maintenance health is below 1 (below the restricted
    /// threshold while the sequencer is restricted): closes the smallest equal fraction of every
    /// position that restores the target health (everything when deeply unhealthy, for dust, or when
    /// its quote cannot pay the penalty), charges the penalty and pays `keeper`; hands the
    /// collateral and the debt to auction when quote does not cover the penalty. Prices are read
    /// leniently: a collateral without a price counts 0 and a market without one stays open; when
    /// such an asset keeps the collateral from auction, the pool lends the penalty and the debt
    /// waits on the account (reverts `PriceUnavailable` if nothing could be closed).
    function liquidate(uint256 accountId, address keeper) external nonReentrant {
        if (keeper == address(0)) revert ZeroAddress();
        Account memory account = _existingAccount(accountId);
        LiquidationParams memory params = _liquidationParams;
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        cache.lenient = true;
        cache.minPositionMargin = params.minPositionMargin;
        Ledger memory ledger = _ledger;
        cache.borrowIndex = _touchBorrow(account, accountId, ledger);
        cache.interestSettled = true;
        _settleFunding(account, accountId, ledger, cache);
        Closure memory closure = _closeForLiquidation(account, accountId, cache, params);

        account.quoteBalance = _moveQuotePaying(
            ledger, accountId, account.quoteBalance, MarginMath.toQuoteFloor(closure.realizedPnl)
        );
        address unpriced = cache.unpriced;
        bool covered = account.quoteBalance >= int256(closure.penalty);
        if (covered || unpriced != address(0)) {
            if (!covered && closure.closedNotional == 0) revert PriceUnavailable(unpriced);
            closure.keeperReward =
                MarginMath.keeperReward(0, closure.penalty, params.keeperTip, params.keeperChip);
            // Paid from quote; or lent by the pool, when the penalty goes into a debt that waits for
            // the price (`ledger.poolCash` pays it to the fund, `accountDebt` gets it back).
            account.quoteBalance = _moveQuote(ledger, account.quoteBalance, -int256(closure.penalty));
            ledger.poolCash -= int256(closure.penalty).toInt64();
            ledger.insuranceFees += (closure.penalty - closure.keeperReward).toUint64();
            _storeLedger(ledger);
            _storeAccount(accountId, account);
            _recordBorrowIndex(account, accountId, cache.borrowIndex);
            if (!covered) emit HandOffDeferred(accountId, unpriced, account.quoteBalance);
            if (closure.keeperReward != 0) quote.safeTransfer(keeper, closure.keeperReward);
        } else {
            closure.keeperReward = _handOff(account, accountId, ledger, closure, params, cache, keeper);
        }
        emit Liquidated(
            accountId,
            keeper,
            closure.fraction,
            closure.closedNotional,
            closure.realizedPnl,
            closure.penalty,
            closure.keeperReward
        );
    }

    // ------------------------------------------------------------------ auto-deleveraging

    /// @dev A market's books as auto-deleveraging reads them, in memory (WAD; `index` the funding
    /// index accrued to this block).
    struct AdlBook {
        int256 netSize;
        int256 netOpenNotional;
        int256 fundingEntrySum;
        int256 index;
        uint256 price;
        // The pool's value without the traders' PnL, less this market's traders' PnL (WAD USD):
        // constant through a run, since a close at the oracle price moves PnL into quote one for one.
        int256 rest;
        // The other markets' traders' PnL in profit, the sum of max(T_k, 0) (WAD USD): a run cuts
        // this market only, so it is constant too.
        int256 others;
    }

    /// @notice Sets the auto-deleveraging thresholds (WAD): `0 < target < trigger <= 1`.
    function setAdlParams(uint256 trigger, uint256 target) external onlyRole(GOVERNOR_ROLE) {
        if (target == 0 || target >= trigger || trigger > WAD) revert InvalidAdlParams(trigger, target);
        _adl = AdlParams(uint64(trigger), uint64(target), _adl.armed);
        emit AdlParamsSet(trigger, target);
    }

    /// @notice The auto-deleveraging thresholds (WAD), and whether a run left the factor above the
    /// target (`armed`: the next run may start above the target).
    function adlParams() external view returns (AdlParams memory) {
        return _adl;
    }

    /// @notice Auto-deleverages `marketId`. The factor is the traders' profit over the pool's value
    /// without the traders' PnL, the profit summed over every market in profit (each market's net
    /// traders' PnL, at most 0 counted as 0). While the factor is above `trigger` (above `target`
    /// while the debt under auction exceeds the insurance fund, a residual shortfall, or while an
    /// earlier run ended above the target, `armed`), reduces
    /// the listed accounts' positions on this market's net side (each in profit), in the given
    /// order, at the oracle price and without fee: each in full while that leaves the factor above
    /// `target` and this market's traders in profit, the last by the smallest size after which
    /// either ends. Anyone may call: the keeper's ranking (PnL x leverage, `solvent.model.adl`) is
    /// advisory; every condition is checked here (`AdlNotTriggered`, `AdlMarketNotInProfit`,
    /// `AdlWrongSide`, `AdlPositionNotInProfit`, `AdlOvercut` for an entry listed after the cuts
    /// ended). A profit is credited as far as the pool's cash pays it. The pool's value subtracts
    /// what debt under auction the insurance fund cannot cover. Every market with open interest
    /// needs a price (`oracle.price` reverts otherwise).
    function autoDeleverage(uint256 marketId, uint256[] calldata accountIds) external nonReentrant {
        Market storage market = _listedMarket(marketId);
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        Ledger memory ledger = _ledger;
        // Filled field by field by `_adlOpen` (price, index, the market's aggregates, rest, others).
        // slither-disable-next-line uninitialized-local
        AdlBook memory book;
        AdlParams memory params = _adl;
        (uint256 factorBefore, int256 pnl) = _adlOpen(marketId, market, book, ledger, cache, params);
        uint256 factor = factorBefore;
        for (uint256 i; i < accountIds.length; ++i) {
            if (factor <= params.target || pnl <= 0) revert AdlOvercut(accountIds[i]);
            _deleverage(accountIds[i], marketId, market, book, ledger, cache, params.target);
            _loadAdlBook(market, book);
            pnl = _adlPnl(book, book.netSize, book.netOpenNotional, book.fundingEntrySum);
            factor = _adlFactor(book, pnl);
        }
        _storeLedger(ledger);
        bool armed = factor > params.target;
        if (armed != params.armed) _adl.armed = armed;
        emit AdlExecuted(marketId, factorBefore, factor);
    }

    /// @dev Reads the market's book and the pool's side of the factor, and checks that ADL is due
    /// and that cutting this market lowers the factor; returns the factor and the market's PnL.
    function _adlOpen(
        uint256 marketId,
        Market storage market,
        AdlBook memory book,
        Ledger memory ledger,
        PriceCache memory cache,
        AdlParams memory params
    ) internal returns (uint256 factor, int256 pnl) {
        book.price = _marketPrice(cache, marketId, market);
        book.index = _accrueFunding(market, book.price);
        _loadAdlBook(market, book);
        pnl = _adlPnl(book, book.netSize, book.netOpenNotional, book.fundingEntrySum);
        (int256 value, bool shortfall) = _poolValueWithoutPnl(ledger);
        book.rest = value - pnl;
        book.others = _adlOthers(marketId);
        factor = _adlFactor(book, pnl);
        uint256 trigger = shortfall || params.armed ? params.target : params.trigger;
        if (factor <= trigger) revert AdlNotTriggered(factor, trigger);
        // Cutting a market whose traders are not in profit would raise the factor, not lower it.
        if (pnl <= 0) revert AdlMarketNotInProfit(marketId);
    }

    function _deleverage(
        uint256 accountId,
        uint256 marketId,
        Market storage market,
        AdlBook memory book,
        Ledger memory ledger,
        PriceCache memory cache,
        uint256 target
    ) internal {
        Position memory position = _positions[accountId][marketId];
        int256 sizeDelta = _adlDelta(accountId, book, position, target);
        Account memory account = _existingAccount(accountId);
        cache.borrowIndex = _touchBorrow(account, accountId, ledger);
        cache.interestSettled = true;
        (int256 realizedPnl, int256 funding) =
            _movePosition(account, accountId, market, marketId, position, sizeDelta, book.price, cache);
        _creditPaying(ledger, account, accountId, MarginMath.toQuoteFloor(realizedPnl) - funding);
        _storeAccount(accountId, account);
        _recordBorrowIndex(account, accountId, cache.borrowIndex);
        emit AutoDeleveraged(accountId, marketId, sizeDelta, book.price, realizedPnl);
    }

    /// @dev The size change that deleverages `position`: checked on the net side and in profit
    /// (price PnL down, funding owed up, in quote units, as the margin reads it).
    function _adlDelta(uint256 accountId, AdlBook memory book, Position memory position, uint256 target)
        internal
        pure
        returns (int256)
    {
        if (position.size == 0 || (position.size > 0) != (book.netSize > 0)) revert AdlWrongSide(accountId);
        // Only the PnL of a full close: the open notional after it is zero.
        // slither-disable-next-line unused-return
        (, int256 fullPnl) =
            MarginMath.applyFill(position.size, position.openNotional, -position.size, book.price);
        if (
            MarginMath.toQuoteFloor(fullPnl) - _fundingOwed(position.size, position.fundingEntry, book.index)
                <= 0
        ) {
            revert AdlPositionNotInProfit(accountId);
        }
        uint256 cut = _adlCut(book, position, fullPnl, target);
        return position.size > 0 ? -int256(cut) : int256(cut);
    }

    /// @dev The smallest cut of `position` (wei of size) after which the factor is at most
    /// `target` or the market's traders are no longer in profit, or the whole position when even
    /// closing it leaves both: a bisection, each step the market's books after the hypothetical
    /// close, over the bracket `_adlBracket` finds (else over (0, |size|]).
    function _adlCut(AdlBook memory book, Position memory position, int256 fullPnl, uint256 target)
        internal
        pure
        returns (uint256)
    {
        uint256 held = MarginMath.abs(position.size);
        int256 pnlHeld = _adlPnlAfter(book, position, held);
        if (pnlHeld > 0 && _adlFactor(book, pnlHeld) > target) return held;
        (uint256 low, uint256 high) = _adlBracket(book, position, held, pnlHeld, fullPnl, target);
        while (high - low > 1) {
            uint256 mid = (low + high) / 2;
            if (_adlWantsMore(book, position, mid, target)) low = mid;
            else high = mid;
        }
        return high;
    }

    /// @dev A bracket for the bisection around the analytic cut: the market's PnL after a cut `c`
    /// is linear in `c` but for rounding, `T(c) = T(|size|) + fullPnl * (|size| - c) / |size|`
    /// (`fullPnl` the position's price PnL; its funding is settled by any cut), and the run ends
    /// once `T(c) <= max((target * rest - others * 1e18) / (1e18 - target), 0)`. Returns the
    /// estimate's neighbours (+-3 wei) when the lower still wants more (or is 0) and the upper
    /// does not; else (0, |size|): the full bisection, so rounding never changes the answer's
    /// rule, only the gas.
    function _adlBracket(
        AdlBook memory book,
        Position memory position,
        uint256 held,
        int256 pnlHeld,
        int256 fullPnl,
        uint256 target
    ) internal pure returns (uint256 low, uint256 high) {
        high = held;
        int256 threshold = (int256(target) * book.rest - book.others * int256(WAD)) / int256(WAD - target);
        if (threshold < 0) threshold = 0;
        if (fullPnl <= 0 || pnlHeld >= threshold) return (0, held);
        uint256 kept = uint256((threshold - pnlHeld) * int256(held) / fullPnl);
        if (kept >= held) return (0, held);
        uint256 estimate = held - kept;
        uint256 lower = estimate > 3 ? estimate - 3 : 0;
        uint256 upper = held - estimate > 3 ? estimate + 3 : held;
        if (
            (lower == 0 || _adlWantsMore(book, position, lower, target))
                && !_adlWantsMore(book, position, upper, target)
        ) {
            return (lower, upper);
        }
    }

    /// @dev After closing `cut` of `position`, are the market's traders still in profit with the
    /// factor above `target`?
    function _adlWantsMore(AdlBook memory book, Position memory position, uint256 cut, uint256 target)
        internal
        pure
        returns (bool)
    {
        int256 pnl = _adlPnlAfter(book, position, cut);
        return pnl > 0 && _adlFactor(book, pnl) > target;
    }

    /// @dev The market's traders' PnL after closing `cut` of `position` at the oracle price: the
    /// engine's fill (`_updateMarket`) on the market's aggregates, in memory.
    function _adlPnlAfter(AdlBook memory book, Position memory position, uint256 cut)
        internal
        pure
        returns (int256)
    {
        int256 sizeDelta = position.size > 0 ? -int256(cut) : int256(cut);
        int256 newSize = position.size + sizeDelta;
        // Only the open notional after the cut: its realized PnL leaves T with the cut's notional.
        // slither-disable-next-line unused-return
        (int256 newOpen,) = MarginMath.applyFill(position.size, position.openNotional, sizeDelta, book.price);
        return _adlPnl(
            book,
            book.netSize + sizeDelta,
            book.netOpenNotional + newOpen - position.openNotional,
            book.fundingEntrySum + _entryShare(newSize, book.index)
                - _entryShare(position.size, position.fundingEntry)
        );
    }

    function _loadAdlBook(Market storage market, AdlBook memory book) internal view {
        book.netSize = _netSize(market);
        book.netOpenNotional = market.netOpenNotional;
        book.fundingEntrySum = market.fundingEntrySum;
    }

    /// @dev The market's traders' PnL at the oracle price (WAD USD): the market's term of
    /// `_traderPnlAndNetNotional`, on the given aggregates.
    function _adlPnl(AdlBook memory book, int256 netSize, int256 netOpenNotional, int256 entrySum)
        internal
        pure
        returns (int256)
    {
        int256 owed = MarginMath.floorDiv(netSize * book.index, FUNDING_INDEX_PER_WAD) - entrySum;
        return MarginMath.mulDivCeil(netSize, book.price, WAD) - netOpenNotional - owed;
    }

    /// @dev `(others + max(pnl, 0)) / (rest + pnl)` (WAD, up), `pnl` this market's traders' PnL: 0
    /// without profit, the maximum when the pool's value without the traders' PnL is not positive.
    function _adlFactor(AdlBook memory book, int256 pnl) internal pure returns (uint256) {
        int256 profit = book.others + (pnl > 0 ? pnl : int256(0));
        if (profit <= 0) return 0;
        int256 value = book.rest + pnl;
        if (value <= 0) return type(uint256).max;
        return uint256(MarginMath.ceilDiv(profit * int256(WAD), value));
    }

    /// @dev The traders' PnL in profit on every market but `marketId`: the sum of max(T_k, 0).
    function _adlOthers(uint256 marketId) internal view returns (int256 others) {
        uint256 count = _markets.length;
        for (uint256 m; m < count; ++m) {
            if (m == marketId) continue;
            // slither-disable-next-line unused-return
            (int256 pnl,,) = _marketTraderPnl(_marketAt(m));
            if (pnl > 0) others += pnl;
        }
    }

    /// @dev The pool's value without the traders' PnL (WAD USD): its cash, what accounts owe it
    /// (debt, debt under auction, pending interest), less the debt under auction the insurance
    /// fund cannot cover (the residual shortfall: `shortfall` says whether there is one).
    function _poolValueWithoutPnl(Ledger memory ledger) internal view returns (int256, bool) {
        uint256 inAuction = ledger.debtInAuction;
        uint256 shortfall = 0;
        if (inAuction != 0) {
            address fund = address(insuranceFund);
            uint256 insurance = fund == address(0) ? 0 : IERC4626(fund).totalAssets();
            shortfall = inAuction > insurance ? inAuction - insurance : 0;
        }
        int256 value = int256(ledger.poolCash) + int256(uint256(ledger.accountDebt)) + int256(inAuction)
            + int256(uint256(_borrowNow(ledger).pendingInterest)) - int256(shortfall);
        return (value * int256(MarginMath.WAD_PER_QUOTE), shortfall != 0);
    }
}
