// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ISwapRouter
/// @notice The single-pool exact-input swap of a Uniswap-v3-style router (SwapRouter02 shape
/// without the deadline, as Uniswap's SwapRouter02 and its forks expose it): the interface the
/// keeper's flash taker sells seized collateral through. Any exchange adapter with this shape
/// works; local chains use `MockSwapRouter`.
interface ISwapRouter {
    struct ExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint24 fee;
        address recipient;
        uint256 amountIn;
        uint256 amountOutMinimum;
        uint160 sqrtPriceLimitX96;
    }

    /// @notice Swaps `amountIn` of `tokenIn` (pulled from the caller) for at least
    /// `amountOutMinimum` of `tokenOut`, sent to `recipient`.
    function exactInputSingle(ExactInputSingleParams calldata params)
        external
        payable
        returns (uint256 amountOut);
}
