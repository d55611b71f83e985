"""Governance: role checks, every bound, decimals read at config time, events."""

import ape
import pytest
from eth_utils import keccak

from solvent.model import oracle_math

from .conftest import WAD, ZERO_ADDRESS, asset_params


def _slots(adapter, listed, chain, mapping_slot, count):
    base = int.from_bytes(
        keccak(bytes.fromhex(listed.address[2:].rjust(64, "0")) + mapping_slot.to_bytes(32))
    )
    return [
        int.from_bytes(chain.provider.get_storage(adapter.address, base + i)) for i in range(count)
    ]


def _price_field(mantissa, exponent):
    return mantissa | exponent << 33


def test_price_config_fits_two_storage_slots(adapter, listed, primary, secondary, chain):
    # Layout: AccessControl._roles (0), sequencer (1), _configs (2), _volParams (3), _states (4).
    slots = _slots(adapter, listed, chain, 2, 3)
    config = adapter.assetConfig(listed)
    assert slots[0] == (
        int(primary.address, 16)
        | config.maxStaleness << 160
        | config.secondaryMaxStaleness << 178
        | config.maxDeviationBps << 196
        | config.primaryDecimals << 207
        | config.secondaryDecimals << 212
        | config.tokenDecimals << 217
        | config.breakerThresholdBps << 222
        | config.breakerWindow << 235
    )
    assert (config.breakerThresholdBps, config.breakerWindow, config.breakerCooldown) == (
        1_000,
        3_600,
        1_800,
    )
    # minPrice $10 = 10^19 wei, maxPrice $1M = 10^24 wei: trailing zeros move into the exponent
    # only until the mantissa is below 2^33 (8.59e9).
    assert (config.minPrice, config.maxPrice) == (10 * WAD, 10**6 * WAD)
    assert slots[1] == (
        int(secondary.address, 16)
        | config.breakerCooldown << 160
        | _price_field(10**9, 10) << 177
        | _price_field(10**9, 15) << 216
    )
    assert slots[2] == 0  # nothing beyond the second slot


def test_config_is_stored_with_decimals(adapter, listed, primary, secondary):
    config = adapter.assetConfig(listed)
    assert config.primaryFeed == primary
    assert config.secondaryFeed == secondary
    assert (config.primaryDecimals, config.secondaryDecimals, config.tokenDecimals) == (8, 8, 18)
    assert (config.maxStaleness, config.secondaryMaxStaleness) == (4_200, 4_200)
    vol = adapter.volatilityParams(listed)
    assert (vol.interval, vol.lambdaWad, vol.staleAfter) == (3_600, 94 * 10**16, 10_800)
    assert vol.maxSampleRise == 25 * 10**16
    margin = adapter.marginSigma(listed)
    assert margin.maxRisePerHour == 25 * 10**16
    assert margin.since != 0  # the listing marks the asset as known to `sigma`
    assert (margin.fromSigma, margin.targetSigma) == (0, 0)
    assert adapter.sigma(listed) == 0


def test_config_change_emits_event(adapter, weth, primary, deployer):
    daily = {"maxStaleness": 90_000, "volInterval": 72_000, "volStaleAfter": 216_000}
    tx = adapter.setAssetConfig(weth, asset_params(primary, **daily), sender=deployer)
    events = tx.events.filter(adapter.AssetConfigured)
    assert len(events) == 1
    assert events[0].asset == weth
    assert list(events[0].params) == list(asset_params(primary, **daily))
    assert events[0].tokenDecimals == 18
    assert events[0].primaryDecimals == 8
    assert adapter.assetConfig(weth).maxStaleness == 90_000


def test_unauthorized_changes_revert(adapter, listed, primary, stranger):
    with ape.reverts(adapter.AccessControlUnauthorizedAccount):
        adapter.setAssetConfig(listed, asset_params(primary), sender=stranger)
    with ape.reverts(adapter.AccessControlUnauthorizedAccount):
        adapter.seedVolatility(listed, WAD, sender=stranger)
    with ape.reverts(adapter.AccessControlUnauthorizedAccount):
        adapter.setSequencer(ZERO_ADDRESS, 3_600, sender=stranger)


def test_governor_role_can_be_granted(adapter, listed, primary, deployer, stranger):
    adapter.grantRole(adapter.GOVERNOR_ROLE(), stranger, sender=deployer)
    adapter.setAssetConfig(listed, asset_params(primary, maxStaleness=120), sender=stranger)
    assert adapter.assetConfig(listed).maxStaleness == 120


SECONDARY = "secondary feed"  # replaced by the fixture in the test

