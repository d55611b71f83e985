// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";

/// @title OraclePriceReader
/// @notice Gas probe for the adapter's price read. Local chains only.
contract OraclePriceReader {
    /// @notice Gas of the last measured warm read: the second `price` call of one transaction,
    /// measured with gasleft() around the external call (includes the CALL and ABI overhead).
    uint256 public lastWarmReadGas;

    /// @notice Reads once to warm the adapter, its slots and the feeds, then measures a second read.
    function measureWarmRead(IOracleAdapter adapter, address asset) external {
        adapter.price(asset);
        uint256 before = gasleft();
        adapter.price(asset);
        lastWarmReadGas = before - gasleft();
    }
}
