// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";

/// @title MockAggregator
/// @notice Settable Chainlink-style price feed that behaves like Chainlink's aggregator proxy
/// (`EACAggregatorProxy`): every round is kept, round ids are `phaseId << 64 | aggregatorRoundId`,
/// `getRoundData` reads any past round, `startNewPhase` models the proxy switching to a new
/// aggregator (the previous phase's last round stays readable, and `phaseAggregators(phase)`
/// returns a contract whose `latestRoundData` is that phase's last round). Local chains only.
/// @dev The constructor-set state lives in the first slots (deploy.py copies them when it places
/// the mock at a configured address); the round history is extra. The current round is always
/// readable from the plain fields, so a copied mock answers `getRoundData` for it too.
contract MockAggregator is IAggregatorV3 {
    error FeedReverted();
    /// @notice `getRoundData` of a round the feed never had (as Chainlink's "No data present").
    error NoDataPresent(uint80 roundId);

    /// @notice One past round (answer and timestamps).
    struct Round {
        int256 answer;
        uint128 startedAt;
        uint128 updatedAt;
    }

    uint8 public decimals;
    string public description;
    int256 public answer;
    uint256 public startedAt;
    uint256 public updatedAt;
    /// @notice The current round's id, `phaseId << 64 | aggregatorRoundId` (phase 0: 1, 2, 3...).
    uint80 public roundId;
    /// @notice When set, `latestRoundData` and `getRoundData` revert (a shut-down Chainlink feed does).
    bool public reverting;
    /// @notice When set, `latestRoundData` returns a single word (malformed data).
    bool public malformed;
    /// @notice The current phase (the proxy's current aggregator); starts at 0.
    uint16 public phaseId;

    mapping(uint80 roundId => Round) internal _rounds;
    mapping(uint16 phase => address) internal _phaseAggregators;

    constructor(uint8 decimals_, string memory description_, int256 answer_) {
        decimals = decimals_;
        description = description_;
        setAnswer(answer_);
    }

    /// @notice A fresh round: `answer_` updated now.
    function setAnswer(int256 answer_) public {
        setRoundData(answer_, block.timestamp, block.timestamp);
    }

    /// @notice A round with explicit timestamps: the next round id of the current phase.
    function setRoundData(int256 answer_, uint256 startedAt_, uint256 updatedAt_) public {
        answer = answer_;
        startedAt = startedAt_;
        updatedAt = updatedAt_;
        uint80 next = _nextRoundId();
        roundId = next;
        _rounds[next] = Round(answer_, uint128(startedAt_), uint128(updatedAt_));
    }

    /// @notice Changes only `updatedAt` (and `startedAt`) of the current round.
    function setUpdatedAt(uint256 updatedAt_) external {
        startedAt = updatedAt_;
        updatedAt = updatedAt_;
        Round storage round = _rounds[roundId];
        (round.answer, round.startedAt, round.updatedAt) = (answer, uint128(updatedAt_), uint128(updatedAt_));
    }

    /// @notice The proxy switches to a new aggregator: the next round is `(phaseId + 1) << 64 | 1`.
    /// The phase that ends keeps its rounds; `phaseAggregators` of it reports its last round.
    function startNewPhase() external {
        uint16 ending = phaseId;
        // The current round, from the plain fields (a copied mock has no history); none when the
        // ending phase never published.
        bool published = roundId != 0 && uint256(roundId) >> 64 == ending;
        _phaseAggregators[ending] = address(
            published
                ? new MockPhaseAggregator(uint80(uint64(roundId)), answer, startedAt, updatedAt)
                : new MockPhaseAggregator(0, 0, 0, 0)
        );
        phaseId = ending + 1;
    }

    /// @notice The aggregator of `phase`, as Chainlink's proxy reports it: this mock for the current
    /// phase, a frozen aggregator holding the last round of an ended phase, address(0) otherwise.
    function phaseAggregators(uint16 phase) external view returns (address) {
        if (phase == phaseId) return address(this);
        return _phaseAggregators[phase];
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

    /// @notice A past round by id, as Chainlink's proxy serves it; reverts for a round never published.
    function getRoundData(uint80 roundId_) external view returns (uint80, int256, uint256, uint256, uint80) {
        if (reverting) revert FeedReverted();
        Round memory round = _rounds[roundId_];
        if (round.updatedAt == 0) {
            // A mock copied into place (deploy.py) has the current round in its plain fields only.
            if (roundId_ != 0 && roundId_ == roundId) {
                return (roundId, answer, startedAt, updatedAt, roundId);
            }
            revert NoDataPresent(roundId_);
        }
        return (roundId_, round.answer, round.startedAt, round.updatedAt, roundId_);
    }

    function _nextRoundId() internal view returns (uint80) {
        uint80 phaseBase = uint80(uint256(phaseId) << 64);
        // The first round of a new phase is aggregator round 1 of that phase.
        if (uint256(roundId) >> 64 != phaseId) return phaseBase | 1;
        return roundId + 1;
    }
}

/// @title MockPhaseAggregator
/// @notice The aggregator of an ended phase of a `MockAggregator`: its last round, frozen (round id
/// without phase bits, as a Chainlink aggregator reports its own rounds). Local chains only.
contract MockPhaseAggregator {
    uint80 public immutable lastRoundId;
    int256 public immutable lastAnswer;
    uint256 public immutable lastStartedAt;
    uint256 public immutable lastUpdatedAt;

    constructor(uint80 roundId_, int256 answer_, uint256 startedAt_, uint256 updatedAt_) {
        lastRoundId = roundId_;
        lastAnswer = answer_;
        lastStartedAt = startedAt_;
        lastUpdatedAt = updatedAt_;
    }

    /// @notice The phase's last round.
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (lastRoundId, lastAnswer, lastStartedAt, lastUpdatedAt, lastRoundId);
    }
}
