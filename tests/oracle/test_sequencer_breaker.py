"""L2 sequencer guard and the per-asset price circuit breaker."""

import ape
import pytest

from solvent.model.fixed_point import WAD

from .conftest import ETH_PRICE, advance

GRACE = 3_600


@pytest.fixture(scope="module")
def sequencer(project, adapter, deployer, chain):
    feed = deployer.deploy(project.MockSequencerFeed, chain.blocks.head.timestamp - 10 * GRACE)
    adapter.setSequencer(feed, GRACE, sender=deployer)
    return feed


def refresh(deployer, *feeds, answer=ETH_PRICE):
    for feed in feeds:
        feed.setAnswer(answer, sender=deployer)


# ------------------------------------------------------------------ sequencer


def test_no_sequencer_feed_means_unrestricted(adapter, listed):
    assert adapter.sequencerFeed() == "0x0000000000000000000000000000000000000000"
    assert not adapter.sequencerRestricted()
    assert adapter.riskIncreaseAllowed(listed)


def test_sequencer_up_long_enough_allows_risk(adapter, listed, sequencer):
    assert not adapter.sequencerRestricted()
    assert adapter.riskIncreaseAllowed(listed)


def test_sequencer_down_restricts_but_prices_still_read(
    adapter, listed, sequencer, deployer, chain
):
    sequencer.setStatus(1, chain.blocks.head.timestamp, sender=deployer)
    assert adapter.sequencerRestricted()
    assert not adapter.riskIncreaseAllowed(listed)
    assert adapter.price(listed) == 2_000 * WAD  # liquidations can still price the account


def test_grace_period_after_restart_then_allowed(
    adapter, listed, sequencer, primary, secondary, deployer, chain
):
    restart = chain.blocks.head.timestamp
    sequencer.setStatus(0, restart, sender=deployer)
    chain.mine(timestamp=restart + GRACE)
    assert adapter.sequencerRestricted()  # still within the grace period (inclusive)
    assert not adapter.riskIncreaseAllowed(listed)
    chain.mine(timestamp=restart + GRACE + 1)
    refresh(deployer, primary, secondary)
    assert not adapter.sequencerRestricted()
    assert adapter.riskIncreaseAllowed(listed)


def test_uninitialized_round_is_restricted(adapter, sequencer, deployer):
    sequencer.setStatus(0, 0, sender=deployer)
    assert adapter.sequencerRestricted()


def test_unreadable_sequencer_feed_is_restricted(project, adapter, deployer):
    feed = deployer.deploy(project.MockAggregator, 0, "broken uptime feed", 0)
    feed.setUpdatedAt(1, sender=deployer)
    adapter.setSequencer(feed, GRACE, sender=deployer)
    assert not adapter.sequencerRestricted()  # answer 0, startedAt long ago: up
    feed.setReverting(True, sender=deployer)
    assert adapter.sequencerRestricted()


# ------------------------------------------------------------------ breaker


def test_breaker_trips_on_a_large_move_within_the_window(
    adapter, listed, primary, secondary, deployer, keeper, chain
):
    adapter.poke(listed, sender=keeper)  # anchors the window at $2000
    advance(chain, 600)
    jump = ETH_PRICE * 111 // 100  # +11% > 10% threshold
    refresh(deployer, primary, secondary, answer=jump)
    assert not adapter.riskIncreaseAllowed(listed)  # the view sees the un-poked move already

    tx = adapter.poke(listed, sender=keeper)
    cooldown = adapter.assetConfig(listed).breakerCooldown
    now = chain.blocks.head.timestamp
    events = tx.events.filter(adapter.CircuitBreakerTripped)
    assert len(events) == 1
    assert events[0].anchorPrice == 2_000 * WAD
    assert events[0].priceWad == 2_220 * WAD
    assert events[0].trippedUntil == now + cooldown
    assert adapter.assetState(listed).anchorPrice == 2_220 * WAD  # new level is the reference

    # Tripped: risk increases wait, prices (liquidations, deposits, repayments) keep working.
    assert not adapter.riskIncreaseAllowed(listed)
    assert adapter.price(listed) == 2_220 * WAD
    chain.mine(timestamp=now + cooldown - 1)
    assert not adapter.riskIncreaseAllowed(listed)
    chain.mine(timestamp=now + cooldown)
    assert adapter.riskIncreaseAllowed(listed)


