// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";

/// @title MockAggregator
/// @notice Settable Chainlink-style price feed. Local chains only.
contract MockAggregator is IAggregatorV3 {
    error FeedReverted();

    uint8 public decimals;
    string public description;
    int256 public answer;
    uint256 public startedAt;
    uint256 public updatedAt;
    uint80 public roundId;
    /// @notice When set, `latestRoundData` reverts (a shut-down Chainlink feed does).
    bool public reverting;
    /// @notice When set, `latestRoundData` returns a single word (malformed data).
    bool public malformed;

    constructor(uint8 decimals_, string memory description_, int256 answer_) {
        decimals = decimals_;
        description = description_;
        setAnswer(answer_);
    }

    /// @notice A fresh round: `answer_` updated now.
    function setAnswer(int256 answer_) public {
        setRoundData(answer_, block.timestamp, block.timestamp);
    }

    /// @notice A round with explicit timestamps.
    function setRoundData(int256 answer_, uint256 startedAt_, uint256 updatedAt_) public {
        answer = answer_;
        startedAt = startedAt_;
        updatedAt = updatedAt_;
        roundId += 1;
    }

    /// @notice Changes only `updatedAt` (and `startedAt`).
    function setUpdatedAt(uint256 updatedAt_) external {
        startedAt = updatedAt_;
        updatedAt = updatedAt_;
    }

    /// @notice Changes the reported decimals (to test config-time checks).
    function setDecimals(uint8 decimals_) external {
        decimals = decimals_;
    }

    /// @notice Makes `latestRoundData` revert.
    function setReverting(bool reverting_) external {
        reverting = reverting_;
    }

    /// @notice Makes `latestRoundData` return malformed (too short) data.
    function setMalformed(bool malformed_) external {
        malformed = malformed_;
    }

    /// @inheritdoc IAggregatorV3
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        if (reverting) revert FeedReverted();
        if (malformed) {
            assembly ("memory-safe") {
                mstore(0, 1)
                return(0, 32)
            }
        }
        return (roundId, answer, startedAt, updatedAt, roundId);
    }
}
