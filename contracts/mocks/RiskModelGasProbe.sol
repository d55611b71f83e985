// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRiskModel, RiskAccount} from "../../interfaces/IRiskModel.sol";

/// @title RiskModelGasProbe
/// @notice Gas probe for a risk model's health view, as the engine will call it: the first call of
/// a transaction (cold model, cold grid slots), measured with gasleft() around the external call
/// (ABI encoding of the account from memory, the call and the decoding included). Local chains only.
contract RiskModelGasProbe {
    /// @notice Gas of the last measured health call.
    uint256 public lastHealthGas;
    /// @notice The health the measured call returned (so a test checks the call did the work).
    uint256 public lastInitialHealth;
    uint256 public lastMaintenanceHealth;

    /// @notice Copies `account` to memory, then measures one `model.health` call on it.
    function measureHealth(IRiskModel model, RiskAccount memory account) external {
        uint256 before = gasleft();
        (uint256 initialHealth, uint256 maintenanceHealth) = model.health(account);
        lastHealthGas = before - gasleft();
        lastInitialHealth = initialHealth;
        lastMaintenanceHealth = maintenanceHealth;
    }
}
