// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {IAuctionSettlement} from "../../interfaces/IAuctionSettlement.sol";
import {EngineBase} from "./EngineBase.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {
    Account,
    Closure,
    Collateral,
    Ledger,
    LiquidationParams,
    Market,
    Position,
    PriceCache
} from "./libraries/EngineTypes.sol";

/// @title MarginEngine
/// @notice Cross-margin, multi-collateral perpetuals against an LP pool, with volatility-scaled
/// margin and partial liquidation. The engine is the single ledger of quote (docs/ARCHITECTURE.md);
/// every formula is in docs/margin.md and mirrored by solvent/margin.py. Governance and keeper
/// views live in `MarginEngineExtension`, reached through the fallback by delegatecall.
contract MarginEngine is EngineBase, IAuctionSettlement {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice Code for governance and views, run in this contract's storage.
    address public immutable extension;

    constructor(IERC20 quote_, IOracleAdapter oracle_, address admin, EngineBase extension_)
        EngineBase(quote_, oracle_)
    {
        if (admin == address(0)) revert ZeroAddress();
        if (extension_.quote() != quote_ || extension_.oracle() != oracle_) revert InvalidExtension();
        extension = address(extension_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    modifier onlyLiquidator() {
        if (msg.sender != address(liquidator)) revert OnlyLiquidator();
        _;
    }

    modifier onlyOrderBook() {
        if (msg.sender != orderBook) revert OnlyOrderBook();
        _;
    }

    // ------------------------------------------------------------------ accounts

    /// @notice Opens the account (msg.sender, subIndex); ids are sequential from 1.
    /// @return accountId The new account's id.
    function openAccount(uint256 subIndex) external returns (uint256 accountId) {
        if (accountIdOf[msg.sender][subIndex] != 0) revert AccountExists(msg.sender, subIndex);
        accountId = ++accountCount;
        accountIdOf[msg.sender][subIndex] = accountId;
        _accounts[accountId].owner = msg.sender;
        emit AccountOpened(accountId, msg.sender, subIndex);
    }

    /// @notice Lets `operator` trade and withdraw for every account of msg.sender (or revokes it).
    function setOperator(address operator, bool approved) external {
        if (operator == address(0)) revert ZeroAddress();
        isOperator[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /// @notice Deposits `amount` of `token` (the quote token or listed collateral) into an account.
    /// Anyone may deposit or repay quote for any account; other collateral only the owner or its
    /// operators (a planted asset could otherwise bind the account to its feed). Always allowed,
    /// even paused or under auction.
    function deposit(uint256 accountId, address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Account memory account = _existingAccount(accountId);
        if (token == address(quote)) {
            _pullExact(token, amount);
            if (account.quoteBalance >= 0) {
                int256 credited = account.quoteBalance + amount.toInt256();
                account.quoteBalance = credited.toInt72();
            } else {
                // Repaying debt: the inflow passes through poolCash, then settles like any Δ.
                Ledger memory ledger = _ledger;
                ledger.poolCash += amount.toInt256().toInt64();
                account.quoteBalance = _moveQuote(ledger, account.quoteBalance, amount.toInt256());
                _storeLedger(ledger);
            }
        } else {
            address owner = account.owner;
            if (msg.sender != owner && !isOperator[owner][msg.sender]) {
                revert CollateralDepositNotAuthorized(accountId, msg.sender);
            }
            Collateral storage collateral = _listedCollateral(token);
            uint256 deposited = collateral.totalDeposited;
            uint256 cap = collateral.depositCap;
            // Compared without adding first: an absurd amount must not overflow before the check.
            if (deposited > cap || amount > cap - deposited) revert DepositCapExceeded(token, cap);
            _pullExact(token, amount);
            collateral.totalDeposited = uint128(deposited + amount);
            _collateralBalance[accountId][token] += amount;
            account.collateralMask |= uint8(1 << collateral.index);
        }
        _storeAccount(accountId, account);
        emit Deposited(accountId, token, msg.sender, amount);
    }

    /// @notice Withdraws `amount` of `token` to `to`. Risk-increasing: every asset the account holds
    /// must allow risk increases and initial health must stay >= 1, except for an account without
    /// positions, debt or auctions, whose withdrawals depend on no feed and no pause. Quote can only
    /// be withdrawn from a positive balance (no borrowing of quote).
    function withdraw(uint256 accountId, address token, uint256 amount, address to) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        Account memory account = _authorizedAccount(accountId);
        // Nothing owed and nothing at risk: every asset is the owner's, whatever the feeds say.
        bool idle = account.marketMask == 0 && account.quoteBalance >= 0 && account.activeAuctions == 0;
        if (!idle) _checkRiskIncrease(accountId, account, account.marketMask);
        if (token == address(quote)) {
            uint256 available = MarginMath.positivePart(account.quoteBalance);
            if (amount > available) revert InsufficientBalance(available, amount);
            account.quoteBalance -= int72(int256(amount));
        } else {
            Collateral storage collateral = _listedCollateral(token);
            uint256 balance = _collateralBalanceOf(accountId, token);
            if (amount > balance) revert InsufficientBalance(balance, amount);
            _collateralBalance[accountId][token] = balance - amount;
            collateral.totalDeposited -= uint128(amount);
            if (balance == amount) account.collateralMask &= ~uint8(1 << collateral.index);
        }
        _storeAccount(accountId, account);
        if (!idle) {
            // slither-disable-next-line uninitialized-local
            PriceCache memory cache;
            _requireInitialHealth(account, accountId, cache);
        }
        IERC20(token).safeTransfer(to, amount);
        emit Withdrawn(accountId, token, to, amount);
    }

    // ------------------------------------------------------------------ trading

    /// @notice Trades `sizeDelta` (WAD, long > 0) of `marketId` against the LP pool at the oracle
    /// price. Reverts when a buy would fill above `acceptablePrice` or a sell below it. Reducing is
    /// always allowed; increasing or flipping needs initial health >= 1 afterwards.
    function trade(uint256 accountId, uint256 marketId, int256 sizeDelta, uint256 acceptablePrice)
        external
        nonReentrant
    {
        if (sizeDelta == 0) revert ZeroAmount();
        if (sizeDelta > MAX_SIZE_DELTA || sizeDelta < -MAX_SIZE_DELTA) revert SizeTooLarge(sizeDelta);
        Account memory account = _authorizedAccount(accountId);
        Market storage market = _market(marketId);
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        uint256 price = _marketPrice(cache, marketId, market);
        if (sizeDelta > 0 ? price > acceptablePrice : price < acceptablePrice) {
            revert SlippageExceeded(price, acceptablePrice);
        }
        uint256 tradeFee = MarginMath.fee(MarginMath.notional(sizeDelta, price), market.feeRate);
        bool increasesRisk = _fill(account, accountId, market, marketId, sizeDelta, price, tradeFee);
        if (increasesRisk) _requireInitialHealth(account, accountId, cache);
    }

    /// @notice Fills `sizeDelta` (WAD, long > 0) of `marketId` for the account at `fillPrice` (WAD),
    /// charging `tradeFee` (quote units; its insurance share goes to the insurance fund). Order book
    /// only: it has checked the order and priced the fill. Realized PnL is taken at the fill price;
    /// a fill that increases risk needs initial health >= 1 afterwards at the oracle price.
    function fillOrder(
        uint256 accountId,
        uint256 marketId,
        int256 sizeDelta,
        uint256 fillPrice,
        uint256 tradeFee
    ) external onlyOrderBook nonReentrant {
        if (sizeDelta == 0) revert ZeroAmount();
        if (sizeDelta > MAX_SIZE_DELTA || sizeDelta < -MAX_SIZE_DELTA) revert SizeTooLarge(sizeDelta);
        if (fillPrice == 0) revert InvalidFillPrice();
        Account memory account = _existingAccount(accountId);
        Market storage market = _market(marketId);
        bool increasesRisk = _fill(account, accountId, market, marketId, sizeDelta, fillPrice, tradeFee);
        if (increasesRisk) {
            // slither-disable-next-line uninitialized-local
            PriceCache memory cache;
            _requireInitialHealth(account, accountId, cache);
        }
    }

    /// @notice Moves `fee` quote units from the account to `to` (the order's settler). Order book
    /// only. The account's quote may go negative: the pool lends the fee, as it lends a penalty.
    /// A zero fee does nothing.
    function chargeOrderFee(uint256 accountId, uint256 fee, address to) external onlyOrderBook nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        if (fee == 0) return;
        Account memory account = _existingAccount(accountId);
        Ledger memory ledger = _ledger;
        account.quoteBalance = _moveQuote(ledger, account.quoteBalance, -int256(fee));
        ledger.poolCash -= int256(fee).toInt64();
        _storeLedger(ledger);
        _storeAccount(accountId, account);
        quote.safeTransfer(to, fee);
        emit OrderFeeCharged(accountId, to, fee);
    }

    /// @dev Applies a fill to the position, the market aggregates and the quote books.
    function _fill(
        Account memory account,
        uint256 accountId,
        Market storage market,
        uint256 marketId,
        int256 sizeDelta,
        uint256 price,
        uint256 tradeFee
    ) internal returns (bool increasesRisk) {
        Position memory position = _positions[accountId][marketId];
        int256 newSize = position.size + sizeDelta;
        increasesRisk = _increasesRisk(position.size, newSize);
        if (increasesRisk) _checkRiskIncrease(accountId, account, account.marketMask | (1 << marketId));

        (int256 newOpenNotional, int256 realizedPnl) =
            MarginMath.applyFill(position.size, position.openNotional, sizeDelta, price);
        int256 index = market.fundingIndex;
        _updateMarket(market, marketId, position, newSize, newOpenNotional, index);
        _storePosition(accountId, marketId, account, newSize, newOpenNotional, index);

        _settleFill(account, realizedPnl, tradeFee, market.insuranceFeeShare);
        _storeAccount(accountId, account);
        emit Traded(accountId, marketId, sizeDelta, price, tradeFee, realizedPnl);
    }

    /// @dev Realized PnL and the fee settle against the pool; the insurance share of the fee moves
    /// from poolCash to insuranceFees.
    function _settleFill(
        Account memory account,
        int256 realizedPnl,
        uint256 tradeFee,
        uint256 insuranceFeeShare
    ) internal {
        Ledger memory ledger = _ledger;
        account.quoteBalance =
            _moveQuote(ledger, account.quoteBalance, MarginMath.toQuoteFloor(realizedPnl) - int256(tradeFee));
        uint256 insuranceCut = tradeFee * insuranceFeeShare / WAD;
        ledger.poolCash -= int256(insuranceCut).toInt64();
        ledger.insuranceFees += insuranceCut.toUint64();
        _storeLedger(ledger);
    }

    // ------------------------------------------------------------------ liquidation

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
        Closure memory closure = _closeForLiquidation(account, accountId, cache, params);

        Ledger memory ledger = _ledger;
        account.quoteBalance =
            _moveQuote(ledger, account.quoteBalance, MarginMath.toQuoteFloor(closure.realizedPnl));
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

    /// @inheritdoc IAuctionSettlement
    function settleAuction(Settlement calldata settlement) external onlyLiquidator nonReentrant {
        uint256 accountId = settlement.accountId;
        address token = settlement.token;
        Collateral storage collateral = _collaterals[token];
        _releaseFromCustody(collateral, token, settlement.released + settlement.returned);
        _settleQuote(accountId, settlement.debtRepaid, settlement.penaltyPaid, settlement.badDebt);
        if (settlement.ended) {
            Account memory account = _existingAccount(accountId);
            uint256 returned = settlement.returned;
            if (returned != 0) {
                collateral.totalDeposited += returned.toUint128();
                _collateralBalance[accountId][token] += returned;
                account.collateralMask |= uint8(1 << collateral.index);
            }
            account.activeAuctions -= 1;
            _storeAccount(accountId, account);
            emit AuctionEnded(accountId, token, returned);
        }
        if (settlement.released != 0) IERC20(token).safeTransfer(settlement.receiver, settlement.released);
    }

    /// @inheritdoc IAuctionSettlement
    function releaseCollateral(address token, address to, uint256 amount)
        external
        onlyLiquidator
        nonReentrant
    {
        _releaseFromCustody(_collaterals[token], token, amount);
        IERC20(token).safeTransfer(to, amount);
    }

    /// @dev An auction's proceeds repay debt under auction to the pool and the penalty to the fund;
    /// its unrecovered debt leaves debt under auction through the loss waterfall.
    function _settleQuote(uint256 accountId, uint256 debtRepaid, uint256 penaltyPaid, uint256 badDebt)
        internal
    {
        if (debtRepaid == 0 && penaltyPaid == 0 && badDebt == 0) return;
        Ledger memory ledger = _ledger;
        uint256 debtOut = debtRepaid + badDebt;
        if (debtOut > ledger.debtInAuction) revert DebtInAuctionExceeded(ledger.debtInAuction, debtOut);
        ledger.debtInAuction -= uint64(debtOut); // exact: debtOut <= debtInAuction
        ledger.poolCash += int256(debtRepaid).toInt64();
        ledger.insuranceFees += penaltyPaid.toUint64();
        if (debtRepaid != 0 || penaltyPaid != 0) emit AuctionProceeds(accountId, debtRepaid, penaltyPaid);
        _writeOff(ledger, accountId, badDebt);
        // The ledger is written after the fund and the pool are called because it books what the
        // fund actually paid. Both are governance-set protocol contracts, and every ledger writer
        // (settleAuction, liquidate, creditPool, payFromPool, ...) holds the engine's lock; only
        // views could read the ledger mid-call.
        // slither-disable-next-line reentrancy-no-eth
        _storeLedger(ledger);
    }

    /// @notice Everything else (governance, keeper views, getters) runs in the extension.
    fallback() external {
        address target = extension;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
