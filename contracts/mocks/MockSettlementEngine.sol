// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IAuctionSettlement} from "../../interfaces/IAuctionSettlement.sol";
import {IInsuranceFund} from "../../interfaces/IInsuranceFund.sol";
import {ILiquidator} from "../../interfaces/ILiquidator.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";

/// @dev The liquidator's oracle getter: the stand-in reads prices where the liquidator resets.
interface IOracleSource {
    function oracle() external view returns (IOracleAdapter);
}

/// @title MockSettlementEngine
/// @notice Stand-in for the MarginEngine in the liquidator's unit tests. Local chains only. Like
/// the engine it keeps seized lots in custody (`collateralInAuction`, the one piece of bookkeeping
/// it does, so measured take gas includes the custody update the real engine pays) and pays them
/// out on `settleAuction` and `releaseCollateral`; everything else the liquidator tells it is recorded as events. Bad
/// debt runs a two-step waterfall: insurance fund, then "socialized" (just reported).
contract MockSettlementEngine is IAuctionSettlement {
    using SafeERC20 for IERC20;

    error NotLiquidator(address caller);

    event ProceedsSettled(uint256 indexed accountId, uint256 debtRepaid, uint256 penaltyPaid);
    event BadDebtWrittenOff(uint256 indexed accountId, uint256 amount, uint256 covered, uint256 socialized);
    event AuctionEndReported(uint256 indexed accountId, address indexed token, uint256 returned);

    ILiquidator public liquidator;
    IInsuranceFund public insuranceFund;
    /// @notice Collateral held in custody for running auctions, per token (the real engine's
    /// `collateralInAuction`); a release beyond it panics.
    mapping(address token => uint256) public collateralInAuction;

    /// @notice Wires the liquidator and the fund (test set-up; no access control on a mock).
    function wire(ILiquidator liquidator_, IInsuranceFund fund_) external {
        liquidator = liquidator_;
        insuranceFund = fund_;
    }

    /// @notice Plays the engine's liquidation: takes the lots (which it must hold) into custody and
    /// starts auctions.
    function liquidate(
        uint256 accountId,
        address[] memory tokens,
        uint256[] memory lots,
        uint256 debt,
        uint256 penalty,
        address keeper
    ) external returns (uint256 firstAuctionId, uint256 keeperReward) {
        hold(tokens, lots);
        (firstAuctionId, keeperReward) =
            liquidator.startAuctions(accountId, tokens, lots, _prices(tokens), debt, penalty, keeper);
    }

    /// @notice Only books lots into custody (so a test can measure `startAuctions` alone).
    function hold(address[] memory tokens, uint256[] memory lots) public {
        for (uint256 i; i < tokens.length; ++i) {
            collateralInAuction[tokens[i]] += lots[i];
        }
    }

    /// @notice Only calls `startAuctions`, for lots already in custody.
    function start(
        uint256 accountId,
        address[] memory tokens,
        uint256[] memory lots,
        uint256 debt,
        uint256 penalty,
        address keeper
    ) external returns (uint256 firstAuctionId, uint256 keeperReward) {
        (firstAuctionId, keeperReward) = liquidator.startAuctions(
            accountId, tokens, lots, _prices(tokens), debt, penalty, keeper
        );
    }

    /// @notice Calls `startAuctions` with the caller's prices (to test their length check).
    function startPriced(
        uint256 accountId,
        address[] memory tokens,
        uint256[] memory lots,
        uint256[] memory prices,
        uint256 debt,
        uint256 penalty,
        address keeper
    ) external returns (uint256 firstAuctionId, uint256 keeperReward) {
        (firstAuctionId, keeperReward) =
            liquidator.startAuctions(accountId, tokens, lots, prices, debt, penalty, keeper);
    }

    /// @dev The oracle prices the real engine would pass (it reads them for its margin check).
    function _prices(address[] memory tokens) internal view returns (uint256[] memory prices) {
        IOracleAdapter oracle = IOracleSource(address(liquidator)).oracle();
        prices = new uint256[](tokens.length);
        for (uint256 i; i < tokens.length; ++i) {
            prices[i] = oracle.price(tokens[i]);
        }
    }

    /// @inheritdoc IAuctionSettlement
    function settleAuction(Settlement calldata settlement) external {
        _onlyLiquidator();
        uint256 accountId = settlement.accountId;
        address token = settlement.token;
        collateralInAuction[token] -= settlement.released + settlement.returned;
        if (settlement.debtRepaid != 0 || settlement.penaltyPaid != 0) {
            emit ProceedsSettled(accountId, settlement.debtRepaid, settlement.penaltyPaid);
        }
        if (settlement.badDebt != 0) {
            uint256 covered = insuranceFund.coverShortfall(settlement.badDebt);
            emit BadDebtWrittenOff(accountId, settlement.badDebt, covered, settlement.badDebt - covered);
        }
        if (settlement.ended) emit AuctionEndReported(accountId, token, settlement.returned);
        if (settlement.released != 0) IERC20(token).safeTransfer(settlement.receiver, settlement.released);
    }

    /// @inheritdoc IAuctionSettlement
    function releaseCollateral(address token, address to, uint256 amount) external {
        _onlyLiquidator();
        collateralInAuction[token] -= amount;
        IERC20(token).safeTransfer(to, amount);
    }

    function _onlyLiquidator() internal view {
        if (msg.sender != address(liquidator)) revert NotLiquidator(msg.sender);
    }
}
