// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {RiskAccount, RiskHolding, RiskMargin, RiskPosition} from "../../interfaces/IRiskModel.sol";
import {AssetRisk, IPortfolioRiskModel} from "../../interfaces/IPortfolioRiskModel.sol";
import {MarginMath} from "../engine/libraries/MarginMath.sol";
import {RiskModelBase} from "./RiskModelBase.sol";
import {PortfolioMath} from "./libraries/PortfolioMath.sol";

/// @title PortfolioRiskModel
/// @notice Portfolio margin (issue 18, docs/risk-models.md): the initial requirement is the worst
/// loss of the whole account over a governance-set grid of scenarios, in which a perp and a
/// collateral of the same asset move together (a basis trade nets), with each asset's scan range
/// scaled by its volatility, plus a non-nettable add-on per position; collateral counts after a
/// small liquidity haircut; maintenance = initial · mmFactor. Equal to the wei to
/// `solvent/model/portfolio.py`. Bounded: at most 8 holdings + 8 positions × 16 scenarios.
/// @dev Storage per asset is one slot (`Packed`), read once per holding or position of a margin
/// check: its 16 moves in percent of the scan range (`int8` each) and its parameters in millionths.
contract PortfolioRiskModel is IPortfolioRiskModel, RiskModelBase, AccessControl {
    /// @dev One asset in one slot: moves (scenario k at bits [8k, 8k + 8), int8 percent of the scan
    /// range) and parameters in millionths (`RATE_TICK`); covered iff cap > 0.
    struct Packed {
        uint128 moves;
        uint24 sigmaMultiple;
        uint24 floor;
        uint24 cap;
        uint24 haircut;
        uint24 addOn;
    }

    /// @dev The grid's scalars in one slot.
    struct Grid {
        uint8 scenarioCount;
        uint64 mmFactor;
    }

    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");

    uint256 public constant MAX_COLLATERALS = 8;
    uint256 public constant MAX_POSITIONS = 8;
    uint256 public constant MAX_SCENARIOS = 16;
    /// @notice The grid covers every listed asset: 64 markets and 16 collaterals (issue 18, item 6).
    uint256 public constant MAX_GRID_ASSETS = 80;
    uint256 public constant MAX_DECIMALS = 36;
    /// @notice Moves are multiples of 1e16 (one percent of the scan range).
    uint256 public constant MOVE_TICK = PortfolioMath.MOVE_TICK;
    /// @notice Scan parameters, haircuts and add-ons are multiples of 1e12 (stored in millionths).
    uint256 public constant RATE_TICK = 1e12;
    /// @notice Largest sigma multiple (a uint24 of millionths: 16.777215).
    uint256 public constant MAX_SIGMA_MULTIPLE = (2 ** 24 - 1) * RATE_TICK;

    /// @notice Largest |exposure| (WAD USD, about 6e39 USD) an entry may carry: it keeps the
    /// scenario loop free of overflow checks.
    uint256 public constant MAX_EXPOSURE = 2 ** 192;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant NO_SCENARIO = type(uint256).max;
    uint256 internal constant UINT24 = type(uint24).max;

    Grid internal _grid;
    address[] internal _assets;
    mapping(address asset => Packed) internal _params;

    /// @notice The deployer becomes admin and governor (the deployment hands both to the timelock).
    constructor() {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        _grantRole(GOVERNOR_ROLE, msg.sender);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IPortfolioRiskModel
    function setGrid(
        uint256 scenarioCount,
        uint256 mmFactor,
        address[] calldata assets,
        AssetRisk[] calldata risks,
        int256[][] calldata moves
    ) external onlyRole(GOVERNOR_ROLE) {
        if (scenarioCount == 0 || scenarioCount > MAX_SCENARIOS) {
            revert ScenarioCountOutOfBounds(scenarioCount);
        }
        if (mmFactor == 0 || mmFactor > WAD) revert MaintenanceFactorOutOfBounds(mmFactor);
        if (assets.length == 0 || assets.length > MAX_GRID_ASSETS) {
            revert GridAssetCountOutOfBounds(assets.length);
        }
        if (risks.length != assets.length || moves.length != assets.length) revert LengthMismatch();

        address[] storage old = _assets;
        for (uint256 i = old.length; i > 0; --i) {
            address asset = old[i - 1];
            delete _params[asset];
            old.pop();
            emit AssetGridRemoved(asset);
        }
        for (uint256 i; i < assets.length; ++i) {
            address asset = assets[i];
            if (asset == address(0)) revert ZeroAsset();
            if (_params[asset].cap != 0) revert DuplicateAsset(asset);
            AssetRisk calldata risk = risks[i];
            if (
                risk.floor == 0 || risk.floor > risk.cap || risk.cap >= WAD
                    || risk.sigmaMultiple > MAX_SIGMA_MULTIPLE
            ) {
                revert ScanRangeOutOfBounds(asset, risk.sigmaMultiple, risk.floor, risk.cap);
            }
            if (risk.haircut >= WAD || risk.addOn > WAD) {
                revert RateOutOfBounds(asset, risk.haircut, risk.addOn);
            }
            if (
                risk.sigmaMultiple % RATE_TICK != 0 || risk.floor % RATE_TICK != 0
                    || risk.cap % RATE_TICK != 0 || risk.haircut % RATE_TICK != 0
                    || risk.addOn % RATE_TICK != 0
            ) revert ParameterNotOnTick(asset);
            if (moves[i].length != scenarioCount) revert LengthMismatch();
            _params[asset] = Packed({
                moves: _packMoves(asset, moves[i]),
                sigmaMultiple: uint24(risk.sigmaMultiple / RATE_TICK),
                floor: uint24(risk.floor / RATE_TICK),
                cap: uint24(risk.cap / RATE_TICK),
                haircut: uint24(risk.haircut / RATE_TICK),
                addOn: uint24(risk.addOn / RATE_TICK)
            });
            _assets.push(asset);
            emit AssetGridSet(asset, risk, moves[i]);
        }
        _grid = Grid({scenarioCount: uint8(scenarioCount), mmFactor: uint64(mmFactor)});
        emit GridSet(scenarioCount, mmFactor, assets.length);
    }

    /// @dev Checks each move and packs them as int8 percent, scenario k at bits [8k, 8k + 8).
    function _packMoves(address asset, int256[] calldata moves) internal pure returns (uint128 word) {
        for (uint256 k; k < moves.length; ++k) {
            int256 move = moves[k];
            if (move > int256(WAD) || move < -int256(WAD)) revert MoveOutOfBounds(asset, k, move);
            if (move % int256(MOVE_TICK) != 0) revert MoveNotOnTick(asset, k, move);
            word |= uint128(uint256(uint8(int8(move / int256(MOVE_TICK)))) << (8 * k)); // k < 16
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPortfolioRiskModel
    function grid() external view returns (uint256 scenarioCount, uint256 mmFactor) {
        Grid memory g = _grid;
        return (g.scenarioCount, g.mmFactor);
    }

    /// @inheritdoc IPortfolioRiskModel
    function gridAssets() external view returns (address[] memory) {
        return _assets;
    }

    /// @inheritdoc IPortfolioRiskModel
    function assetGrid(address asset)
        external
        view
        returns (bool covered, AssetRisk memory risk, int256[] memory moves)
    {
        Packed memory p = _params[asset];
        covered = p.cap != 0;
        risk = AssetRisk({
            sigmaMultiple: uint64(p.sigmaMultiple) * uint64(RATE_TICK),
            floor: uint64(p.floor) * uint64(RATE_TICK),
            cap: uint64(p.cap) * uint64(RATE_TICK),
            haircut: uint64(p.haircut) * uint64(RATE_TICK),
            addOn: uint64(p.addOn) * uint64(RATE_TICK)
        });
        uint256 count = covered ? _grid.scenarioCount : 0;
        moves = new int256[](count);
        for (uint256 k; k < count; ++k) {
            moves[k] = int256(int8(uint8(p.moves >> (8 * k)))) * int256(MOVE_TICK);
        }
    }

    /// @inheritdoc IPortfolioRiskModel
    function scanRange(address asset, uint256 sigma) external view returns (uint256) {
        Packed memory p = _params[asset];
        if (p.cap == 0) revert AssetNotCovered(asset);
        return PortfolioMath.scanRange(
            sigma,
            uint256(p.sigmaMultiple) * RATE_TICK,
            uint256(p.floor) * RATE_TICK,
            uint256(p.cap) * RATE_TICK
        );
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IPortfolioRiskModel).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ margin

    /// @dev One pass over the holdings and positions: equity, notional and add-ons, and each entry's
    /// loss in every scenario added to that scenario's total; then the worst scenario.
    function _margin(RiskAccount calldata account) internal view override returns (RiskMargin memory m) {
        Grid memory g = _grid;
        if (g.scenarioCount == 0) revert GridNotSet();
        uint256 holdings = account.holdings.length;
        uint256 positions = account.positions.length;
        if (holdings > MAX_COLLATERALS) revert TooManyHoldings(holdings, MAX_COLLATERALS);
        if (positions > MAX_POSITIONS) revert TooManyPositions(positions, MAX_POSITIONS);

        // Each scenario's running loss: a memory array starts zeroed.
        // slither-disable-next-line uninitialized-local
        int256[16] memory losses;
        int256 equity = account.quoteBalance * int256(MarginMath.WAD_PER_QUOTE);
        for (uint256 i; i < holdings; ++i) {
            equity += _addHolding(losses, account.holdings[i]);
        }
        uint256 totalNotional = 0;
        uint256 addOns = 0;
        for (uint256 j; j < positions; ++j) {
            (int256 pnl, uint256 positionNotional, uint256 addOn) = _addPosition(losses, account.positions[j]);
            equity += pnl;
            totalNotional += positionNotional;
            addOns += addOn;
        }

        uint256 worst = 0;
        uint256 worstScenario = NO_SCENARIO;
        for (uint256 k; k < g.scenarioCount; ++k) {
            int256 loss = losses[k];
            if (loss > 0 && uint256(loss) > worst) {
                worst = uint256(loss);
                worstScenario = k;
            }
        }

        m.equity = equity;
        // Collateral is valued one way for both requirements; no part of the requirement is fixed
        // (the add-ons shrink with the positions).
        m.maintenanceEquity = equity;
        m.initialRequirement = worst + addOns;
        m.maintenanceRequirement = MarginMath.mulDivUp(m.initialRequirement, g.mmFactor, WAD);
        m.notional = totalNotional;
        m.nonNettable = addOns;
        m.worstScenario = worstScenario;
    }

    /// @dev A holding's value after its haircut (WAD, down), its losses added to `losses`.
    function _addHolding(int256[16] memory losses, RiskHolding calldata h) internal view returns (int256) {
        address asset = h.asset;
        (uint256 moves, uint256 scan, uint256 haircut,) = _load(asset, h.sigma);
        uint256 decimals = h.decimals;
        if (decimals > MAX_DECIMALS) revert DecimalsOutOfBounds(asset, decimals);
        uint256 unit;
        unchecked {
            unit = 10 ** decimals; // decimals <= 36
        }
        uint256 value = MarginMath.collateralValue(h.amount, h.price, unit, WAD - haircut);
        if (value > MAX_EXPOSURE) revert ExposureOutOfBounds(asset);
        PortfolioMath.addLosses(losses, int256(value), scan, moves);
        return int256(value);
    }

    /// @dev A position's unrealized PnL (down), notional and add-on (up), its losses added to
    /// `losses`.
    function _addPosition(int256[16] memory losses, RiskPosition calldata q)
        internal
        view
        returns (int256 pnl, uint256 positionNotional, uint256 addOn)
    {
        address asset = q.asset;
        (uint256 moves, uint256 scan,, uint256 addOnRate) = _load(asset, q.sigma);
        (int256 x, int256 value, uint256 notional_) = PortfolioMath.positionTerms(q.size, q.price);
        if (notional_ > MAX_EXPOSURE) revert ExposureOutOfBounds(asset);
        pnl = value - q.openNotional;
        positionNotional = notional_;
        addOn = MarginMath.mulDivUp(notional_, addOnRate, WAD);
        PortfolioMath.addLosses(losses, x, scan, moves);
    }

    /// @dev The asset's moves, its scan range at volatility `sigma`, its haircut and add-on (WAD),
    /// from its one slot read as a word (`Packed`'s layout: moves in bits 0-127, then five uint24:
    /// sigmaMultiple, floor, cap, haircut, addOn), which skips a memory copy per entry.
    function _load(address asset, uint256 sigma)
        internal
        view
        returns (uint256 moves, uint256 scan, uint256 haircut, uint256 addOn)
    {
        uint256 word;
        assembly ("memory-safe") {
            mstore(0, asset)
            mstore(0x20, _params.slot)
            word := sload(keccak256(0, 0x40))
        }
        uint256 cap = (word >> 176) & UINT24;
        if (cap == 0) revert AssetNotCovered(asset);
        moves = uint128(word);
        scan = PortfolioMath.scanRange(
            sigma, ((word >> 128) & UINT24) * RATE_TICK, ((word >> 152) & UINT24) * RATE_TICK, cap * RATE_TICK
        );
        haircut = ((word >> 200) & UINT24) * RATE_TICK;
        addOn = ((word >> 224) & UINT24) * RATE_TICK;
    }
}