def test_move_below_threshold_does_not_trip(
    adapter, listed, primary, secondary, deployer, keeper, chain
):
    adapter.poke(listed, sender=keeper)
    advance(chain, 60)
    refresh(deployer, primary, secondary, answer=ETH_PRICE * 110 // 100)  # exactly 10%: allowed
    tx = adapter.poke(listed, sender=keeper)
    assert not tx.events.filter(adapter.CircuitBreakerTripped)
    assert adapter.riskIncreaseAllowed(listed)


def test_anchor_cannot_be_walked_by_frequent_pokes(
    adapter, listed, primary, secondary, deployer, keeper, chain
):
    adapter.poke(listed, sender=keeper)
    tripped = False
    answer = ETH_PRICE
    for _ in range(4):  # four +4% steps, each far below the threshold, poked one by one
        advance(chain, 120)
        answer = answer * 104 // 100
        refresh(deployer, primary, secondary, answer=answer)
        tx = adapter.poke(listed, sender=keeper)
        tripped = tripped or bool(tx.events.filter(adapter.CircuitBreakerTripped))
    assert tripped
    assert not adapter.riskIncreaseAllowed(listed)


def test_jump_right_after_the_window_is_compared_with_the_last_price(
    adapter, listed, primary, secondary, deployer, keeper, chain
):
    """The rollover blind spot: the first poke after the window expired used to re-anchor without
    comparing. It is now compared with the last accepted price (view and poke)."""
    adapter.poke(listed, sender=keeper)
    window = adapter.assetConfig(listed).breakerWindow
    advance(chain, window + 1)
    refresh(deployer, primary, secondary, answer=ETH_PRICE * 2)
    assert not adapter.riskIncreaseAllowed(listed)  # the unpoked jump is flagged
    tx = adapter.poke(listed, sender=keeper)
    now = chain.blocks.head.timestamp
    event = tx.events.filter(adapter.CircuitBreakerTripped)[0]
    assert (event.anchorPrice, event.priceWad) == (2_000 * WAD, 4_000 * WAD)
    state = adapter.assetState(listed)
    assert (state.anchorPrice, state.anchorTime, state.lastPrice) == (4_000 * WAD, now, 4_000 * WAD)
    assert state.trippedUntil == now + adapter.assetConfig(listed).breakerCooldown
    assert not adapter.riskIncreaseAllowed(listed)


def test_small_move_after_the_window_re_anchors_without_tripping(
    adapter, listed, primary, secondary, deployer, keeper, chain
):
    adapter.poke(listed, sender=keeper)
    window = adapter.assetConfig(listed).breakerWindow
    advance(chain, window + 1)
    refresh(deployer, primary, secondary, answer=ETH_PRICE * 105 // 100)
    assert adapter.riskIncreaseAllowed(listed)
    tx = adapter.poke(listed, sender=keeper)
    assert not tx.events.filter(adapter.CircuitBreakerTripped)
    state = adapter.assetState(listed)
    assert (state.anchorPrice, state.lastPrice) == (2_100 * WAD, 2_100 * WAD)
    assert state.anchorTime == chain.blocks.head.timestamp


def test_jump_between_two_pokes_of_a_window_trips_even_near_the_anchor(
    adapter, listed, primary, secondary, deployer, keeper, chain
):
    """Anchor $2,000; +8% poked (no trip); then -9%: 1.7% from the anchor but -15.7% from the
    last accepted price, beyond the 10% threshold."""
    adapter.poke(listed, sender=keeper)
    refresh(deployer, primary, secondary, answer=ETH_PRICE * 108 // 100)
    assert not adapter.poke(listed, sender=keeper).events.filter(adapter.CircuitBreakerTripped)
    refresh(deployer, primary, secondary, answer=ETH_PRICE * 91 // 100)
    assert not adapter.riskIncreaseAllowed(listed)
    event = adapter.poke(listed, sender=keeper).events.filter(adapter.CircuitBreakerTripped)[0]
    assert (event.anchorPrice, event.priceWad) == (2_160 * WAD, 1_820 * WAD)


def test_risk_not_allowed_while_no_price_can_be_accepted(
    adapter, listed, primary, secondary, deployer
):
    secondary.setAnswer(ETH_PRICE * 2, sender=deployer)
    with ape.reverts(adapter.PriceDeviation):
        adapter.price(listed)
    assert not adapter.riskIncreaseAllowed(listed)
