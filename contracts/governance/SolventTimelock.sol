// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title SolventTimelock
/// @notice OpenZeppelin's audited `TimelockController`, unchanged: it holds the governor (and
/// admin) role of every Solvent contract, so every parameter and wiring change is a proposal that
/// sits visible for `getMinDelay()` seconds before anyone may execute it, and a canceller (the
/// guardian) may drop it meanwhile. Named here only so the project compiles and deploys it.
contract SolventTimelock is TimelockController {
    /// @notice `minDelay` seconds between scheduling and execution; `proposers` also get the
    /// canceller role, and so do `cancellers` (the guardian); `executors` may hold address(0)
    /// (anyone executes); no admin: the timelock administers itself, so even its own roles change
    /// only through a proposal.
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address[] memory cancellers
    ) TimelockController(minDelay, proposers, executors, address(0)) {
        for (uint256 i; i < cancellers.length; ++i) {
            _grantRole(CANCELLER_ROLE, cancellers[i]);
        }
    }
}
