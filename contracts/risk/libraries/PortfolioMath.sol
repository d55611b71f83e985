// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarginMath} from "../../engine/libraries/MarginMath.sol";

/// @title PortfolioMath
/// @notice Pure math of the portfolio risk model, mirrored exactly by `solvent/model/portfolio.py`
/// (docs/risk-models.md). Rounding goes against the account: equity and gains down, losses and
/// requirements up.
library PortfolioMath {
    uint256 internal constant WAD = 1e18;
    /// @dev Moves are stored in percent of the scan range: a WAD move is `percent * MOVE_TICK`.
    uint256 internal constant MOVE_TICK = 1e16;

    /// @notice clamp(sigma · sigmaMultiple (up), floor, cap): the asset's scan range (WAD fraction).
    function scanRange(uint256 sigma, uint256 sigmaMultiple, uint256 floor, uint256 cap)
        internal
        pure
        returns (uint256 scan)
    {
        scan = MarginMath.mulDivUp(sigma, sigmaMultiple, WAD);
        if (scan < floor) scan = floor;
        if (scan > cap) scan = cap;
    }

    /// @notice Adds one entry's loss in each scenario to `losses` (WAD, up per
    /// term): ceil(-x · r_k / 1e18), with x the entry's signed exposure (a holding's value after its
    /// haircut, a position's size · price truncated toward zero) and r_k its asset's signed return,
    /// |r_k| = ceil(|move_k| · scan / 100) (= ceil(|move| in WAD · scan / 1e18), the reference's
    /// `scenario_returns`), move_k the int8 percent at bits [8k, 8k + 8) of `moves`. A down move
    /// is an up move of -x. The reference sums the same terms scenario by scenario.
    /// @dev The hot loop (8 + 8 entries × 16 scenarios) in assembly, unrolled: with checked library
    /// calls a term cost ~1,000 gas, in a Yul loop ~220. No overflow, given the caller's bounds: |x| <= 2^192, scan < 1e18 and
    /// |move| <= 100, so r_k < 2^60 and a scenario's 16 terms sum below 2^197.
    function addLosses(int256[16] memory losses, int256 x, uint256 scan, uint256 moves) internal pure {
        // Written out for each of the 16 scenarios (moves past the grid's count are stored as 0):
        // percent = the move; r = the signed return, its magnitude rounded up (sdiv truncates toward
        // zero, so a remainder of the dividend's sign steps it one away from zero); the term is
        // ceil(-x · r / 1e18): truncation toward zero, plus one for a positive remainder.
        assembly ("memory-safe") {
            let negX := sub(0, x)
            let percent
            let product
            let rest
            percent := signextend(0, shr(0, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(losses, add(mload(losses), add(sdiv(product, WAD), sgt(smod(product, WAD), 0))))
            }
            percent := signextend(0, shr(8, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x20),
                    add(mload(add(losses, 0x20)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(16, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x40),
                    add(mload(add(losses, 0x40)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(24, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x60),
                    add(mload(add(losses, 0x60)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(32, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x80),
                    add(mload(add(losses, 0x80)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(40, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0xa0),
                    add(mload(add(losses, 0xa0)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(48, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0xc0),
                    add(mload(add(losses, 0xc0)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(56, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0xe0),
                    add(mload(add(losses, 0xe0)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(64, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x100),
                    add(mload(add(losses, 0x100)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(72, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x120),
                    add(mload(add(losses, 0x120)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(80, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x140),
                    add(mload(add(losses, 0x140)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(88, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x160),
                    add(mload(add(losses, 0x160)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(96, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x180),
                    add(mload(add(losses, 0x180)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(104, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x1a0),
                    add(mload(add(losses, 0x1a0)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(112, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x1c0),
                    add(mload(add(losses, 0x1c0)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
            percent := signextend(0, shr(120, moves))
            if percent {
                product := mul(percent, scan)
                rest := smod(product, 100)
                product := mul(negX, sub(add(sdiv(product, 100), sgt(rest, 0)), slt(rest, 0)))
                mstore(
                    add(losses, 0x1e0),
                    add(mload(add(losses, 0x1e0)), add(sdiv(product, WAD), sgt(smod(product, WAD), 0)))
                )
            }
        }
    }

    /// @notice A position's exposure x = size · price / 1e18 truncated toward zero (the reference's
    /// `exposure`; the loss terms round it afterwards), its value floor(size · price / 1e18) (as
    /// `MarginMath.mulDivFloor`) and its notional ceil(|size| · price / 1e18) (as
    /// `MarginMath.notional`), from one product.
    /// @dev |size| < 2^127 and price < 2^128: the product fits 256 bits.
    function positionTerms(int256 size, uint256 price)
        internal
        pure
        returns (int256 x, int256 value, uint256 notional)
    {
        unchecked {
            uint256 product = (size >= 0 ? uint256(size) : uint256(-size)) * price;
            uint256 whole = product / WAD;
            uint256 inexact = product % WAD == 0 ? 0 : 1;
            notional = whole + inexact;
            if (size >= 0) return (int256(whole), int256(whole), notional);
            return (-int256(whole), -int256(notional), notional);
        }
    }
}
