// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title MockExchange
/// @notice Sells any token for quote at a settable WAD price, paying from its own quote balance.
/// Local chains only.
contract MockExchange {
    using SafeERC20 for IERC20;

    error PriceNotSet(address token);
    error InsufficientOutput(uint256 out, uint256 minOut);

    IERC20 public immutable quote;
    mapping(address token => uint256) public prices;

    constructor(IERC20 quote_) {
        quote = quote_;
    }

    /// @notice Sets the WAD USD price paid for one whole `token`.
    function setPrice(address token, uint256 priceWad) external {
        prices[token] = priceWad;
    }

    /// @notice Swaps `amountIn` of `token` for `floor(amountIn * price)` quote units.
    function swap(address token, uint256 amountIn, uint256 minOut) external returns (uint256 out) {
        uint256 price = prices[token];
        if (price == 0) revert PriceNotSet(token);
        uint256 scale =
            10 ** (IERC20Metadata(token).decimals() + 18 - IERC20Metadata(address(quote)).decimals());
        out = Math.mulDiv(amountIn, price, scale);
        if (out < minOut) revert InsufficientOutput(out, minOut);
        IERC20(token).safeTransferFrom(msg.sender, address(this), amountIn);
        quote.safeTransfer(msg.sender, out);
    }
}
