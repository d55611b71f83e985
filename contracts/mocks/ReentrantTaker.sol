// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAuctionTaker} from "../../interfaces/IAuctionTaker.sol";
import {DutchAuctionLiquidator} from "../liquidation/DutchAuctionLiquidator.sol";

/// @title ReentrantTaker
/// @notice Hostile taker for tests: from inside the take callback it sends `data` (any call,
/// e.g. take, reset, startAuctions or setCollateral) back to the liquidator and bubbles up the
/// revert. Local chains only.
contract ReentrantTaker is IAuctionTaker {
    DutchAuctionLiquidator public immutable liquidator;

    constructor(DutchAuctionLiquidator liquidator_) {
        liquidator = liquidator_;
    }

    /// @notice Takes with itself as receiver; the callback replays `reentry` on the liquidator.
    function take(uint256 id, uint256 maxAmount, uint256 maxPrice, bytes calldata reentry) external {
        liquidator.take(id, maxAmount, maxPrice, address(this), reentry);
    }

    /// @inheritdoc IAuctionTaker
    function onAuctionTake(address, uint256, uint256, bytes calldata data) external {
        (bool ok, bytes memory reason) = address(liquidator).call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }
}
