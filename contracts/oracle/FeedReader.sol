// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IRoundFeed} from "../../interfaces/IRoundOracle.sol";

/// @title FeedReader
/// @notice Reads Chainlink-style feeds without ever reverting: a feed that reverts, has no code or
/// returns short (malformed) data is reported as unreadable instead of crashing the caller.
/// @dev Only the first words of the return data are copied (no return-data bomb), and every word is
/// read as a full 256-bit value, so out-of-range `uint80` round ids cannot make decoding revert.
library FeedReader {
    /// @dev `latestRoundData` returns five 32-byte words.
    uint256 private constant ROUND_DATA_SIZE = 160;

    /// @notice `latestRoundData` of `feed`; `ok` is false when the call reverted or returned fewer
    /// than five words.
    function latestRound(address feed)
        internal
        view
        returns (bool ok, int256 answer, uint256 startedAt, uint256 updatedAt)
    {
        bytes4 selector = IAggregatorV3.latestRoundData.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            let success := staticcall(gas(), feed, ptr, 4, ptr, ROUND_DATA_SIZE)
            ok := and(success, iszero(lt(returndatasize(), ROUND_DATA_SIZE)))
            if ok {
                answer := mload(add(ptr, 0x20))
                startedAt := mload(add(ptr, 0x40))
                updatedAt := mload(add(ptr, 0x60))
            }
        }
    }

    /// @notice `getRoundData(roundId)` of `feed`; `ok` is false when the call reverted (Chainlink's
    /// "No data present") or returned fewer than five words.
    function roundData(address feed, uint80 roundId)
        internal
        view
        returns (bool ok, int256 answer, uint256 updatedAt)
    {
        bytes4 selector = IRoundFeed.getRoundData.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 4), roundId)
            let success := staticcall(gas(), feed, ptr, 36, ptr, ROUND_DATA_SIZE)
            ok := and(success, iszero(lt(returndatasize(), ROUND_DATA_SIZE)))
            if ok {
                answer := mload(add(ptr, 0x20))
                updatedAt := mload(add(ptr, 0x60))
            }
        }
    }

    /// @notice `phaseAggregators(phase)` of a Chainlink proxy; `ok` is false when the call reverted
    /// (not a proxy) or returned less than one word or a value that is not an address.
    function phaseAggregator(address feed, uint16 phase) internal view returns (bool ok, address aggregator) {
        bytes4 selector = IRoundFeed.phaseAggregators.selector;
        uint256 word;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 4), phase)
            let success := staticcall(gas(), feed, ptr, 36, ptr, 0x20)
            ok := and(success, iszero(lt(returndatasize(), 0x20)))
            if ok { word := mload(ptr) }
        }
        ok = ok && word <= type(uint160).max;
        aggregator = address(uint160(word));
    }

    /// @notice `decimals()` of `target` (a feed or an ERC-20); `ok` is false when the call reverted,
    /// returned less than one word, or a value that does not fit a uint8.
    function decimals(address target) internal view returns (bool ok, uint8 value) {
        bytes4 selector = IAggregatorV3.decimals.selector;
        uint256 word;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            let success := staticcall(gas(), target, ptr, 4, ptr, 0x20)
            ok := and(success, iszero(lt(returndatasize(), 0x20)))
            if ok { word := mload(ptr) }
        }
        ok = ok && word <= type(uint8).max;
        value = uint8(word);
    }
}
