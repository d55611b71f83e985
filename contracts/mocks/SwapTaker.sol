// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IAuctionTaker} from "../../interfaces/IAuctionTaker.sol";
import {DutchAuctionLiquidator} from "../liquidation/DutchAuctionLiquidator.sol";
import {MockExchange} from "./MockExchange.sol";

/// @title SwapTaker
/// @notice Capital-free keeper for tests: takes an auction with itself as receiver, sells the
/// collateral on MockExchange inside the callback and approves the quote owed. The profit stays
/// here. Local chains only.
contract SwapTaker is IAuctionTaker {
    using SafeERC20 for IERC20;

    error NotLiquidator(address caller);
    error NotSelf(address taker);

    DutchAuctionLiquidator public immutable liquidator;
    MockExchange public immutable exchange;
    IERC20 public immutable quote;

    constructor(DutchAuctionLiquidator liquidator_, MockExchange exchange_) {
        liquidator = liquidator_;
        exchange = exchange_;
        quote = exchange_.quote();
    }

    /// @notice Takes up to `maxAmount` of auction `id` and pays with the sale of the collateral.
    function take(uint256 id, uint256 maxAmount, uint256 maxPrice) external returns (uint256, uint256) {
        address token = liquidator.status(id).token;
        return liquidator.take(id, maxAmount, maxPrice, address(this), abi.encode(token));
    }

    /// @inheritdoc IAuctionTaker
    function onAuctionTake(address taker, uint256 owe, uint256 amount, bytes calldata data) external {
        if (msg.sender != address(liquidator)) revert NotLiquidator(msg.sender);
        if (taker != address(this)) revert NotSelf(taker);
        address token = abi.decode(data, (address));
        IERC20(token).forceApprove(address(exchange), amount);
        exchange.swap(token, amount, owe);
        quote.forceApprove(address(liquidator), owe);
    }
}
