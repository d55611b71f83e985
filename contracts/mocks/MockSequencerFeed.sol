// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";

/// @title MockSequencerFeed
/// @notice Settable Chainlink L2 sequencer uptime feed: answer 0 = up, 1 = down; `startedAt` = time
/// of the last status change. Local chains only.
contract MockSequencerFeed is IAggregatorV3 {
    int256 public answer;
    uint256 public startedAt;
    uint80 public roundId;

    /// @notice Starts up since `startedAt_`.
    constructor(uint256 startedAt_) {
        setStatus(0, startedAt_);
    }

    /// @notice Sets the status (0 up, 1 down) and the time it changed.
    function setStatus(int256 answer_, uint256 startedAt_) public {
        answer = answer_;
        startedAt = startedAt_;
        roundId += 1;
    }

    /// @inheritdoc IAggregatorV3
    function decimals() external pure returns (uint8) {
        return 0;
    }

    /// @inheritdoc IAggregatorV3
    function description() external pure returns (string memory) {
        return "L2 Sequencer Uptime Status Feed";
    }

    /// @inheritdoc IAggregatorV3
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (roundId, answer, startedAt, block.timestamp, roundId);
    }
}
