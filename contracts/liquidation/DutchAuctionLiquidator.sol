// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAuctionSettlement} from "../../interfaces/IAuctionSettlement.sol";
import {IAuctionTaker} from "../../interfaces/IAuctionTaker.sol";
import {IInsuranceFund} from "../../interfaces/IInsuranceFund.sol";
import {ILiquidator} from "../../interfaces/ILiquidator.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {IPriceCurve} from "../../interfaces/IPriceCurve.sol";

/// @title DutchAuctionLiquidator
/// @notice Sells collateral seized by the margin engine in descending-price (Dutch) auctions, one
/// auction per seized token, to recover the account's debt (owed to the LP pool) and its unpaid
/// penalty (owed to the insurance fund). Maker Liquidation 2.0 (Dog + Clipper) in one contract:
/// start above the oracle, decay along a per-collateral curve, settle instantly, allow
/// capital-free takes through a callback, reset when stale. See docs/liquidation.md.
/// @dev Units: prices are WAD USD per whole token; tab, debt, penalty, rewards and caps are quote
/// units; lots are collateral units. `owe = ceil(slice * price / 10^(tokenDecimals + 18 -
/// quoteDecimals))`. One transient reentrancy lock covers start, take, reset, cancel and config.
contract DutchAuctionLiquidator is ILiquidator, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    // ------------------------------------------------------------------ errors

    error NotEngine(address caller);
    error AuctionsStopped(uint8 level);
    error InvalidLots();
    error ZeroLot(address token);
    error ZeroTab();
    error CollateralNotConfigured(address token);
    error GlobalCapExceeded(uint256 dirt, uint256 hole);
    error CollateralCapExceeded(address token, uint256 dirt, uint256 hole);
    error AuctionNotActive(uint256 id);
    error ZeroAmount();
    error ZeroAddress();
    error ZeroPrice(uint256 id);
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    error AuctionNeedsReset(uint256 id);
    error AuctionNotResettable(uint256 id);
    error DustRemainder(uint256 tab, uint256 chost);
    error ParameterOutOfRange(bytes32 parameter, uint256 value);
    error UnsupportedDecimals(address token, uint8 decimals);

    // ------------------------------------------------------------------ events

    event AuctionStarted(
        uint256 indexed id,
        uint256 indexed accountId,
        address indexed token,
        uint256 lot,
        uint256 tab,
        uint256 debt,
        uint256 startPrice
    );
    event KeeperRewarded(
        uint256 indexed firstAuctionId, address indexed keeper, uint256 requested, uint256 paid
    );
    event Take(
        uint256 indexed id,
        address indexed taker,
        address receiver,
        uint256 price,
        uint256 slice,
        uint256 owe,
        uint256 lotLeft,
        uint256 tabLeft
    );
    event AuctionReset(
        uint256 indexed id,
        address indexed keeper,
        uint256 startPrice,
        uint256 rewardRequested,
        uint256 rewardPaid
    );
    event AuctionEnded(
        uint256 indexed id,
        uint256 indexed accountId,
        uint256 returned,
        uint256 badDebt,
        uint256 penaltyUnpaid
    );
    event AuctionCancelled(
        uint256 indexed id, address indexed recipient, uint256 lot, uint256 tab, uint256 debt
    );
    event CollateralConfigured(address indexed token, CollateralParams params);
    event GlobalHoleSet(uint256 hole);
    event StoppedSet(uint8 level);
    event AuctionSlotsPrepared(uint256 firstSlot, uint256 count);

    // ------------------------------------------------------------------ types

    /// @dev One auction slot: two storage slots that are recycled, never cleared (the token is
    /// stored as its 16-bit collateral id). `lot > 0` iff an auction runs in it. A finished
    /// auction only zeroes its lot and links the slot into the free list; `version` (>= 1 once the
    /// slot is used or prepared) keeps both words non-zero, so the next auction rewrites live
    /// words (5k gas each) instead of creating them (22.1k each).
    struct Auction {
        uint104 lot;
        uint32 startTime;
        uint16 collateralId;
        uint48 accountId;
        uint32 version;
        uint24 nextFree;
        uint80 tab;
        uint80 debt;
        uint96 startPrice;
    }

    /// @dev Slot 1 is read by take/reset/status, slot 2 by take/start/reset, slot 3 by start/reset.
    struct Collateral {
        IPriceCurve curve;
        uint32 tail;
        uint64 cusp;
        uint80 dirt;
        uint80 chost;
        uint56 chip;
        uint8 scaleExp;
        uint16 id;
        uint80 hole;
        uint80 tip;
        uint64 buf;
    }

    /// @dev One slot, read by every auction operation. `freeHead` starts the free list of
    /// auction slots (`NO_SLOT` when empty); `slotCount` slots (numbered from 1) exist.
    struct Globals {
        uint88 dirt;
        uint88 hole;
        uint8 stopped;
        uint24 activeCount;
        uint24 freeHead;
        uint24 slotCount;
    }

    /// @dev Running split of an account's debt and penalty across its lots.
    struct Split {
        uint256 accountId;
        uint256 debt;
        uint256 penalty;
        uint256 debtLeft;
        uint256 penaltyLeft;
        uint256 totalValue;
        uint256 tip;
        uint256 chipReward;
    }

    /// @notice Governance input for one collateral. WAD ratios; quote units for tip/chost/hole.
    struct CollateralParams {
        IPriceCurve curve;
        uint256 buf;
        uint256 tail;
        uint256 cusp;
        uint256 chip;
        uint256 tip;
        uint256 chost;
        uint256 hole;
    }

    /// @notice Everything a keeper needs about one auction.
    struct AuctionStatus {
        bool active;
        bool needsReset;
        uint256 accountId;
        address token;
        uint256 lot;
        uint256 tab;
        uint256 debt;
        uint256 price;
        uint256 startPrice;
        uint256 startTime;
    }

    // ------------------------------------------------------------------ constants and bounds

    /// @notice Sets collateral parameters and the global cap, cancels auctions.
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    /// @notice Moves the circuit breaker.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    uint256 internal constant WAD = 1e18;
    /// @dev An auction id is `version << SLOT_BITS | slot`: ids are never reused, while slots are.
    uint256 internal constant SLOT_BITS = 24;
    /// @dev End of the free list (slots are numbered from 1).
    uint24 internal constant NO_SLOT = 0;
    /// @dev Largest number of slots one `prepareAuctionSlots` call creates.
    uint256 public constant MAX_PREPARE = 256;
    /// @dev Parameter bounds (WAD ratios, seconds); see docs/liquidation.md for guidance.
    uint256 public constant MIN_BUF = 1e18;
    uint256 public constant MAX_BUF = 2e18;
    uint256 public constant MIN_TAIL = 5 minutes;
    uint256 public constant MAX_TAIL = 7 days;
    uint256 public constant MIN_CUSP = 0.01e18;
    uint256 public constant MAX_CUSP = 0.99e18;
    uint256 public constant MAX_CHIP = 0.05e18;
    /// @dev Circuit-breaker levels: each stops what the previous one did, and more.
    uint8 public constant STOP_STARTS = 1;
    uint8 public constant STOP_RESETS = 2;
    uint8 public constant STOP_TAKES = 3;

    /// @notice Largest flat tip and chost: 10,000 and 1,000,000 whole quote tokens.
    uint256 public immutable maxTip;
    uint256 public immutable maxChost;

    /// @notice The margin engine: the only caller of `startAuctions`, the receiver of proceeds.
    address public immutable engine;
    /// @notice The quote token takers pay in.
    IERC20 public immutable quote;
    IOracleAdapter public immutable oracle;
    /// @notice Pays keeper rewards (it fronts them; the penalty repays it).
    IInsuranceFund public immutable insuranceFund;
    uint8 internal immutable quoteDecimals;

    // ------------------------------------------------------------------ state

    /// @notice Sum of tabs under auction, its cap, breaker level, running auctions, next id.
    Globals public globals;
    /// @notice Auction parameters and sum of tabs under auction, per collateral token.
    mapping(address token => Collateral) public collaterals;
    /// @notice Collateral token of each collateral id (ids from 1, assigned at first config).
    mapping(uint256 collateralId => address token) public tokenOf;
    /// @notice Number of configured collaterals (the last id assigned).
    uint16 public collateralCount;
    /// @dev Auction slots `1..slotCount`, recycled through the free list.
    mapping(uint256 slot => Auction) internal _auctions;

    constructor(address engine_, IERC20 quote_, IOracleAdapter oracle_, IInsuranceFund fund_, address admin) {
        if (
            engine_ == address(0) || address(quote_) == address(0) || address(oracle_) == address(0)
                || address(fund_) == address(0) || admin == address(0)
        ) revert ZeroAddress();
        engine = engine_;
        quote = quote_;
        oracle = oracle_;
        insuranceFund = fund_;
        uint8 decimals_ = IERC20Metadata(address(quote_)).decimals();
        if (decimals_ > 18) revert UnsupportedDecimals(address(quote_), decimals_);
        quoteDecimals = decimals_;
        maxTip = 10_000 * 10 ** decimals_;
        maxChost = 1_000_000 * 10 ** decimals_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ engine entry point

    /// @inheritdoc ILiquidator
    function startAuctions(
        uint256 accountId,
        address[] calldata tokens,
        uint256[] calldata lots,
        uint256[] calldata prices,
        uint256 debt,
        uint256 penalty,
        address keeper
    ) external nonReentrant returns (uint256 firstAuctionId) {
        if (msg.sender != engine) revert NotEngine(msg.sender);
        Globals memory g = globals;
        if (g.stopped >= STOP_STARTS) revert AuctionsStopped(g.stopped);
        uint256 n = tokens.length;
        if (n == 0 || n != lots.length || n != prices.length) revert InvalidLots();
        Split memory split = _admit(g, accountId, debt, penalty);
        firstAuctionId = _openAll(tokens, lots, prices, split, g);
        globals = g;
        _payKeeper(firstAuctionId, keeper, Math.min(split.tip + split.chipReward, penalty));
    }

    // ------------------------------------------------------------------ keepers

    /// @notice Buys up to `maxAmount` of auction `id`'s lot at the current price, paying at most
    /// the tab. The collateral goes to `receiver` first; when `data` is non-empty `receiver` is
    /// called back (`IAuctionTaker.onAuctionTake`) so it can sell it; then `owe` quote is pulled
    /// from `msg.sender` (never from `receiver`) straight into the engine.
    /// @param maxPrice Highest acceptable price (WAD USD per whole token): protects the taker
    /// against a reset between signing and inclusion.
    /// @return slice Collateral units bought.
    /// @return owe Quote units paid.
    function take(uint256 id, uint256 maxAmount, uint256 maxPrice, address receiver, bytes calldata data)
        external
        nonReentrant
        returns (uint256 slice, uint256 owe)
    {
        Globals memory g = globals;
        if (g.stopped >= STOP_TAKES) revert AuctionsStopped(g.stopped);
        (uint256 slot, Auction memory a) = _running(id);
        if (maxAmount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        address token = tokenOf[a.collateralId];
        uint256 price;
        (price, slice, owe) = _quoteTake(id, a, token, maxAmount, maxPrice);
        uint256 debtRepaid = _bookTake(slot, a, token, g, slice, owe);
        emit Take(id, msg.sender, receiver, price, slice, owe, a.lot, a.tab);

        // Exact zeros by construction: the take subtracts at most what is left of each.
        // slither-disable-next-line incorrect-equality
        IAuctionSettlement.Settlement memory settlement = IAuctionSettlement.Settlement({
            accountId: a.accountId,
            token: token,
            receiver: receiver,
            released: slice,
            debtRepaid: debtRepaid,
            penaltyPaid: owe - debtRepaid,
            badDebt: 0,
            returned: 0,
            ended: a.tab == 0 || a.lot == 0
        });
        if (data.length != 0) {
            // The receiver holds the collateral before its callback sells it.
            if (slice != 0) IAuctionSettlement(engine).releaseCollateral(token, receiver, slice);
            settlement.released = 0;
            IAuctionTaker(receiver).onAuctionTake(msg.sender, owe, slice, data);
        }
        if (owe != 0) quote.safeTransferFrom(msg.sender, engine, owe);
        if (settlement.ended) _end(id, a, settlement);
        IAuctionSettlement(engine).settleAuction(settlement);
    }

    /// @notice Restarts a stale auction (older than `tail`, or decayed below `cusp * startPrice`)
    /// at the fresh oracle price times `buf`. Pays `rewardRecipient` `tip + chip * tab` (capped by
    /// the auction's unpaid penalty) unless the tab or the lot's oracle value is below `chost`.
    function reset(uint256 id, address rewardRecipient) external nonReentrant {
        uint8 stopped = globals.stopped;
        if (stopped >= STOP_RESETS) revert AuctionsStopped(stopped);
        (uint256 slot, Auction memory a) = _running(id);
        Auction storage s = _auctions[slot];
        address token = tokenOf[a.collateralId];
        Collateral storage c = collaterals[token];
        uint256 elapsed = block.timestamp - a.startTime;
        uint256 price = c.curve.price(a.startPrice, elapsed);
        if (!_needsReset(elapsed, price, a.startPrice, c.tail, c.cusp)) revert AuctionNotResettable(id);

        uint256 oraclePrice = oracle.price(token);
        uint256 startPrice = Math.mulDiv(oraclePrice, c.buf, WAD, Math.Rounding.Ceil);
        s.startTime = uint32(block.timestamp);
        s.startPrice = startPrice.toUint96();

        uint256 reward = 0;
        uint256 chost = c.chost;
        if (a.tab >= chost && Math.mulDiv(a.lot, oraclePrice, 10 ** c.scaleExp) >= chost) {
            reward = Math.min(c.tip + Math.mulDiv(c.chip, a.tab, WAD), a.tab - a.debt);
        }
        uint256 paid = 0;
        if (reward != 0 && rewardRecipient != address(0)) {
            paid = insuranceFund.payKeeperReward(rewardRecipient, reward);
        }
        emit AuctionReset(id, msg.sender, startPrice, reward, paid);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Ends auction `id` and sends its lot to `recipient` (e.g. for an OTC sale). Its
    /// debt part is written off through the engine's loss waterfall, its penalty part is dropped;
    /// whatever the recovered collateral later fetches is new income of the insurance fund.
    function cancel(uint256 id, address recipient) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        (uint256 slot, Auction memory a) = _running(id);
        if (recipient == address(0)) revert ZeroAddress();
        address token = tokenOf[a.collateralId];
        Globals memory g = globals;
        collaterals[token].dirt -= a.tab;
        g.dirt -= uint88(a.tab);
        _free(slot, g);
        globals = g;
        emit AuctionCancelled(id, recipient, a.lot, a.tab, a.debt);
        emit AuctionEnded(id, a.accountId, 0, a.debt, a.tab - a.debt);

        IAuctionSettlement.Settlement memory settlement = IAuctionSettlement.Settlement({
            accountId: a.accountId,
            token: token,
            receiver: recipient,
            released: a.lot,
            debtRepaid: 0,
            penaltyPaid: 0,
            badDebt: a.debt,
            returned: 0,
            ended: true
        });
        IAuctionSettlement(engine).settleAuction(settlement);
    }

    /// @notice Sets (or replaces) the auction parameters of `token`; all bounds are checked.
    /// @dev A new curve or cusp/tail applies to running auctions too: change them while no auction
    /// of the token runs, or accept a jump in its price.
    function setCollateral(address token, CollateralParams calldata p)
        external
        nonReentrant
        onlyRole(GOVERNOR_ROLE)
    {
        if (token == address(0) || address(p.curve) == address(0)) revert ZeroAddress();
        _checkRange("buf", p.buf, MIN_BUF, MAX_BUF);
        _checkRange("tail", p.tail, MIN_TAIL, MAX_TAIL);
        _checkRange("cusp", p.cusp, MIN_CUSP, MAX_CUSP);
        _checkRange("chip", p.chip, 0, MAX_CHIP);
        _checkRange("tip", p.tip, 0, maxTip);
        _checkRange("chost", p.chost, 0, maxChost);
        _checkRange("hole", p.hole, 0, type(uint80).max);
        uint8 tokenDecimals = IERC20Metadata(token).decimals();
        if (tokenDecimals > 36) revert UnsupportedDecimals(token, tokenDecimals);

        Collateral storage c = collaterals[token];
        if (c.id == 0) {
            uint16 collateralId = collateralCount + 1;
            collateralCount = collateralId;
            c.id = collateralId;
            tokenOf[collateralId] = token;
        }
        c.curve = p.curve;
        c.tail = uint32(p.tail);
        c.cusp = uint64(p.cusp);
        c.chost = uint80(p.chost);
        c.chip = uint56(p.chip);
        c.scaleExp = tokenDecimals + 18 - quoteDecimals;
        c.hole = uint80(p.hole);
        c.tip = uint80(p.tip);
        c.buf = uint64(p.buf);
        emit CollateralConfigured(token, p);
    }

    /// @notice Sets the global cap on the sum of tabs under auction (quote units).
    function setGlobalHole(uint256 hole) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        _checkRange("hole", hole, 0, type(uint88).max);
        globals.hole = uint88(hole);
        emit GlobalHoleSet(hole);
    }

    /// @notice Circuit breaker: 0 runs everything, 1 stops new auctions, 2 also resets, 3 also
    /// takes. Cancel stays available at every level.
    function setStopped(uint8 level) external nonReentrant onlyRole(GUARDIAN_ROLE) {
        _checkRange("stopped", level, 0, STOP_TAKES);
        globals.stopped = level;
        emit StoppedSet(level);
    }

    /// @notice Creates `count` auction slots ahead of need and puts them at the head of the free
    /// list: an auction started in a prepared slot rewrites two live storage words instead of
    /// creating them (about 34k gas less, paid here once; Uniswap v3 grows its oracle observations
    /// the same way). Without prepared slots auctions still start, at the higher cost.
    function prepareAuctionSlots(uint256 count) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        _checkRange("count", count, 1, MAX_PREPARE);
        Globals memory g = globals;
        uint256 first = uint256(g.slotCount) + 1;
        uint256 next = g.freeHead;
        for (uint256 slot = first + count - 1; slot >= first; --slot) {
            // Version 1 and a start price of 1 wei only make both words non-zero; the lot is 0.
            _auctions[slot] = Auction({
                lot: 0,
                startTime: 0,
                collateralId: 0,
                accountId: 0,
                version: 1,
                nextFree: uint24(next),
                tab: 0,
                debt: 0,
                startPrice: 1
            });
            next = slot;
        }
        g.freeHead = uint24(first);
        g.slotCount = (first + count - 1).toUint24();
        globals = g;
        emit AuctionSlotsPrepared(first, count);
    }

    // ------------------------------------------------------------------ views

    /// @notice Number of auction slots (running, free or prepared); `activeAuctionIds` scans them.
    function auctionSlotCount() external view returns (uint256) {
        return globals.slotCount;
    }

    /// @notice The slot the next auction will use: the head of the free list, or a new slot (0).
    function nextFreeSlot() external view returns (uint256) {
        return globals.freeHead;
    }

    /// @notice Number of running auctions.
    function activeAuctionCount() external view returns (uint256) {
        return globals.activeCount;
    }

    /// @notice Ids of all running auctions, by slot number (not by age).
    function activeAuctionIds() external view returns (uint256[] memory ids) {
        Globals memory g = globals;
        ids = new uint256[](g.activeCount);
        uint256 found = 0;
        for (uint256 slot = 1; found < ids.length; ++slot) {
            Auction storage s = _auctions[slot];
            if (s.lot != 0) ids[found++] = _idOf(slot, s.version);
        }
    }

    /// @notice State and current price of auction `id`; `active` is false for unknown or finished
    /// auctions (then every other field is zero).
    function status(uint256 id) external view returns (AuctionStatus memory st) {
        (, Auction memory a, bool running) = _lookup(id);
        if (!running) return st;
        st.token = tokenOf[a.collateralId];
        Collateral storage c = collaterals[st.token];
        uint256 elapsed = block.timestamp - a.startTime;
        st.price = c.curve.price(a.startPrice, elapsed);
        st.needsReset = _needsReset(elapsed, st.price, a.startPrice, c.tail, c.cusp);
        st.active = true;
        st.accountId = a.accountId;
        st.lot = a.lot;
        st.tab = a.tab;
        st.debt = a.debt;
        st.startPrice = a.startPrice;
        st.startTime = a.startTime;
    }

    /// @notice What `take(id, maxAmount, …)` would buy and pay at the current block; reverts as
    /// `take` would (inactive, needs reset, zero amount, dust remainder).
    function previewTake(uint256 id, uint256 maxAmount)
        external
        view
        returns (uint256 price, uint256 slice, uint256 owe)
    {
        (, Auction memory a) = _running(id);
        if (maxAmount == 0) revert ZeroAmount();
        return _quoteTake(id, a, tokenOf[a.collateralId], maxAmount, type(uint256).max);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Checks the tab against the global cap and books it.
    function _admit(Globals memory g, uint256 accountId, uint256 debt, uint256 penalty)
        internal
        pure
        returns (Split memory split)
    {
        if (debt + penalty == 0) revert ZeroTab();
        uint256 dirt = g.dirt + debt + penalty;
        if (dirt > g.hole) revert GlobalCapExceeded(dirt, g.hole);
        g.dirt = uint88(dirt);
        split = Split({
            accountId: accountId,
            debt: debt,
            penalty: penalty,
            debtLeft: debt,
            penaltyLeft: penalty,
            totalValue: 0,
            tip: 0,
            chipReward: 0
        });
    }

    /// @dev Oracle value of each lot (down), from the prices the engine read in this transaction.
    function _values(
        address[] calldata tokens,
        uint256[] calldata lots,
        uint256[] calldata prices,
        Split memory split
    ) internal view returns (uint256[] memory values) {
        uint256 n = tokens.length;
        values = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            if (lots[i] == 0) revert ZeroLot(tokens[i]);
            Collateral storage c = collaterals[tokens[i]];
            // The id shares a slot with `scaleExp` (read next), the curve does not.
            if (c.id == 0) revert CollateralNotConfigured(tokens[i]);
            values[i] = Math.mulDiv(lots[i], prices[i], 10 ** c.scaleExp);
            split.totalValue += values[i];
        }
    }

    /// @dev Debt and penalty parts of one lot, floored in proportion to its value; the last lot
    /// takes the remainders so the parts sum exactly (all of it when no lot has any value).
    function _shares(Split memory split, uint256 value, bool last)
        internal
        pure
        returns (uint256 debtPart, uint256 penaltyPart)
    {
        if (last) return (split.debtLeft, split.penaltyLeft);
        if (split.totalValue == 0) return (0, 0);
        debtPart = Math.mulDiv(split.debt, value, split.totalValue);
        penaltyPart = Math.mulDiv(split.penalty, value, split.totalValue);
        split.debtLeft -= debtPart;
        split.penaltyLeft -= penaltyPart;
    }

    function _openAll(
        address[] calldata tokens,
        uint256[] calldata lots,
        uint256[] calldata prices,
        Split memory split,
        Globals memory g
    ) internal returns (uint256 firstAuctionId) {
        uint256[] memory values = _values(tokens, lots, prices, split);
        uint256 n = tokens.length;
        for (uint256 i; i < n; ++i) {
            (uint256 debtPart, uint256 penaltyPart) = _shares(split, values[i], i + 1 == n);
            uint256 id = _open(tokens[i], lots[i], debtPart, penaltyPart, prices[i], split, g);
            if (i == 0) firstAuctionId = id;
        }
    }

    /// @dev Creates one auction, checks its collateral's cap and adds its share of the reward.
    function _open(
        address token,
        uint256 lot,
        uint256 debtPart,
        uint256 penaltyPart,
        uint256 oraclePrice,
        Split memory split,
        Globals memory g
    ) internal returns (uint256 id) {
        Collateral storage c = collaterals[token];
        uint256 tab = debtPart + penaltyPart;
        split.tip = Math.max(split.tip, c.tip);
        split.chipReward += Math.mulDiv(c.chip, tab, WAD);
        uint256 dirt = c.dirt + tab;
        if (dirt > c.hole) revert CollateralCapExceeded(token, dirt, c.hole);
        c.dirt = uint80(dirt);
        uint256 startPrice = Math.mulDiv(oraclePrice, c.buf, WAD, Math.Rounding.Ceil);
        id = _store(
            g,
            Auction({
                lot: lot.toUint104(),
                startTime: uint32(block.timestamp),
                collateralId: c.id,
                accountId: split.accountId.toUint48(),
                version: 0,
                nextFree: NO_SLOT,
                tab: uint80(tab),
                debt: uint80(debtPart),
                startPrice: startPrice.toUint96()
            })
        );
        emit AuctionStarted(id, split.accountId, token, lot, tab, debtPart, startPrice);
    }

    /// @dev Writes auction `a` into a slot from the free list (or a new one) and returns its id.
    function _store(Globals memory g, Auction memory a) internal returns (uint256 id) {
        uint256 slot;
        (slot, a.version) = _allocate(g);
        _auctions[slot] = a;
        g.activeCount += 1;
        id = _idOf(slot, a.version);
    }

    function _payKeeper(uint256 firstAuctionId, address keeper, uint256 reward) internal {
        if (reward == 0 || keeper == address(0)) return;
        uint256 paid = insuranceFund.payKeeperReward(keeper, reward);
        emit KeeperRewarded(firstAuctionId, keeper, reward, paid);
    }

    /// @dev Current price; reverts when the auction must be reset first or the price is zero.
    function _livePrice(uint256 id, Auction memory a, Collateral storage c)
        internal
        view
        returns (uint256 price)
    {
        uint256 elapsed = block.timestamp - a.startTime;
        price = c.curve.price(a.startPrice, elapsed);
        if (_needsReset(elapsed, price, a.startPrice, c.tail, c.cusp)) revert AuctionNeedsReset(id);
        // Never sell at a zero price, whatever the curve rounds to.
        // slither-disable-next-line incorrect-equality
        if (price == 0) revert ZeroPrice(id);
    }

    /// @dev Price check and amounts of a take (no state change).
    function _quoteTake(uint256 id, Auction memory a, address token, uint256 maxAmount, uint256 maxPrice)
        internal
        view
        returns (uint256 price, uint256 slice, uint256 owe)
    {
        Collateral storage c = collaterals[token];
        price = _livePrice(id, a, c);
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        (slice, owe) = _takeAmounts(a, price, maxAmount, c.chost, c.scaleExp);
    }

    /// @dev Books a take before any transfer: lot, tab and debt of the auction (in storage and in
    /// `a`), caps, and the free list when the auction ends.
    function _bookTake(
        uint256 slot,
        Auction memory a,
        address token,
        Globals memory g,
        uint256 slice,
        uint256 owe
    ) internal returns (uint256 debtRepaid) {
        debtRepaid = Math.min(owe, a.debt);
        a.lot -= uint104(slice);
        a.tab -= uint80(owe);
        a.debt -= uint80(debtRepaid);
        // Exact zeros by construction: the take subtracts at most what is left of each.
        // slither-disable-next-line incorrect-equality
        bool ended = a.tab == 0 || a.lot == 0;
        // A lot exhausted with tab left ends the auction: its whole tab leaves the caps too.
        uint256 dirtOut = ended ? owe + a.tab : owe;
        collaterals[token].dirt -= uint80(dirtOut);
        g.dirt -= uint88(dirtOut);
        if (ended) {
            _free(slot, g);
        } else {
            Auction storage s = _auctions[slot];
            s.lot = a.lot;
            s.tab = a.tab;
            s.debt = a.debt;
        }
        globals = g;
    }

    /// @dev Maker's take arithmetic: the payment is capped at the tab; a partial take leaves at
    /// least `chost` of tab (or nothing). `owe` rounds up, a `slice` derived from `owe` rounds down.
    function _takeAmounts(Auction memory a, uint256 price, uint256 maxAmount, uint256 chost, uint8 scaleExp)
        internal
        pure
        returns (uint256 slice, uint256 owe)
    {
        uint256 scale = 10 ** scaleExp;
        slice = Math.min(a.lot, maxAmount);
        owe = Math.mulDiv(slice, price, scale, Math.Rounding.Ceil);
        if (owe > a.tab) {
            owe = a.tab;
            slice = Math.mulDiv(owe, scale, price);
        } else if (owe < a.tab && slice < a.lot && a.tab - owe < chost) {
            if (a.tab <= chost) revert DustRemainder(a.tab, chost);
            owe = a.tab - chost;
            slice = Math.mulDiv(owe, scale, price);
        }
    }

    /// @dev An ended auction gives its leftover lot back to the account (tab paid; the lot never
    /// left the engine) or leaves its debt part as bad debt (lot exhausted); the unpaid penalty
    /// part is dropped. Storage is already cleared.
    function _end(uint256 id, Auction memory a, IAuctionSettlement.Settlement memory settlement) internal {
        // Exact zero by construction: a take pays at most the tab.
        // slither-disable-next-line incorrect-equality
        if (a.tab == 0) {
            settlement.returned = a.lot;
            emit AuctionEnded(id, a.accountId, a.lot, 0, 0);
        } else {
            settlement.badDebt = a.debt;
            emit AuctionEnded(id, a.accountId, 0, a.debt, a.tab - a.debt);
        }
    }

    /// @dev The slot of auction `id`, a copy of it, and whether that auction is running (a free
    /// slot has a zero lot; a slot holding a later auction has another version).
    function _lookup(uint256 id) internal view returns (uint256 slot, Auction memory a, bool running) {
        slot = uint24(id);
        a = _auctions[slot];
        // Identity, not an amount: the id must name the auction the slot holds now.
        // slither-disable-next-line incorrect-equality
        running = a.lot != 0 && a.version == id >> SLOT_BITS;
    }

    function _running(uint256 id) internal view returns (uint256 slot, Auction memory a) {
        bool running;
        (slot, a, running) = _lookup(id);
        if (!running) revert AuctionNotActive(id);
    }

    function _idOf(uint256 slot, uint32 version) internal pure returns (uint256) {
        return uint256(version) << SLOT_BITS | slot;
    }

    /// @dev Pops the free list, or opens a new slot when it is empty (its two words are created:
    /// +34k gas, which `prepareAuctionSlots` pays in advance).
    function _allocate(Globals memory g) internal view returns (uint256 slot, uint32 version) {
        slot = g.freeHead;
        if (slot == NO_SLOT) {
            slot = uint256(g.slotCount) + 1;
            g.slotCount = slot.toUint24();
            return (slot, 1);
        }
        Auction storage s = _auctions[slot];
        g.freeHead = s.nextFree;
        version = s.version + 1;
    }

    /// @dev Ends the auction in `slot`: its words stay non-zero, the slot heads the free list.
    function _free(uint256 slot, Globals memory g) internal {
        Auction storage s = _auctions[slot];
        s.lot = 0;
        s.nextFree = g.freeHead;
        g.freeHead = uint24(slot);
        g.activeCount -= 1;
    }

    function _needsReset(uint256 elapsed, uint256 price, uint256 startPrice, uint256 tail, uint256 cusp)
        internal
        pure
        returns (bool)
    {
        return elapsed > tail || price * WAD < cusp * startPrice;
    }

    function _checkRange(bytes32 parameter, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ParameterOutOfRange(parameter, value);
    }
}
