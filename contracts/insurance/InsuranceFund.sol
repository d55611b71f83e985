// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IInsuranceFund} from "../../interfaces/IInsuranceFund.sol";

/// @dev The engine's fee sweep and the views that gate exits (existing engine functions).
interface IFundEngine {
    /// @dev The quote books; only `insuranceFees` (4th word) and `debtInAuction` (3rd) are read.
    function ledger()
        external
        view
        returns (int64 poolCash, uint64 accountDebt, uint64 debtInAuction, uint64 fees);

    function sweepInsuranceFees() external;

    function liquidatableAccounts(uint256 fromId, uint256 toId) external view returns (uint256[] memory);
}

/// @title InsuranceFund
/// @notice First loss absorber of Solvent, an ERC-4626 vault over the quote token. Income (its
/// share of liquidation penalties and trading fees) arrives by plain transfers and raises the
/// share price; shortfalls and keeper rewards are paid out of it and lower it. Stakers leave only
/// through a request, a cool-down and a limited window, so they cannot run just before a loss:
/// a request fixes its payout at most at the shares' value then (requested shares stop earning
/// and keep bearing losses), the window is at most 1/9 of the cool-down (at most 10% of a stake
/// exit-ready under rolling requests), exits wait while a loss is being determined (an account is
/// liquidatable or debt is under auction), and the engine's accrued fees are swept in before any
/// deposit or exit prices shares (docs/pool.md).
/// @dev `totalAssets` is the quote balance, so it can never go negative: every payout is capped
/// by it. Shares under a live withdrawal request cannot be transferred.
contract InsuranceFund is IInsuranceFund, ERC4626, AccessControl {
    using SafeERC20 for IERC20;

    error ZeroAddress();
    error ZeroAmount();
    error ParameterOutOfRange(bytes32 parameter, uint256 value);
    error InsufficientShares(uint256 balance, uint256 requested);
    error NoWithdrawalRequest(address owner);
    error WithdrawalNotReady(uint256 unlockTime);
    error WithdrawalExpired(uint256 expiry);
    error SharesLocked(address owner, uint256 locked);
    error SurplusExceeded(uint256 amount, uint256 surplus);
    error ExitReadyShareTooHigh(uint256 cooldown, uint256 window);
    error LossPending(uint256 liquidatable, uint256 debtInAuction);

    event ShortfallCovered(address indexed caller, uint256 requested, uint256 covered);
    event KeeperRewardPaid(address indexed caller, address indexed keeper, uint256 requested, uint256 paid);
    event WithdrawalRequested(address indexed owner, uint256 shares, uint256 unlockTime, uint256 expiry);
    event WithdrawalCancelled(address indexed owner);
    event SurplusSwept(address indexed treasury, uint256 amount);
    event TargetSet(uint256 target);
    event TreasurySet(address treasury);
    event CooldownSet(uint256 cooldown, uint256 window);
    event EngineSet(address engine);

    /// @notice A pending exit: `shares` become redeemable in `[unlockTime, expiry]`, for at most
    /// `assets` (their value at the request) in total.
    struct WithdrawalRequest {
        uint128 shares;
        uint64 unlockTime;
        uint64 expiry;
        uint256 assets;
    }

    /// @notice Sets the target, treasury and cool-down; sweeps surplus.
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    /// @notice Engine and liquidator: may draw shortfall cover.
    bytes32 public constant COVER_ROLE = keccak256("COVER_ROLE");
    /// @notice Liquidator: may pay keeper rewards.
    bytes32 public constant REWARD_ROLE = keccak256("REWARD_ROLE");

    uint8 internal constant DECIMALS_OFFSET = 6;
    uint256 public constant MIN_COOLDOWN = 1 days;
    uint256 public constant MAX_COOLDOWN = 30 days;
    uint256 public constant MIN_WINDOW = 1 hours;
    uint256 public constant MAX_WINDOW = 14 days;
    /// @notice window * 9 <= cooldown: window / (cooldown + window) <= 10%.
    uint256 public constant MAX_EXIT_READY_DIVISOR = 9;
    /// @notice Largest `target`, in whole quote tokens (one trillion): above any fund that can
    /// exist, so a typo (an amount given in WAD, say) is refused instead of silently blocking
    /// every sweep.
    uint256 public constant MAX_TARGET_WHOLE = 1e12;

    /// @notice Largest `target` in quote units: `MAX_TARGET_WHOLE * 10**quoteDecimals`.
    uint256 public immutable maxTarget;

    /// @notice Seconds between a withdrawal request and the start of its window.
    uint256 public cooldown;
    /// @notice Seconds a matured request stays usable.
    uint256 public window;
    /// @notice Quote units the fund keeps; only the excess can be swept to the treasury.
    uint256 public target;
    /// @notice Receiver of swept surplus.
    address public treasury;
    /// @notice The margin engine whose fees are swept in before shares are priced (0: none).
    IFundEngine public engine;
    /// @notice Staked principal: quote deposited by stakers, reduced pro rata to the shares they
    /// redeem. Only the balance above `max(target, principal)` is surplus, so no `target` lets a
    /// sweep reach the stakers' principal, and after a payout income first restores the principal
    /// (a high-water mark) before anything can be swept.
    uint256 public principal;
    /// @notice Pending exit of each staker.
    mapping(address owner => WithdrawalRequest) public withdrawalRequests;

    constructor(IERC20 quote_, address admin, address treasury_, uint256 cooldown_, uint256 window_)
        ERC20("Solvent Insurance Share", "sINS")
        ERC4626(quote_)
    {
        if (admin == address(0) || treasury_ == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        treasury = treasury_;
        uint8 quoteDecimals = IERC20Metadata(address(quote_)).decimals();
        maxTarget = quoteDecimals > 36 ? type(uint256).max : MAX_TARGET_WHOLE * 10 ** quoteDecimals;
        _setCooldown(cooldown_, window_);
    }

    // ------------------------------------------------------------------ payouts

    /// @inheritdoc IInsuranceFund
    function coverShortfall(uint256 amount) external onlyRole(COVER_ROLE) returns (uint256 covered) {
        covered = _payOut(msg.sender, amount);
        emit ShortfallCovered(msg.sender, amount, covered);
    }

    /// @inheritdoc IInsuranceFund
    function payKeeperReward(address keeper, uint256 amount)
        external
        onlyRole(REWARD_ROLE)
        returns (uint256 paid)
    {
        if (keeper == address(0)) revert ZeroAddress();
        paid = _payOut(keeper, amount);
        emit KeeperRewardPaid(msg.sender, keeper, amount, paid);
    }

    // ------------------------------------------------------------------ staking exits

    /// @notice Starts the cool-down for redeeming `shares`; replaces any earlier request. The
    /// shares keep absorbing losses until redeemed and cannot be transferred meanwhile.
    /// The payout is fixed now at most: `min(value now, value at redemption)`, so the requested
    /// shares stop earning (their gains stay with the fund) but bear every loss.
    function requestWithdrawal(uint256 shares) external {
        if (shares == 0) revert ZeroAmount();
        uint256 balance = balanceOf(msg.sender);
        if (shares > balance) revert InsufficientShares(balance, shares);
        _sweepEngineFees();
        uint256 unlockTime = block.timestamp + cooldown;
        uint256 expiry = unlockTime + window;
        // Named SafeCast errors, never a silent truncation, for absurd share counts.
        withdrawalRequests[msg.sender] = WithdrawalRequest(
            SafeCast.toUint128(shares),
            uint64(unlockTime),
            uint64(expiry),
            _convertToAssets(shares, Math.Rounding.Floor)
        );
        emit WithdrawalRequested(msg.sender, shares, unlockTime, expiry);
    }

    /// @notice Drops the caller's pending request (unlocking its shares).
    function cancelWithdrawal() external {
        // Zero shares means no request exists; no transfer can make a request's shares zero.
        // slither-disable-next-line incorrect-equality
        if (withdrawalRequests[msg.sender].shares == 0) revert NoWithdrawalRequest(msg.sender);
        delete withdrawalRequests[msg.sender];
        emit WithdrawalCancelled(msg.sender);
    }

    /// @notice Shares `owner` may redeem now: its request, inside its window, within its balance.
    function maxRedeem(address owner) public view override returns (uint256) {
        WithdrawalRequest memory r = withdrawalRequests[owner];
        if (block.timestamp < r.unlockTime || block.timestamp > r.expiry) return 0;
        return Math.min(r.shares, balanceOf(owner));
    }

    /// @notice Assets `owner` may withdraw now (its redeemable shares at its request's payout).
    function maxWithdraw(address owner) public view override returns (uint256) {
        return payoutOf(owner, maxRedeem(owner));
    }

    /// @notice What redeeming `shares` of `owner`'s request pays now: the lower of their value now
    /// and their pro-rata part of the value fixed at the request (fees not yet swept excluded).
    function payoutOf(address owner, uint256 shares) public view returns (uint256) {
        WithdrawalRequest memory r = withdrawalRequests[owner];
        // Zero shares means no request exists (as in `_checkRequest`).
        // slither-disable-next-line incorrect-equality
        if (r.shares == 0) return 0;
        return
            Math.min(_convertToAssets(shares, Math.Rounding.Floor), Math.mulDiv(r.assets, shares, r.shares));
    }

    /// @notice ERC-4626 deposit, after the engine's accrued fees are swept in.
    function deposit(uint256 assets, address receiver) public override returns (uint256) {
        _sweepEngineFees();
        return super.deposit(assets, receiver);
    }

    /// @notice ERC-4626 mint, after the engine's accrued fees are swept in.
    function mint(uint256 shares, address receiver) public override returns (uint256) {
        _sweepEngineFees();
        return super.mint(shares, receiver);
    }

    // The one external call before the state writes of `withdraw` and `redeem` is the sweep from
    // the engine governance set (`setEngine`): a known contract that transfers quote to the fund
    // and calls nothing back. The sweep must come first: shares are priced after it.
    // slither-disable-start reentrancy-no-eth
    /// @notice ERC-4626 withdraw, only through a matured request: the fewest shares whose payout
    /// (`payoutOf`) covers `assets`.
    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        returns (uint256 shares)
    {
        _checkRequest(owner);
        _sweepEngineFees();
        WithdrawalRequest memory r = withdrawalRequests[owner];
        uint256 maxShares = maxRedeem(owner);
        uint256 available = payoutOf(owner, maxShares);
        if (assets > available) revert ERC4626ExceededMaxWithdraw(owner, assets, available);
        shares = _convertToShares(assets, Math.Rounding.Ceil);
        // A request fixed at zero value pays nothing: only the value-now bound applies then.
        if (r.assets != 0) {
            shares = Math.max(shares, Math.mulDiv(assets, r.shares, r.assets, Math.Rounding.Ceil));
        }
        // Rounding may ask one share more than redeemable; those shares pay at least `assets`.
        shares = Math.min(shares, maxShares);
        _withdraw(msg.sender, receiver, owner, assets, shares);
    }

    /// @notice ERC-4626 redeem, only through a matured request, paying `payoutOf`.
    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        returns (uint256 assets)
    {
        _checkRequest(owner);
        _sweepEngineFees();
        uint256 maxShares = maxRedeem(owner);
        if (shares > maxShares) revert ERC4626ExceededMaxRedeem(owner, shares, maxShares);
        assets = payoutOf(owner, shares);
        _withdraw(msg.sender, receiver, owner, assets, shares);
    }

    // slither-disable-end reentrancy-no-eth

    /// @notice Shares of `owner` locked by a live (unexpired) request.
    function lockedShares(address owner) public view returns (uint256) {
        WithdrawalRequest memory r = withdrawalRequests[owner];
        return block.timestamp > r.expiry ? 0 : r.shares;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Sends `amount` of the surplus (`surplus()`) to the treasury.
    function sweepSurplus(uint256 amount) external onlyRole(GOVERNOR_ROLE) {
        if (amount == 0) revert ZeroAmount();
        uint256 available = surplus();
        if (amount > available) revert SurplusExceeded(amount, available);
        IERC20(asset()).safeTransfer(treasury, amount);
        emit SurplusSwept(treasury, amount);
    }

    /// @notice The sweepable balance: what the fund holds above both `target` and the stakers'
    /// `principal` (income only).
    function surplus() public view returns (uint256) {
        uint256 balance = totalAssets();
        uint256 floor = Math.max(target, principal);
        return balance > floor ? balance - floor : 0;
    }

    /// @notice Sets the size (quote units) above which income may be swept to the treasury; at
    /// most `maxTarget` (`ParameterOutOfRange` beyond).
    function setTarget(uint256 target_) external onlyRole(GOVERNOR_ROLE) {
        if (target_ > maxTarget) revert ParameterOutOfRange("target", target_);
        target = target_;
        emit TargetSet(target_);
    }

    /// @notice Sets the engine whose fees are swept in before shares are priced and whose pending
    /// losses hold exits back.
    function setEngine(address engine_) external onlyRole(GOVERNOR_ROLE) {
        if (engine_ == address(0)) revert ZeroAddress();
        engine = IFundEngine(engine_);
        emit EngineSet(engine_);
    }

    /// @notice Sets where swept surplus goes.
    function setTreasury(address treasury_) external onlyRole(GOVERNOR_ROLE) {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    /// @notice Sets the exit cool-down and the window after it in which a request can be used:
    /// cool-down in [1 day, 30 days], window in [1 hour, cool-down / 9] (`ExitReadyShareTooHigh`:
    /// under rolling requests a staker keeps window / (cool-down + window) of its stake exit-ready,
    /// at most 10%). Applies to requests made from now on.
    function setCooldown(uint256 cooldown_, uint256 window_) external onlyRole(GOVERNOR_ROLE) {
        _setCooldown(cooldown_, window_);
    }

    // ------------------------------------------------------------------ internals

    function _payOut(address to, uint256 amount) internal returns (uint256 paid) {
        paid = Math.min(amount, totalAssets());
        if (paid != 0) IERC20(asset()).safeTransfer(to, paid);
    }

    function _setCooldown(uint256 cooldown_, uint256 window_) internal {
        if (cooldown_ < MIN_COOLDOWN || cooldown_ > MAX_COOLDOWN) {
            revert ParameterOutOfRange("cooldown", cooldown_);
        }
        if (window_ < MIN_WINDOW || window_ > MAX_WINDOW) revert ParameterOutOfRange("window", window_);
        if (window_ * MAX_EXIT_READY_DIVISOR > cooldown_) revert ExitReadyShareTooHigh(cooldown_, window_);
        cooldown = cooldown_;
        window = window_;
        emit CooldownSet(cooldown_, window_);
    }

    /// @dev Books the engine's accrued fees into the fund's balance before shares are priced.
    function _sweepEngineFees() internal {
        IFundEngine engine_ = engine;
        if (address(engine_) == address(0)) return;
        // the ledger's other fields are the pool's; only the fund's fees are swept here
        // slither-disable-next-line unused-return
        (,,, uint64 fees) = engine_.ledger();
        if (fees != 0) engine_.sweepInsuranceFees();
    }

    function _checkRequest(address owner) internal view {
        WithdrawalRequest memory r = withdrawalRequests[owner];
        // Zero shares means no request exists; no transfer can make a request's shares zero.
        // slither-disable-next-line incorrect-equality
        if (r.shares == 0) revert NoWithdrawalRequest(owner);
        if (block.timestamp < r.unlockTime) revert WithdrawalNotReady(r.unlockTime);
        if (block.timestamp > r.expiry) revert WithdrawalExpired(r.expiry);
        IFundEngine engine_ = engine;
        if (address(engine_) != address(0)) {
            uint256 liquidatable = engine_.liquidatableAccounts(1, type(uint256).max).length;
            // only the debt under auction is a pending loss of the fund's; the rest is the pool's
            // slither-disable-next-line unused-return
            (,, uint64 inAuction,) = engine_.ledger();
            if (liquidatable != 0 || inAuction != 0) revert LossPending(liquidatable, inAuction);
        }
    }

    /// @dev Deposited assets are principal.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        principal += assets;
        super._deposit(caller, receiver, assets, shares);
    }

    /// @dev Redeemed shares consume the request and their part of its fixed value, and their
    /// pro-rata part of the principal (rounded down: the principal left stays on the safe side).
    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
    {
        principal -= Math.mulDiv(principal, shares, totalSupply());
        WithdrawalRequest storage r = withdrawalRequests[owner];
        r.assets -= Math.mulDiv(r.assets, shares, r.shares);
        r.shares -= uint128(shares);
        super._withdraw(caller, receiver, owner, assets, shares);
    }

    /// @dev Transfers may not dip into shares locked by a live request (mints and burns pass).
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 locked = lockedShares(from);
            if (balanceOf(from) < value + locked) revert SharesLocked(from, locked);
        }
        super._update(from, to, value);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }
}
