// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IInsuranceFund} from "../../interfaces/IInsuranceFund.sol";

/// @title MockInsuranceFund
/// @notice Holds quote and pays what it has. Local chains only; no access control.
contract MockInsuranceFund is IInsuranceFund {
    using SafeERC20 for IERC20;

    IERC20 public immutable quote;

    constructor(IERC20 quote_) {
        quote = quote_;
    }

    /// @inheritdoc IInsuranceFund
    function coverShortfall(uint256 amount) external returns (uint256 covered) {
        covered = Math.min(amount, quote.balanceOf(address(this)));
        if (covered != 0) quote.safeTransfer(msg.sender, covered);
    }

    /// @inheritdoc IInsuranceFund
    function payKeeperReward(address keeper, uint256 amount) external returns (uint256 paid) {
        paid = Math.min(amount, quote.balanceOf(address(this)));
        if (paid != 0) quote.safeTransfer(keeper, paid);
    }
}
