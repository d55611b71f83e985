// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ISwapRouter} from "../../interfaces/ISwapRouter.sol";

/// @title MockSwapRouter
/// @notice A Uniswap-v3-style router for local chains: sells any token for the quote token at a
/// settable WAD price less a slippage in bps, paying from its own quote balance.
contract MockSwapRouter is ISwapRouter {
    using SafeERC20 for IERC20;

    error PriceNotSet(address token);
    error WrongOutputToken(address token);
    error TooLittleReceived(uint256 out, uint256 minOut);

    IERC20 public immutable quote;
    mapping(address token => uint256) public prices;
    uint256 public slippageBps;

    constructor(IERC20 quote_) {
        quote = quote_;
    }

    /// @notice Sets the WAD USD price paid for one whole `token`, before slippage.
    function setPrice(address token, uint256 priceWad) external {
        prices[token] = priceWad;
    }

    /// @notice Sets the share of every sale's value lost to price impact, in bps.
    function setSlippageBps(uint256 bps) external {
        slippageBps = bps;
    }

    /// @inheritdoc ISwapRouter
    function exactInputSingle(ExactInputSingleParams calldata params) external payable returns (uint256 out) {
        if (params.tokenOut != address(quote)) revert WrongOutputToken(params.tokenOut);
        uint256 price = prices[params.tokenIn];
        if (price == 0) revert PriceNotSet(params.tokenIn);
        uint256 scale = 10
            ** (IERC20Metadata(params.tokenIn).decimals() + 18 - IERC20Metadata(address(quote)).decimals());
        out = Math.mulDiv(params.amountIn, price * (10_000 - slippageBps), scale * 10_000);
        if (out < params.amountOutMinimum) revert TooLittleReceived(out, params.amountOutMinimum);
        IERC20(params.tokenIn).safeTransferFrom(msg.sender, address(this), params.amountIn);
        quote.safeTransfer(params.recipient, out);
    }
}
