// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {IRoundOracle} from "../../interfaces/IRoundOracle.sol";
import {IOrderBook, IOrderEngine} from "../../interfaces/IOrderBook.sol";
import {Account, AccountHealth, Market} from "../engine/libraries/EngineTypes.sol";
import {OrderMath} from "./OrderMath.sol";

/// @dev The engine's market getter (its struct follows the engine's `Market`).
interface IEngineMarkets {
    function markets(uint256 marketId) external view returns (Market memory);

    function marketCount() external view returns (uint256);
}

/// @title OrderBook
/// @notice Every trade is two steps. `commitOrder` records the order and its commit time; later
/// anyone settles it with `settleOrder` at the price the commit fully determines: the first round of
/// the market's primary feed published at or after `commitTime + settlementDelay` (the settler
/// names the round, the oracle adapter checks it is the first), priced with the skew premium
/// `fill = oracle * (1 + (skew + size/2) / skewScale)` and charged maker/taker fees. The settler is
/// paid a bounded settlement fee by the trader. An order expires `settlementWindow` after its
/// target time; only then can anyone cancel it. Lifecycle, formulas and parameters: docs/orders.md.
contract OrderBook is IOrderBook, AccessControl, ReentrancyGuardTransient {
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");

    uint256 public constant MIN_SETTLEMENT_DELAY = 1;
    uint256 public constant MAX_SETTLEMENT_DELAY = 1 hours;
    uint256 public constant MIN_SETTLEMENT_WINDOW = 10;
    uint256 public constant MAX_SETTLEMENT_WINDOW = 1 days;
    /// @notice $100 in quote units (6 decimals): a keeper's pay, never a charge on the trader's size.
    uint256 public constant MAX_SETTLEMENT_FEE = 100e6;
    uint256 public constant MAX_FEE_RATE = 0.01e18;
    uint256 public constant MIN_COMMIT_MARGIN_BPS = 100;
    uint256 public constant MAX_COMMIT_MARGIN_BPS = 10_000;
    /// @notice Largest |sizeDelta| of one order (fits the order's int96 slot): 3.9e10 whole units.
    int256 public constant MAX_ORDER_SIZE = type(int96).max;
    /// @notice The pre-check's reference price is rewritten when a settlement's price is further.
    uint256 public constant REFERENCE_PRICE_TOLERANCE_BPS = 100;

    IOrderEngine public immutable engine;
    IRoundOracle public immutable oracle;

    mapping(uint256 marketId => MarketOrders) internal _markets;
    mapping(uint256 orderId => Order) internal _orders;

    /// @dev A settlement call's memo of its round (`_settle`).
    struct CheckedRound {
        uint256 from;
        uint256 until;
        uint256 price;
    }

    /// @notice `admin` gets the admin and governor roles.
    constructor(IOrderEngine engine_, IRoundOracle oracle_, address admin) {
        if (address(engine_) == address(0) || address(oracle_) == address(0) || admin == address(0)) {
            revert ZeroAddress();
        }
        engine = engine_;
        oracle = oracle_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IOrderBook
    /// @dev Opens the market for orders (its asset is read from the engine). Bounds: delay
    /// [1 s, 1 h], window [10 s, 1 day], settlement fee <= $100, fee rates <= 1% with maker <= taker,
    /// commit margin [1%, 100%] of notional. The first configuration also records the oracle's
    /// price as the pre-check's reference price (when it has one).
    function setMarketOrders(uint256 marketId, OrderConfig calldata config) external onlyRole(GOVERNOR_ROLE) {
        if (marketId >= IEngineMarkets(address(engine)).marketCount()) revert UnknownMarket(marketId);
        address asset = IEngineMarkets(address(engine)).markets(marketId).asset;
        if (config.settlementDelay < MIN_SETTLEMENT_DELAY || config.settlementDelay > MAX_SETTLEMENT_DELAY) {
            revert SettlementDelayOutOfRange(config.settlementDelay);
        }
        if (
            config.settlementWindow < MIN_SETTLEMENT_WINDOW || config.settlementWindow > MAX_SETTLEMENT_WINDOW
        ) {
            revert SettlementWindowOutOfRange(config.settlementWindow);
        }
        if (config.settlementFee > MAX_SETTLEMENT_FEE) revert SettlementFeeOutOfRange(config.settlementFee);
        if (config.takerFeeRate > MAX_FEE_RATE || config.makerFeeRate > config.takerFeeRate) {
            revert FeeRateOutOfRange(config.makerFeeRate, config.takerFeeRate);
        }
        if (config.commitMarginBps < MIN_COMMIT_MARGIN_BPS || config.commitMarginBps > MAX_COMMIT_MARGIN_BPS)
        {
            revert CommitMarginOutOfRange(config.commitMarginBps);
        }
        MarketOrders storage market = _markets[marketId];
        // All bounded above: every cast is exact.
        market.asset = asset;
        market.settlementDelay = uint16(config.settlementDelay);
        market.settlementWindow = uint24(config.settlementWindow);
        market.settlementFee = uint40(config.settlementFee);
        market.commitMarginBps = uint16(config.commitMarginBps);
        market.makerFeeRate = uint64(config.makerFeeRate);
        market.takerFeeRate = uint64(config.takerFeeRate);
        // The pre-check's reference price until the first settlement (a commit then reads no feed);
        // without a price now, commits read the oracle until one settles.
        if (market.referencePrice == 0) {
            try IOracleAdapter(address(oracle)).price(asset) returns (uint256 priceWad) {
                market.referencePrice = uint128(priceWad);
            } catch {}
        }
        emit MarketOrdersSet(marketId, asset, config);
    }

    // ------------------------------------------------------------------ orders

    /// @inheritdoc IOrderBook
    /// @dev Checks at once what can be checked: size, open market, the caller (owner or operator),
    /// no live order for the pair (an expired one is replaced), and a conservative margin
    /// pre-check for orders that may increase risk: the account's free initial margin
    /// (initial equity - initial requirement) must cover `commitMarginBps` of the order's notional
    /// at the reference price (the oracle price at configuration, then the settlements', within 1%)
    /// plus its taker fee and the settlement fee. The fill's real margin check is the
    /// engine's, at settlement. Reductions skip the pre-check (closing is always possible). An
    /// `acceptablePrice` above 2^120 - 1 is stored as that (no limit for a buy).
    function commitOrder(uint256 accountId, uint256 marketId, int256 sizeDelta, uint256 acceptablePrice)
        external
        returns (uint256 orderId)
    {
        if (sizeDelta == 0) revert ZeroSize();
        if (sizeDelta > MAX_ORDER_SIZE || sizeDelta < -MAX_ORDER_SIZE) revert SizeTooLarge(sizeDelta);
        if (marketId > type(uint8).max) revert MarketNotOpen(marketId);
        MarketOrders memory market = _markets[marketId];
        if (market.asset == address(0)) revert MarketNotOpen(marketId);
        if (accountId > type(uint248).max) revert UnknownAccount(accountId);
        orderId = accountId << 8 | marketId;
        Order memory pending = _orders[orderId];
        if (pending.targetTime != 0) {
            uint256 expiry = pending.targetTime + market.settlementWindow;
            if (block.timestamp <= expiry) revert OrderPending(orderId, expiry);
            emit OrderCancelled(orderId, CancelReason.Expired, msg.sender, 0, "");
        }
        Account memory account = engine.accounts(accountId);
        if (account.owner == address(0)) revert UnknownAccount(accountId);
        if (msg.sender != account.owner && !engine.isOperator(account.owner, msg.sender)) {
            revert NotAuthorized(accountId, msg.sender);
        }
        if (_mayIncreaseRisk(account, accountId, marketId, sizeDelta)) {
            _precheck(accountId, sizeDelta, market);
        }

        uint256 capped = acceptablePrice > type(uint120).max ? type(uint120).max : acceptablePrice;
        uint256 target = block.timestamp + market.settlementDelay;
        _orders[orderId] = Order(int96(sizeDelta), uint120(capped), uint40(target));
        emit OrderCommitted(orderId, accountId, marketId, sizeDelta, capped, block.timestamp, target);
    }

    /// @inheritdoc IOrderBook
    /// @dev In order: the order is pending, its target time has come and it has not expired; the
    /// oracle adapter checks that `roundId` is the determined round and validates its price (a
    /// wrong round reverts with the adapter's `RoundBeforeTarget` / `NotFirstRound`). The order
    /// leaves the book, then the fill price and fee are computed from the skew before the fill. A
    /// fill price beyond `acceptablePrice` (or a premium that would make it non-positive) cancels
    /// the order; so does a fill the engine refuses (`fillOrder` in try/catch: margin, open-interest
    /// cap, risk gates), with the engine's error in the event. An engine revert without data
    /// (out of gas: the settler could starve the call) reverts the settlement instead, so a settler
    /// cannot cancel a fillable order. The settler is paid the settlement fee either way; when
    /// the order did not fill and the account has no position, only from its positive quote (the
    /// pool never lends a settlement fee to an account with nothing at stake).
    function settleOrder(uint256 orderId, uint80 roundId) external nonReentrant {
        MarketOrders memory market = _markets[orderId & 0xff];
        // slither-disable-next-line uninitialized-local
        CheckedRound memory checked;
        _settle(orderId, roundId, market, checked);
    }

    /// @inheritdoc IOrderBook
    /// @dev Every order is settled exactly as by `settleOrder`, in the array's order (each fill
    /// sees the skew the previous ones left), and the batch reverts as a whole on the first order
    /// `settleOrder` would refuse. The round is checked once for the whole range of target times it
    /// determines: checked as the first round at or after a time `t0`, it is the first at or after
    /// every time in `[t0, updatedAt]` too (its predecessor is earlier than `t0`), at the same
    /// price; an order with an earlier target time is checked again, which widens the range. The
    /// market's slots, the engine's and the oracle's are warm after the first order: the marginal
    /// order costs about half a lone settlement (docs/orders.md, "Batch settlement").
    function settleOrders(uint256[] calldata orderIds, uint80 roundId) external nonReentrant {
        uint256 count = orderIds.length;
        if (count == 0) revert EmptyBatch();
        uint256 marketId = orderIds[0] & 0xff;
        MarketOrders memory market = _markets[marketId];
        // slither-disable-next-line uninitialized-local
        CheckedRound memory checked;
        for (uint256 i; i < count; ++i) {
            uint256 orderId = orderIds[i];
            if (orderId & 0xff != marketId) revert BatchMixesMarkets(orderId, marketId);
            _settle(orderId, roundId, market, checked);
        }
    }

    /// @inheritdoc IOrderBook
    /// @dev Before expiry nobody can cancel (the trader gets no free option on the settlement
    /// price); after it anyone can, and the trader pays no settlement fee for an order nobody
    /// settled. A new commit for the same account and market replaces an expired order as well.
    function cancelOrder(uint256 orderId) external nonReentrant {
        Order memory order = _orders[orderId];
        if (order.targetTime == 0) revert OrderNotPending(orderId);
        uint256 expiry = order.targetTime + _markets[orderId & 0xff].settlementWindow;
        if (block.timestamp <= expiry) revert OrderNotExpired(orderId, expiry);
        _orders[orderId].targetTime = 0;
        emit OrderCancelled(orderId, CancelReason.Expired, msg.sender, 0, "");
    }

    // ------------------------------------------------------------------ views

    /// @notice A market's order configuration and reference price.
    function marketOrders(uint256 marketId) external view returns (MarketOrders memory) {
        return _markets[marketId];
    }

    /// @notice The order `orderId` (`targetTime == 0`: none pending).
    function orders(uint256 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @notice The order id of an account and market: `accountId << 8 | marketId`.
    function orderIdOf(uint256 accountId, uint256 marketId) external pure returns (uint256) {
        return accountId << 8 | marketId;
    }

    /// @notice When a pending order can be settled (target time) and when it expires (0, 0: none).
    function settlementTimes(uint256 orderId) external view returns (uint256 targetTime, uint256 expiry) {
        Order memory order = _orders[orderId];
        // A zero target time is the "nothing pending" sentinel, not a time comparison.
        // slither-disable-next-line incorrect-equality
        if (order.targetTime == 0) return (0, 0);
        targetTime = order.targetTime;
        expiry = targetTime + _markets[orderId & 0xff].settlementWindow;
    }

    /// @notice The fill price and trade fee an order of `sizeDelta` would get at `oraclePrice` with
    /// the market's skew now (`priced` false: the premium makes the price non-positive).
    function quote(uint256 marketId, int256 sizeDelta, uint256 oraclePrice)
        external
        view
        returns (bool priced, uint256 fillPrice, uint256 tradeFee)
    {
        MarketOrders memory market = _markets[marketId];
        (int256 skew, uint256 skewScale) = engine.marketSkew(marketId);
        (priced, fillPrice) = OrderMath.fillPrice(oraclePrice, skew, skewScale, sizeDelta);
        if (priced) {
            tradeFee =
                OrderMath.tradeFee(skew, sizeDelta, fillPrice, market.makerFeeRate, market.takerFeeRate);
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev False only for an order that shrinks an existing position on the same side.
    function _mayIncreaseRisk(Account memory account, uint256 accountId, uint256 marketId, int256 sizeDelta)
        internal
        view
        returns (bool)
    {
        if (account.marketMask & (1 << marketId) == 0) return true;
        int256 size = engine.positions(accountId, marketId).size;
        int256 newSize = size + sizeDelta;
        if (newSize == 0) return false;
        return (size > 0) != (newSize > 0) || OrderMath.abs(newSize) > OrderMath.abs(size);
    }

    function _precheck(uint256 accountId, int256 sizeDelta, MarketOrders memory market) internal view {
        AccountHealth memory health = engine.initialHealthOf(accountId);
        uint256 referencePrice = market.referencePrice;
        if (referencePrice == 0) referencePrice = IOracleAdapter(address(oracle)).price(market.asset);
        uint256 required = OrderMath.commitMargin(
            OrderMath.abs(sizeDelta),
            referencePrice,
            market.commitMarginBps,
            market.takerFeeRate,
            market.settlementFee
        );
        int256 free = health.equity - int256(health.requirement);
        if (free < 0 || uint256(free) < required) revert InsufficientMarginForOrder(free, required);
    }

    /// @dev One settlement (`settleOrder`'s rules). `checked`: the target times `[from, until]` for
    /// which this call has checked that `roundId` is the determining round, and its price (`from`
    /// 0: none yet); a target time outside it is checked with the oracle, which widens it.
    function _settle(uint256 orderId, uint80 roundId, MarketOrders memory market, CheckedRound memory checked)
        internal
    {
        Order memory order = _orders[orderId];
        uint256 target = order.targetTime;
        // Zero is the "nothing pending" sentinel, not a time comparison.
        // slither-disable-next-line incorrect-equality
        if (target == 0) revert OrderNotPending(orderId);
        if (block.timestamp < target) revert SettlementTooEarly(orderId, target);
        uint256 expiry = target + market.settlementWindow;
        if (block.timestamp > expiry) revert OrderExpired(orderId, expiry);
        // `from == 0`: no round checked yet in this call (a sentinel, not a time comparison).
        // slither-disable-next-line incorrect-equality
        if (checked.from == 0 || target < checked.from || target > checked.until) {
            // Reverts unless the round is the first at or after `target` (so also `target <= until`).
            (checked.price, checked.until) = oracle.roundPrice(market.asset, roundId, target);
            // slither-disable-next-line incorrect-equality
            if (checked.from == 0 || target < checked.from) checked.from = target;
        }
        uint256 oraclePrice = checked.price;

        _orders[orderId].targetTime = 0;
        _fillAndReport(orderId, roundId, order, market, oraclePrice);
    }

    /// @dev The settlement of a priced order: the reference price, the fill (or its cancellation)
    /// and the event.
    function _fillAndReport(
        uint256 orderId,
        uint80 roundId,
        Order memory order,
        MarketOrders memory market,
        uint256 oraclePrice
    ) internal {
        // The pre-check's reference follows the settlements, rewritten only when it is more than 1%
        // off (a conservative pre-check needs no exact price; a settlement saves the write).
        if (!OrderMath.within(market.referencePrice, oraclePrice, REFERENCE_PRICE_TOLERANCE_BPS)) {
            _markets[orderId & 0xff].referencePrice = uint128(oraclePrice);
            market.referencePrice = uint128(oraclePrice);
        }
        (bool filled, uint256 fillPrice, uint256 tradeFee) =
            _fillOrCancel(orderId, order, market, oraclePrice);
        if (!filled) return;
        emit OrderSettled(
            orderId,
            orderId >> 8,
            msg.sender,
            roundId,
            oraclePrice,
            fillPrice,
            order.sizeDelta,
            tradeFee,
            market.settlementFee
        );
    }

    /// @dev Prices the fill from the skew before it and hands it to the engine; cancels (paying the
    /// settler) when the price is out of range or unacceptable or the engine refuses the fill.
    function _fillOrCancel(
        uint256 orderId,
        Order memory order,
        MarketOrders memory market,
        uint256 oraclePrice
    ) internal returns (bool filled, uint256 fillPrice, uint256 tradeFee) {
        uint256 marketId = orderId & 0xff;
        (int256 skew, uint256 skewScale) = engine.marketSkew(marketId);
        bool priced;
        (priced, fillPrice) = OrderMath.fillPrice(oraclePrice, skew, skewScale, order.sizeDelta);
        if (!priced) {
            _cancelAtSettlement(orderId, market, CancelReason.FillPriceOutOfRange, "");
            return (false, 0, 0);
        }
        if (order.sizeDelta > 0 ? fillPrice > order.acceptablePrice : fillPrice < order.acceptablePrice) {
            _cancelAtSettlement(orderId, market, CancelReason.AcceptablePrice, "");
            return (false, fillPrice, 0);
        }
        tradeFee =
            OrderMath.tradeFee(skew, order.sizeDelta, fillPrice, market.makerFeeRate, market.takerFeeRate);
        try engine.fillOrder(
            orderId >> 8, marketId, order.sizeDelta, fillPrice, tradeFee, market.settlementFee, msg.sender
        ) {
            filled = true;
        } catch (bytes memory reason) {
            if (reason.length == 0) revert FillFailedWithoutReason(orderId);
            _cancelAtSettlement(orderId, market, CancelReason.FillRefused, reason);
        }
    }

    /// @dev The settler's pay for an order that did not fill, then the event.
    function _cancelAtSettlement(
        uint256 orderId,
        MarketOrders memory market,
        CancelReason reason,
        bytes memory engineError
    ) internal {
        uint256 accountId = orderId >> 8;
        uint256 fee = market.settlementFee;
        if (fee != 0) {
            Account memory account = engine.accounts(accountId);
            if (account.marketMask == 0 && account.quoteBalance < int256(fee)) {
                fee = account.quoteBalance > 0 ? uint256(int256(account.quoteBalance)) : 0;
            }
            if (fee != 0) engine.chargeOrderFee(accountId, fee, msg.sender);
        }
        emit OrderCancelled(orderId, reason, msg.sender, fee, engineError);
    }
}