OUT_OF_RANGE = [
    ("MaxStalenessOutOfRange", {"maxStaleness": 59}),
    ("MaxStalenessOutOfRange", {"maxStaleness": 72 * 3600 + 1}),
    ("MaxStalenessOutOfRange", {"secondaryFeed": SECONDARY, "secondaryMaxStaleness": 59}),
    (
        "MaxStalenessOutOfRange",
        {"secondaryFeed": SECONDARY, "secondaryMaxStaleness": 72 * 3600 + 1},
    ),
    ("MaxDeviationOutOfRange", {"maxDeviationBps": 9}),
    ("MaxDeviationOutOfRange", {"maxDeviationBps": 2_001}),
    ("InvalidPriceBounds", {"minPrice": 0}),
    ("InvalidPriceBounds", {"minPrice": 5 * WAD, "maxPrice": 5 * WAD}),
    ("InvalidPriceBounds", {"minPrice": 6 * WAD, "maxPrice": 5 * WAD}),
    ("BreakerThresholdOutOfRange", {"breakerThresholdBps": 99}),
    ("BreakerThresholdOutOfRange", {"breakerThresholdBps": 5_001}),
    ("BreakerWindowOutOfRange", {"breakerWindow": 59}),
    ("BreakerWindowOutOfRange", {"breakerWindow": 86_401}),
    ("BreakerCooldownOutOfRange", {"breakerCooldown": 59}),
    ("BreakerCooldownOutOfRange", {"breakerCooldown": 86_401}),
    ("VolIntervalOutOfRange", {"volInterval": 59}),
    ("VolIntervalOutOfRange", {"volInterval": 86_401, "volStaleAfter": 100_000}),
    ("VolLambdaOutOfRange", {"volLambda": 5 * 10**17 - 1}),
    ("VolLambdaOutOfRange", {"volLambda": 9_999 * 10**14 + 1}),
    ("VolStaleAfterOutOfRange", {"maxStaleness": 600, "volInterval": 600, "volStaleAfter": 599}),
    ("VolStaleAfterOutOfRange", {"volStaleAfter": 7 * 86_400 + 1}),
    # maxStaleness 4,200 s: samples at least 3,360 s apart (4/5 of it).
    ("VolIntervalBelowHeartbeat", {"volInterval": 3_359}),
    ("VolIntervalBelowHeartbeat", {"maxStaleness": 72 * 3600, "volInterval": 86_399}),
    ("VolMaxSampleRiseOutOfRange", {"volMaxSampleRise": 10**16 - 1}),
    ("VolMaxSampleRiseOutOfRange", {"volMaxSampleRise": 2 * WAD + 1}),
    ("VolMaxRisePerHourOutOfRange", {"volMaxRisePerHour": 10**16 - 1}),
    ("VolMaxRisePerHourOutOfRange", {"volMaxRisePerHour": WAD + 1}),
]


@pytest.mark.parametrize(("error", "overrides"), OUT_OF_RANGE)
def test_out_of_range_config_reverts(adapter, weth, primary, secondary, deployer, error, overrides):
    if overrides.get("secondaryFeed") == SECONDARY:
        overrides = {**overrides, "secondaryFeed": secondary}
    with ape.reverts(getattr(adapter, error)):
        adapter.setAssetConfig(weth, asset_params(primary, **overrides), sender=deployer)


def test_secondary_staleness_is_ignored_without_a_secondary(adapter, weth, primary, deployer):
    params = asset_params(primary, secondaryFeed=ZERO_ADDRESS, secondaryMaxStaleness=0)
    adapter.setAssetConfig(weth, params, sender=deployer)
    assert adapter.assetConfig(weth).secondaryMaxStaleness == 0


def test_bounds_themselves_are_accepted(adapter, weth, primary, deployer):
    low = {
        "maxStaleness": 60,
        "maxDeviationBps": 10,
        "minPrice": 1,
        "maxPrice": 2,
        "breakerThresholdBps": 100,
        "breakerWindow": 60,
        "breakerCooldown": 60,
        "volInterval": 60,
        "volLambda": 5 * 10**17,
        "volStaleAfter": 60,
        "volMaxSampleRise": 10**16,
        "volMaxRisePerHour": 10**16,
    }
    high = {
        "maxStaleness": 72 * 3600,
        "maxDeviationBps": 2_000,
        "minPrice": 2**33 - 1,  # the largest mantissa, exponent 0
        "maxPrice": (2**33 - 1) * 10**28,  # the same at exponent 28: 8.6e37 < 2^128
        "breakerThresholdBps": 5_000,
        "breakerWindow": 86_400,
        "breakerCooldown": 86_400,
        "volInterval": 86_400,
        "volLambda": 9_999 * 10**14,
        "volStaleAfter": 7 * 86_400,
        "volMaxSampleRise": 2 * WAD,
        "volMaxRisePerHour": WAD,
    }
    heartbeat = {"maxStaleness": 4_200, "volInterval": 3_360}  # exactly 4/5
    for overrides in (low, high, heartbeat):
        adapter.setAssetConfig(weth, asset_params(primary, **overrides), sender=deployer)
        config = adapter.assetConfig(weth)
        assert config.maxStaleness == overrides["maxStaleness"]
        if "minPrice" in overrides:
            assert (config.minPrice, config.maxPrice) == (
                overrides["minPrice"],
                overrides["maxPrice"],
            )


