// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {EngineBase} from "./EngineBase.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {Account, Closure, Ledger, LiquidationParams, PriceCache} from "./libraries/EngineTypes.sol";

/// @title MarginEngineLiquidation
/// @notice The margin engine's enforcement: partial liquidation, the hand-off to auction and the
/// write-off of what is left. Deployed by `MarginEngine`, whose `liquidate` stub forwards here by
/// delegatecall, so it runs in the engine's storage. A module of its own because the engine's
/// runtime code is at the 24 KiB limit: liquidation is the largest mechanism the engine does not
/// need on its hot path (fills and deposits), and the room it frees is where the pool's bounds go.
contract MarginEngineLiquidation is EngineBase {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    constructor(IERC20 quote_, IOracleAdapter oracle_) EngineBase(quote_, oracle_) {}

    /// @notice Liquidates an account whose maintenance health is below 1 (below the restricted
    /// threshold while the sequencer is restricted): closes the smallest equal fraction of every
    /// position that restores the target health (everything when deeply unhealthy, for dust, or when
    /// its quote cannot pay the penalty), charges the penalty and pays `keeper`; hands the
    /// collateral and the debt to auction when quote does not cover the penalty. Prices are read
    /// leniently: a collateral without a price counts 0 and a market without one stays open; when
    /// such an asset keeps the collateral from auction, the pool lends the penalty and the debt
    /// waits on the account (reverts `PriceUnavailable` if nothing could be closed).
    function liquidate(uint256 accountId, address keeper) external nonReentrant {
        if (keeper == address(0)) revert ZeroAddress();
        Account memory account = _existingAccount(accountId);
        LiquidationParams memory params = _liquidationParams;
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        cache.lenient = true;
        cache.minPositionMargin = params.minPositionMargin;
        Ledger memory ledger = _ledger;
        cache.borrowIndex = _touchBorrow(account, accountId, ledger);
        cache.interestSettled = true;
        _settleFunding(account, accountId, ledger, cache);
        Closure memory closure = _closeForLiquidation(account, accountId, cache, params);

        account.quoteBalance = _moveQuotePaying(
            ledger, accountId, account.quoteBalance, MarginMath.toQuoteFloor(closure.realizedPnl)
        );
        address unpriced = cache.unpriced;
        bool covered = account.quoteBalance >= int256(closure.penalty);
        if (covered || unpriced != address(0)) {
            if (!covered && closure.closedNotional == 0) revert PriceUnavailable(unpriced);
            closure.keeperReward =
                MarginMath.keeperReward(0, closure.penalty, params.keeperTip, params.keeperChip);
            // Paid from quote; or lent by the pool, when the penalty goes into a debt that waits for
            // the price (`ledger.poolCash` pays it to the fund, `accountDebt` gets it back).
            account.quoteBalance = _moveQuote(ledger, account.quoteBalance, -int256(closure.penalty));
            ledger.poolCash -= int256(closure.penalty).toInt64();
            ledger.insuranceFees += (closure.penalty - closure.keeperReward).toUint64();
            _storeLedger(ledger);
            _storeAccount(accountId, account);
            _recordBorrowIndex(account, accountId, cache.borrowIndex);
            if (!covered) emit HandOffDeferred(accountId, unpriced, account.quoteBalance);
            if (closure.keeperReward != 0) quote.safeTransfer(keeper, closure.keeperReward);
        } else {
            closure.keeperReward = _handOff(account, accountId, ledger, closure, params, cache, keeper);
        }
        emit Liquidated(
            accountId,
            keeper,
            closure.fraction,
            closure.closedNotional,
            closure.realizedPnl,
            closure.penalty,
            closure.keeperReward
        );
    }
}
