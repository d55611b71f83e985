// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title WadPow
/// @notice Integer powers of a WAD fraction, rounded down at every step (the Python reference
/// `solvent.model.auction.wad_pow` repeats the same steps, so results match to the wei).
library WadPow {
    uint256 internal constant WAD = 1e18;

    /// @dev `x^n` for `x <= WAD` by binary exponentiation; every product is floored, so the
    /// result never exceeds the exact power. `x <= WAD` keeps every product below 1e36.
    function pow(uint256 x, uint256 n) internal pure returns (uint256 z) {
        z = n & 1 == 1 ? x : WAD;
        for (n >>= 1; n != 0; n >>= 1) {
            // Flooring each square and product is the specified rounding (see the NatSpec above).
            // slither-disable-next-line divide-before-multiply
            x = x * x / WAD;
            // A set bit remains in `n`, so a zero base makes the whole power zero.
            if (x == 0) return 0;
            // slither-disable-next-line divide-before-multiply
            if (n & 1 == 1) z = z * x / WAD;
        }
    }
}
