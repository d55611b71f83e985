// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRiskModel, RiskAccount, RiskMargin} from "../../interfaces/IRiskModel.sol";
import {MarginMath} from "../engine/libraries/MarginMath.sol";

/// @title RiskModelBase
/// @notice What every model shares: `margin` answers the model's `_margin`, and `health` is
/// `MarginMath.health` of its equities against its requirements, so two models cannot disagree on
/// what a verdict's health is.
abstract contract RiskModelBase is IRiskModel {
    /// @notice Equity and requirements of `account` (`IRiskModel.margin`).
    function margin(RiskAccount calldata account) external view returns (RiskMargin memory) {
        return _margin(account);
    }

    /// @notice Initial and maintenance health of `account` (`IRiskModel.health`): `equity` against
    /// the initial requirement, `maintenanceEquity` against the maintenance one.
    function health(RiskAccount calldata account)
        external
        view
        returns (uint256 initialHealth, uint256 maintenanceHealth)
    {
        RiskMargin memory m = _margin(account);
        bool hasDebt = account.quoteBalance < 0;
        initialHealth = MarginMath.health(m.equity, m.initialRequirement, hasDebt);
        maintenanceHealth = MarginMath.health(m.maintenanceEquity, m.maintenanceRequirement, hasDebt);
    }

    /// @dev The model's verdict; reverts with a named error on a bad input.
    function _margin(RiskAccount calldata account) internal view virtual returns (RiskMargin memory);
}
