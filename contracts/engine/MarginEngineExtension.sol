// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {ILiquidator} from "../../interfaces/ILiquidator.sol";
import {IInsuranceFund} from "../../interfaces/IInsuranceFund.sol";
import {EngineBase} from "./EngineBase.sol";
import {IPoolLedger} from "./IPoolLedger.sol";
import {IAuctionSettlement} from "../../interfaces/IAuctionSettlement.sol";
import {MarginEngineGovernance} from "./MarginEngineGovernance.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {
    Account,
    AccountHealth,
    BorrowState,
    Collateral,
    Ledger,
    LiquidationParams,
    Margin,
    Market,
    MarketParams,
    Position,
    PriceCache
} from "./libraries/EngineTypes.sol";

/// @title MarginEngineExtension
/// @notice Governance, keeper views, getters, the LP pool's ledger and the insurance fee sweep of
/// the margin engine. Only meaningful through the engine's fallback (delegatecall): it then reads
/// and writes the engine's storage. Called directly it only touches its own, unused, storage.
contract MarginEngineExtension is EngineBase, IPoolLedger, IAuctionSettlement {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice Code for the heavier governance setters, run in the engine's storage as well.
    address public immutable governance;

    constructor(IERC20 quote_, IOracleAdapter oracle_) EngineBase(quote_, oracle_) {
        governance = address(new MarginEngineGovernance(quote_, oracle_));
    }

    modifier onlyLiquidator() {
        if (msg.sender != address(liquidator)) revert OnlyLiquidator();
        _;
    }

    modifier onlyOrderBook() {
        if (msg.sender != orderBook) revert OnlyOrderBook();
        _;
    }

    modifier onlyPool() {
        if (msg.sender != lpPool) revert OnlyPool();
        _;
    }

    // ------------------------------------------------------------------ order fees

    /// @notice Moves `fee` quote units from the account to `to` (the order's settler). Order book
    /// only. The account's quote may go negative: the pool lends the fee, as it lends a penalty.
    /// A zero fee does nothing. (In the extension: the engine has no code room for this cold path.)
    function chargeOrderFee(uint256 accountId, uint256 fee, address to) external onlyOrderBook nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        if (fee == 0) return;
        Account memory account = _existingAccountSlot(accountId);
        Ledger memory ledger = _ledger;
        uint256 borrowIndex = _touchBorrow(account, accountId, ledger);
        account.quoteBalance = _moveQuote(ledger, account.quoteBalance, -int256(fee));
        ledger.poolCash -= int256(fee).toInt64();
        _storeLedger(ledger);
        _storeAccount(accountId, account);
        _recordBorrowIndex(account, accountId, borrowIndex);
        quote.safeTransfer(to, fee);
        emit OrderFeeCharged(accountId, to, fee);
    }

    // ------------------------------------------------------------------ auction settlement

    /// @inheritdoc IAuctionSettlement
    function settleAuction(Settlement calldata settlement) external onlyLiquidator nonReentrant {
        uint256 accountId = settlement.accountId;
        address token = settlement.token;
        Collateral storage collateral = _collaterals[token];
        _releaseFromCustody(collateral, token, settlement.released + settlement.returned);
        _settleQuote(accountId, settlement.debtRepaid, settlement.penaltyPaid, settlement.badDebt);
        if (settlement.ended) {
            Account memory account = _existingAccountSlot(accountId);
            uint256 returned = settlement.returned;
            if (returned != 0) {
                collateral.totalDeposited += returned.toUint128();
                _collateralBalance[accountId][token] += returned;
                account.collateralMask |= uint16(1 << collateral.index);
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

    // ------------------------------------------------------------------ insurance fees and LP pool ledger

    /// @notice Units of `token` the account holds as collateral (not counting any in auction).
    function collateralBalance(uint256 accountId, address token) external view returns (uint256) {
        return _collateralBalanceOf(accountId, token);
    }

    /// @notice Sends the fees accrued to the insurance fund; anyone may call it.
    function sweepInsuranceFees() external nonReentrant {
        address fund = address(insuranceFund);
        if (fund == address(0)) revert InsuranceFundNotSet();
        uint256 amount = _ledger.insuranceFees;
        if (amount == 0) revert ZeroAmount();
        _ledger.insuranceFees = 0;
        quote.safeTransfer(fund, amount);
        emit InsuranceFeesSwept(fund, amount);
    }

    /// @inheritdoc IPoolLedger
    function creditPool(uint256 amount) external onlyPool nonReentrant {
        _borrow = _borrowNow(_ledger);
        _ledger.poolCash += amount.toInt256().toInt64();
        emit PoolDeposit(amount);
    }

    /// @inheritdoc IPoolLedger
    function payFromPool(address receiver, uint256 amount) external onlyPool nonReentrant {
        uint256 withdrawable = poolWithdrawable();
        if (amount > withdrawable) revert PoolLiquidityExceeded(withdrawable, amount);
        _borrow = _borrowNow(_ledger);
        _ledger.poolCash -= int256(amount).toInt64();
        quote.safeTransfer(receiver, amount);
        emit PoolWithdrawal(receiver, amount);
    }

    /// @inheritdoc IPoolLedger
    function poolAssets() external view returns (uint256) {
        Ledger memory ledger = _ledger;
        (int256 traderPnl,) = _traderPnlAndNetNotional();
        int256 assets = int256(ledger.poolCash) + int256(uint256(ledger.accountDebt))
            + int256(uint256(ledger.debtInAuction)) + int256(uint256(_borrowNow(ledger).pendingInterest))
            - MarginMath.mulDivCeil(traderPnl, 1, MarginMath.WAD_PER_QUOTE);
        return MarginMath.positivePart(assets);
    }

    /// @inheritdoc IPoolLedger
    /// @dev `poolCash - max(traderPnl, 0) - reserveRatio * Σ|netSize|·price`, clamped at zero.
    function poolWithdrawable() public view returns (uint256) {
        (int256 traderPnl, uint256 netNotional) = _traderPnlAndNetNotional();
        int256 locked = MarginMath.mulDivCeil(
            traderPnl > 0 ? traderPnl : int256(0), 1, MarginMath.WAD_PER_QUOTE
        ) + int256(MarginMath.fee(netNotional, poolReserveRatio));
        return MarginMath.positivePart(int256(_ledger.poolCash) - locked);
    }

    // ------------------------------------------------------------------ views

    /// @notice Maintenance equity, requirement and health of each account, oracle reads shared, as
    /// `liquidate` sees them: a collateral without a price counts 0, a market without one is left out
    /// (MarginEngineGovernance).
    // `_delegateView` returns the governance contract's return data itself (assembly `return`).
    // slither-disable-next-line incorrect-return
    function healthOf(uint256[] calldata) external view returns (AccountHealth[] memory) {
        _delegateView(governance);
    }

    /// @notice Initial equity, requirement and health of one account (what risk increases need)
    /// (MarginEngineGovernance).
    // slither-disable-next-line incorrect-return
    function initialHealthOf(uint256) external view returns (AccountHealth memory) {
        _delegateView(governance);
    }

    /// @notice Ids in [fromId, toId] (clamped to existing accounts) that `liquidate` would accept now
    /// (MarginEngineGovernance).
    // `_delegateView` returns the governance contract's return data itself (assembly `return`).
    // slither-disable-next-line incorrect-return
    function liquidatableAccounts(uint256, uint256) external view returns (uint256[] memory) {
        _delegateView(governance);
    }

    /// @notice The account's owner, held-collateral and open-market bitmasks, auctions and quote.
    function accounts(uint256 accountId) external view returns (Account memory) {
        return _loadAccount(accountId);
    }

    /// @notice The account's position in `marketId`.
    function positions(uint256 accountId, uint256 marketId) external view returns (Position memory) {
        return _positions[accountId][marketId];
    }

    /// @notice A listed collateral's configuration and total deposits.
    function collaterals(address token) external view returns (Collateral memory) {
        return _collaterals[token];
    }

    /// @notice Seized `token` the engine holds in custody for running auctions.
    function collateralInAuction(address token) external view returns (uint256) {
        return _collaterals[token].inAuction;
    }

    /// @notice A market's configuration and aggregates.
    function markets(uint256 marketId) external view returns (Market memory) {
        return _markets[marketId];
    }

    /// @notice A market's oracle asset and the parameters of its standard margin ratios
    /// (`MarginMath.marginRatios`), from the two slots a margin check reads; `UnknownMarket` for an
    /// id that is no market. What the standard risk model reads per position.
    function marketMarginParams(uint256 marketId)
        external
        view
        returns (address asset, uint256 baseMmr, uint256 volFactor, uint256 sigmaCap, uint256 imScale)
    {
        Market storage market = _listedMarket(marketId);
        return (market.asset, market.baseMmr, market.volFactor, market.sigmaCap, market.imScale);
    }

    /// @notice Number of markets; ids are 0 .. marketCount - 1.
    function marketCount() external view returns (uint256) {
        return _markets.length;
    }

    /// @notice The liquidation parameters.
    function liquidationParams() external view returns (LiquidationParams memory) {
        return _liquidationParams;
    }

    /// @notice The borrow state as of now: index (WAD), time, interest accrued to the pool and not
    /// yet charged to any account (quote units).
    function borrowState() external view returns (BorrowState memory) {
        return _borrowNow(_ledger);
    }

    /// @notice The borrow rate parameters (annual WAD rates and WAD utilization).
    function borrowParams()
        external
        view
        returns (uint256 baseRate, uint256 optimalUtilization, uint256 maxRate)
    {
        BorrowState memory state = _borrow;
        return (
            uint256(state.baseRate) * BORROW_PARAM_UNIT,
            uint256(state.optimalUtilization) * BORROW_PARAM_UNIT,
            uint256(state.maxRate) * BORROW_PARAM_UNIT
        );
    }

    /// @notice The borrow index at the account's last touch while it owed quote (0: never owed).
    function borrowIndexOf(uint256 accountId) external view returns (uint256) {
        return _borrowIndexOf[accountId];
    }

    /// @notice The account's funding owed in `marketId` as of now (quote units, positive: owed by the
    /// account), and the borrow interest it owes as of now (quote units) (MarginEngineGovernance).
    // slither-disable-next-line incorrect-return
    function pendingCharges(uint256, uint256) external view returns (int256, uint256) {
        _delegateView(governance);
    }

    /// @notice The quote books: poolCash, accountDebt, debtInAuction, insuranceFees.
    function ledger() external view returns (Ledger memory) {
        return _ledger;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Lists `token` as collateral (MarginEngineGovernance).
    function listCollateral(address, uint256, uint256, uint256) external {
        _delegate(governance);
    }

    /// @notice Sets a listed collateral's weights and deposit cap (MarginEngineGovernance).
    function setCollateralParams(address, uint256, uint256, uint256) external {
        _delegate(governance);
    }

    /// @notice Creates a perpetual market (MarginEngineGovernance).
    /// @return marketId The new market's id.
    // `_delegate` returns the governance contract's return data itself (assembly `return`).
    // slither-disable-next-line incorrect-return
    function createMarket(address, MarketParams calldata) external returns (uint256 marketId) {
        _delegate(governance);
    }

    /// @notice Sets a market's parameters (MarginEngineGovernance).
    function setMarketParams(uint256, MarketParams calldata) external {
        _delegate(governance);
    }

    /// @notice Sets the liquidation parameters (MarginEngineGovernance).
    function setLiquidationParams(LiquidationParams calldata) external {
        _delegate(governance);
    }

    /// @notice Sets the borrow rate on quote debt (MarginEngineGovernance).
    function setBorrowParams(uint256, uint256, uint256) external {
        _delegate(governance);
    }

    /// @notice Raises a market's initial-margin scale at once, never lowers it (guardian or
    /// governor; MarginEngineGovernance).
    function raiseInitialMargin(uint256, uint256) external {
        _delegate(governance);
    }

    /// @notice Approves a risk model for accounts to choose, or withdraws its approval
    /// (MarginEngineGovernance).
    function approveRiskModel(address, bool) external {
        _delegate(governance);
    }

    /// @notice The account chooses its risk model; the zero address is the standard margin
    /// (MarginEngineGovernance).
    function setRiskModel(uint256, address) external {
        _delegate(governance);
    }

    /// @notice The account's risk model (the zero address: the standard margin).
    function riskModelOf(uint256 accountId) external view returns (address) {
        return _accountRisk[accountId].riskModel;
    }

    /// @notice Whether accounts may choose `model`.
    function riskModelApproved(address model) external view returns (bool) {
        return _riskModelApproved[model];
    }

    /// @notice Sets the share of net open notional the pool keeps as cash against LP withdrawals.
    function setPoolReserveRatio(uint256 reserveRatio) external onlyRole(GOVERNOR_ROLE) {
        if (reserveRatio > WAD) revert InvalidPoolParams();
        poolReserveRatio = uint64(reserveRatio); // <= WAD
        emit PoolReserveRatioSet(reserveRatio);
    }

    /// @notice Sets the auction liquidator the engine hands collateral to.
    function setLiquidator(ILiquidator liquidator_) external onlyRole(GOVERNOR_ROLE) {
        if (address(liquidator_) == address(0)) revert ZeroAddress();
        liquidator = liquidator_;
        emit LiquidatorSet(address(liquidator_));
    }

    /// @notice Sets the insurance fund (fee sweeps, shortfall cover, keeper rewards).
    function setInsuranceFund(IInsuranceFund fund) external onlyRole(GOVERNOR_ROLE) {
        if (address(fund) == address(0)) revert ZeroAddress();
        insuranceFund = fund;
        emit InsuranceFundSet(address(fund));
    }

    /// @notice Sets the order book, the only caller of `fillOrder` and `chargeOrderFee`.
    function setOrderBook(address book) external onlyRole(GOVERNOR_ROLE) {
        if (book == address(0)) revert ZeroAddress();
        orderBook = book;
        emit OrderBookSet(book);
    }

    /// @notice Sets the LP pool, once: its share price depends on the ledger it is bound to.
    function setLPPool(address pool) external onlyRole(GOVERNOR_ROLE) {
        if (pool == address(0)) revert ZeroAddress();
        if (lpPool != address(0)) revert AlreadySet();
        lpPool = pool;
        emit LPPoolSet(pool);
    }

    /// @notice Pauses risk-increasing actions (guardian or governor).
    function pauseRiskIncrease() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender)) _checkRole(GOVERNOR_ROLE);
        riskPaused = true;
        emit RiskPausedSet(true);
    }

    /// @notice Resumes risk-increasing actions (governor only).
    function unpauseRiskIncrease() external onlyRole(GOVERNOR_ROLE) {
        riskPaused = false;
        emit RiskPausedSet(false);
    }
}
