// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {EngineBase} from "./EngineBase.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {MarginEngineExtension} from "./MarginEngineExtension.sol";
import {MarginEngineLiquidation} from "./MarginEngineLiquidation.sol";
import {
    Account,
    AdlParams,
    Collateral,
    Ledger,
    Margin,
    Market,
    PriceCache
} from "./libraries/EngineTypes.sol";

/// @title MarginEngine
/// @notice Cross-margin, multi-collateral perpetuals against an LP pool, with volatility-scaled
/// margin and partial liquidation. The engine is the single ledger of quote (docs/ARCHITECTURE.md);
/// every formula is in docs/margin.md and mirrored by solvent/model/margin.py. Governance and keeper
/// views live in `MarginEngineExtension`, reached through the fallback by delegatecall.
contract MarginEngine is EngineBase {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice Code for governance and views, run in this contract's storage.
    address public immutable extension;
    /// @dev The extension's governance module, which runs the risk-model bridge (reached here
    /// directly: a margin check of an account on a model saves the extension's hop).
    address internal immutable _riskModelBridge;
    /// @notice Code for liquidation (partial close, hand-off to auction, write-off), run in this
    /// contract's storage; deployed by this constructor.
    address public immutable liquidation;

    constructor(IERC20 quote_, IOracleAdapter oracle_, address admin, EngineBase extension_)
        EngineBase(quote_, oracle_)
    {
        if (admin == address(0)) revert ZeroAddress();
        if (extension_.quote() != quote_ || extension_.oracle() != oracle_) revert InvalidExtension();
        extension = address(extension_);
        _riskModelBridge = MarginEngineExtension(address(extension_)).governance();
        liquidation = address(new MarginEngineLiquidation(quote_, oracle_));
        // GMX v2's maxPnlFactorForAdl / minPnlFactorAfterAdl (docs/pool.md, "Auto-deleveraging").
        _adl = AdlParams(0.85e18, 0.77e18, false);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
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
        _accountRisk[accountId].opened = true;
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
        Account memory account = _existingAccountSlot(accountId);
        if (token == address(quote)) {
            _pullExact(token, amount);
            if (account.quoteBalance >= 0) {
                int256 credited = account.quoteBalance + amount.toInt256();
                account.quoteBalance = credited.toInt72();
            } else {
                // Repaying debt (with its interest): the inflow passes through poolCash, then settles
                // like any Δ.
                Ledger memory ledger = _ledger;
                uint256 borrowIndex = _touchBorrow(account, accountId, ledger);
                ledger.poolCash += amount.toInt256().toInt64();
                account.quoteBalance = _moveQuote(ledger, account.quoteBalance, amount.toInt256());
                _storeLedger(ledger);
                _recordBorrowIndex(account, accountId, borrowIndex);
            }
        } else {
            address owner = account.owner;
            if (msg.sender != owner && !isOperator[owner][msg.sender]) {
                revert CollateralDepositNotAuthorized(accountId, msg.sender);
            }
            Collateral storage collateral = _listedCollateral(token);
            uint256 bit = 1 << collateral.index;
            // A collateral new to the account: held ones and those in auction (each returns to the
            // mask at its auction's end) stay within the account's bound.
            if (
                account.collateralMask & bit == 0
                    && _bitCount(account.collateralMask) + account.activeAuctions >= MAX_ACCOUNT_COLLATERALS
            ) revert AccountCollateralLimit(accountId);
            uint256 deposited = collateral.totalDeposited;
            uint256 cap = collateral.depositCap;
            // Compared without adding first: an absurd amount must not overflow before the check.
            if (deposited > cap || amount > cap - deposited) revert DepositCapExceeded(token, cap);
            _pullExact(token, amount);
            collateral.totalDeposited = uint128(deposited + amount);
            _collateralBalance[accountId][token] += amount;
            account.collateralMask |= uint16(bit);
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
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        if (!idle) _checkRiskIncrease(accountId, account, account.marketMask, cache);
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
            if (balance == amount) account.collateralMask &= ~uint16(1 << collateral.index);
        }
        _storeAccount(accountId, account);
        if (!idle) _requireInitialHealth(account, accountId, cache);
        IERC20(token).safeTransfer(to, amount);
        emit Withdrawn(accountId, token, to, amount);
    }

    // ------------------------------------------------------------------ trading

    /// @notice Fills `sizeDelta` (WAD, long > 0) of `marketId` for the account at `fillPrice` (WAD),
    /// charging `tradeFee` (quote units; its insurance share goes to the insurance fund) and paying
    /// the settler `settlementFee` (quote units) from the account. Order book only: it has checked
    /// the order and priced the fill. Realized PnL is taken at the fill price; both fees leave the
    /// account before the margin check, so a fill that increases risk needs initial health >= 1 at
    /// the oracle price with the settlement fee paid (it may go into debt against the position).
    function fillOrder(
        uint256 accountId,
        uint256 marketId,
        int256 sizeDelta,
        uint256 fillPrice,
        uint256 tradeFee,
        uint256 settlementFee,
        address settler
    ) external onlyOrderBook nonReentrant {
        if (sizeDelta == 0) revert ZeroAmount();
        if (sizeDelta > MAX_SIZE_DELTA || sizeDelta < -MAX_SIZE_DELTA) revert SizeTooLarge(sizeDelta);
        if (fillPrice == 0) revert InvalidFillPrice();
        if (settler == address(0)) revert ZeroAddress();
        Account memory account = _existingAccount(accountId);
        _listedMarket(marketId);
        // slither-disable-next-line uninitialized-local
        PriceCache memory cache;
        Ledger memory ledger = _ledger;
        bool increasesRisk =
            _fill(account, accountId, marketId, sizeDelta, fillPrice, tradeFee, ledger, cache);
        if (settlementFee != 0) {
            account.quoteBalance = _moveQuote(ledger, account.quoteBalance, -int256(settlementFee));
            ledger.poolCash -= int256(settlementFee).toInt64();
        }
        _storeLedger(ledger);
        _storeAccount(accountId, account);
        _recordBorrowIndex(account, accountId, cache.borrowIndex);
        if (increasesRisk) _requireInitialHealth(account, accountId, cache);
        if (settlementFee != 0) {
            quote.safeTransfer(settler, settlementFee);
            emit OrderFeeCharged(accountId, settler, settlementFee);
        }
    }

    /// @notice The traders' net size (WAD, long > 0) in `marketId` and the market's skew scale
    /// (WAD size): what the order book prices a fill's skew premium with (in the engine itself, not
    /// the extension: a settlement saves the delegatecall).
    function marketSkew(uint256 marketId) external view returns (int256 netSize, uint256 skewScale) {
        Market storage market = _listedMarket(marketId);
        return (_netSize(market), market.skewScale);
    }

    // ------------------------------------------------------------------ liquidation

    /// @notice Liquidates an account whose maintenance health is below 1 (runs in
    /// `MarginEngineLiquidation`: see its NatSpec).
    // The names are for integrators' ABI (the module reads the calldata).
    // slither-disable-next-line unused-param
    function liquidate(uint256 accountId, address keeper) external {
        accountId;
        keeper;
        _delegate(liquidation);
    }

    /// @notice Auto-deleverages a market whose traders' PnL is above the trigger (runs in
    /// `MarginEngineLiquidation`: see its NatSpec).
    // slither-disable-next-line unused-param
    function autoDeleverage(uint256 marketId, uint256[] calldata accountIds) external {
        marketId;
        accountIds;
        _delegate(liquidation);
    }

    /// @notice Sets the auto-deleveraging thresholds (governor; `MarginEngineLiquidation`).
    // slither-disable-next-line unused-param
    function setAdlParams(uint256 trigger, uint256 target) external {
        trigger;
        target;
        _delegate(liquidation);
    }

    /// @notice The auto-deleveraging thresholds (WAD; `MarginEngineLiquidation`).
    // `_delegateView` returns the module's return data itself (assembly `return`).
    // slither-disable-next-line incorrect-return
    function adlParams() external view returns (AdlParams memory) {
        _delegateView(liquidation);
    }

    /// @notice The account's margin under its chosen risk model (`IRiskModelBridge`; runs in
    /// `MarginEngineGovernance`).
    // `_delegateView` returns the module's return data itself (assembly `return`).
    // slither-disable-next-line incorrect-return
    function riskModelMargin(uint256, int256, bool, uint256[16] calldata, uint256[64] calldata)
        external
        view
        returns (Margin memory, uint256[16] memory, uint256[64] memory, address)
    {
        _delegateView(_riskModelBridge);
    }

    /// @notice Everything else (governance, keeper views, getters) runs in the extension.
    fallback() external {
        _delegate(extension);
    }
}
