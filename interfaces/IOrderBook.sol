// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Account, AccountHealth, Position} from "../contracts/engine/libraries/EngineTypes.sol";

/// @title IOrderEngine
/// @notice What the order book calls on the margin engine: views for authorization and the
/// pre-check, the market's skew, and the two order entry points only the order book may call.
interface IOrderEngine {
    /// @notice The account's owner, masks, auctions and quote balance.
    function accounts(uint256 accountId) external view returns (Account memory);

    /// @notice Whether `operator` may act for every account of `owner`.
    function isOperator(address owner, address operator) external view returns (bool);

    /// @notice The account's position in `marketId`.
    function positions(uint256 accountId, uint256 marketId) external view returns (Position memory);

    /// @notice Initial equity, requirement and health of one account.
    function initialHealthOf(uint256 accountId) external view returns (AccountHealth memory);

    /// @notice The market's net trader size (WAD, long > 0) and its skew scale (WAD size).
    function marketSkew(uint256 marketId) external view returns (int256 netSize, uint256 skewScale);

    /// @notice Applies a settled order's fill at `fillPrice`, charges `tradeFee` and pays `settler`
    /// `settlementFee` from the account (quote units), both before the margin check.
    function fillOrder(
        uint256 accountId,
        uint256 marketId,
        int256 sizeDelta,
        uint256 fillPrice,
        uint256 tradeFee,
        uint256 settlementFee,
        address settler
    ) external;

    /// @notice Moves `fee` quote units from the account (into debt if need be) to `to`.
    function chargeOrderFee(uint256 accountId, uint256 fee, address to) external;
}

/// @title IOrderBook
/// @notice Two-step orders: a trader commits, anyone settles later at the price the commit
/// determines (the first oracle round at or after `commitTime + settlementDelay`), with a skew
/// premium and maker/taker fees (docs/orders.md). Errors and events are declared here.
interface IOrderBook {
    /// @notice Governance input for one market's orders.
    struct OrderConfig {
        uint256 settlementDelay; // seconds from the commit to the price that settles it
        uint256 settlementWindow; // seconds after the target time during which it can settle
        uint256 settlementFee; // quote units, paid by the trader to the settler
        uint256 makerFeeRate; // WAD, on the part of a fill that reduces |skew|
        uint256 takerFeeRate; // WAD, on the part that extends it
        uint256 commitMarginBps; // pre-check: free initial margin >= this share of the order's notional
    }

    /// @notice One market's order configuration as stored (two slots), with the pre-check's
    /// reference price: the oracle price of the market's last settlement (0 before the first).
    struct MarketOrders {
        // slot 0
        address asset;
        uint16 settlementDelay;
        uint24 settlementWindow;
        uint40 settlementFee;
        uint16 commitMarginBps;
        // slot 1
        uint64 makerFeeRate;
        uint64 takerFeeRate;
        uint128 referencePrice;
    }

    /// @notice A pending order (one slot). The target time is fixed at the commit (a later change
    /// of the market's delay does not move it); `targetTime == 0`: nothing pending.
    struct Order {
        int96 sizeDelta;
        uint120 acceptablePrice;
        uint40 targetTime;
    }

    /// @notice Why an order ended without a fill.
    enum CancelReason {
        Expired, // not settled within the window (cancelled by anyone, or replaced by a new commit)
        AcceptablePrice, // the fill price was beyond the trader's acceptable price
        FillPriceOutOfRange, // the skew premium would make the fill price zero or negative
        FillRefused // the engine refused the fill (margin, open-interest cap, risk gates...)
    }

    // --- bad inputs ---
    error ZeroSize();
    error SizeTooLarge(int256 sizeDelta);
    error MarketNotOpen(uint256 marketId);
    error UnknownAccount(uint256 accountId);
    error NotAuthorized(uint256 accountId, address caller);
    error OrderPending(uint256 orderId, uint256 expiry);
    error OrderNotPending(uint256 orderId);
    error OrderExpired(uint256 orderId, uint256 expiry);
    error OrderNotExpired(uint256 orderId, uint256 expiry);
    error SettlementTooEarly(uint256 orderId, uint256 targetTime);
    error InsufficientMarginForOrder(int256 freeMargin, uint256 required);
    /// @notice `settleOrders` was given no order.
    error EmptyBatch();
    /// @notice A batch holds orders of one market only (one round names one market's price).
    error BatchMixesMarkets(uint256 orderId, uint256 marketId);
    /// @notice The engine reverted without a reason (out of gas): no fill, no cancellation.
    error FillFailedWithoutReason(uint256 orderId);
    // --- governance ---
    error ZeroAddress();
    error UnknownMarket(uint256 marketId);
    error SettlementDelayOutOfRange(uint256 settlementDelay);
    error SettlementWindowOutOfRange(uint256 settlementWindow);
    error SettlementFeeOutOfRange(uint256 settlementFee);
    error FeeRateOutOfRange(uint256 makerFeeRate, uint256 takerFeeRate);
    error CommitMarginOutOfRange(uint256 commitMarginBps);

    event OrderCommitted(
        uint256 indexed orderId,
        uint256 indexed accountId,
        uint256 indexed marketId,
        int256 sizeDelta,
        uint256 acceptablePrice,
        uint256 commitTime,
        uint256 targetTime
    );
    event OrderSettled(
        uint256 indexed orderId,
        uint256 indexed accountId,
        address indexed settler,
        uint80 roundId,
        uint256 oraclePrice,
        uint256 fillPrice,
        int256 sizeDelta,
        uint256 tradeFee,
        uint256 settlementFee
    );
    /// @notice An order ended without a fill; `engineError` is the engine's revert data for
    /// `FillRefused` (empty otherwise).
    event OrderCancelled(
        uint256 indexed orderId,
        CancelReason reason,
        address indexed settler,
        uint256 settlementFee,
        bytes engineError
    );
    event MarketOrdersSet(uint256 indexed marketId, address asset, OrderConfig config);

    /// @notice Commits an order for `accountId` (caller: its owner or an operator) in an open
    /// market: `sizeDelta` (WAD, long > 0) filled at most at `acceptablePrice` for a buy, at least for
    /// a sell. One pending order per account and market: the id is `accountId << 8 | marketId`.
    function commitOrder(uint256 accountId, uint256 marketId, int256 sizeDelta, uint256 acceptablePrice)
        external
        returns (uint256 orderId);

    /// @notice Settles a pending order at the price of `roundId`, the first round of the market's
    /// primary feed at or after its target time; anyone may call it, before the order expires.
    function settleOrder(uint256 orderId, uint80 roundId) external;

    /// @notice Settles several pending orders of one market (the market of `orderIds[0]`) at the
    /// price of `roundId`, each as `settleOrder` would, in the array's order; the batch reverts as
    /// a whole if any order cannot be settled (`EmptyBatch`, `BatchMixesMarkets`, or
    /// `settleOrder`'s errors). Anyone may call it; the caller is each order's settler.
    function settleOrders(uint256[] calldata orderIds, uint80 roundId) external;

    /// @notice Cancels an expired order; anyone may call it, only after expiry. No fee.
    function cancelOrder(uint256 orderId) external;

    /// @notice Sets a market's order configuration (governance).
    function setMarketOrders(uint256 marketId, OrderConfig calldata config) external;
}
