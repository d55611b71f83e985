// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ILiquidator} from "../../interfaces/ILiquidator.sol";
import {IAuctionSettlement} from "../../interfaces/IAuctionSettlement.sol";
import {IInsuranceFund} from "../../interfaces/IInsuranceFund.sol";

/// @title MinimalLiquidator
/// @notice Stand-in for the Dutch-auction liquidator so engine tests cover the whole hand-off: it
/// records the lots (held in the engine's custody) and lets a test settle an auction at a price
/// it chooses, or write it off. The
/// first auction of a hand-off carries the whole debt and penalty (no pro-rata split, no price
/// curve). Local chains only.
contract MinimalLiquidator is ILiquidator {
    using SafeERC20 for IERC20;

    error OnlyEngine();
    error AuctionClosed(uint256 auctionId);

    struct Auction {
        address token;
        uint96 accountId;
        uint128 lot;
        uint64 debt;
        uint64 penalty;
    }

    address public immutable engine;
    IERC20 public immutable quote;
    IInsuranceFund public immutable fund;
    uint256 public immutable keeperTip;
    uint256 public immutable keeperChip;

    uint256 public auctionCount;
    mapping(uint256 auctionId => Auction) public auctions;

    constructor(
        address engine_,
        IERC20 quote_,
        IInsuranceFund fund_,
        uint256 keeperTip_,
        uint256 keeperChip_
    ) {
        engine = engine_;
        quote = quote_;
        fund = fund_;
        keeperTip = keeperTip_;
        keeperChip = keeperChip_;
    }

    /// @inheritdoc ILiquidator
    function startAuctions(
        uint256 accountId,
        address[] calldata tokens,
        uint256[] calldata lots,
        uint256[] calldata,
        uint256 debt,
        uint256 penalty,
        address keeper
    ) external returns (uint256 firstAuctionId, uint256 keeperReward) {
        if (msg.sender != engine) revert OnlyEngine();
        firstAuctionId = auctionCount + 1;
        for (uint256 i; i < tokens.length; ++i) {
            auctions[firstAuctionId + i] = Auction(
                tokens[i],
                uint96(accountId),
                uint128(lots[i]),
                i == 0 ? uint64(debt) : 0,
                i == 0 ? uint64(penalty) : 0
            );
        }
        auctionCount += tokens.length;
        uint256 reward = Math.min(keeperTip + Math.mulDiv(keeperChip, debt + penalty, 1e18), penalty);
        if (reward != 0) keeperReward = fund.payKeeperReward(keeper, reward);
    }

    /// @notice Test hook: the caller buys `amount` of the lot for `payment` quote, which repays the
    /// auction's debt first, then its penalty; only what the tab needs is pulled from the caller.
    function take(uint256 auctionId, uint256 amount, uint256 payment) external {
        Auction storage auction = auctions[auctionId];
        if (auction.token == address(0)) revert AuctionClosed(auctionId);
        uint256 debtRepaid = Math.min(payment, auction.debt);
        uint256 penaltyPaid = Math.min(payment - debtRepaid, auction.penalty);
        auction.debt -= uint64(debtRepaid);
        auction.penalty -= uint64(penaltyPaid);
        auction.lot -= uint128(amount);
        quote.safeTransferFrom(msg.sender, engine, debtRepaid + penaltyPaid);
        IAuctionSettlement.Settlement memory settlement = IAuctionSettlement.Settlement({
            accountId: auction.accountId,
            token: auction.token,
            receiver: msg.sender,
            released: amount,
            debtRepaid: debtRepaid,
            penaltyPaid: penaltyPaid,
            badDebt: 0,
            returned: 0,
            ended: false
        });
        IAuctionSettlement(engine).settleAuction(settlement);
    }

    /// @notice Test hook: ends an auction; unpaid debt is written off, the remaining lot returns.
    function close(uint256 auctionId) external {
        Auction memory auction = auctions[auctionId];
        if (auction.token == address(0)) revert AuctionClosed(auctionId);
        delete auctions[auctionId];
        IAuctionSettlement.Settlement memory settlement = IAuctionSettlement.Settlement({
            accountId: auction.accountId,
            token: auction.token,
            receiver: address(0),
            released: 0,
            debtRepaid: 0,
            penaltyPaid: 0,
            badDebt: auction.debt,
            returned: auction.lot,
            ended: true
        });
        IAuctionSettlement(engine).settleAuction(settlement);
    }
}
