// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IPoolLedger, ISocializedLossSink} from "./IPoolLedger.sol";

/// @title LPPool
/// @notice ERC-4626 vault over the quote token; the counterparty of every trade. Its assets are
/// held and booked by the margin engine: deposits go straight to the engine's poolCash and
/// withdrawals are paid by the engine, limited so open trader profits stay covered.
contract LPPool is ERC4626, ISocializedLossSink {
    using SafeERC20 for IERC20;

    error OnlyEngine();

    /// @notice A loss written off the pool's receivables after the insurance fund paid what it could.
    event LossSocialized(
        uint256 indexed accountId, uint256 shortfall, uint256 coveredByInsurance, uint256 socialized
    );

    IPoolLedger public immutable engine;

    /// @dev 6 extra share decimals make a first-depositor inflation attack cost 1e6 times the gain.
    uint8 internal constant DECIMALS_OFFSET = 6;

    constructor(IERC20 quote_, IPoolLedger engine_) ERC20("Solvent LP", "sLP") ERC4626(quote_) {
        engine = engine_;
    }

    /// @notice Pool value in quote units, as booked by the engine (net of traders' unrealized PnL).
    function totalAssets() public view override returns (uint256) {
        return engine.poolAssets();
    }

    /// @notice Assets `owner` can withdraw now: its share value, capped by the engine's free cash.
    function maxWithdraw(address owner) public view override returns (uint256) {
        return Math.min(_convertToAssets(balanceOf(owner), Math.Rounding.Floor), engine.poolWithdrawable());
    }

    /// @notice Shares `owner` can redeem now, consistent with `maxWithdraw`.
    function maxRedeem(address owner) public view override returns (uint256) {
        return Math.min(balanceOf(owner), _convertToShares(engine.poolWithdrawable(), Math.Rounding.Floor));
    }

    /// @inheritdoc ISocializedLossSink
    function recordSocializedLoss(
        uint256 accountId,
        uint256 shortfall,
        uint256 coveredByInsurance,
        uint256 socialized
    ) external {
        if (msg.sender != address(engine)) revert OnlyEngine();
        emit LossSocialized(accountId, shortfall, coveredByInsurance, socialized);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }

    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        IERC20(asset()).safeTransferFrom(caller, address(engine), assets);
        engine.creditPool(assets);
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
    }

    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
    {
        if (caller != owner) _spendAllowance(owner, caller, shares);
        _burn(owner, shares);
        engine.payFromPool(receiver, assets);
        emit Withdraw(caller, receiver, owner, assets, shares);
    }
}
