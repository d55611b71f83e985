"""OrderMath == solvent/model/orders.py to the wei: the skew-premium fill price (rounded against
the trader: a buy up, a sell down), the maker/taker split of a fill and its fee, and the commit
pre-check's margin, on random inputs (Hypothesis) and on worked examples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.model import orders as model

WAD = 10**18
SKEW_SCALE = 350_000 * WAD  # Synthetix Base ETH

price = st.integers(min_value=1, max_value=10**9 * WAD)
size = st.integers(min_value=-(2**95), max_value=2**95).filter(lambda s: s != 0)
skew = st.integers(min_value=-(2**110), max_value=2**110)
skew_scale = st.one_of(st.just(0), st.integers(min_value=1, max_value=2**110))
rate = st.integers(min_value=0, max_value=10**16)


@pytest.fixture(scope="module")
def harness(project, deployer):
    return deployer.deploy(project.OrderMathHarness)


@settings(max_examples=300, deadline=None)
@given(oracle=price, skew_=skew, scale=skew_scale, delta=size)
def test_fill_price_matches_the_model(harness, oracle, skew_, scale, delta):
    ok, fill = harness.fillPrice(oracle, skew_, scale, delta)
    expected = model.fill_price(oracle, skew_, scale, delta)
    assert ok == (expected is not None)
    if expected is not None:
        assert fill == expected


@settings(max_examples=300, deadline=None)
@given(skew_=skew, delta=size, fill=price, maker=rate, taker=rate)
def test_trade_fee_matches_the_model(harness, skew_, delta, fill, maker, taker):
    assert tuple(harness.makerTakerSizes(skew_, delta)) == model.maker_taker_sizes(skew_, delta)
    assert harness.tradeFee(skew_, delta, fill, maker, taker) == model.trade_fee(
        skew_, delta, fill, maker, taker
    )


@settings(max_examples=100, deadline=None)
@given(
    size_=st.integers(min_value=1, max_value=2**95),
    ref=price,
    bps=st.integers(min_value=100, max_value=10_000),
    taker=rate,
    fee=st.integers(min_value=0, max_value=100 * 10**6),
)
def test_commit_margin_matches_the_model(harness, size_, ref, bps, taker, fee):
    assert harness.commitMargin(size_, ref, bps, taker, fee) == model.commit_margin(
        size_, ref, bps, taker, fee
    )


def test_worked_example_premium_and_rounding():
    """A 4,900 ETH buy on a flat book at $2,000 with skewScale 350,000: premium (0 + 2,450) /
    350,000 = 0.7%, fill $2,014; the same sell fills at $1,986."""
    assert model.fill_price(2_000 * WAD, 0, SKEW_SCALE, 4_900 * WAD) == 2_014 * WAD
    assert model.fill_price(2_000 * WAD, 0, SKEW_SCALE, -4_900 * WAD) == 1_986 * WAD
    # One wei of size on an odd price: the buy rounds up, the sell down.
    up = model.fill_price(3, 0, 7, 1)  # 3 * 15 / 14 = 3.21...
    down = model.fill_price(3, 0, 7, -1)  # 3 * 13 / 14 = 2.78...
    assert (up, down) == (4, 2)
    # A sell so large that the premium takes the price below zero is not priceable.
    assert model.fill_price(2_000 * WAD, 0, SKEW_SCALE, -2 * SKEW_SCALE) is None


def test_worked_example_crossing_fill_pays_each_part_at_its_rate():
    """Skew +1,000 ETH; a 3,000 ETH sell at $2,000: 1,000 ETH reduce the skew (maker 2 bps: $400),
    2,000 ETH open it on the short side (taker 5 bps: $2,000)."""
    assert model.maker_taker_sizes(1_000 * WAD, -3_000 * WAD) == (1_000 * WAD, 2_000 * WAD)
    fee = model.trade_fee(1_000 * WAD, -3_000 * WAD, 2_000 * WAD, 2 * 10**14, 5 * 10**14)
    assert fee == 2_400 * 10**6
    # With the skew: all taker.
    assert model.maker_taker_sizes(1_000 * WAD, 3_000 * WAD) == (0, 3_000 * WAD)