@pytest.mark.parametrize(
    ("bound", "price"),
    [
        ("minPrice", 2**33 + 1),  # 10 digits, the last not a zero
        ("minPrice", 2**33),  # 8,589,934,592: ends in 2
        ("maxPrice", 2**128 - 1),
        ("maxPrice", (2**33 + 1) * 10**20),  # trailing zeros, but the mantissa stays >= 2^33
    ],
)
def test_a_price_bound_that_is_not_a_33_bit_mantissa_times_ten_to_a_power_reverts(
    adapter, weth, primary, deployer, bound, price
):
    with ape.reverts(adapter.PriceBoundNotRepresentable, price=price):
        adapter.setAssetConfig(weth, asset_params(primary, **{bound: price}), sender=deployer)


@pytest.mark.parametrize("price", [1, 2**33 - 1, (2**33 - 1) * 10, 123_456_789 * 10**29, 10**37])
def test_a_representable_price_bound_is_stored_exactly(adapter, weth, primary, deployer, price):
    params = asset_params(primary, minPrice=price, maxPrice=10**38)
    adapter.setAssetConfig(weth, params, sender=deployer)
    config = adapter.assetConfig(weth)
    assert (config.minPrice, config.maxPrice) == (price, 10**38)


def test_feed_addresses_are_checked(adapter, weth, primary, deployer, stranger):
    with ape.reverts(adapter.PrimaryFeedZero):
        adapter.setAssetConfig(weth, asset_params(ZERO_ADDRESS), sender=deployer)
    with ape.reverts(adapter.SecondaryEqualsPrimary):
        adapter.setAssetConfig(weth, asset_params(primary, secondaryFeed=primary), sender=deployer)
    with ape.reverts(adapter.FeedDecimalsUnreadable):
        adapter.setAssetConfig(weth, asset_params(stranger), sender=deployer)
    with ape.reverts(adapter.FeedDecimalsUnreadable):
        adapter.setAssetConfig(weth, asset_params(primary, secondaryFeed=stranger), sender=deployer)


def test_feed_with_more_than_18_decimals_is_rejected(adapter, weth, primary, deployer):
    primary.setDecimals(19, sender=deployer)
    with ape.reverts(adapter.FeedDecimalsTooHigh):
        adapter.setAssetConfig(weth, asset_params(primary), sender=deployer)


def test_token_decimals_are_checked(project, adapter, primary, deployer, stranger):
    with ape.reverts(adapter.TokenDecimalsUnreadable):
        adapter.setAssetConfig(stranger, asset_params(primary), sender=deployer)
    odd = deployer.deploy(project.MockERC20, "Odd", "ODD", 19)
    with ape.reverts(adapter.TokenDecimalsTooHigh):
        adapter.setAssetConfig(odd, asset_params(primary), sender=deployer)


def test_seed_volatility_bounds_and_event(adapter, listed, weth, deployer, stranger):
    with ape.reverts(adapter.SeedSigmaOutOfRange):
        adapter.seedVolatility(listed, 10**16 - 1, sender=deployer)
    with ape.reverts(adapter.SeedSigmaOutOfRange):
        adapter.seedVolatility(listed, 10 * WAD + 1, sender=deployer)
    with ape.reverts(adapter.UnknownAsset):
        adapter.seedVolatility(stranger, WAD, sender=deployer)
    tx = adapter.seedVolatility(listed, 8 * 10**17, sender=deployer)
    event = tx.events.filter(adapter.VolatilitySeeded)[0]
    assert event.variancePerSecond == oracle_math.variance_from_sigma(8 * 10**17)
    sigma, stale = adapter.volatility(listed)
    assert sigma == oracle_math.annualized_sigma(oracle_math.variance_from_sigma(8 * 10**17))
    assert 8 * 10**17 <= sigma <= 8 * 10**17 + 10**9
    assert stale  # seeded but never sampled


def test_sequencer_grace_bounds_and_event(adapter, deployer, stranger):
    with ape.reverts(adapter.GracePeriodOutOfRange):
        adapter.setSequencer(stranger, 299, sender=deployer)
    with ape.reverts(adapter.GracePeriodOutOfRange):
        adapter.setSequencer(stranger, 86_401, sender=deployer)
    tx = adapter.setSequencer(stranger, 3_600, sender=deployer)
    event = tx.events.filter(adapter.SequencerConfigured)[0]
    assert (event.feed, event.gracePeriod) == (stranger, 3_600)
    assert adapter.sequencerFeed() == stranger
    assert adapter.gracePeriod() == 3_600
