// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice One collateral balance of an account as the engine keeps it, with the oracle's reads of
/// its asset. `amount` is in the token's own units; `price` is the adapter's WAD USD price of one
/// whole token (`IOracleAdapter.price`); `sigma` the WAD annualized volatility margins use
/// (`IOracleAdapter.sigma`). The narrow types are the engine's ledger types or wider, so the engine
/// copies its storage without checks and the model's arithmetic cannot overflow.
struct RiskHolding {
    address asset;
    uint128 amount;
    uint8 decimals;
    uint128 price;
    uint128 sigma;
}

/// @notice One open perpetual position as the engine keeps it (`EngineTypes.Position`), keyed by the
/// market's oracle asset (the underlying token: WETH for ETH-PERP, so a perp and a collateral of
/// the same asset share one key), with the oracle's reads of that asset, and the engine's id of
/// its market (a model with per-market rules, as the standard model, reads them by it; several
/// markets may share an asset).
struct RiskPosition {
    address asset;
    int128 size;
    int128 openNotional;
    uint128 price;
    uint128 sigma;
    uint256 marketId;
}

/// @notice What a model margins: the account's signed quote balance (quote units, 6 decimals; the
/// engine's `Account.quoteBalance`, an int72), at most `MAX_COLLATERALS` holdings and
/// `MAX_POSITIONS` positions (one per market; the engine's masks guarantee it). Collateral amounts
/// fit uint128 (the engine caps `Collateral.totalDeposited` at uint128), sizes and open notionals
/// are the engine's int96.
struct RiskAccount {
    int128 quoteBalance;
    RiskHolding[] holdings;
    RiskPosition[] positions;
}

/// @notice A model's verdict on an account (all WAD USD).
/// @param equity Cash, collateral as the model values it for the initial requirement and unrealized
/// PnL.
/// @param initialRequirement What the account must hold after a risk-increasing action.
/// @param maintenanceRequirement Below it the account is liquidatable.
/// @param notional Σ |size| · price over the positions: with `fixedRequirement`, what a partial
/// liquidation needs to size a closure (the engine closes the same fraction of every position;
/// docs/risk-models.md, "Liquidation sizing").
/// @param nonNettable The part of the initial requirement charged per position regardless of hedges
/// (the portfolio model's add-ons; the standard model's minimum position margins).
/// @param worstScenario Index of the scenario whose loss sets the requirement, or
/// `type(uint256).max` when no scenario loses (a model without scenarios returns the latter).
/// @param maintenanceEquity The equity the maintenance requirement is compared with: `equity` for a
/// model that values collateral one way (the portfolio model), more under the standard model,
/// whose maintenance weights are above its initial ones.
/// @param fixedRequirement The part of the maintenance requirement a proportional closure of every
/// position does not reduce (the standard model's minimum margin per open position; 0 for the
/// portfolio model): the engine sizes a partial liquidation with it (`MarginMath.liquidationFraction`).
struct RiskMargin {
    int256 equity;
    uint256 initialRequirement;
    uint256 maintenanceRequirement;
    uint256 notional;
    uint256 nonNettable;
    uint256 worstScenario;
    int256 maintenanceEquity;
    uint256 fixedRequirement;
}

/// @title IRiskModel
/// @notice The margin rules an account is held to, behind one interface (issue 18): the engine keeps
/// the ledger and reads the oracle, and passes an account's positions, balances, prices and
/// volatilities; a model answers equity and requirements. Views only: a model holds governance
/// parameters, never account state.
interface IRiskModel {
    /// @notice More holdings than a model margins in bounded gas.
    error TooManyHoldings(uint256 count, uint256 max);
    /// @notice More positions than a model margins in bounded gas.
    error TooManyPositions(uint256 count, uint256 max);
    /// @notice A holding's token decimals above `MAX_DECIMALS`.
    error DecimalsOutOfBounds(address asset, uint256 decimals);
    /// @notice A holding's value or a position's size · price above the model's bound (far above
    /// any real account: it keeps the model's arithmetic free of overflow).
    error ExposureOutOfBounds(address asset);
    /// @notice The account holds or trades an asset the model has no parameters for.
    error AssetNotCovered(address asset);

    /// @notice At most this many collateral holdings per account.
    function MAX_COLLATERALS() external view returns (uint256);

    /// @notice At most this many open positions per account.
    function MAX_POSITIONS() external view returns (uint256);

    /// @notice Equity and requirements of `account` (see `RiskMargin`). Reverts with a named error
    /// on a bad input.
    function margin(RiskAccount calldata account) external view returns (RiskMargin memory);

    /// @notice equity / requirement (WAD, down) against the initial and the maintenance requirement
    /// (`equity` and `maintenanceEquity` respectively),
    /// as `MarginMath.health`: maximal when nothing is required and nothing owed, zero when equity
    /// is not positive and something is. Liquidatable when `maintenanceHealth < 1e18`.
    function health(RiskAccount calldata account)
        external
        view
        returns (uint256 initialHealth, uint256 maintenanceHealth);
}
