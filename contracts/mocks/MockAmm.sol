// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ISwapRouter} from "../../interfaces/ISwapRouter.sol";

/// @title MockAmm
/// @notice Constant-product pools (x·y = k, Uniswap-v2 style, fee on the input) selling any token for
/// the quote token, behind the Uniswap-v3 router interface the keepers use. Local chains only: the
/// simulator re-centres each pool every block (`sync`) at the path's price with a finite depth,
/// which models arbitrageurs against a deeper outside market; a large sale within one block moves
/// the price along the curve (the slippage a liquidator selling seized collateral faces).
/// The quote paid out comes from this contract's balance (the simulator mints it).
contract MockAmm is ISwapRouter {
    using SafeERC20 for IERC20;

    error PoolNotSynced(address token);
    error WrongOutputToken(address token);
    error TooLittleReceived(uint256 out, uint256 minOut);
    error FeeTooHigh(uint256 feeBps);

    event Synced(address indexed token, uint256 tokenReserve, uint256 quoteReserve);
    event Swapped(address indexed token, uint256 amountIn, uint256 quoteOut);

    struct Pool {
        uint128 tokenReserve;
        uint128 quoteReserve;
    }

    IERC20 public immutable quote;
    uint256 public immutable feeBps;
    mapping(address token => Pool) public pools;

    constructor(IERC20 quote_, uint256 feeBps_) {
        if (feeBps_ >= 10_000) revert FeeTooHigh(feeBps_);
        quote = quote_;
        feeBps = feeBps_;
    }

    /// @notice Sets `token`'s pool to `quoteDepth` quote units against the token amount worth as
    /// much at `priceWad` (WAD USD per whole token): the marginal price becomes `priceWad`.
    function sync(address token, uint256 priceWad, uint256 quoteDepth) external {
        uint256 scale =
            10 ** (IERC20Metadata(token).decimals() + 18 - IERC20Metadata(address(quote)).decimals());
        uint256 tokenReserve = Math.mulDiv(quoteDepth, scale, priceWad);
        pools[token] = Pool(uint128(tokenReserve), uint128(quoteDepth));
        emit Synced(token, tokenReserve, quoteDepth);
    }

    /// @notice Quote units a sale of `amountIn` of `token` returns now.
    function quoteOut(address token, uint256 amountIn) public view returns (uint256) {
        Pool memory pool = pools[token];
        if (pool.tokenReserve == 0) revert PoolNotSynced(token);
        uint256 afterFee = amountIn * (10_000 - feeBps);
        return Math.mulDiv(pool.quoteReserve, afterFee, uint256(pool.tokenReserve) * 10_000 + afterFee);
    }

    /// @inheritdoc ISwapRouter
    function exactInputSingle(ExactInputSingleParams calldata params) external payable returns (uint256 out) {
        if (params.tokenOut != address(quote)) revert WrongOutputToken(params.tokenOut);
        out = quoteOut(params.tokenIn, params.amountIn);
        if (out < params.amountOutMinimum) revert TooLittleReceived(out, params.amountOutMinimum);
        Pool storage pool = pools[params.tokenIn];
        pool.tokenReserve += uint128(params.amountIn);
        pool.quoteReserve -= uint128(out);
        IERC20(params.tokenIn).safeTransferFrom(msg.sender, address(this), params.amountIn);
        quote.safeTransfer(params.recipient, out);
        emit Swapped(params.tokenIn, params.amountIn, out);
    }
}
