// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IAuctionTaker} from "../../interfaces/IAuctionTaker.sol";
import {ISwapRouter} from "../../interfaces/ISwapRouter.sol";

/// @dev The liquidator's take, as the flash taker calls it.
interface IAuctionTake {
    function take(uint256 id, uint256 maxAmount, uint256 maxPrice, address receiver, bytes calldata data)
        external
        returns (uint256 slice, uint256 owe);
}

/// @title FlashTaker
/// @notice A keeper operator's capital-free take: the liquidator sends the collateral here first,
/// the callback sells it through a Uniswap-v3-style router for at least the quote owed plus the
/// operator's minimum profit, and the liquidator pulls the quote owed. The operator needs gas
/// only, no quote. The profit stays here until the owner sweeps it. Only the owner may take, so
/// nobody else can spend its profit floor or route through it.
contract FlashTaker is IAuctionTaker {
    using SafeERC20 for IERC20;

    error NotOwner(address caller);
    error NotLiquidator(address caller);
    error NotSelf(address taker);
    error ZeroAddress();

    /// @notice A take sold its collateral: `sold` units of `token` for `received` quote.
    event FlashTake(address indexed token, uint256 sold, uint256 owe, uint256 received);
    event Swept(address indexed token, address indexed to, uint256 amount);

    struct Sale {
        address token;
        uint24 fee;
        uint256 minProfit;
    }

    IAuctionTake public immutable liquidator;
    ISwapRouter public immutable router;
    IERC20 public immutable quote;
    address public immutable owner;

    constructor(IAuctionTake liquidator_, ISwapRouter router_, IERC20 quote_, address owner_) {
        if (
            address(liquidator_) == address(0) || address(router_) == address(0)
                || address(quote_) == address(0) || owner_ == address(0)
        ) revert ZeroAddress();
        liquidator = liquidator_;
        router = router_;
        quote = quote_;
        owner = owner_;
    }

    /// @notice Takes up to `maxAmount` of auction `id` (collateral `token`) at a price of at most
    /// `maxPrice`, selling it in the router's `fee` pool for at least the quote owed plus
    /// `minProfit`; reverts (nothing taken) when the sale would yield less.
    /// @return slice Collateral units bought and sold.
    /// @return owe Quote units paid to the auction.
    function take(
        uint256 id,
        uint256 maxAmount,
        uint256 maxPrice,
        address token,
        uint24 fee,
        uint256 minProfit
    ) external returns (uint256 slice, uint256 owe) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        (slice, owe) =
            liquidator.take(id, maxAmount, maxPrice, address(this), abi.encode(Sale(token, fee, minProfit)));
    }

    /// @inheritdoc IAuctionTaker
    function onAuctionTake(address taker, uint256 owe, uint256 amount, bytes calldata data) external {
        if (msg.sender != address(liquidator)) revert NotLiquidator(msg.sender);
        if (taker != address(this)) revert NotSelf(taker);
        Sale memory sale = abi.decode(data, (Sale));
        IERC20(sale.token).forceApprove(address(router), amount);
        uint256 received = router.exactInputSingle(
            ISwapRouter.ExactInputSingleParams({
                tokenIn: sale.token,
                tokenOut: address(quote),
                fee: sale.fee,
                recipient: address(this),
                amountIn: amount,
                amountOutMinimum: owe + sale.minProfit,
                sqrtPriceLimitX96: 0
            })
        );
        quote.forceApprove(address(liquidator), owe);
        emit FlashTake(sale.token, amount, owe, received);
    }

    /// @notice Sends this contract's whole balance of `token` (the profits) to `to`.
    function sweep(IERC20 token, address to) external returns (uint256 amount) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (to == address(0)) revert ZeroAddress();
        amount = token.balanceOf(address(this));
        token.safeTransfer(to, amount);
        emit Swept(address(token), to, amount);
    }
}
