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
    error QueuedLotNotFound(uint256 queueId);
    error NoRoom(address token, uint256 room, uint256 needed);
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
    error CurveNotAllowed(address curve);

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
    event CurveAllowed(address indexed curve);
    event AuctionSlotsPrepared(uint256 firstSlot, uint256 count);
    event LotQueued(
        uint256 indexed queueId,
        uint256 indexed accountId,
        address indexed token,
        uint256 lot,
        uint256 tab,
        uint256 debt
    );
    event LotDequeued(
        uint256 indexed queueId,
        uint256 indexed auctionId,
        uint256 lot,
        uint256 tab,
        uint256 lotLeft,
        uint256 tabLeft
    );
    event DustLotCleared(uint256 indexed id, address indexed receiver, uint256 lot);

    // ------------------------------------------------------------------ types

    /// @dev One auction slot: two storage slots that are recycled, never cleared (the token is
    /// stored as its 16-bit collateral id). `lot > 0` iff an auction runs in it. A finished
    /// auction only zeroes its lot and links the slot into the free list; `version` (>= 1 once the
    /// slot is used or prepared) keeps both words non-zero, so the next auction rewrites live
    /// words (5k gas each) instead of creating them (22.1k each). `link` is the next free slot
    /// while the slot is free, and while an auction runs the id of the queued lot it was started
    /// from (0: started whole at hand-off, nothing of its lot waits in the queue).
    struct Auction {
        uint104 lot;
        uint32 startTime;
        uint16 collateralId;
        uint48 accountId;
        uint32 version;
        uint24 link;
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

    /// @notice A handed-off lot that waits in the engine's custody for room under the caps (or
    /// for starts to resume, or for its collateral to be configured). Its `lot`, `tab` and `debt`
    /// are what still waits; `pieces` auctions started from it run; `leftover` is collateral
    /// those pieces left after paying their tabs, credited back to the account when the last
    /// piece ends with nothing left waiting (the engine counts one auction per handed lot).
    struct QueuedLot {
        address token;
        uint48 accountId;
        uint16 pieces;
        uint104 lot;
        uint104 leftover;
        uint80 tab;
        uint80 debt;
    }

    /// @dev Reset rewards paid so far to the auction of `version` in a slot (a slot's book is
    /// stale once a later auction uses the slot; `prepareAuctionSlots` writes a stale one).
    struct ResetBook {
        uint32 version;
        uint80 paid;
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
    uint8 internal constant STOP_STARTS = 1;
    uint8 internal constant STOP_RESETS = 2;
    uint8 internal constant STOP_TAKES = 3;

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
    uint16 internal collateralCount;
    /// @dev Auction slots `1..slotCount`, recycled through the free list.
    mapping(uint256 slot => Auction) internal _auctions;
    /// @notice Queued lots by id (ids from 1): what still waits, pieces running, leftover kept. A
    /// record lives until its last piece ends (then it reads all zero, as an unknown id does).
    mapping(uint256 queueId => QueuedLot) public queuedLots;
    /// @notice Last queue id assigned (ids are never reused; 24 bits, as `Auction.link`).
    uint24 public lastQueueId;
    /// @notice Number of queued lots with collateral still waiting to start.
    uint24 public waitingLots;
    /// @dev Reset rewards paid per auction slot, for the cumulative cap.
    mapping(uint256 slot => ResetBook) internal _resetBooks;
    /// @notice Price curves `setCollateral` accepts (governance adds them, through the timelock).
    mapping(address curve => bool) public curveAllowed;

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
    /// @dev Never refuses for the caps, the breaker or an unconfigured collateral: each lot whose
    /// tab fits the room under both caps starts at once; a larger one starts for the part that
    /// fits (`_piece`) and the rest waits in the queue; a lot that cannot start at all waits
    /// whole. Returns the first auction started (0 when every lot waits). Reverts only for the
    /// caller and the shape of the call (`NotEngine`, `InvalidLots`, `ZeroLot`, `ZeroTab`).
    function startAuctions(
        uint256 accountId,
        address[] calldata tokens,
        uint256[] calldata lots,
        uint256[] calldata prices,
        uint256 debt,
        uint256 penalty,
        address keeper
    ) external nonReentrant returns (uint256 firstAuctionId, uint256 keeperReward) {
        if (msg.sender != engine) revert NotEngine(msg.sender);
        {
            uint256 n = tokens.length;
            if (n == 0 || n != lots.length || n != prices.length) revert InvalidLots();
        }
        if (debt + penalty == 0) revert ZeroTab();
        Globals memory g = _globals();
        Split memory split = Split({
            accountId: accountId,
            debt: debt,
            penalty: penalty,
            debtLeft: debt,
            penaltyLeft: penalty,
            totalValue: 0,
            tip: 0,
            chipReward: 0
        });
        firstAuctionId = _openAll(tokens, lots, prices, split, g);
        globals = g;
        keeperReward = _payKeeper(firstAuctionId, keeper, Math.min(split.tip + split.chipReward, penalty));
    }

    /// @notice Starts an auction for queued lot `queueId` (anyone may call): for its whole
    /// waiting tab when it fits the room under the global and its collateral's cap, else for the
    /// part that fits (the rest keeps waiting). The start price is the oracle's price now times
    /// `buf`. Starting pays no reward (the liquidation that queued the lot paid its keeper).
    /// @return id The auction started.
    function startQueued(uint256 queueId) external nonReentrant returns (uint256 id) {
        Globals memory g = _globals();
        if (g.stopped >= STOP_STARTS) revert AuctionsStopped(g.stopped);
        QueuedLot memory w = _queued(queueId);
        Collateral storage c = collaterals[w.token];
        (uint256 w1, uint256 w2) = _lotWords(c);
        if (uint16(w1 >> 224) == 0) revert CollateralNotConfigured(w.token);
        uint256 room = _room(g, w1, w2);
        uint256 chost = uint80(w1 >> 80);
        QueuedLot memory piece = _piece(w, room, chost);
        // slither-disable-next-line incorrect-equality
        if (piece.lot == 0) revert NoRoom(w.token, room, Math.min(w.tab, Math.max(chost, 1)));
        id = _startPiece(queueId, w, piece, c, oracle.price(w.token), g);
        globals = g;
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
        uint8 stopped = globals.stopped;
        if (stopped >= STOP_TAKES) revert AuctionsStopped(stopped);
        (uint256 slot, Auction memory a) = _running(id);
        if (maxAmount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        IAuctionSettlement.Settlement memory settlement;
        (slice, owe, settlement) = _executeTake(id, slot, a, maxAmount, maxPrice, receiver);
        address token = settlement.token;
        if (data.length != 0) {
            // The receiver holds the collateral before its callback sells it.
            if (settlement.released != 0) {
                IAuctionSettlement(engine).releaseCollateral(token, receiver, settlement.released);
            }
            settlement.released = 0;
            IAuctionTaker(receiver).onAuctionTake(msg.sender, owe, slice, data);
        }
        if (owe != 0) quote.safeTransferFrom(msg.sender, engine, owe);
        // Exact zeros by construction: the take subtracts at most what is left of each.
        // slither-disable-next-line incorrect-equality
        if (a.tab == 0 || a.lot == 0) _end(id, a, settlement);
        IAuctionSettlement(engine).settleAuction(settlement);
    }

    /// @notice Restarts a stale auction (older than `tail`, or decayed below `cusp * startPrice`)
    /// at the fresh oracle price times `buf`. Pays `rewardRecipient` `tip + chip * tab` unless the
    /// tab or the lot's oracle value is below `chost`; all rewarded resets of one auction together
    /// earn at most its penalty part `tab - debt` (`_resetReward`).
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

        (uint256 reward, ResetBook memory book) = _resetReward(slot, a, c, oraclePrice);
        uint256 paid = 0;
        if (reward != 0 && rewardRecipient != address(0)) {
            paid = insuranceFund.payKeeperReward(rewardRecipient, reward);
            // paid <= reward <= tab - debt - paid before: the sum stays below the tab (uint80).
            book.paid += uint80(paid);
            // Written after the call: it books what the fund actually paid. The fund is a
            // governance-set protocol contract that transfers quote and calls nothing back, and the
            // one other writer, `prepareAuctionSlots`, is the timelock's alone.
            // slither-disable-next-line reentrancy-no-eth
            _resetBooks[slot] = book;
        }
        emit AuctionReset(id, msg.sender, startPrice, reward, paid);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Ends auction `id` and sends its lot to the insurance fund (the only recipient: a
    /// governor cannot route auctioned collateral anywhere else). Its debt part is written off
    /// through the engine's loss waterfall, its penalty part is dropped; whatever the recovered
    /// collateral later fetches is new income of the insurance fund.
    function cancel(uint256 id) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        (uint256 slot, Auction memory a) = _running(id);
        address recipient = address(insuranceFund);
        address token = tokenOf[a.collateralId];
        Globals memory g = _globals();
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
            ended: false
        });
        _closeLink(a.link, settlement, 0);
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
        if (!curveAllowed[address(p.curve)]) revert CurveNotAllowed(address(p.curve));
        _checkRange("buf", p.buf, MIN_BUF, MAX_BUF);
        _checkRange("tail", p.tail, MIN_TAIL, MAX_TAIL);
        _checkRange("cusp", p.cusp, MIN_CUSP, MAX_CUSP);
        _checkRange("chip", p.chip, 0, MAX_CHIP);
        _checkRange("tip", p.tip, 0, maxTip);
        _checkRange("chost", p.chost, 0, maxChost);
        // A cap below chost could never start a piece of a tab above it (pieces are >= chost).
        _checkRange("hole", p.hole, p.chost, type(uint80).max);
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
    function setGlobalHole(uint256 hole) external onlyRole(GOVERNOR_ROLE) {
        _checkRange("hole", hole, 0, type(uint88).max);
        globals.hole = uint88(hole);
        emit GlobalHoleSet(hole);
    }

    /// @notice Adds `curve` to the allow-list of price curves `setCollateral` accepts. Governor
    /// only (the timelock): a new curve is visible for the whole delay before an auction runs on it.
    function allowCurve(address curve) external onlyRole(GOVERNOR_ROLE) {
        if (curve == address(0)) revert ZeroAddress();
        curveAllowed[curve] = true;
        emit CurveAllowed(curve);
    }

    /// @notice Circuit breaker: 0 runs everything, 1 stops new auctions, 2 also resets, 3 also
    /// takes. Cancel stays available at every level. Raising the level (stopping more) is the
    /// guardian's, at once; lowering it is the governor's (the timelock).
    function setStopped(uint8 level) external {
        _checkRole(level < globals.stopped ? GOVERNOR_ROLE : GUARDIAN_ROLE);
        _checkRange("stopped", level, 0, STOP_TAKES);
        globals.stopped = level;
        emit StoppedSet(level);
    }

    /// @notice Creates `count` auction slots ahead of need and puts them at the head of the free
    /// list: an auction started in a prepared slot rewrites two live storage words instead of
    /// creating them (about 34k gas less, paid here once; Uniswap v3 grows its oracle observations
    /// the same way). Without prepared slots auctions still start, at the higher cost.
    function prepareAuctionSlots(uint256 count) external onlyRole(GOVERNOR_ROLE) {
        _checkRange("count", count, 1, MAX_PREPARE);
        Globals memory g = _globals();
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
                link: uint24(next),
                tab: 0,
                debt: 0,
                startPrice: 1
            });
            // A live reset book too (a version no auction of this slot has yet): the first
            // rewarded reset in the slot rewrites it (~5k) instead of creating it (22.1k).
            _resetBooks[slot].version = type(uint32).max;
            next = slot;
        }
        g.freeHead = uint24(first);
        g.slotCount = (first + count - 1).toUint24();
        globals = g;
        emit AuctionSlotsPrepared(first, count);
    }

    // ------------------------------------------------------------------ views

    /// @notice Number of running auctions.
    function activeAuctionCount() external view returns (uint256) {
        return globals.activeCount;
    }

    /// @notice Ids of all running auctions, by slot number (not by age).
    function activeAuctionIds() external view returns (uint256[] memory ids) {
        Globals memory g = _globals();
        ids = new uint256[](g.activeCount);
        uint256 found = 0;
        for (uint256 slot = 1; found < ids.length; ++slot) {
            Auction storage s = _auctions[slot];
            if (s.lot != 0) ids[found++] = _idOf(slot, s.version);
        }
    }

    /// @notice Ids of the queued lots with collateral still waiting, oldest first (keepers start
    /// them with `startQueued` when `room` allows).
    function queuedLotIds() external view returns (uint256[] memory ids) {
        ids = new uint256[](waitingLots);
        uint256 found = 0;
        for (uint256 queueId = 1; found < ids.length; ++queueId) {
            if (queuedLots[queueId].lot != 0) ids[found++] = queueId;
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
        (price, slice, owe,) = _quoteTake(id, a, tokenOf[a.collateralId], maxAmount, type(uint256).max);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Oracle value of each lot (down), from the prices the engine read in this transaction.
    /// A collateral the liquidator does not know yet is valued with its token's decimals.
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
            // Slot 1 (id, scaleExp) with one SLOAD; slot 2 is read now too, cold here instead of in
            // `_handOff`.
            (uint256 w1,) = _lotWords(collaterals[tokens[i]]);
            uint256 scaleExp = uint16(w1 >> 224) != 0 ? uint8(w1 >> 216) : _scaleExp(tokens[i]);
            // An unusable scale (absurd decimals) values the lot at 0: it still waits in the queue.
            values[i] = scaleExp > 77 ? 0 : Math.mulDiv(lots[i], prices[i], 10 ** scaleExp);
            split.totalValue += values[i];
        }
    }

    /// @dev Exponent of `10**(tokenDecimals + 18 - quoteDecimals)` for a token not configured.
    function _scaleExp(address token) internal view returns (uint256) {
        return uint256(IERC20Metadata(token).decimals()) + 18 - quoteDecimals;
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
            uint256 id = _handOff(tokens[i], lots[i], debtPart, penaltyPart, prices[i], split, g);
            if (firstAuctionId == 0) firstAuctionId = id;
        }
    }

    /// @dev One handed-off lot: adds its share of the keeper reward, then starts it whole when
    /// its tab fits the room, else queues it and starts the part that fits (if any).
    function _handOff(
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
        bool startable;
        uint256 room;
        {
            (uint256 w1, uint256 w2) = _lotWords(c);
            split.tip = Math.max(split.tip, uint80(w2 >> 80));
            split.chipReward += Math.mulDiv(uint56(w1 >> 160), tab, WAD);
            startable = uint16(w1 >> 224) != 0 && g.stopped < STOP_STARTS;
            room = startable ? _room(g, w1, w2) : 0;
        }
        if (startable && tab <= room) {
            return _open(token, c, lot, tab, debtPart, oraclePrice, split.accountId, 0, g);
        }
        uint256 queueId = _enqueue(token, split.accountId, lot, tab, debtPart);
        if (!startable) return 0;
        QueuedLot memory w = _queued(queueId);
        QueuedLot memory piece = _piece(w, room, c.chost);
        // slither-disable-next-line incorrect-equality
        if (piece.lot == 0) return 0;
        id = _startPiece(queueId, w, piece, c, oraclePrice, g);
    }

    /// @dev Room under both caps now: `min(Hole - Dirt, hole - dirt)`, 0 when either is full (a
    /// cap lowered below its dirt leaves no room, never an underflow).
    /// `w1` and `w2` are the collateral's slots 1 and 2 (`_lotWords`).
    function _room(Globals memory g, uint256 w1, uint256 w2) internal pure returns (uint256) {
        uint256 globalRoom = g.hole > g.dirt ? g.hole - g.dirt : 0;
        uint256 hole = uint80(w2);
        uint256 dirt = uint80(w1);
        return Math.min(globalRoom, hole > dirt ? hole - dirt : 0);
    }

    /// @dev The part of waiting lot `w` that can start within `room` (Maker's `dog.bark` room
    /// rule): all of it when `tab <= room`; else `t = room`, cut to `tab - chost` when the rest
    /// would be below `chost`, and nothing when `t < chost` (or `t == 0`) or its lot share
    /// `floor(lot * t / tab)` is 0. The debt share is `floor(debt * t / tab)`, so what keeps
    /// waiting keeps `debt <= tab`. Only `lot`, `tab` and `debt` of `piece` are set; a zero
    /// `piece.lot` means nothing can start.
    function _piece(QueuedLot memory w, uint256 room, uint256 chost)
        internal
        pure
        returns (QueuedLot memory piece)
    {
        if (w.tab <= room) {
            // A fresh struct, not `w` itself: the caller subtracts the piece from `w`.
            (piece.lot, piece.tab, piece.debt) = (w.lot, w.tab, w.debt);
            return piece;
        }
        uint256 tab = room;
        if (w.tab - tab < chost) tab = w.tab > chost ? w.tab - chost : 0;
        // An exact zero by construction (no room, or nothing left above chost).
        // slither-disable-next-line incorrect-equality
        if (tab == 0 || tab < chost) return piece;
        piece.lot = uint104(Math.mulDiv(w.lot, tab, w.tab)); // tab < w.tab: below w.lot
        piece.tab = uint80(tab);
        piece.debt = uint80(Math.mulDiv(w.debt, tab, w.tab));
    }

    /// @dev Queued lot `queueId` with collateral still waiting; reverts `QueuedLotNotFound` else.
    function _queued(uint256 queueId) internal view returns (QueuedLot memory w) {
        w = queuedLots[queueId];
        // slither-disable-next-line incorrect-equality
        if (w.lot == 0) revert QueuedLotNotFound(queueId);
    }

    /// @dev Stores a lot that waits (the collateral stays where it is: in the engine's custody).
    function _enqueue(address token, uint256 accountId, uint256 lot, uint256 tab, uint256 debt)
        internal
        returns (uint256 queueId)
    {
        queueId = uint256(lastQueueId) + 1;
        lastQueueId = queueId.toUint24();
        waitingLots += 1;
        queuedLots[queueId] = QueuedLot({
            token: token,
            accountId: accountId.toUint48(),
            pieces: 0,
            lot: lot.toUint104(),
            leftover: 0,
            tab: tab.toUint80(),
            debt: debt.toUint80()
        });
        emit LotQueued(queueId, accountId, token, lot, tab, debt);
    }

    /// @dev Moves `piece` out of waiting lot `queueId` (read into `w`) into a new auction linked
    /// to it.
    function _startPiece(
        uint256 queueId,
        QueuedLot memory w,
        QueuedLot memory piece,
        Collateral storage c,
        uint256 oraclePrice,
        Globals memory g
    ) internal returns (uint256 id) {
        id = _open(w.token, c, piece.lot, piece.tab, piece.debt, oraclePrice, w.accountId, queueId, g);
        emit LotDequeued(queueId, id, piece.lot, piece.tab, w.lot - piece.lot, w.tab - piece.tab);
        w.lot -= piece.lot;
        w.tab -= piece.tab;
        w.debt -= piece.debt;
        w.pieces += 1;
        // slither-disable-next-line incorrect-equality
        if (w.lot == 0) waitingLots -= 1;
        queuedLots[queueId] = w;
    }

    /// @dev Creates one auction within the room the caller checked and books its tab in both caps.
    function _open(
        address token,
        Collateral storage c,
        uint256 lot,
        uint256 tab,
        uint256 debt,
        uint256 oraclePrice,
        uint256 accountId,
        uint256 queueId,
        Globals memory g
    ) internal returns (uint256 id) {
        uint256 w1;
        uint256 startPrice;
        {
            uint256 w2;
            (w1, w2) = _lotWords(c);
            // Within room: dirt + tab <= hole <= uint80 max. Slot 1 rewritten with the new dirt.
            w1 = (w1 >> 80 << 80) | uint80(uint80(w1) + tab);
            assembly ("memory-safe") {
                sstore(add(c.slot, 1), w1)
            }
            startPrice = Math.mulDiv(oraclePrice, uint64(w2 >> 160), WAD, Math.Rounding.Ceil);
        }
        g.dirt = uint88(g.dirt + tab);
        id = _store(
            g,
            Auction({
                lot: lot.toUint104(),
                startTime: uint32(block.timestamp),
                collateralId: uint16(w1 >> 224),
                accountId: accountId.toUint48(),
                version: 0,
                link: uint24(queueId),
                tab: uint80(tab),
                debt: uint80(debt),
                startPrice: startPrice.toUint96()
            })
        );
        emit AuctionStarted(id, accountId, token, lot, tab, debt, startPrice);
    }

    /// @dev A collateral's slots 1 (dirt 0-79, chost 80-159, chip 160-215, scaleExp 216-223, id
    /// 224-239) and 2 (hole 0-79, tip 80-159, buf 160-223), one SLOAD each: field by field, each
    /// read loads its slot again.
    function _lotWords(Collateral storage c) internal view returns (uint256 w1, uint256 w2) {
        assembly ("memory-safe") {
            w1 := sload(add(c.slot, 1))
            w2 := sload(add(c.slot, 2))
        }
    }

    /// @dev Writes auction `a` into a slot from the free list (or a new one) and returns its id.
    function _store(Globals memory g, Auction memory a) internal returns (uint256 id) {
        uint256 slot;
        (slot, a.version) = _allocate(g);
        _auctions[slot] = a;
        g.activeCount += 1;
        id = _idOf(slot, a.version);
    }

    /// @dev Returns what the fund paid (0 when nothing was due).
    function _payKeeper(uint256 firstAuctionId, address keeper, uint256 reward)
        internal
        returns (uint256 paid)
    {
        if (reward == 0 || keeper == address(0)) return 0;
        paid = insuranceFund.payKeeperReward(keeper, reward);
        emit KeeperRewarded(firstAuctionId, keeper, reward, paid);
    }

    /// @dev Reward of a reset: none on dust (tab or the lot's oracle value below `chost`), else
    /// `min(tip + chip * tab, (tab - debt) - paidBefore)`: all resets of one auction together
    /// earn at most its penalty part. Also returns the auction's book of rewards paid so far.
    function _resetReward(uint256 slot, Auction memory a, Collateral storage c, uint256 oraclePrice)
        internal
        view
        returns (uint256 reward, ResetBook memory book)
    {
        uint256 chost = c.chost;
        if (a.tab < chost || Math.mulDiv(a.lot, oraclePrice, 10 ** c.scaleExp) < chost) return (0, book);
        book = _resetBooks[slot];
        if (book.version != a.version) book = ResetBook({version: a.version, paid: 0});
        uint256 budget = a.tab - a.debt;
        budget = budget > book.paid ? budget - book.paid : 0;
        reward = Math.min(c.tip + Math.mulDiv(c.chip, a.tab, WAD), budget);
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

    /// @dev Price check and amounts of a take (no state change). `dust` is the lot the take would
    /// leave when it is worth less than `max(chost, 1)` quote units at this price while tab is
    /// left: the take then clears it too and the auction ends (0 otherwise).
    function _quoteTake(uint256 id, Auction memory a, address token, uint256 maxAmount, uint256 maxPrice)
        internal
        view
        returns (uint256 price, uint256 slice, uint256 owe, uint256 dust)
    {
        Collateral storage c = collaterals[token];
        price = _livePrice(id, a, c);
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        uint256 chost = c.chost;
        uint8 scaleExp = c.scaleExp;
        (slice, owe) = _takeAmounts(a, price, maxAmount, chost, scaleExp);
        uint256 lotLeft = a.lot - slice;
        if (lotLeft != 0 && owe < a.tab && Math.mulDiv(lotLeft, price, 10 ** scaleExp) < Math.max(chost, 1)) {
            dust = lotLeft;
        }
    }

    /// @dev Quotes and books a take (`_quoteTake`, `_bookTake`), emits it and returns its
    /// settlement before any transfer (`ended` is set by `_end` when the auction is over).
    function _executeTake(
        uint256 id,
        uint256 slot,
        Auction memory a,
        uint256 maxAmount,
        uint256 maxPrice,
        address receiver
    ) internal returns (uint256 slice, uint256 owe, IAuctionSettlement.Settlement memory settlement) {
        settlement.accountId = a.accountId;
        settlement.token = tokenOf[a.collateralId];
        settlement.receiver = receiver;
        uint256 price;
        uint256 dust;
        (price, slice, owe, dust) = _quoteTake(id, a, settlement.token, maxAmount, maxPrice);
        settlement.released = slice + dust;
        settlement.debtRepaid = _bookTake(slot, a, settlement.token, slice + dust, owe);
        settlement.penaltyPaid = owe - settlement.debtRepaid;
        _emitTake(id, receiver, price, slice, owe, a);
        if (dust != 0) emit DustLotCleared(id, receiver, dust);
    }

    function _emitTake(
        uint256 id,
        address receiver,
        uint256 price,
        uint256 slice,
        uint256 owe,
        Auction memory a
    ) internal {
        emit Take(id, msg.sender, receiver, price, slice, owe, a.lot, a.tab);
    }

    /// @dev Books a take before any transfer: lot, tab and debt of the auction (in storage and in
    /// `a`), caps, and the free list when the auction ends.
    function _bookTake(uint256 slot, Auction memory a, address token, uint256 slice, uint256 owe)
        internal
        returns (uint256 debtRepaid)
    {
        Globals memory g = _globals();
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
    /// left the engine) or leaves its debt part as bad debt (lot exhausted or dust); the unpaid
    /// penalty part is dropped. Storage is already cleared.
    function _end(uint256 id, Auction memory a, IAuctionSettlement.Settlement memory settlement) internal {
        // Exact zero by construction: a take pays at most the tab.
        // slither-disable-next-line incorrect-equality
        if (a.tab == 0) {
            emit AuctionEnded(id, a.accountId, a.lot, 0, 0);
            _closeLink(a.link, settlement, a.lot);
        } else {
            settlement.badDebt = a.debt;
            emit AuctionEnded(id, a.accountId, 0, a.debt, a.tab - a.debt);
            _closeLink(a.link, settlement, 0);
        }
    }

    /// @dev The end of an auction as the engine sees it: the engine counts one auction per
    /// handed lot, so an auction started from a queued lot reports `ended` (and returns its
    /// leftover) only when it is that lot's last piece and nothing of the lot still waits;
    /// before that its leftover is kept for the lot's final settlement.
    function _closeLink(uint256 queueId, IAuctionSettlement.Settlement memory settlement, uint256 returned)
        internal
    {
        // slither-disable-next-line incorrect-equality
        if (queueId == 0) {
            settlement.returned = returned;
            settlement.ended = true;
            return;
        }
        QueuedLot memory w = queuedLots[queueId];
        w.pieces -= 1;
        // slither-disable-next-line incorrect-equality
        if (w.pieces == 0 && w.lot == 0) {
            // The lot's final settlement returns every leftover its pieces kept.
            settlement.returned = w.leftover + returned;
            settlement.ended = true;
            delete queuedLots[queueId];
            return;
        }
        w.leftover += uint104(returned); // returned <= lot: within the handed lot
        queuedLots[queueId] = w;
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

    /// @dev `globals` with one SLOAD (a struct copy reads the slot once per field).
    function _globals() internal view returns (Globals memory g) {
        assembly ("memory-safe") {
            let w := sload(globals.slot)
            mstore(g, and(w, 0xffffffffffffffffffffff))
            mstore(add(g, 0x20), and(shr(88, w), 0xffffffffffffffffffffff))
            mstore(add(g, 0x40), and(shr(176, w), 0xff))
            mstore(add(g, 0x60), and(shr(184, w), 0xffffff))
            mstore(add(g, 0x80), and(shr(208, w), 0xffffff))
            mstore(add(g, 0xa0), shr(232, w))
        }
    }

    function _idOf(uint256 slot, uint32 version) internal pure returns (uint256) {
        return uint256(version) << SLOT_BITS | slot;
    }

    /// @dev Pops the free list, or opens a new slot when it is empty (its two words are created:
    /// +34k gas, which `prepareAuctionSlots` pays in advance).
    function _allocate(Globals memory g) internal view returns (uint256 slot, uint32 version) {
        slot = g.freeHead;
        // An identity check: the free list's sentinel, not an amount.
        // slither-disable-next-line incorrect-equality
        if (slot == NO_SLOT) {
            slot = uint256(g.slotCount) + 1;
            g.slotCount = slot.toUint24();
            return (slot, 1);
        }
        Auction storage s = _auctions[slot];
        g.freeHead = s.link;
        version = s.version + 1;
    }

    /// @dev Ends the auction in `slot`: its words stay non-zero, the slot heads the free list.
    function _free(uint256 slot, Globals memory g) internal {
        Auction storage s = _auctions[slot];
        s.lot = 0;
        s.link = g.freeHead;
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
