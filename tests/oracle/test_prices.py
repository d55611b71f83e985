"""Price reads: every check's custom error, the fallback feed, the deviation check, values."""

import ape
import pytest

from solvent.model import oracle_math

from .conftest import ETH_PRICE, WAD, ZERO_ADDRESS, advance, asset_params

ETH_WAD = 2_000 * WAD


@pytest.fixture(scope="module")
def solo(project, adapter, deployer):
    """An asset listed with a primary feed only."""
    token = deployer.deploy(project.MockERC20, "Solo", "SOLO", 6)
    feed = deployer.deploy(project.MockAggregator, 8, "SOLO / USD", 100 * 10**8)
    adapter.setAssetConfig(token, asset_params(feed), sender=deployer)
    return token, feed


def test_price_normalizes_8_decimals_to_wad(adapter, listed):
    assert adapter.price(listed) == ETH_WAD


def test_value_rounds_as_asked(adapter, listed, primary, deployer):
    primary.setAnswer(ETH_PRICE + 1, sender=deployer)  # $2000.00000001: values do not divide
    price = adapter.price(listed)
    amount = 3
    down = adapter.value(listed, amount, False)
    up = adapter.value(listed, amount, True)
    assert down == oracle_math.value(amount, price, 18, round_up=False)
    assert up == oracle_math.value(amount, price, 18, round_up=True)
    assert up == down + 1


def test_unknown_asset_reverts(adapter, stranger):
    for read in (
        lambda: adapter.price(stranger),
        lambda: adapter.value(stranger, 1, False),
        lambda: adapter.riskIncreaseAllowed(stranger),
        lambda: adapter.volatility(stranger),
        lambda: adapter.sigma(stranger),
    ):
        with ape.reverts(adapter.UnknownAsset):
            read()
    with ape.reverts(adapter.UnknownAsset):
        adapter.poke(stranger, sender=stranger)


@pytest.mark.parametrize("answer", [0, -1, -(2**255)])
def test_non_positive_answer_reverts(adapter, solo, deployer, answer):
    token, feed = solo
    feed.setAnswer(answer, sender=deployer)
    with ape.reverts(adapter.NonPositiveAnswer):
        adapter.price(token)


def test_updated_at_zero_reverts(adapter, solo, deployer):
    token, feed = solo
    feed.setUpdatedAt(0, sender=deployer)
    with ape.reverts(adapter.UpdatedAtZero):
        adapter.price(token)


def test_future_timestamp_reverts(adapter, solo, deployer, chain):
    token, feed = solo
    feed.setUpdatedAt(chain.blocks.head.timestamp + 60, sender=deployer)
    with ape.reverts(adapter.UpdatedAtInFuture):
        adapter.price(token)


def test_stale_price_reverts_one_second_after_max_staleness(adapter, solo, deployer, chain):
    token, feed = solo
    feed.setAnswer(100 * 10**8, sender=deployer)
    updated_at = feed.updatedAt()
    max_staleness = adapter.assetConfig(token).maxStaleness
    chain.mine(timestamp=updated_at + max_staleness)
    assert adapter.price(token) == 100 * WAD
    chain.mine(timestamp=updated_at + max_staleness + 1)
    with ape.reverts(adapter.StalePrice):
        adapter.price(token)


