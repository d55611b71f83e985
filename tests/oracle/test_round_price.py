"""OracleAdapter.roundPrice: the price that settles an order is the first round of the primary
feed at or after the target time (its predecessor earlier), across phase changes of a Chainlink
proxy (round id = phaseId << 64 | aggregatorRoundId), validated like every other price."""

from __future__ import annotations

import ape
import pytest

from solvent.model.orders import determining_round, round_id

from .conftest import ETH_PRICE, WAD, advance, asset_params

PHASE = 1 << 64


@pytest.fixture
def rounds(chain, primary, deployer):
    """Four rounds 100 s apart after the constructor's round 1; returns [(id, updatedAt)]."""
    history = [(1, int(primary.updatedAt()))]
    for step in range(4):
        advance(chain, 100)
        primary.setAnswer(ETH_PRICE + (step + 1) * 10**8, sender=deployer)
        history.append((int(primary.roundId()), int(primary.updatedAt())))
    return history


def test_mock_keeps_every_round_and_its_old_api(primary, rounds, deployer):
    assert [rid for rid, _ in rounds] == [1, 2, 3, 4, 5]  # phase 0: ids as before
    for rid, updated in rounds:
        data = primary.getRoundData(rid)
        assert data[0] == rid and data[3] == updated
    assert primary.getRoundData(3)[1] == ETH_PRICE + 2 * 10**8
    with ape.reverts(primary.NoDataPresent):
        primary.getRoundData(6)
    primary.setUpdatedAt(rounds[-1][1] + 1, sender=deployer)
    assert primary.getRoundData(5)[3] == rounds[-1][1] + 1


def test_the_first_round_at_or_after_the_target_settles(adapter, listed, primary, rounds):
    target = rounds[2][1] - 50  # between rounds 2 and 3
    assert determining_round(rounds, target) == 3
    assert adapter.roundPrice(listed, 3, target)[0] == (ETH_PRICE + 2 * 10**8) * 10**10
    # With the round's time: the round determines every target up to it (a batch's range).
    assert adapter.roundPrice(listed, 3, target)[1] == rounds[2][1]
    # Exactly at a round's time: that round.
    assert adapter.roundPrice(listed, 3, rounds[2][1])[0] == (ETH_PRICE + 2 * 10**8) * 10**10


def test_any_other_round_is_refused(adapter, listed, primary, rounds):
    target = rounds[2][1] - 50
    with ape.reverts(adapter.RoundBeforeTarget, roundId=2):
        adapter.roundPrice(listed, 2, target)
    with ape.reverts(adapter.NotFirstRound, roundId=4, predecessor=3):
        adapter.roundPrice(listed, 4, target)
    with ape.reverts(adapter.NotFirstRound, roundId=5, predecessor=4):
        adapter.roundPrice(listed, 5, target)
    with ape.reverts(adapter.RoundUnavailable, roundId=9):
        adapter.roundPrice(listed, 9, target)


def test_across_a_phase_change(chain, adapter, listed, primary, rounds, deployer):
    """Phase 1's first round's predecessor is phase 0's last round."""
    primary.startNewPhase(sender=deployer)
    advance(chain, 100)
    primary.setAnswer(ETH_PRICE, sender=deployer)
    first = int(primary.roundId())
    assert first == round_id(1, 1) == PHASE | 1
    advance(chain, 100)
    primary.setAnswer(ETH_PRICE, sender=deployer)
    second = int(primary.roundId())
    assert second == PHASE | 2
    first_time = int(primary.getRoundData(first)[3])

    # Target after phase 0's last round: phase 1's round 1 settles, nothing else.
    target = first_time - 10
    assert adapter.roundPrice(listed, first, target)[0] == ETH_PRICE * 10**10
    with ape.reverts(adapter.NotFirstRound, predecessor=first):
        adapter.roundPrice(listed, second, target)
    # Target before phase 0's last round: that round, not phase 1's first.
    target = rounds[-1][1] - 10
    with ape.reverts(adapter.NotFirstRound, roundId=first, predecessor=5):
        adapter.roundPrice(listed, first, target)
    assert adapter.roundPrice(listed, 5, target)[0] == (ETH_PRICE + 4 * 10**8) * 10**10
    with ape.reverts(adapter.NotFirstRound, roundId=second):
        adapter.roundPrice(listed, second, target)


def test_a_phase_that_never_published_is_skipped(chain, adapter, listed, primary, rounds, deployer):
    primary.startNewPhase(sender=deployer)
    primary.startNewPhase(sender=deployer)  # phase 1 never published
    advance(chain, 100)
    primary.setAnswer(ETH_PRICE, sender=deployer)
    first = int(primary.roundId())
    assert first == round_id(2, 1)
    with ape.reverts(adapter.NotFirstRound, roundId=first, predecessor=5):
        adapter.roundPrice(listed, first, rounds[-1][1])
    assert adapter.roundPrice(listed, first, rounds[-1][1] + 1)[0] == ETH_PRICE * 10**10


def test_validation_still_applies(chain, adapter, listed, primary, secondary, deployer):
    advance(chain, 100)
    target = int(chain.pending_timestamp)
    primary.setAnswer(5 * 10**8, sender=deployer)  # $5 < minPrice $10
    rid = int(primary.roundId())
    with ape.reverts(adapter.PriceBelowMin):
        adapter.roundPrice(listed, rid, target)
    advance(chain, 1)
    primary.setAnswer(0, sender=deployer)
    with ape.reverts(adapter.NonPositiveAnswer):
        adapter.roundPrice(listed, rid + 1, target + 1)
    advance(chain, 1)
    primary.setAnswer(ETH_PRICE * 110 // 100, sender=deployer)  # 10% from the fresh secondary
    secondary.setAnswer(ETH_PRICE, sender=deployer)
    with ape.reverts(adapter.PriceDeviation):
        adapter.roundPrice(listed, rid + 2, target + 2)
    with ape.reverts(adapter.UnknownAsset):
        adapter.roundPrice(primary, rid + 2, target + 2)


def test_decimals_are_normalized(chain, project, adapter, weth, deployer):
    feed = deployer.deploy(project.MockAggregator, 18, "ETH / USD 18", 2_000 * WAD)
    adapter.setAssetConfig(weth, asset_params(feed), sender=deployer)
    assert adapter.roundPrice(weth, 1, int(feed.updatedAt()))[0] == 2_000 * WAD
