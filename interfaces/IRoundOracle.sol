// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IRoundFeed
/// @notice The part of a Chainlink aggregator proxy that settlement prices read: past rounds by id
/// (`phaseId << 64 | aggregatorRoundId`) and the aggregator of each phase.
interface IRoundFeed {
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function phaseAggregators(uint16 phaseId) external view returns (address);
}

/// @title IRoundOracle
/// @notice Settlement prices fully determined by a target time: what the order book reads from the
/// oracle adapter (docs/orders.md, "Which price settles an order").
interface IRoundOracle {
    /// @notice The validated WAD price of `asset`'s primary-feed round `roundId`, which must be the
    /// first round published at or after `notBefore`: `updatedAt >= notBefore` and its predecessor
    /// (the previous round of its phase, and the last round of the previous phase of the proxy) was
    /// published before `notBefore`. Reverts with a named error otherwise, or when the price fails
    /// the adapter's checks (positive, within the asset's bounds, within the deviation limit of a
    /// valid secondary feed). Also returns the round's `updatedAt`: the same round is then the
    /// first at or after any time in `[notBefore, updatedAt]` (its predecessor is earlier than
    /// `notBefore`), at the same price, so a batch of orders prices every target time in that
    /// range with one check.
    function roundPrice(address asset, uint80 roundId, uint256 notBefore)
        external
        view
        returns (uint256 priceWad, uint256 updatedAt);
}