def test_price_bounds_are_inclusive_and_enforced(adapter, solo, deployer):
    token, feed = solo
    config = adapter.assetConfig(token)
    feed.setAnswer(config.minPrice // 10**10, sender=deployer)
    assert adapter.price(token) == config.minPrice
    feed.setAnswer(config.minPrice // 10**10 - 1, sender=deployer)
    with ape.reverts(adapter.PriceBelowMin):
        adapter.price(token)
    feed.setAnswer(config.maxPrice // 10**10, sender=deployer)
    assert adapter.price(token) == config.maxPrice
    feed.setAnswer(config.maxPrice // 10**10 + 1, sender=deployer)
    with ape.reverts(adapter.PriceAboveMax):
        adapter.price(token)


def test_absurd_answer_saturates_into_the_max_check(adapter, solo, deployer):
    token, feed = solo
    feed.setAnswer(2**255 - 1, sender=deployer)
    with ape.reverts(adapter.PriceAboveMax):
        adapter.price(token)


@pytest.mark.parametrize("breakage", ["revert", "malformed"])
def test_broken_primary_without_secondary_reverts_unavailable(adapter, solo, deployer, breakage):
    token, feed = solo
    if breakage == "revert":
        feed.setReverting(True, sender=deployer)
    else:
        feed.setMalformed(True, sender=deployer)
    with ape.reverts(adapter.FeedUnavailable):
        adapter.price(token)


# FeedFailure codes in the SecondaryFeedUsed event: 1 Unavailable, 2 NonPositiveAnswer, 5 Stale.
@pytest.mark.parametrize(
    ("breakage", "failure_code"), [("revert", 1), ("malformed", 1), ("zero", 2), ("stale", 5)]
)
def test_secondary_used_when_primary_fails(
    adapter, listed, primary, secondary, deployer, keeper, chain, breakage, failure_code
):
    secondary.setAnswer(1_990 * 10**8, sender=deployer)
    if breakage == "revert":
        primary.setReverting(True, sender=deployer)
    elif breakage == "malformed":
        primary.setMalformed(True, sender=deployer)
    elif breakage == "zero":
        primary.setAnswer(0, sender=deployer)
    else:
        primary.setUpdatedAt(chain.blocks.head.timestamp - 5_000, sender=deployer)
    assert adapter.price(listed) == 1_990 * WAD
    assert adapter.value(listed, WAD, False) == 1_990 * WAD

    tx = adapter.poke(listed, sender=keeper)
    events = tx.events.filter(adapter.SecondaryFeedUsed)
    assert len(events) == 1
    assert events[0].asset == listed
    assert events[0].primaryFeed == primary
    assert events[0].primaryFailure == failure_code
    assert events[0].priceWad == 1_990 * WAD


def test_no_event_when_primary_is_used(adapter, listed, keeper):
    tx = adapter.poke(listed, sender=keeper)
    assert not tx.events.filter(adapter.SecondaryFeedUsed)


def test_primary_failure_is_reported_when_secondary_also_fails(
    adapter, listed, primary, secondary, deployer
):
    primary.setReverting(True, sender=deployer)
    secondary.setAnswer(-5, sender=deployer)
    with ape.reverts(adapter.FeedUnavailable):
        adapter.price(listed)
    with ape.reverts(adapter.FeedUnavailable):
        adapter.poke(listed, sender=deployer)  # nothing to record: the keeper's poke reverts too
    primary.setReverting(False, sender=deployer)
    primary.setAnswer(0, sender=deployer)
    with ape.reverts(adapter.NonPositiveAnswer):
        adapter.price(listed)
    with ape.reverts(adapter.NonPositiveAnswer):
        adapter.value(listed, WAD, True)


def test_failing_secondary_does_not_block_a_valid_primary(adapter, listed, secondary, deployer):
    secondary.setReverting(True, sender=deployer)
    assert adapter.price(listed) == ETH_WAD


def test_each_feed_has_its_own_staleness(adapter, listed, primary, secondary, deployer, chain):
    # A 24 h-heartbeat secondary next to a 1 h-heartbeat primary.
    params = asset_params(primary, secondaryFeed=secondary, secondaryMaxStaleness=90_000)
    adapter.setAssetConfig(listed, params, sender=deployer)
    secondary.setAnswer(1_999 * 10**8, sender=deployer)
    assert adapter.price(listed) == ETH_WAD  # both fresh: the primary
    advance(chain, 5_000)
    assert (
        adapter.price(listed) == 1_999 * WAD
    )  # primary stale (> 4,200 s), secondary within 90,000 s

    # The other way round: a stale secondary neither serves nor blocks (no deviation check).
    params = asset_params(primary, secondaryFeed=secondary, secondaryMaxStaleness=600)
    adapter.setAssetConfig(listed, params, sender=deployer)
    secondary.setAnswer(ETH_PRICE * 2, sender=deployer)
    primary.setAnswer(ETH_PRICE, sender=deployer)
    with ape.reverts(adapter.PriceDeviation):
        adapter.price(listed)
    advance(chain, 601)
    assert adapter.price(listed) == ETH_WAD


def test_deviation_between_valid_feeds_reverts(adapter, listed, secondary, deployer):
    max_bps = adapter.assetConfig(listed).maxDeviationBps
    # Measured against the smaller price: 2000 * (1 + 2%) = 2040 is exactly at the limit.
    at_limit = ETH_PRICE * (10_000 + max_bps) // 10_000
    secondary.setAnswer(at_limit, sender=deployer)
    assert adapter.price(listed) == ETH_WAD
    secondary.setAnswer(at_limit + 1, sender=deployer)
    with ape.reverts(adapter.PriceDeviation):
        adapter.price(listed)
    # Symmetric: the secondary below the primary by the same relative gap.
    below = ETH_PRICE * 10_000 // (10_000 + max_bps) - 1
    secondary.setAnswer(below, sender=deployer)
    with ape.reverts(adapter.PriceDeviation):
        adapter.price(listed)
    assert not oracle_math.within_deviation(ETH_PRICE, below, max_bps)


def test_removing_the_secondary_skips_the_deviation_check(
    adapter, listed, primary, secondary, deployer
):
    secondary.setAnswer(ETH_PRICE * 2, sender=deployer)
    with ape.reverts(adapter.PriceDeviation):
        adapter.price(listed)
    adapter.setAssetConfig(
        listed, asset_params(primary, secondaryFeed=ZERO_ADDRESS), sender=deployer
    )
    assert adapter.price(listed) == ETH_WAD


def test_price_reads_survive_time_with_fresh_feeds(
    adapter, listed, primary, secondary, deployer, chain
):
    advance(chain, 10_000)
    primary.setAnswer(ETH_PRICE, sender=deployer)
    secondary.setAnswer(ETH_PRICE, sender=deployer)
    assert adapter.price(listed) == ETH_WAD
