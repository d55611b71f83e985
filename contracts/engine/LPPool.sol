// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRoundOracle} from "../../interfaces/IRoundOracle.sol";
import {IPoolLedger, ISocializedLossSink} from "./IPoolLedger.sol";
import {Ledger, Market} from "./libraries/EngineTypes.sol";

/// @dev The engine's views the pool prices requests with (all existing engine getters).
interface IPoolEngineViews {
    function oracle() external view returns (address);

    function marketCount() external view returns (uint256);

    function markets(uint256 marketId) external view returns (Market memory);

    function marketSkew(uint256 marketId) external view returns (int256 netSize, uint256 skewScale);

    function ledger() external view returns (Ledger memory);

    function insuranceFund() external view returns (address);

    function liquidatableAccounts(uint256 fromId, uint256 toId) external view returns (uint256[] memory);
}

/// @title LPPool
/// @notice The counterparty of every trade: an asynchronous ERC-4626 vault (ERC-7540) over the
/// quote token, whose assets are held and booked by the margin engine. Entering and leaving are
/// requests (`requestDeposit`, `requestRedeem`) executed later by anyone (`executeDeposit`,
/// `executeRedeem`, for a fixed fee) at the pool value the request determines: the engine's books
/// at execution with every market marked at the first oracle round published at or after
/// `request time + REQUEST_DELAY` (the order book's rule, `OracleAdapter.roundPrice`). Execution is
/// refused while any account is liquidatable (its unrealized loss may be uncollectible) or while
/// debt under auction exceeds the insurance fund. Executed requests are claimed with the ERC-4626
/// functions (`deposit`/`mint`, `redeem`/`withdraw`), by the controller or its operator
/// (docs/pool.md).
/// @dev Pending deposits and claimable redemptions are held by this contract as quote; shares of
/// pending redemptions and claimable deposits are held by it as sLP. Neither counts in
/// `totalAssets`; escrowed shares of a pending redemption stay in the supply, so they bear every
/// gain and loss realized until execution.
contract LPPool is ERC4626, ReentrancyGuardTransient, ISocializedLossSink {
    using SafeERC20 for IERC20;
    using Math for uint256;

    error OnlyEngine();
    error ZeroAmount();
    error NotAuthorized(address owner, address caller);
    error RequestPending(address controller, uint256 expiry);
    error NoPendingRequest(address controller);
    error ExecutionTooEarly(uint256 targetTime);
    error RequestExpired(uint256 expiry);
    error RequestNotExpired(uint256 expiry);
    error RoundCountMismatch(uint256 markets, uint256 rounds);
    error UnliquidatedAccounts(uint256 count);
    error AuctionDebtExceedsInsurance(uint256 debtInAuction, uint256 insurance);
    error PoolInsolvent();
    error ExceedsClaimable(uint256 claimable, uint256 requested);
    error AsyncFlow();
    error RequestRequired();
    error RequestTooLarge(uint256 amount);

    /// @notice A loss written off the pool's receivables after the insurance fund paid what it could.
    event LossSocialized(
        uint256 indexed accountId, uint256 shortfall, uint256 coveredByInsurance, uint256 socialized
    );
    /// @notice ERC-7540: `owner` escrowed `assets` for a deposit controlled by `controller`.
    event DepositRequest(
        address indexed controller,
        address indexed owner,
        uint256 indexed requestId,
        address sender,
        uint256 assets
    );
    /// @notice ERC-7540: `owner` escrowed `shares` for a redemption controlled by `controller`.
    event RedeemRequest(
        address indexed controller,
        address indexed owner,
        uint256 indexed requestId,
        address sender,
        uint256 shares
    );
    /// @notice ERC-7540: `controller` (dis)approved `operator`.
    event OperatorSet(address indexed controller, address indexed operator, bool approved);
    /// @notice A deposit request executed at pool value `poolValue`: `assets` (after `fee`) bought `shares`.
    event DepositExecuted(
        address indexed controller,
        address indexed executor,
        uint256 assets,
        uint256 shares,
        uint256 fee,
        uint256 poolValue
    );
    /// @notice A redeem request executed at pool value `poolValue`: `shares` paid `assets` (after `fee`).
    event RedeemExecuted(
        address indexed controller,
        address indexed executor,
        uint256 shares,
        uint256 assets,
        uint256 fee,
        uint256 poolValue
    );
    /// @notice An expired request returned to its controller.
    event RequestCancelled(address indexed controller, bool deposit, uint256 amount);

    /// @notice A pending request: `amount` (assets for a deposit, shares for a redemption) and the
    /// time whose first oracle round prices it.
    struct Request {
        uint128 amount;
        uint40 targetTime;
    }

    /// @notice An executed request waiting to be claimed: the assets and shares it converts between.
    struct Claimable {
        uint128 assets;
        uint128 shares;
    }

    IPoolLedger public immutable engine;
    /// @notice The engine's oracle adapter: spot marks and the determining rounds.
    IRoundOracle public immutable oracle;

    /// @dev 6 extra share decimals make a first-depositor inflation attack cost 1e6 times the gain.
    uint8 internal constant DECIMALS_OFFSET = 6;
    /// @notice Seconds from a request to the time whose first oracle round prices it (as orders).
    uint256 public constant REQUEST_DELAY = 15;
    /// @notice Seconds after the target time during which a request can be executed (as orders:
    /// a feed's heartbeat + 25%); after it anyone may return the request to its controller.
    uint256 public constant REQUEST_WINDOW = 4500;
    /// @notice Executor's fee in whole quote tokens, taken from the request's assets.
    uint256 public constant EXECUTION_FEE_WHOLE = 2;
    uint256 internal constant WAD = 1e18;

    /// @notice Executor's fee in quote units.
    uint256 public immutable executionFee;
    /// @dev 10^(18 - quote decimals): WAD USD per quote unit.
    uint256 internal immutable _wadPerQuote;

    mapping(address controller => Request) internal _pendingDeposit;
    mapping(address controller => Request) internal _pendingRedeem;
    mapping(address controller => Claimable) internal _claimableDeposit;
    mapping(address controller => Claimable) internal _claimableRedeem;
    /// @notice ERC-7540 operators: `operator` may request and claim for `controller`.
    mapping(address controller => mapping(address operator => bool)) public isOperator;

    constructor(IERC20 quote_, IPoolLedger engine_) ERC20("Solvent LP", "sLP") ERC4626(quote_) {
        engine = engine_;
        oracle = IRoundOracle(IPoolEngineViews(address(engine_)).oracle());
        uint8 decimals_ = IERC20Metadata(address(quote_)).decimals();
        executionFee = EXECUTION_FEE_WHOLE * 10 ** decimals_;
        _wadPerQuote = 10 ** (18 - decimals_);
    }

    // ------------------------------------------------------------------ ERC-7540 requests

    /// @notice ERC-7540: escrows `assets` of `owner` for a deposit controlled by `controller`,
    /// executable from `now + REQUEST_DELAY`. One pending deposit per controller. Returns 0 (the
    /// requests of a controller are fungible).
    // `owner` is the caller or approved it as operator (`_checkOwner`, ERC-7540's rule): the
    // transfer is from an address that authorized it, not an arbitrary one.
    // slither-disable-start arbitrary-send-erc20
    function requestDeposit(uint256 assets, address controller, address owner)
        external
        nonReentrant
        returns (uint256)
    {
        _checkOwner(owner);
        uint256 target = _newRequest(_pendingDeposit[controller], assets, controller);
        _pendingDeposit[controller] = Request(uint128(assets), uint40(target));
        IERC20(asset()).safeTransferFrom(owner, address(this), assets);
        emit DepositRequest(controller, owner, 0, msg.sender, assets);
        return 0;
    }

    // slither-disable-end arbitrary-send-erc20

    /// @notice ERC-7540: escrows `shares` of `owner` for a redemption controlled by `controller`.
    /// The shares stay in the supply until execution: they bear every gain and loss until then.
    function requestRedeem(uint256 shares, address controller, address owner)
        external
        nonReentrant
        returns (uint256)
    {
        if (msg.sender != owner && !isOperator[owner][msg.sender]) {
            _spendAllowance(owner, msg.sender, shares);
        }
        uint256 target = _newRequest(_pendingRedeem[controller], shares, controller);
        _pendingRedeem[controller] = Request(uint128(shares), uint40(target));
        _transfer(owner, address(this), shares);
        emit RedeemRequest(controller, owner, 0, msg.sender, shares);
        return 0;
    }

    /// @notice ERC-7540: assets of `controller`'s deposit request not executed yet.
    function pendingDepositRequest(uint256, address controller) external view returns (uint256) {
        return _pendingDeposit[controller].amount;
    }

    /// @notice ERC-7540: assets of `controller`'s executed deposits not claimed yet.
    function claimableDepositRequest(uint256, address controller) external view returns (uint256) {
        return _claimableDeposit[controller].assets;
    }

    /// @notice ERC-7540: shares of `controller`'s redeem request not executed yet.
    function pendingRedeemRequest(uint256, address controller) external view returns (uint256) {
        return _pendingRedeem[controller].amount;
    }

    /// @notice ERC-7540: shares of `controller`'s executed redemptions not claimed yet.
    function claimableRedeemRequest(uint256, address controller) external view returns (uint256) {
        return _claimableRedeem[controller].shares;
    }

    /// @notice The target time (its first oracle round prices the request) and expiry of
    /// `controller`'s pending deposit (`deposit` true) or redemption; (0, 0) when none.
    function requestTimes(address controller, bool deposit_)
        external
        view
        returns (uint256 target, uint256 expiry)
    {
        target = (deposit_ ? _pendingDeposit[controller] : _pendingRedeem[controller]).targetTime;
        if (target != 0) expiry = target + REQUEST_WINDOW;
    }

    /// @notice ERC-7540: approves or revokes `operator` to request and claim for the caller.
    function setOperator(address operator, bool approved) external returns (bool) {
        isOperator[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
        return true;
    }

    /// @notice ERC-165: ERC-165, ERC-7540 operators, async deposit, async redeem, ERC-7575.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 || interfaceId == 0xe3bc4e65 || interfaceId == 0xce3bbe50
            || interfaceId == 0x620ee8e4 || interfaceId == 0x2f0a18c5;
    }

    /// @notice ERC-7575: the share token is this contract.
    function share() external view returns (address) {
        return address(this);
    }

    // ------------------------------------------------------------------ execution (anyone)

    /// @notice Executes `controller`'s deposit request at the pool value it determines, paying the
    /// caller `executionFee` out of it; the shares become claimable. `roundIds[m]` must be the
    /// first round of market `m`'s primary feed at or after the request's target time.
    function executeDeposit(address controller, uint80[] calldata roundIds) external nonReentrant {
        Request memory request = _pendingDeposit[controller];
        uint256 value = _executionValue(request, controller, roundIds, Math.Rounding.Ceil);
        // An empty pool has no value to dilute; a pool with shares and no value is insolvent.
        if (value == 0 && totalSupply() != 0) revert PoolInsolvent();
        delete _pendingDeposit[controller];
        uint256 fee = Math.min(executionFee, request.amount);
        uint256 net = request.amount - fee;
        // The pool's value before these assets arrive; shares rounded down (against the depositor).
        uint256 shares = net.mulDiv(totalSupply() + 10 ** DECIMALS_OFFSET, value + 1, Math.Rounding.Floor);
        Claimable storage claimable = _claimableDeposit[controller];
        claimable.assets += request.amount; // the request's assets: what `deposit` claims against
        claimable.shares += uint128(shares);
        _mint(address(this), shares);
        IERC20 quote = IERC20(asset());
        if (net != 0) {
            quote.safeTransfer(address(engine), net);
            engine.creditPool(net);
        }
        if (fee != 0) quote.safeTransfer(msg.sender, fee);
        emit DepositExecuted(controller, msg.sender, net, shares, fee, value);
    }

    /// @notice Executes `controller`'s redeem request at the pool value it determines: the shares
    /// are burnt, their assets leave the engine (within `poolWithdrawable`) and become claimable,
    /// less `executionFee` paid to the caller. `roundIds` as for `executeDeposit`.
    function executeRedeem(address controller, uint80[] calldata roundIds) external nonReentrant {
        Request memory request = _pendingRedeem[controller];
        uint256 value = _executionValue(request, controller, roundIds, Math.Rounding.Floor);
        delete _pendingRedeem[controller];
        // Assets rounded down (against the redeemer).
        uint256 assets = uint256(request.amount)
            .mulDiv(value + 1, totalSupply() + 10 ** DECIMALS_OFFSET, Math.Rounding.Floor);
        uint256 fee = Math.min(executionFee, assets);
        Claimable storage claimable = _claimableRedeem[controller];
        claimable.assets += uint128(assets - fee);
        claimable.shares += request.amount;
        _burn(address(this), request.amount);
        if (assets != 0) engine.payFromPool(address(this), assets);
        if (fee != 0) IERC20(asset()).safeTransfer(msg.sender, fee);
        emit RedeemExecuted(controller, msg.sender, request.amount, assets - fee, fee, value);
    }

    /// @notice Returns an expired, unexecuted request to its controller (assets, or shares); anyone.
    function cancelRequest(address controller, bool deposit_) external nonReentrant {
        Request memory request = deposit_ ? _pendingDeposit[controller] : _pendingRedeem[controller];
        if (request.targetTime == 0) revert NoPendingRequest(controller);
        uint256 expiry = request.targetTime + REQUEST_WINDOW;
        if (block.timestamp <= expiry) revert RequestNotExpired(expiry);
        if (deposit_) {
            delete _pendingDeposit[controller];
            IERC20(asset()).safeTransfer(controller, request.amount);
        } else {
            delete _pendingRedeem[controller];
            _transfer(address(this), controller, request.amount);
        }
        emit RequestCancelled(controller, deposit_, request.amount);
    }

    /// @notice The pool value a request with target time `target` executes at now, with the
    /// determining rounds `roundIds` (reverts as `executeDeposit` would). `roundUp`: a deposit's
    /// rounding (against the depositor), else a redemption's.
    function executionValue(uint256 target, uint80[] calldata roundIds, bool roundUp)
        external
        view
        returns (uint256)
    {
        return _valueAt(target, roundIds, roundUp ? Math.Rounding.Ceil : Math.Rounding.Floor);
    }

    // ------------------------------------------------------------------ ERC-4626 views

    /// @notice Pool value in quote units, as booked by the engine (net of traders' unrealized PnL);
    /// escrowed requests are not part of it.
    function totalAssets() public view override returns (uint256) {
        return engine.poolAssets();
    }

    /// @notice ERC-7540: the claimable assets of `controller`'s executed deposits.
    function maxDeposit(address controller) public view override returns (uint256) {
        return _claimableDeposit[controller].assets;
    }

    /// @notice ERC-7540: the claimable shares of `controller`'s executed deposits.
    function maxMint(address controller) public view override returns (uint256) {
        return _claimableDeposit[controller].shares;
    }

    /// @notice ERC-7540: the claimable assets of `controller`'s executed redemptions.
    function maxWithdraw(address controller) public view override returns (uint256) {
        return _claimableRedeem[controller].assets;
    }

    /// @notice ERC-7540: the claimable shares of `controller`'s executed redemptions.
    function maxRedeem(address controller) public view override returns (uint256) {
        return _claimableRedeem[controller].shares;
    }

    /// @notice Reverts: ERC-7540 asynchronous flows have no synchronous preview.
    function previewDeposit(uint256) public pure override returns (uint256) {
        revert AsyncFlow();
    }

    /// @notice Reverts: ERC-7540 asynchronous flows have no synchronous preview.
    function previewMint(uint256) public pure override returns (uint256) {
        revert AsyncFlow();
    }

    /// @notice Reverts: ERC-7540 asynchronous flows have no synchronous preview.
    function previewWithdraw(uint256) public pure override returns (uint256) {
        revert AsyncFlow();
    }

    /// @notice Reverts: ERC-7540 asynchronous flows have no synchronous preview.
    function previewRedeem(uint256) public pure override returns (uint256) {
        revert AsyncFlow();
    }

    // ------------------------------------------------------------------ ERC-7540 claims

    /// @notice Claims the shares of `assets` of the caller's executed deposits to `receiver`. With
    /// nothing claimable, deposits at once while the pool's value cannot move (`isFlat`: no trader
    /// position, no debt; the bootstrap of a new pool), else reverts `RequestRequired`.
    function deposit(uint256 assets, address receiver) public override returns (uint256 shares) {
        if (_claimableDeposit[msg.sender].assets != 0) return deposit(assets, receiver, msg.sender);
        _requireFlat();
        if (assets == 0) revert ZeroAmount();
        shares = _convertToShares(assets, Math.Rounding.Floor);
        _deposit(msg.sender, receiver, assets, shares);
    }

    /// @notice ERC-7540: claims the shares of `assets` of `controller`'s executed deposits.
    function deposit(uint256 assets, address receiver, address controller)
        public
        nonReentrant
        returns (uint256 shares)
    {
        _checkController(controller);
        Claimable memory c = _claimableDeposit[controller];
        if (assets > c.assets) revert ExceedsClaimable(c.assets, assets);
        shares = assets == c.assets ? c.shares : uint256(c.shares).mulDiv(assets, c.assets);
        _claimDeposit(controller, receiver, assets, shares);
    }

    /// @notice Claims `shares` of the caller's executed deposits to `receiver`.
    function mint(uint256 shares, address receiver) public override returns (uint256) {
        return mint(shares, receiver, msg.sender);
    }

    /// @notice ERC-7540: claims `shares` of `controller`'s executed deposits to `receiver`.
    function mint(uint256 shares, address receiver, address controller)
        public
        nonReentrant
        returns (uint256 assets)
    {
        _checkController(controller);
        Claimable memory c = _claimableDeposit[controller];
        if (shares > c.shares) revert ExceedsClaimable(c.shares, shares);
        assets =
            shares == c.shares ? c.assets : uint256(c.assets).mulDiv(shares, c.shares, Math.Rounding.Ceil);
        _claimDeposit(controller, receiver, assets, shares);
    }

    /// @notice ERC-7540: pays the assets of `shares` of `controller`'s executed redemptions to
    /// `receiver`. With nothing claimable, redeems `controller`'s shares at once (allowance as
    /// ERC-4626) while the pool is flat (`isFlat`), else reverts `RequestRequired`.
    function redeem(uint256 shares, address receiver, address controller)
        public
        override
        nonReentrant
        returns (uint256 assets)
    {
        Claimable memory c = _claimableRedeem[controller];
        if (c.shares == 0) {
            _requireFlat();
            if (shares == 0) revert ZeroAmount();
            assets = _convertToAssets(shares, Math.Rounding.Floor);
            _withdraw(msg.sender, receiver, controller, assets, shares);
            return assets;
        }
        _checkController(controller);
        if (shares > c.shares) revert ExceedsClaimable(c.shares, shares);
        assets = shares == c.shares ? c.assets : uint256(c.assets).mulDiv(shares, c.shares);
        _claimRedeem(controller, receiver, assets, shares);
    }

    /// @notice ERC-7540: pays `assets` of `controller`'s executed redemptions to `receiver`. With
    /// nothing claimable, withdraws at once while the pool is flat (as `redeem`).
    function withdraw(uint256 assets, address receiver, address controller)
        public
        override
        nonReentrant
        returns (uint256 shares)
    {
        Claimable memory c = _claimableRedeem[controller];
        if (c.shares == 0) {
            _requireFlat();
            if (assets == 0) revert ZeroAmount();
            shares = _convertToShares(assets, Math.Rounding.Ceil);
            _withdraw(msg.sender, receiver, controller, assets, shares);
            return shares;
        }
        _checkController(controller);
        if (assets > c.assets) revert ExceedsClaimable(c.assets, assets);
        shares =
            assets == c.assets ? c.shares : uint256(c.shares).mulDiv(assets, c.assets, Math.Rounding.Ceil);
        _claimRedeem(controller, receiver, assets, shares);
    }

    /// @notice True while the pool's value depends on no price and no receivable: every market has
    /// no net trader position, and no account owes the pool (no debt, none under auction). Only
    /// then do shares change hands at once (`deposit`, `redeem` without a request).
    function isFlat() public view returns (bool) {
        IPoolEngineViews views = IPoolEngineViews(address(engine));
        Ledger memory ledger = views.ledger();
        if (ledger.accountDebt != 0 || ledger.debtInAuction != 0) return false;
        uint256 count = views.marketCount();
        for (uint256 m; m < count; ++m) {
            // only the net size matters here; the skew scale is the premium's, not the value's
            // slither-disable-next-line unused-return
            (int256 netSize,) = views.marketSkew(m);
            if (netSize != 0) return false;
        }
        return true;
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

    // ------------------------------------------------------------------ internals

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }

    function _requireFlat() internal view {
        if (!isFlat()) revert RequestRequired();
    }

    /// @dev The instant path's transfers (the request path moves escrow instead).
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

    function _checkOwner(address owner) internal view {
        if (msg.sender != owner && !isOperator[owner][msg.sender]) revert NotAuthorized(owner, msg.sender);
    }

    function _checkController(address controller) internal view {
        if (msg.sender != controller && !isOperator[controller][msg.sender]) {
            revert NotAuthorized(controller, msg.sender);
        }
    }

    /// @dev Checks a new request (amount, no live request of the controller; an expired one must be
    /// cancelled first so its escrow goes back) and returns its target time.
    function _newRequest(Request memory live, uint256 amount, address controller)
        internal
        view
        returns (uint256)
    {
        if (amount == 0) revert ZeroAmount();
        if (amount > type(uint128).max) revert RequestTooLarge(amount);
        if (live.targetTime != 0) revert RequestPending(controller, live.targetTime + REQUEST_WINDOW);
        return block.timestamp + REQUEST_DELAY;
    }

    /// @dev A pending request's execution value: due and unexpired, then `_valueAt`.
    function _executionValue(
        Request memory request,
        address controller,
        uint80[] calldata roundIds,
        Math.Rounding rounding
    ) internal view returns (uint256) {
        if (request.targetTime == 0) revert NoPendingRequest(controller);
        if (block.timestamp < request.targetTime) revert ExecutionTooEarly(request.targetTime);
        uint256 expiry = request.targetTime + REQUEST_WINDOW;
        if (block.timestamp > expiry) revert RequestExpired(expiry);
        return _valueAt(request.targetTime, roundIds, rounding);
    }

    /// @dev The engine's pool value with each market's net trader position re-marked from the
    /// current oracle price to its determining round's price (the traders' PnL is linear in it:
    /// netSize · price), after the solvency gates: no liquidatable account (its loss may be
    /// uncollectible and is realized by liquidating it first, which anyone may do) and debt under
    /// auction within the insurance fund (which covers an auction's shortfall before the pool).
    function _valueAt(uint256 target, uint80[] calldata roundIds, Math.Rounding rounding)
        internal
        view
        returns (uint256)
    {
        IPoolEngineViews views = IPoolEngineViews(address(engine));
        uint256 count = views.marketCount();
        if (roundIds.length != count) revert RoundCountMismatch(count, roundIds.length);
        uint256 unliquidated = views.liquidatableAccounts(1, type(uint256).max).length;
        if (unliquidated != 0) revert UnliquidatedAccounts(unliquidated);
        uint256 inAuction = views.ledger().debtInAuction;
        if (inAuction != 0) {
            uint256 insurance = IERC4626(views.insuranceFund()).totalAssets();
            if (inAuction > insurance) revert AuctionDebtExceedsInsurance(inAuction, insurance);
        }
        // WAD USD: the pool's value plus the traders' PnL change from the current marks to the rounds'.
        int256 value = int256(engine.poolAssets() * _wadPerQuote);
        for (uint256 m; m < count; ++m) {
            value += _remark(views, m, roundIds[m], target);
        }
        if (value <= 0) return 0;
        return
            rounding == Math.Rounding.Ceil
                ? uint256(value).ceilDiv(_wadPerQuote)
                : uint256(value) / _wadPerQuote;
    }

    /// @dev The traders' PnL change in market `m` from the current mark to its determining round's
    /// price, WAD USD (the pool gains netSize · (current − round)).
    function _remark(IPoolEngineViews views, uint256 m, uint80 roundId, uint256 target)
        internal
        view
        returns (int256)
    {
        address market = views.markets(m).asset;
        // The round's time serves batches of orders; a request is executed alone.
        // slither-disable-next-line unused-return
        (uint256 roundPriceWad,) = oracle.roundPrice(market, roundId, target);
        // only the net size is re-marked; the skew scale is the premium's, not the value's
        // slither-disable-next-line unused-return
        (int256 netSize,) = views.marketSkew(m);
        if (netSize == 0) return 0;
        uint256 current = IRoundOracleSpot(address(oracle)).price(market);
        return netSize * (int256(current) - int256(roundPriceWad)) / int256(WAD);
    }

    function _claimDeposit(address controller, address receiver, uint256 assets, uint256 shares) internal {
        if (shares == 0) revert ZeroAmount();
        Claimable storage c = _claimableDeposit[controller];
        c.assets -= uint128(assets);
        c.shares -= uint128(shares);
        _transfer(address(this), receiver, shares);
        emit Deposit(controller, receiver, assets, shares);
    }

    function _claimRedeem(address controller, address receiver, uint256 assets, uint256 shares) internal {
        if (shares == 0) revert ZeroAmount();
        Claimable storage c = _claimableRedeem[controller];
        c.assets -= uint128(assets);
        c.shares -= uint128(shares);
        if (assets != 0) IERC20(asset()).safeTransfer(receiver, assets);
        emit Withdraw(msg.sender, receiver, controller, assets, shares);
    }
}

/// @dev The oracle adapter's spot price (the price the engine marks the pool's books at).
interface IRoundOracleSpot {
    function price(address asset) external view returns (uint256 priceWad);
}
