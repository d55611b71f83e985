// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @notice What the steward needs of the oracle adapter.
interface IForecastTarget {
    function setForecast(address asset, uint256 sigmaWad, uint256 expiry) external;
    function clearForecast(address asset) external;
    function volatility(address asset) external view returns (uint256 sigmaWad, bool stale);
}

/// @title RiskSteward
/// @notice Applies a risk keeper's volatility forecasts to the oracle adapter, each within bounds
/// governance set per asset: a hard floor and ceiling, a maximum relative change from what the
/// margin follows now (the larger of the on-chain estimate and the live forecast), a minimum delay
/// between updates and an expiry after which the forecast no longer counts. A guardian can disable it, which removes
/// every live forecast at once. The adapter uses max(on-chain estimate, live forecast) and ramps
/// increases at its bounded rate, so a wrong forecast can only tighten margin, gradually
/// (docs/predictive-margin.md). The pattern is Aave's RiskSteward over Chaos Labs' risk oracle.
contract RiskSteward is AccessControl {
    /// @notice Per-asset bounds on forecasts (sigmas are annualized WAD).
    struct Bounds {
        uint64 floor;
        uint64 ceiling;
        uint16 maxChangeBps; // |new - referenceSigma| <= referenceSigma * maxChangeBps / 10_000
        uint32 minDelay; // seconds between two updates of the asset
        uint32 ttl; // seconds a forecast counts after it is pushed
    }

    /// @notice The last forecast pushed for an asset.
    struct Pushed {
        uint80 sigma;
        uint40 at;
        uint40 expiry;
    }

    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    bytes32 public constant RISK_KEEPER_ROLE = keccak256("RISK_KEEPER_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    uint64 public constant MAX_CEILING = 10e18; // the adapter's largest seed sigma
    uint16 public constant MAX_CHANGE_BPS = 10_000;
    uint32 public constant MIN_DELAY_FLOOR = 5 minutes;
    uint32 public constant MAX_DELAY = 7 days;
    uint32 public constant MIN_TTL = 1 hours;
    uint32 public constant MAX_TTL = 7 days; // the adapter's MAX_FORECAST_TTL

    error StewardDisabled();
    error AssetNotConfigured(address asset);
    error ForecastOutOfBounds(uint256 sigmaWad, uint256 floor, uint256 ceiling);
    error ForecastTooSoon(uint256 nextAllowed);
    error ForecastChangeTooLarge(uint256 referenceSigma, uint256 sigmaWad, uint256 maxChangeBps);
    error InvalidBounds();

    event BoundsSet(address indexed asset, Bounds bounds);
    event ForecastPushed(address indexed asset, uint256 sigmaWad, uint256 expiry, uint256 referenceSigma);
    event Disabled(address indexed guardian);
    event Enabled();

    IForecastTarget public immutable adapter;
    bool public disabled;
    mapping(address asset => Bounds) public bounds;
    mapping(address asset => Pushed) public pushed;
    address[] internal _assets;

    /// @notice The deployer becomes admin and governor; `adapter` must name this contract its
    /// forecaster (`setForecaster`) for pushes to land.
    constructor(IForecastTarget adapter_) {
        adapter = adapter_;
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        _grantRole(GOVERNOR_ROLE, msg.sender);
    }

    /// @notice Sets `asset`'s bounds (governor): 0 < floor <= ceiling <= MAX_CEILING, 0 <
    /// maxChangeBps <= 10,000, MIN_DELAY_FLOOR <= minDelay <= MAX_DELAY, MIN_TTL <= ttl <= MAX_TTL.
    function setBounds(address asset, Bounds calldata b) external onlyRole(GOVERNOR_ROLE) {
        if (
            b.floor == 0 || b.floor > b.ceiling || b.ceiling > MAX_CEILING || b.maxChangeBps == 0
                || b.maxChangeBps > MAX_CHANGE_BPS || b.minDelay < MIN_DELAY_FLOOR || b.minDelay > MAX_DELAY
                || b.ttl < MIN_TTL || b.ttl > MAX_TTL
        ) revert InvalidBounds();
        if (bounds[asset].ceiling == 0) _assets.push(asset);
        bounds[asset] = b;
        emit BoundsSet(asset, b);
    }

    /// @notice Pushes `asset`'s forecast `sigmaWad` (risk keeper): within the floor and ceiling, at
    /// least `minDelay` after the last push, and within `maxChangeBps` of the reference: the larger
    /// of the on-chain estimate and the live forecast. It counts for `ttl` seconds.
    function pushForecast(address asset, uint256 sigmaWad) external onlyRole(RISK_KEEPER_ROLE) {
        if (disabled) revert StewardDisabled();
        Bounds memory b = bounds[asset];
        if (b.ceiling == 0) revert AssetNotConfigured(asset);
        if (sigmaWad < b.floor || sigmaWad > b.ceiling) {
            revert ForecastOutOfBounds(sigmaWad, b.floor, b.ceiling);
        }
        Pushed memory last = pushed[asset];
        if (last.at != 0 && block.timestamp < uint256(last.at) + b.minDelay) {
            revert ForecastTooSoon(uint256(last.at) + b.minDelay);
        }
        // The estimate is the reference whether or not its samples are stale: staleness only
        // flags the estimate to monitors, the margin uses it either way.
        // slither-disable-next-line unused-return
        (uint256 referenceSigma,) = adapter.volatility(asset);
        if (last.expiry > block.timestamp && last.sigma > referenceSigma) referenceSigma = last.sigma;
        uint256 change = sigmaWad > referenceSigma ? sigmaWad - referenceSigma : referenceSigma - sigmaWad;
        if (change * MAX_CHANGE_BPS > referenceSigma * b.maxChangeBps) {
            revert ForecastChangeTooLarge(referenceSigma, sigmaWad, b.maxChangeBps);
        }
        uint256 expiry = block.timestamp + b.ttl;
        pushed[asset] = Pushed(uint80(sigmaWad), uint40(block.timestamp), uint40(expiry));
        adapter.setForecast(asset, sigmaWad, expiry);
        emit ForecastPushed(asset, sigmaWad, expiry, referenceSigma);
    }

    /// @notice Disables the steward (guardian): no push lands until governance enables it again,
    /// and every live forecast is removed from the adapter now.
    function disable() external onlyRole(GUARDIAN_ROLE) {
        disabled = true;
        uint256 count = _assets.length;
        address[] memory live = new address[](count);
        for (uint256 i; i < count; ++i) {
            address asset = _assets[i];
            if (pushed[asset].expiry > block.timestamp) live[i] = asset;
            delete pushed[asset];
        }
        for (uint256 i; i < count; ++i) {
            if (live[i] != address(0)) adapter.clearForecast(live[i]);
        }
        emit Disabled(msg.sender);
    }

    /// @notice Enables the steward again (governor).
    function enable() external onlyRole(GOVERNOR_ROLE) {
        disabled = false;
        emit Enabled();
    }

    /// @notice The assets that have bounds.
    function assets() external view returns (address[] memory) {
        return _assets;
    }
}
