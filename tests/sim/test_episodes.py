"""Breach episodes: an account's latency counts from the start of its current breach, not its
first breach ever (an account that recovers and breaches again starts afresh)."""

from solvent.sim.episodes import LIQUIDATED, OPEN, RECOVERED, BreachEpisodes, Episode


def test_a_recovered_account_that_breaches_again_counts_from_the_new_breach():
    episodes = BreachEpisodes()
    episodes.observe(3, [7])
    episodes.observe(4, [7])
    episodes.observe(5, [])  # recovered
    assert episodes.open == {}
    episodes.observe(40, [7])
    assert episodes.open == {7: 40}  # what keepers count their latency from
    liquidated = episodes.liquidated(42, 7)
    assert liquidated == Episode(7, 40, 42, LIQUIDATED)
    assert liquidated.blocks == 2  # not 39, from the first breach
    assert episodes.all() == [Episode(7, 3, 5, RECOVERED), Episode(7, 40, 42, LIQUIDATED)]
    assert episodes.all()[0].blocks is None


def test_an_account_still_liquidatable_after_a_liquidation_starts_a_new_episode():
    episodes = BreachEpisodes()
    episodes.observe(1, [2, 9])
    assert episodes.liquidated(2, 2).blocks == 1
    assert episodes.liquidated(2, 2) is None  # a second liquidation in the same block
    episodes.observe(2, [2, 9])  # partly liquidated, still below maintenance
    assert episodes.open == {9: 1, 2: 2}
    assert episodes.liquidated(5, 2).blocks == 3
    assert episodes.all() == [
        Episode(2, 1, 2, LIQUIDATED),
        Episode(2, 2, 5, LIQUIDATED),
        Episode(9, 1, None, OPEN),
    ]
