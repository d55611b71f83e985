"""Prices and values: feeds with 6/8/18 decimals x tokens with 6/8/18 decimals vs the model."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.model import oracle_math

from .conftest import asset_params

DECIMALS = (6, 8, 18)
MAX_PRICE = 10**38  # the largest power of ten below 2^128 (a bound is a 40-bit mantissa x 10^e)


@pytest.fixture(scope="module")
def tokens(project, deployer):
    return {d: deployer.deploy(project.MockERC20, f"Token{d}", f"T{d}", d) for d in DECIMALS}


@pytest.fixture(scope="module")
def feeds(project, deployer):
    return {d: deployer.deploy(project.MockAggregator, d, f"FEED{d} / USD", 1) for d in DECIMALS}


@st.composite
def cases(draw):
    feed_decimals = draw(st.sampled_from(DECIMALS))
    token_decimals = draw(st.sampled_from(DECIMALS))
    max_answer = MAX_PRICE // 10 ** (18 - feed_decimals)
    answer = draw(st.one_of(st.integers(1, max_answer), st.integers(1, 10**12)))
    amount = draw(st.one_of(st.integers(0, 2**128), st.integers(1, 10**6)))
    return feed_decimals, token_decimals, answer, amount


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases())
def test_price_and_value_match_reference(adapter, tokens, feeds, deployer, chain, case):
    feed_decimals, token_decimals, answer, amount = case
    token, feed = tokens[token_decimals], feeds[feed_decimals]
    with chain.isolate():
        feed.setAnswer(answer, sender=deployer)
        params = asset_params(feed, minPrice=1, maxPrice=MAX_PRICE)
        adapter.setAssetConfig(token, params, sender=deployer)
        expected_price = oracle_math.normalize(answer, feed_decimals)
        assert adapter.price(token) == expected_price
        for round_up in (False, True):
            expected = oracle_math.value(amount, expected_price, token_decimals, round_up)
            assert adapter.value(token, amount, round_up) == expected
