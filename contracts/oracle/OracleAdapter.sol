// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {IRoundOracle} from "../../interfaces/IRoundOracle.sol";
import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {FeedReader} from "./FeedReader.sol";
import {OracleMath} from "./OracleMath.sol";

/// @title OracleAdapter
/// @notice Validated Chainlink-compatible prices (staleness, bounds, fallback feed, deviation), an
/// L2 sequencer guard, a per-asset price circuit breaker and an on-chain realized volatility
/// estimate. Formulas, policies and parameter guidance: docs/oracle.md.
contract OracleAdapter is IOracleAdapter, IRoundOracle, AccessControl {
    // ------------------------------------------------------------------ types

    /// @notice Governance input for one asset; every field is bounded (see the *_MIN/*_MAX constants).
    struct AssetParams {
        address primaryFeed;
        address secondaryFeed; // address(0) = none
        uint32 maxStaleness; // seconds, primary feed
        uint32 secondaryMaxStaleness; // seconds, secondary feed (checked only when it is set)
        uint16 maxDeviationBps; // primary vs secondary
        uint128 minPrice; // WAD, inclusive
        uint128 maxPrice; // WAD, inclusive
        uint16 breakerThresholdBps;
        uint32 breakerWindow; // seconds
        uint32 breakerCooldown; // seconds
        uint32 volInterval; // min seconds between volatility samples
        uint64 volLambda; // WAD EWMA decay
        uint32 volStaleAfter; // seconds without a sample before the estimate is stale
        uint64 volMaxSampleRise; // WAD: one sample raises the annualized sigma by at most this
        uint64 volMaxRisePerHour; // WAD: the sigma margins use rises by at most this per hour
    }

    /// @notice `assetConfig`'s answer: the stored configuration (`PackedConfig`), decoded.
    struct AssetConfig {
        address primaryFeed;
        uint32 maxStaleness;
        uint16 maxDeviationBps;
        uint8 primaryDecimals;
        uint8 secondaryDecimals;
        uint8 tokenDecimals;
        address secondaryFeed;
        uint32 secondaryMaxStaleness;
        uint16 breakerThresholdBps;
        uint24 breakerWindow;
        uint24 breakerCooldown;
        uint128 minPrice;
        uint128 maxPrice;
    }

    /// @notice What a price read and the breaker need, in two storage words (docs/oracle.md,
    /// "Storage and gas"), each field as wide as its governance bound needs:
    /// `feeds` = primary feed (bits 0-159), `maxStaleness` (160, 18 bits: MAX_STALENESS 259,200 <
    /// 2^18), `secondaryMaxStaleness` (178, 18), `maxDeviationBps` (196, 11: 2,000 < 2^11), primary,
    /// secondary and token decimals (207, 212, 217, 5 each: MAX_DECIMALS 18 < 2^5),
    /// `breakerThresholdBps` (222, 13: 5,000 < 2^13), `breakerWindow` (235, 17: 86,400 < 2^17);
    /// `bounds` = secondary feed (0-159), `breakerCooldown` (160, 17), `minPrice` (177) and
    /// `maxPrice` (216) as 39 bits each: a 33-bit mantissa and a 6-bit decimal exponent. A price
    /// bound is stored exactly or refused (`PriceBoundNotRepresentable`).
    struct PackedConfig {
        uint256 feeds;
        uint256 bounds;
    }

    /// @notice What a price read uses, decoded from `PackedConfig` (memory only); the fields only
    /// `value` and the breaker use are decoded from `feeds` and `bounds` when they are needed.
    struct PriceConfig {
        address primaryFeed;
        address secondaryFeed;
        uint256 maxStaleness;
        uint256 secondaryMaxStaleness;
        uint256 maxDeviationBps;
        uint8 primaryDecimals;
        uint8 secondaryDecimals;
        uint256 minPrice;
        uint256 maxPrice;
        uint256 feeds;
        uint256 bounds;
    }

    /// @notice Volatility parameters (one slot), read by `poke` and `volatility`.
    struct VolatilityParams {
        uint32 interval;
        uint64 lambdaWad;
        uint32 staleAfter;
        uint64 maxSampleRise;
    }

    /// @notice The sigma margins use, in one slot (`sigma` reads nothing else): a ramp from
    /// `fromSigma` (at `since`) toward the raw estimate's sigma `targetSigma`, rising at most
    /// `maxRisePerHour` (docs/oracle.md). `since` is set when the asset is listed, so `since == 0`
    /// means not listed. Sigmas are WAD (uint80: up to 1.2 million; the raw estimate's maximum is
    /// ~73,000), `since` a uint32 timestamp (until 2106).
    struct MarginSigma {
        uint80 fromSigma;
        uint80 targetSigma;
        uint32 since;
        uint64 maxRisePerHour;
    }

    /// @notice Breaker and volatility state (three slots).
    struct AssetState {
        // slot 0: the breaker's reference price for the current window, and the sample clock
        uint128 anchorPrice;
        uint40 anchorTime;
        uint40 trippedUntil;
        uint40 lastSampleTime;
        bool hasVariance;
        // slot 1
        uint128 lastSamplePrice;
        uint128 variancePerSecond;
        // slot 2: the last accepted price (the breaker compares every poke with it), and the live
        // volatility forecast of the risk steward (docs/predictive-margin.md): it counts in the
        // margin sigma's target until `forecastExpiry` (0: none)
        uint128 lastPrice;
        uint80 forecastSigma;
        uint40 forecastExpiry;
    }

    /// @notice Why a feed reading was rejected (None = accepted).
    enum FeedFailure {
        None,
        Unavailable,
        NonPositiveAnswer,
        UpdatedAtZero,
        UpdatedAtInFuture,
        Stale,
        BelowMinPrice,
        AboveMaxPrice
    }

    /// @notice Which price a read settles on.
    enum Outcome {
        Primary,
        Secondary,
        Deviation,
        AllFailed
    }

    // ------------------------------------------------------------------ constants

    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");

    uint32 public constant MIN_STALENESS = 60;
    uint32 public constant MAX_STALENESS = 72 hours;
    uint16 public constant MIN_DEVIATION_BPS = 10;
    uint16 public constant MAX_DEVIATION_BPS = 2000;
    uint8 public constant MAX_DECIMALS = 18;
    uint16 public constant MIN_BREAKER_THRESHOLD_BPS = 100;
    uint16 public constant MAX_BREAKER_THRESHOLD_BPS = 5000;
    uint32 public constant MIN_BREAKER_WINDOW = 60;
    uint32 public constant MAX_BREAKER_WINDOW = 24 hours;
    uint32 public constant MIN_BREAKER_COOLDOWN = 60;
    uint32 public constant MAX_BREAKER_COOLDOWN = 24 hours;
    uint32 public constant MIN_VOL_INTERVAL = 60;
    uint32 public constant MAX_VOL_INTERVAL = 24 hours;
    uint64 public constant MIN_VOL_LAMBDA = 0.5e18;
    uint64 public constant MAX_VOL_LAMBDA = 0.9999e18;
    uint32 public constant MAX_VOL_STALE_AFTER = 7 days;
    /// @notice `volInterval >= maxStaleness * 4/5` (capped at MAX_VOL_INTERVAL): with the staleness
    /// limit set to the heartbeat + up to 25%, every sample spans at least one heartbeat.
    uint32 public constant VOL_INTERVAL_STALENESS_NUM = 4;
    uint32 public constant VOL_INTERVAL_STALENESS_DEN = 5;
    uint64 public constant MIN_VOL_MAX_SAMPLE_RISE = 0.01e18;
    uint64 public constant MAX_VOL_MAX_SAMPLE_RISE = 2e18;
    uint64 public constant MIN_VOL_MAX_RISE_PER_HOUR = 0.01e18;
    uint64 public constant MAX_VOL_MAX_RISE_PER_HOUR = 1e18;
    uint256 public constant MIN_SEED_SIGMA = 0.01e18;
    uint256 public constant MAX_SEED_SIGMA = 10e18;
    uint32 public constant MIN_GRACE_PERIOD = 5 minutes;
    uint32 public constant MAX_GRACE_PERIOD = 24 hours;
    /// @notice A forecast counts for at most this long after it is set.
    uint32 public constant MAX_FORECAST_TTL = 7 days;
    /// @notice A price bound is stored as `mantissa * 10^exponent` with a mantissa below 2^33.
    uint256 public constant PRICE_MANTISSA_LIMIT = 2 ** 33;

    // ------------------------------------------------------------------ errors

    error UnknownAsset(address asset);
    error FeedUnavailable(address feed);
    error NonPositiveAnswer(address feed, int256 answer);
    error UpdatedAtZero(address feed);
    error UpdatedAtInFuture(address feed, uint256 updatedAt);
    error StalePrice(address feed, uint256 updatedAt, uint256 maxStaleness);
    error PriceBelowMin(address feed, uint256 priceWad, uint256 minPrice);
    error PriceAboveMax(address feed, uint256 priceWad, uint256 maxPrice);
    error PriceDeviation(address asset, uint256 primaryPrice, uint256 secondaryPrice);
    /// @notice `getRoundData(roundId)` reverted, returned short data or a round never published.
    error RoundUnavailable(address feed, uint80 roundId);
    /// @notice The round was published before the target time: it cannot settle the order.
    error RoundBeforeTarget(address feed, uint80 roundId, uint256 updatedAt, uint256 notBefore);
    /// @notice The round's predecessor was published at or after the target time already: an
    /// earlier round is the first one, and only it settles the order.
    error NotFirstRound(address feed, uint80 roundId, uint80 predecessor, uint256 predecessorUpdatedAt);
    /// @notice The predecessor of the round (previous phase's aggregator) cannot be read: whether the
    /// round is the first one at or after the target cannot be checked.
    error PredecessorUnavailable(address feed, uint80 roundId);

    error PrimaryFeedZero();
    error SecondaryEqualsPrimary(address feed);
    error FeedDecimalsUnreadable(address feed);
    error FeedDecimalsTooHigh(address feed, uint8 decimals);
    error TokenDecimalsUnreadable(address asset);
    error TokenDecimalsTooHigh(address asset, uint8 decimals);
    error MaxStalenessOutOfRange(uint32 maxStaleness);
    error MaxDeviationOutOfRange(uint16 maxDeviationBps);
    error InvalidPriceBounds(uint128 minPrice, uint128 maxPrice);
    /// @notice `price` is not `m * 10^e` with m < 2^33 (9 significant digits always, 10 up to
    /// 8,589,934,591: every bound below 2^33 wei is, and any such mantissa followed by zeros).
    error PriceBoundNotRepresentable(uint128 price);
    error BreakerThresholdOutOfRange(uint16 thresholdBps);
    error BreakerWindowOutOfRange(uint32 window);
    error BreakerCooldownOutOfRange(uint32 cooldown);
    error VolIntervalOutOfRange(uint32 interval);
    error VolLambdaOutOfRange(uint64 lambda);
    error VolStaleAfterOutOfRange(uint32 staleAfter);
    error VolIntervalBelowHeartbeat(uint32 interval, uint32 minInterval);
    error VolMaxSampleRiseOutOfRange(uint64 maxSampleRise);
    error VolMaxRisePerHourOutOfRange(uint64 maxRisePerHour);
    error SeedSigmaOutOfRange(uint256 sigmaWad);
    error GracePeriodOutOfRange(uint32 gracePeriod);
    error NotForecaster(address caller);
    error ForecastSigmaOutOfRange(uint256 sigmaWad);
    error ForecastExpiryOutOfRange(uint256 expiry, uint256 latest);
    error ForecastNotExpired(address asset, uint256 expiry);

    // ------------------------------------------------------------------ events

    event AssetConfigured(
        address indexed asset,
        AssetParams params,
        uint8 tokenDecimals,
        uint8 primaryDecimals,
        uint8 secondaryDecimals
    );
    event VolatilitySeeded(address indexed asset, uint256 sigmaWad, uint256 variancePerSecond);
    event SequencerConfigured(address indexed feed, uint32 gracePeriod);
    /// @notice Emitted by `poke` when the primary failed and the secondary price was accepted
    /// (views cannot emit: monitors watch this event).
    event SecondaryFeedUsed(
        address indexed asset, address indexed primaryFeed, FeedFailure primaryFailure, uint256 priceWad
    );
    event CircuitBreakerTripped(
        address indexed asset, uint256 anchorPrice, uint256 priceWad, uint256 trippedUntil
    );
    event VolatilitySampled(
        address indexed asset, uint256 priceWad, uint256 variancePerSecond, uint256 sigmaWad
    );
    event ForecasterSet(address forecaster);
    /// @notice A forecast was set (`expiry` > 0) or removed (`sigmaWad` and `expiry` 0); the margin
    /// sigma now ramps toward `targetSigma` = max(on-chain estimate, live forecast).
    event ForecastSet(address indexed asset, uint256 sigmaWad, uint256 expiry, uint256 targetSigma);

    // ------------------------------------------------------------------ storage

    /// @notice L2 sequencer uptime feed (address(0) = no sequencer check).
    address public sequencerFeed;
    /// @notice Seconds after the sequencer comes back up during which it still counts as restricted.
    uint32 public gracePeriod;

    mapping(address asset => PackedConfig) internal _configs;
    mapping(address asset => VolatilityParams) internal _volParams;
    mapping(address asset => AssetState) internal _states;
    mapping(address asset => MarginSigma) internal _marginSigmas;
    /// @notice The only address that may set volatility forecasts (the RiskSteward; 0: none).
    address public forecaster;

    /// @notice The deployer becomes admin and governor.
    constructor() {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        _grantRole(GOVERNOR_ROLE, msg.sender);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Lists `asset` or replaces its whole configuration. Feed and token decimals are read
    /// and stored now. Breaker and volatility state are kept across updates.
    function setAssetConfig(address asset, AssetParams calldata params) external onlyRole(GOVERNOR_ROLE) {
        _validateParams(params);
        uint8 tokenDecimals = _readTokenDecimals(asset);
        uint8 primaryDecimals = _readFeedDecimals(params.primaryFeed);
        uint8 secondaryDecimals =
            params.secondaryFeed == address(0) ? 0 : _readFeedDecimals(params.secondaryFeed);
        // Every field was checked against its governance bound (`_validateParams`), which fits its
        // width (`PackedConfig`).
        _configs[asset] = PackedConfig({
            feeds: uint256(uint160(params.primaryFeed)) | uint256(params.maxStaleness) << 160
                | uint256(params.secondaryFeed == address(0) ? 0 : params.secondaryMaxStaleness) << 178
                | uint256(params.maxDeviationBps) << 196 | uint256(primaryDecimals) << 207
                | uint256(secondaryDecimals) << 212 | uint256(tokenDecimals) << 217
                | uint256(params.breakerThresholdBps) << 222 | uint256(params.breakerWindow) << 235,
            bounds: uint256(uint160(params.secondaryFeed)) | uint256(params.breakerCooldown) << 160
                | _encodePrice(params.minPrice) << 177 | _encodePrice(params.maxPrice) << 216
        });
        // A new rise rate applies from now on: the ramp restarts from today's margin sigma (a
        // listing starts an empty ramp, which also marks the asset as listed for `sigma`).
        MarginSigma memory margin = _marginSigmas[asset];
        if (margin.since != 0) margin.fromSigma = uint80(_rampedSigma(margin));
        margin.since = uint32(block.timestamp);
        margin.maxRisePerHour = params.volMaxRisePerHour;
        _marginSigmas[asset] = margin;
        _volParams[asset] = VolatilityParams({
            interval: params.volInterval,
            lambdaWad: params.volLambda,
            staleAfter: params.volStaleAfter,
            maxSampleRise: params.volMaxSampleRise
        });
        emit AssetConfigured(asset, params, tokenDecimals, primaryDecimals, secondaryDecimals);
    }

    /// @notice Sets `asset`'s volatility estimate to `sigmaWad` (annualized), so margins are sane
    /// before samples exist; later samples update it through the EWMA. The margin sigma takes the
    /// seeded value at once (a governance decision, not a sample: no ramp).
    function seedVolatility(address asset, uint256 sigmaWad) external onlyRole(GOVERNOR_ROLE) {
        _requireKnown(asset);
        if (sigmaWad < MIN_SEED_SIGMA || sigmaWad > MAX_SEED_SIGMA) revert SeedSigmaOutOfRange(sigmaWad);
        uint256 variance = OracleMath.varianceFromSigma(sigmaWad);
        AssetState storage state = _states[asset];
        state.variancePerSecond = SafeCast.toUint128(variance);
        state.hasVariance = true;
        MarginSigma storage margin = _marginSigmas[asset];
        uint80 seeded = SafeCast.toUint80(OracleMath.annualizedSigma(variance));
        (margin.fromSigma, margin.targetSigma, margin.since) = (seeded, seeded, uint32(block.timestamp));
        emit VolatilitySeeded(asset, sigmaWad, variance);
    }

    /// @notice Sets the contract allowed to set volatility forecasts (the RiskSteward, which bounds
    /// them); address(0) allows none. A forecast can only raise the margin sigma's target.
    function setForecaster(address forecaster_) external onlyRole(GOVERNOR_ROLE) {
        forecaster = forecaster_;
        emit ForecasterSet(forecaster_);
    }

    /// @notice Sets `asset`'s volatility forecast until `expiry`: the margin sigma's target becomes
    /// max(on-chain estimate, `sigmaWad`), reached at the ramp's bounded rate when it rises; a
    /// forecast below the on-chain estimate changes nothing. Forecaster only.
    function setForecast(address asset, uint256 sigmaWad, uint256 expiry) external {
        if (msg.sender != forecaster) revert NotForecaster(msg.sender);
        _requireKnown(asset);
        if (sigmaWad == 0 || sigmaWad > MAX_SEED_SIGMA) revert ForecastSigmaOutOfRange(sigmaWad);
        uint256 latest = block.timestamp + MAX_FORECAST_TTL;
        if (expiry <= block.timestamp || expiry > latest) revert ForecastExpiryOutOfRange(expiry, latest);
        _setForecast(asset, sigmaWad, expiry);
    }

    /// @notice Removes `asset`'s forecast at once (the steward's guardian disabled it). Forecaster only.
    function clearForecast(address asset) external {
        if (msg.sender != forecaster) revert NotForecaster(msg.sender);
        _requireKnown(asset);
        _setForecast(asset, 0, 0);
    }

    /// @notice Removes `asset`'s expired forecast now, instead of at its next volatility sample;
    /// anyone may call it.
    function expireForecast(address asset) external {
        uint256 expiry = _states[asset].forecastExpiry;
        if (expiry == 0 || block.timestamp < expiry) revert ForecastNotExpired(asset, expiry);
        _setForecast(asset, 0, 0);
    }

    /// @notice Sets the L2 sequencer uptime feed (address(0) disables the check) and its grace period.
    function setSequencer(address feed, uint32 gracePeriod_) external onlyRole(GOVERNOR_ROLE) {
        if (gracePeriod_ < MIN_GRACE_PERIOD || gracePeriod_ > MAX_GRACE_PERIOD) {
            revert GracePeriodOutOfRange(gracePeriod_);
        }
        sequencerFeed = feed;
        gracePeriod = gracePeriod_;
        emit SequencerConfigured(feed, gracePeriod_);
    }

    // ------------------------------------------------------------------ reads

    /// @inheritdoc IOracleAdapter
    function price(address asset) public view returns (uint256 priceWad) {
        (priceWad,,) = _acceptedPrice(asset, _config(asset));
    }

    /// @inheritdoc IRoundOracle
    /// @dev Round ids follow Chainlink's proxy: `phaseId << 64 | aggregatorRoundId`, aggregator ids
    /// consecutive from 1 within a phase. The round must be readable with `updatedAt` in
    /// [notBefore, now]; round `k > 1` of a phase needs round `k - 1` before `notBefore`; every round of
    /// phase `p > 0` needs the last round of the latest earlier phase that published (read from the
    /// proxy's `phaseAggregators`) before `notBefore` — for round 1 that is its predecessor, for later
    /// rounds it keeps the first round unique even if an old aggregator kept publishing after the
    /// switch. No staleness limit (the round is a past price by design; the order book bounds how late
    /// it settles) and no fallback to the secondary feed (its price is not determined by the target
    /// time); the secondary, when valid now, bounds the deviation as in `price`. Also returns the
    /// round's `updatedAt`: the round is then the first at or after every time in
    /// `[notBefore, updatedAt]` as well (a batch of orders prices them with one check).
    function roundPrice(address asset, uint80 roundId, uint256 notBefore)
        external
        view
        returns (uint256 priceWad, uint256 updatedAt)
    {
        PriceConfig memory config = _config(asset);
        address feed = config.primaryFeed;
        bool ok;
        int256 answer;
        (ok, answer, updatedAt) = FeedReader.roundData(feed, roundId);
        if (!ok || updatedAt == 0) revert RoundUnavailable(feed, roundId);
        if (updatedAt < notBefore) revert RoundBeforeTarget(feed, roundId, updatedAt, notBefore);
        if (updatedAt > block.timestamp) revert UpdatedAtInFuture(feed, updatedAt);
        _requireFirstRound(feed, roundId, notBefore);
        if (answer <= 0) revert NonPositiveAnswer(feed, answer);
        priceWad = OracleMath.normalize(uint256(answer), config.primaryDecimals);
        if (priceWad < config.minPrice) revert PriceBelowMin(feed, priceWad, config.minPrice);
        if (priceWad > config.maxPrice) revert PriceAboveMax(feed, priceWad, config.maxPrice);
        if (config.secondaryFeed != address(0)) {
            (FeedFailure failure, uint256 secondaryPrice) = _readFeed(
                config, config.secondaryFeed, config.secondaryDecimals, config.secondaryMaxStaleness
            );
            if (
                failure == FeedFailure.None
                    && !OracleMath.withinDeviation(priceWad, secondaryPrice, config.maxDeviationBps)
            ) {
                revert PriceDeviation(asset, priceWad, secondaryPrice);
            }
        }
    }

    /// @inheritdoc IOracleAdapter
    /// @dev `mulDiv(amount, price, 10^tokenDecimals)` with the requested rounding.
    function value(address asset, uint256 amount, bool roundUp) external view returns (uint256 valueWad) {
        PriceConfig memory config = _config(asset);
        (uint256 priceWad,,) = _acceptedPrice(asset, config);
        return Math.mulDiv(
            amount, priceWad, 10 ** _tokenDecimals(config), roundUp ? Math.Rounding.Ceil : Math.Rounding.Floor
        );
    }

    /// @inheritdoc IOracleAdapter
    /// @dev Also false while no price can be accepted, and while the current price is already beyond
    /// the breaker threshold from the window's reference price or from the last accepted price (a
    /// move nobody has poked yet, including one right after the window expired).
    function riskIncreaseAllowed(address asset) external view returns (bool) {
        return _riskIncreasePrice(asset) != 0;
    }

    /// @inheritdoc IOracleAdapter
    /// @dev The gate of `riskIncreaseAllowed`; when it allows, the price `price(asset)` returns
    /// (neither a deviation nor a failure of every feed: `_resolve`'s price is the accepted one).
    function riskIncreasePrice(address asset) external view returns (uint256) {
        return _riskIncreasePrice(asset);
    }

    function _riskIncreasePrice(address asset) internal view returns (uint256) {
        PriceConfig memory config = _config(asset);
        if (sequencerRestricted()) return 0;
        AssetState memory state = _states[asset];
        if (block.timestamp < state.trippedUntil) return 0;
        (uint256 priceWad, Outcome outcome,) = _resolve(config);
        if (outcome == Outcome.Deviation || outcome == Outcome.AllFailed) return 0;
        return _breakerReference(state, config, priceWad) == 0 ? priceWad : 0;
    }

    /// @inheritdoc IOracleAdapter
    /// @dev An unreadable uptime feed, any answer other than 0, and an uninitialized round
    /// (`startedAt == 0`) all count as restricted.
    function sequencerRestricted() public view returns (bool) {
        address feed = sequencerFeed;
        if (feed == address(0)) return false;
        // Chainlink's sequencer feed reports the status change time in startedAt; updatedAt is unused.
        // slither-disable-next-line unused-return
        (bool ok, int256 answer, uint256 startedAt,) = FeedReader.latestRound(feed);
        if (!ok || answer != 0 || startedAt == 0 || startedAt > block.timestamp) return true;
        return block.timestamp - startedAt <= gracePeriod;
    }

    /// @inheritdoc IOracleAdapter
    function volatility(address asset) external view returns (uint256 sigmaWad, bool stale) {
        _requireKnown(asset);
        AssetState memory state = _states[asset];
        sigmaWad = OracleMath.annualizedSigma(state.variancePerSecond);
        stale = state.lastSampleTime == 0
            || block.timestamp - state.lastSampleTime > _volParams[asset].staleAfter;
    }

    /// @inheritdoc IOracleAdapter
    /// @dev `min(target, from + ceil(maxRisePerHour * (now - since) / 3600))`: rises toward the raw
    /// estimate are phased in, decreases took effect at the poke that made them.
    function sigma(address asset) external view returns (uint256 sigmaWad) {
        MarginSigma memory margin = _marginSigmas[asset];
        // An exact zero by construction: listing writes `since`, nothing ever clears it.
        // slither-disable-next-line incorrect-equality
        if (margin.since == 0) revert UnknownAsset(asset);
        return _rampedSigma(margin);
    }

    /// @notice `asset`'s margin-sigma ramp (the state behind `sigma`).
    function marginSigma(address asset) external view returns (MarginSigma memory) {
        return _marginSigmas[asset];
    }

    /// @notice `asset`'s stored configuration (decimals included).
    function assetConfig(address asset) external view returns (AssetConfig memory config) {
        PackedConfig storage packed = _configs[asset];
        PriceConfig memory read = _decode(packed.feeds, packed.bounds);
        // Each field fits the width it is returned in: it was validated against its bound (the
        // price bounds were uint128s, encoded exactly).
        config = AssetConfig({
            primaryFeed: read.primaryFeed,
            maxStaleness: uint32(read.maxStaleness),
            maxDeviationBps: uint16(read.maxDeviationBps),
            primaryDecimals: read.primaryDecimals,
            secondaryDecimals: read.secondaryDecimals,
            tokenDecimals: uint8(_tokenDecimals(read)),
            secondaryFeed: read.secondaryFeed,
            secondaryMaxStaleness: uint32(read.secondaryMaxStaleness),
            breakerThresholdBps: uint16(_breakerThresholdBps(read)),
            breakerWindow: uint24(_breakerWindow(read)),
            breakerCooldown: uint24(_breakerCooldown(read)),
            minPrice: uint128(read.minPrice),
            maxPrice: uint128(read.maxPrice)
        });
    }

    /// @notice `asset`'s volatility parameters.
    function volatilityParams(address asset) external view returns (VolatilityParams memory) {
        return _volParams[asset];
    }

    /// @notice `asset`'s breaker and volatility state.
    function assetState(address asset) external view returns (AssetState memory) {
        return _states[asset];
    }

    // ------------------------------------------------------------------ keeper

    /// @inheritdoc IOracleAdapter
    /// @dev Never reverts for being early: the breaker is updated on every call, the volatility
    /// sample only once `volInterval` has passed since the last one. Reverts when no price can be
    /// accepted (nothing to record).
    function poke(address asset) external {
        PriceConfig memory config = _config(asset);
        (uint256 priceWad, Outcome outcome, FeedFailure primaryFailure) = _acceptedPrice(asset, config);
        if (outcome == Outcome.Secondary) {
            emit SecondaryFeedUsed(asset, config.primaryFeed, primaryFailure, priceWad);
        }
        AssetState memory state = _states[asset];
        _updateBreaker(asset, config, state, priceWad);
        _sampleVolatility(asset, state, priceWad);
        _states[asset] = state;
    }

    // ------------------------------------------------------------------ internals: prices

    /// @dev The two words read once each, then decoded.
    function _config(address asset) internal view returns (PriceConfig memory config) {
        PackedConfig storage packed = _configs[asset];
        config = _decode(packed.feeds, packed.bounds);
        if (config.primaryFeed == address(0)) revert UnknownAsset(asset);
    }

    function _decode(uint256 feeds, uint256 bounds) internal pure returns (PriceConfig memory config) {
        config.primaryFeed = address(uint160(feeds));
        config.maxStaleness = (feeds >> 160) & (2 ** 18 - 1);
        config.secondaryMaxStaleness = (feeds >> 178) & (2 ** 18 - 1);
        config.maxDeviationBps = (feeds >> 196) & (2 ** 11 - 1);
        config.primaryDecimals = uint8((feeds >> 207) & 31);
        config.secondaryDecimals = uint8((feeds >> 212) & 31);
        config.secondaryFeed = address(uint160(bounds));
        config.minPrice = _decodePrice(bounds >> 177);
        config.maxPrice = _decodePrice(bounds >> 216);
        (config.feeds, config.bounds) = (feeds, bounds);
    }

    function _tokenDecimals(PriceConfig memory config) internal pure returns (uint256) {
        return (config.feeds >> 217) & 31;
    }

    function _breakerThresholdBps(PriceConfig memory config) internal pure returns (uint256) {
        return (config.feeds >> 222) & (2 ** 13 - 1);
    }

    function _breakerWindow(PriceConfig memory config) internal pure returns (uint256) {
        return (config.feeds >> 235) & (2 ** 17 - 1);
    }

    function _breakerCooldown(PriceConfig memory config) internal pure returns (uint256) {
        return (config.bounds >> 160) & (2 ** 17 - 1);
    }

    /// @dev `price` as `mantissa | exponent << 33` with mantissa < 2^33: trailing decimal zeros
    /// are moved into the exponent until the mantissa fits (at most 38 of them for a uint128, so
    /// the exponent fits 6 bits).
    function _encodePrice(uint128 price) internal pure returns (uint256) {
        uint256 mantissa = price;
        uint256 exponent = 0;
        while (mantissa >= PRICE_MANTISSA_LIMIT) {
            if (mantissa % 10 != 0) revert PriceBoundNotRepresentable(price);
            mantissa /= 10;
            ++exponent;
        }
        return mantissa | exponent << 33;
    }

    /// @dev The low 39 bits of `packed` as `_encodePrice` wrote them.
    function _decodePrice(uint256 packed) internal pure returns (uint256) {
        // The stored figure was a uint128: mantissa < 2^33 and exponent <= 38, no overflow.
        unchecked {
            return (packed & (PRICE_MANTISSA_LIMIT - 1)) * 10 ** ((packed >> 33) & 63);
        }
    }

    function _requireKnown(address asset) internal view {
        if (_configs[asset].feeds == 0) revert UnknownAsset(asset);
    }

    /// @dev The price a read settles on, or the revert explaining why there is none.
    function _acceptedPrice(address asset, PriceConfig memory config)
        internal
        view
        returns (uint256 priceWad, Outcome outcome, FeedFailure primaryFailure)
    {
        (priceWad, outcome, primaryFailure) = _resolve(config);
        if (outcome == Outcome.Deviation) _revertDeviation(asset, config);
        if (outcome == Outcome.AllFailed) _revertPrimaryFailure(config);
    }

    /// @dev Primary when valid (and, with a valid secondary, within maxDeviationBps of it); else a
    /// valid secondary; else AllFailed.
    function _resolve(PriceConfig memory config)
        internal
        view
        returns (uint256 priceWad, Outcome outcome, FeedFailure primaryFailure)
    {
        uint256 primaryPrice;
        (primaryFailure, primaryPrice) =
            _readFeed(config, config.primaryFeed, config.primaryDecimals, config.maxStaleness);
        FeedFailure secondaryFailure = FeedFailure.Unavailable;
        uint256 secondaryPrice = 0;
        if (config.secondaryFeed != address(0)) {
            (secondaryFailure, secondaryPrice) = _readFeed(
                config, config.secondaryFeed, config.secondaryDecimals, config.secondaryMaxStaleness
            );
        }
        if (primaryFailure == FeedFailure.None) {
            if (
                secondaryFailure == FeedFailure.None
                    && !OracleMath.withinDeviation(primaryPrice, secondaryPrice, config.maxDeviationBps)
            ) {
                return (0, Outcome.Deviation, primaryFailure);
            }
            return (primaryPrice, Outcome.Primary, primaryFailure);
        }
        if (secondaryFailure == FeedFailure.None) return (secondaryPrice, Outcome.Secondary, primaryFailure);
        return (0, Outcome.AllFailed, primaryFailure);
    }

    function _readFeed(PriceConfig memory config, address feed, uint8 decimals, uint256 maxStaleness)
        internal
        view
        returns (FeedFailure failure, uint256 priceWad)
    {
        // startedAt is the round's start; staleness is judged on updatedAt alone.
        // slither-disable-next-line unused-return
        (bool ok, int256 answer,, uint256 updatedAt) = FeedReader.latestRound(feed);
        if (!ok) return (FeedFailure.Unavailable, 0);
        return _check(config, decimals, maxStaleness, answer, updatedAt);
    }

    /// @dev The checks in order: answer > 0, updatedAt != 0, not in the future, not stale, within
    /// [minPrice, maxPrice] after normalization to WAD.
    function _check(
        PriceConfig memory config,
        uint8 decimals,
        uint256 maxStaleness,
        int256 answer,
        uint256 updatedAt
    ) internal view returns (FeedFailure failure, uint256 priceWad) {
        if (answer <= 0) return (FeedFailure.NonPositiveAnswer, 0);
        if (updatedAt == 0) return (FeedFailure.UpdatedAtZero, 0);
        if (updatedAt > block.timestamp) return (FeedFailure.UpdatedAtInFuture, 0);
        if (block.timestamp - updatedAt > maxStaleness) return (FeedFailure.Stale, 0);
        priceWad = OracleMath.normalize(uint256(answer), decimals);
        if (priceWad < config.minPrice) return (FeedFailure.BelowMinPrice, priceWad);
        if (priceWad > config.maxPrice) return (FeedFailure.AboveMaxPrice, priceWad);
    }

    /// @dev Reverts unless every round before `roundId` (in the proxy's order: phases ascending,
    /// rounds ascending within a phase) that could be later than it was published before
    /// `notBefore`: the previous round of its phase, and the last round of the latest earlier phase
    /// that published. Phases are walked back past aggregators that never published; a feed that is
    /// not a proxy (phase 0 only) has no earlier phase.
    function _requireFirstRound(address feed, uint80 roundId, uint256 notBefore) internal view {
        uint64 aggregatorRound = uint64(roundId);
        if (aggregatorRound > 1) {
            uint80 previous = roundId - 1;
            // Only the predecessor's time matters here, not its answer.
            // slither-disable-next-line unused-return
            (bool ok,, uint256 previousUpdatedAt) = FeedReader.roundData(feed, previous);
            if (!ok) revert PredecessorUnavailable(feed, roundId);
            if (previousUpdatedAt >= notBefore) {
                revert NotFirstRound(feed, roundId, previous, previousUpdatedAt);
            }
        }
        for (uint256 phase = uint256(roundId) >> 64; phase != 0;) {
            --phase;
            (bool found, address aggregator) = FeedReader.phaseAggregator(feed, uint16(phase));
            if (!found) revert PredecessorUnavailable(feed, roundId);
            if (aggregator == address(0)) return; // no earlier aggregator (Chainlink's phase 0)
            // Only the earlier phase's last time matters here, not its answer.
            // slither-disable-next-line unused-return
            (bool ok,,, uint256 lastUpdatedAt) = FeedReader.latestRound(aggregator);
            if (!ok) revert PredecessorUnavailable(feed, roundId);
            if (lastUpdatedAt == 0) continue; // that aggregator never published: look further back
            if (lastUpdatedAt >= notBefore) {
                (, uint80 lastRound) = _latestRoundId(aggregator);
                revert NotFirstRound(feed, roundId, uint80(phase << 64) | lastRound, lastUpdatedAt);
            }
            return;
        }
    }

    /// @dev The round id an aggregator reports as its latest, without phase bits (diagnostics only).
    function _latestRoundId(address aggregator) internal view returns (bool ok, uint80 roundId) {
        // Only the id is reported (in the revert of a refused round).
        // slither-disable-next-line unused-return
        try IAggregatorV3(aggregator).latestRoundData() returns (
            uint80 id, int256, uint256, uint256, uint80
        ) {
            return (true, uint80(uint64(id)));
        } catch {
            return (false, 0);
        }
    }

    // The revert paths re-read the feeds for their diagnostics, so the happy path carries none.

    function _revertDeviation(address asset, PriceConfig memory config) internal view {
        (, uint256 primaryPrice) =
            _readFeed(config, config.primaryFeed, config.primaryDecimals, config.maxStaleness);
        (, uint256 secondaryPrice) =
            _readFeed(config, config.secondaryFeed, config.secondaryDecimals, config.secondaryMaxStaleness);
        revert PriceDeviation(asset, primaryPrice, secondaryPrice);
    }

    function _revertPrimaryFailure(PriceConfig memory config) internal view {
        address feed = config.primaryFeed;
        // startedAt is the round's start; staleness is judged on updatedAt alone.
        // slither-disable-next-line unused-return
        (bool ok, int256 answer,, uint256 updatedAt) = FeedReader.latestRound(feed);
        if (!ok) revert FeedUnavailable(feed);
        (FeedFailure failure, uint256 priceWad) =
            _check(config, config.primaryDecimals, config.maxStaleness, answer, updatedAt);
        if (failure == FeedFailure.NonPositiveAnswer) revert NonPositiveAnswer(feed, answer);
        if (failure == FeedFailure.UpdatedAtZero) revert UpdatedAtZero(feed);
        if (failure == FeedFailure.UpdatedAtInFuture) revert UpdatedAtInFuture(feed, updatedAt);
        if (failure == FeedFailure.Stale) revert StalePrice(feed, updatedAt, config.maxStaleness);
        if (failure == FeedFailure.BelowMinPrice) revert PriceBelowMin(feed, priceWad, config.minPrice);
        revert PriceAboveMax(feed, priceWad, config.maxPrice);
    }

    // ------------------------------------------------------------------ internals: breaker, volatility

    function _anchorInWindow(AssetState memory state, PriceConfig memory config)
        internal
        view
        returns (bool)
    {
        return state.anchorTime != 0 && block.timestamp - state.anchorTime <= _breakerWindow(config);
    }

    /// @dev The reference `priceWad` moved beyond the threshold from, or 0 when none: the window's
    /// anchor while the window lasts, and the last accepted price always (so a jump right after the
    /// window expires, or between two pokes of a window, is compared too).
    function _breakerReference(AssetState memory state, PriceConfig memory config, uint256 priceWad)
        internal
        view
        returns (uint256)
    {
        uint256 threshold = _breakerThresholdBps(config);
        if (_anchorInWindow(state, config) && OracleMath.movedBeyond(state.anchorPrice, priceWad, threshold))
        {
            return state.anchorPrice;
        }
        if (state.lastPrice != 0 && OracleMath.movedBeyond(state.lastPrice, priceWad, threshold)) {
            return state.lastPrice;
        }
        return 0;
    }

    /// @dev The anchor is the window's reference price: it is replaced when older than the window or
    /// when the breaker trips, never by an ordinary poke, so poking after every small step cannot
    /// walk the reference along a large move. Every poke also compares with the last accepted price.
    function _updateBreaker(
        address asset,
        PriceConfig memory config,
        AssetState memory state,
        uint256 priceWad
    ) internal {
        uint256 tripFrom = _breakerReference(state, config, priceWad);
        if (tripFrom != 0) {
            uint256 trippedUntil = block.timestamp + _breakerCooldown(config);
            emit CircuitBreakerTripped(asset, tripFrom, priceWad, trippedUntil);
            state.trippedUntil = uint40(trippedUntil);
        }
        if (tripFrom != 0 || !_anchorInWindow(state, config)) {
            state.anchorPrice = uint128(priceWad);
            state.anchorTime = uint40(block.timestamp);
        }
        state.lastPrice = uint128(priceWad);
    }

    /// @dev At most one sample per `interval`. The first observation only records the price; the
    /// first return replaces the variance unless governance seeded it. Otherwise the old estimate
    /// weighs `lambda^(dt / interval)`; a sample taken after a stale gap (dt > staleAfter) can only
    /// raise the estimate, and no sample raises the annualized sigma by more than `maxSampleRise`.
    /// The margin sigma then ramps from its current value toward the new estimate.
    function _sampleVolatility(address asset, AssetState memory state, uint256 priceWad) internal {
        if (state.forecastExpiry != 0 && state.forecastExpiry <= block.timestamp) {
            // An expired forecast stops counting at the first poke after its expiry.
            (state.forecastSigma, state.forecastExpiry) = (0, 0);
            uint256 estimate = OracleMath.annualizedSigma(state.variancePerSecond);
            _rampMarginSigma(asset, estimate);
            emit ForecastSet(asset, 0, 0, estimate);
        }
        VolatilityParams memory params = _volParams[asset];
        uint256 last = state.lastSampleTime;
        if (last != 0) {
            uint256 dt = block.timestamp - last;
            if (dt < params.interval) return;
            uint256 sample = OracleMath.varianceSample(state.lastSamplePrice, priceWad, dt);
            uint256 variance = sample;
            if (state.hasVariance) {
                uint256 previous = state.variancePerSecond;
                variance = OracleMath.ewma(
                    previous, sample, OracleMath.decay(params.lambdaWad, dt, params.interval)
                );
                if (dt > params.staleAfter) variance = Math.max(variance, previous);
                variance = Math.min(variance, OracleMath.sampleCap(previous, params.maxSampleRise));
            }
            state.variancePerSecond = SafeCast.toUint128(variance);
            state.hasVariance = true;
            uint256 target = OracleMath.annualizedSigma(variance);
            if (state.forecastExpiry != 0) target = Math.max(target, state.forecastSigma); // live
            _rampMarginSigma(asset, target);
            emit VolatilitySampled(asset, priceWad, variance, target);
        }
        state.lastSamplePrice = uint128(priceWad);
        state.lastSampleTime = uint40(block.timestamp);
    }

    /// @dev Stores the forecast and restarts the margin sigma's ramp toward max(estimate, forecast).
    function _setForecast(address asset, uint256 sigmaWad, uint256 expiry) internal {
        AssetState storage state = _states[asset];
        (state.forecastSigma, state.forecastExpiry) = (uint80(sigmaWad), uint40(expiry));
        uint256 target = Math.max(OracleMath.annualizedSigma(state.variancePerSecond), sigmaWad);
        _rampMarginSigma(asset, target);
        emit ForecastSet(asset, sigmaWad, expiry, target);
    }

    /// @dev Restarts the ramp now, from today's margin sigma (or the new target when that is lower:
    /// decreases apply at once) toward `target`.
    function _rampMarginSigma(address asset, uint256 target) internal {
        MarginSigma memory margin = _marginSigmas[asset];
        margin.fromSigma = uint80(Math.min(_rampedSigma(margin), target));
        margin.targetSigma = SafeCast.toUint80(target);
        margin.since = uint32(block.timestamp);
        _marginSigmas[asset] = margin;
    }

    function _rampedSigma(MarginSigma memory margin) internal view returns (uint256) {
        return OracleMath.rampedSigma(
            margin.fromSigma, margin.targetSigma, margin.maxRisePerHour, block.timestamp - margin.since
        );
    }

    // ------------------------------------------------------------------ internals: configuration

    function _validateParams(AssetParams calldata p) internal pure {
        if (p.primaryFeed == address(0)) revert PrimaryFeedZero();
        if (p.secondaryFeed == p.primaryFeed) revert SecondaryEqualsPrimary(p.secondaryFeed);
        _validateStaleness(p.maxStaleness);
        if (p.secondaryFeed != address(0)) _validateStaleness(p.secondaryMaxStaleness);
        if (p.maxDeviationBps < MIN_DEVIATION_BPS || p.maxDeviationBps > MAX_DEVIATION_BPS) {
            revert MaxDeviationOutOfRange(p.maxDeviationBps);
        }
        if (p.minPrice == 0 || p.minPrice >= p.maxPrice) revert InvalidPriceBounds(p.minPrice, p.maxPrice);
        if (
            p.breakerThresholdBps < MIN_BREAKER_THRESHOLD_BPS
                || p.breakerThresholdBps > MAX_BREAKER_THRESHOLD_BPS
        ) {
            revert BreakerThresholdOutOfRange(p.breakerThresholdBps);
        }
        if (p.breakerWindow < MIN_BREAKER_WINDOW || p.breakerWindow > MAX_BREAKER_WINDOW) {
            revert BreakerWindowOutOfRange(p.breakerWindow);
        }
        if (p.breakerCooldown < MIN_BREAKER_COOLDOWN || p.breakerCooldown > MAX_BREAKER_COOLDOWN) {
            revert BreakerCooldownOutOfRange(p.breakerCooldown);
        }
        if (p.volInterval < MIN_VOL_INTERVAL || p.volInterval > MAX_VOL_INTERVAL) {
            revert VolIntervalOutOfRange(p.volInterval);
        }
        if (p.volLambda < MIN_VOL_LAMBDA || p.volLambda > MAX_VOL_LAMBDA) {
            revert VolLambdaOutOfRange(p.volLambda);
        }
        uint32 heartbeatInterval = uint32(
            Math.min(
                Math.ceilDiv(
                    uint256(p.maxStaleness) * VOL_INTERVAL_STALENESS_NUM, VOL_INTERVAL_STALENESS_DEN
                ),
                MAX_VOL_INTERVAL
            )
        );
        if (p.volInterval < heartbeatInterval) {
            revert VolIntervalBelowHeartbeat(p.volInterval, heartbeatInterval);
        }
        if (p.volStaleAfter < p.volInterval || p.volStaleAfter > MAX_VOL_STALE_AFTER) {
            revert VolStaleAfterOutOfRange(p.volStaleAfter);
        }
        if (p.volMaxSampleRise < MIN_VOL_MAX_SAMPLE_RISE || p.volMaxSampleRise > MAX_VOL_MAX_SAMPLE_RISE) {
            revert VolMaxSampleRiseOutOfRange(p.volMaxSampleRise);
        }
        if (
            p.volMaxRisePerHour < MIN_VOL_MAX_RISE_PER_HOUR || p.volMaxRisePerHour > MAX_VOL_MAX_RISE_PER_HOUR
        ) {
            revert VolMaxRisePerHourOutOfRange(p.volMaxRisePerHour);
        }
    }

    function _validateStaleness(uint32 maxStaleness) internal pure {
        if (maxStaleness < MIN_STALENESS || maxStaleness > MAX_STALENESS) {
            revert MaxStalenessOutOfRange(maxStaleness);
        }
    }

    function _readTokenDecimals(address asset) internal view returns (uint8 decimals) {
        bool ok;
        (ok, decimals) = FeedReader.decimals(asset);
        if (!ok) revert TokenDecimalsUnreadable(asset);
        if (decimals > MAX_DECIMALS) revert TokenDecimalsTooHigh(asset, decimals);
    }

    function _readFeedDecimals(address feed) internal view returns (uint8 decimals) {
        bool ok;
        (ok, decimals) = FeedReader.decimals(feed);
        if (!ok) revert FeedDecimalsUnreadable(feed);
        if (decimals > MAX_DECIMALS) revert FeedDecimalsTooHigh(feed, decimals);
    }
}
