// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";

/// @title MockOracleAdapter
/// @notice Settable stand-in for the OracleAdapter, for unit tests of the parts that read it.
/// Local chains only; integration tests use the real adapter.
contract MockOracleAdapter is IOracleAdapter {
    error PriceNotSet(address asset);

    mapping(address asset => uint256) public prices;
    mapping(address asset => uint256) public sigmas;
    mapping(address asset => bool) public riskPaused;
    mapping(address asset => uint256) public pokes;
    bool public sequencerRestricted;
    bool public volatilityStale;

    function setPrice(address asset, uint256 priceWad) external {
        prices[asset] = priceWad;
    }

    function setVolatility(address asset, uint256 sigmaWad) external {
        sigmas[asset] = sigmaWad;
    }

    function setRiskPaused(address asset, bool paused) external {
        riskPaused[asset] = paused;
    }

    function setSequencerRestricted(bool restricted) external {
        sequencerRestricted = restricted;
    }

    function setVolatilityStale(bool stale) external {
        volatilityStale = stale;
    }

    /// @inheritdoc IOracleAdapter
    function price(address asset) public view returns (uint256 priceWad) {
        priceWad = prices[asset];
        if (priceWad == 0) revert PriceNotSet(asset);
    }

    /// @inheritdoc IOracleAdapter
    function value(address asset, uint256 amount, bool roundUp) external view returns (uint256) {
        uint256 unit = 10 ** IERC20Metadata(asset).decimals();
        return Math.mulDiv(amount, price(asset), unit, roundUp ? Math.Rounding.Ceil : Math.Rounding.Floor);
    }

    /// @inheritdoc IOracleAdapter
    function riskIncreaseAllowed(address asset) external view returns (bool) {
        return !sequencerRestricted && !riskPaused[asset];
    }

    /// @inheritdoc IOracleAdapter
    function riskIncreasePrice(address asset) external view returns (uint256) {
        if (sequencerRestricted || riskPaused[asset]) return 0;
        return price(asset);
    }

    /// @inheritdoc IOracleAdapter
    function volatility(address asset) external view returns (uint256 sigmaWad, bool stale) {
        return (sigmas[asset], volatilityStale);
    }

    /// @inheritdoc IOracleAdapter
    function sigma(address asset) external view returns (uint256 sigmaWad) {
        return sigmas[asset];
    }

    /// @notice The order book's and the LP pool's round rule, mocked: any round id prices at the
    /// set price once `notBefore` has passed, published now.
    function roundPrice(address asset, uint80, uint256 notBefore) external view returns (uint256, uint256) {
        if (block.timestamp < notBefore) revert PriceNotSet(asset);
        return (price(asset), block.timestamp);
    }

    /// @inheritdoc IOracleAdapter
    function poke(address asset) external {
        pokes[asset] += 1;
    }
}
