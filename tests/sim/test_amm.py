"""The simulator's exchange: MockAmm equals solvent/sim/amm.py on exact integers, refuses bad
inputs by name, and the keepers' sizing rule (the largest amount that sells at a profit) holds."""

from __future__ import annotations

import ape
import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.sim import amm
from solvent.sim.keepers import by_bid

WAD = 10**18
USDC = 10**6


@pytest.fixture(scope="module")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="module")
def seller(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def quote(project, deployer):
    return deployer.deploy(project.MockERC20, "USD Coin", "USDC", 6)


@pytest.fixture(scope="module")
def weth(project, deployer):
    return deployer.deploy(project.MockERC20, "Wrapped Ether", "WETH", 18)


@pytest.fixture(scope="module")
def exchange(project, deployer, quote):
    exchange = deployer.deploy(project.MockAmm, quote, 30)
    quote.mint(exchange, 10**9 * USDC, sender=deployer)
    return exchange


def _pool(exchange, token) -> amm.Pool:
    reserves = exchange.pools(token)
    return amm.Pool(reserves.tokenReserve, reserves.quoteReserve)


def test_fee_of_100_percent_refused(project, deployer, quote):
    # The constructor's revert is read from a plain eth_call of the deployment: ape decodes a
    # constructor's custom error only on the session's first provider (the market keepers' test
    # runs an Anvil of its own before this module).
    code = project.MockAmm.contract_type.deployment_bytecode.bytecode
    args = abi_encode(["address", "uint256"], [quote.address, 10_000]).hex()
    selector = keccak(text="FeeTooHigh(uint256)")[:4].hex()
    with pytest.raises(Exception) as refused:
        ape.chain.provider.web3.eth.call({"from": deployer.address, "data": code + args})
    assert selector in repr(refused.value)
    assert deployer.deploy(project.MockAmm, quote, 9_999).feeBps() == 9_999


def test_sales_equal_the_model(exchange, quote, weth, deployer, seller):
    scale = amm.scale(18, 6)
    exchange.sync(weth, 2_000 * WAD, 1_000_000 * USDC, sender=deployer)
    pool = _pool(exchange, weth)
    assert pool == amm.synced(2_000 * WAD, 1_000_000 * USDC, scale)
    weth.mint(seller, 300 * WAD, sender=deployer)
    weth.approve(exchange, 2**256 - 1, sender=seller)
    for amount in (WAD // 3, 10 * WAD, 100 * WAD):
        expected = amm.quote_out(pool, amount, 30)
        assert exchange.quoteOut(weth, amount) == expected
        before = quote.balanceOf(seller)
        sale = (weth, quote, 0, seller, amount, expected, 0)
        exchange.exactInputSingle(sale, sender=seller)
        assert quote.balanceOf(seller) - before == expected
        pool = amm.after_sale(pool, amount, 30)
        assert _pool(exchange, weth) == pool
    # a large sale pays less per unit: the slippage keepers face (100 ETH into a $1M pool)
    assert amm.quote_out(pool, WAD, 30) < 2_000 * USDC * 9 // 10


def test_bad_sales_refused(exchange, quote, weth, deployer, seller, project):
    other = deployer.deploy(project.MockERC20, "Other", "OTH", 18)
    with ape.reverts(exchange.PoolNotSynced, token=other.address):
        exchange.quoteOut(other, WAD)
    with ape.reverts(exchange.WrongOutputToken, token=weth.address):
        exchange.exactInputSingle((weth, weth, 0, seller, WAD, 0, 0), sender=seller)
    exchange.sync(weth, 2_000 * WAD, 1_000_000 * USDC, sender=deployer)
    out = exchange.quoteOut(weth, WAD)
    balance = weth.balanceOf(seller)
    with ape.reverts(exchange.TooLittleReceived, out=out, minOut=out + 1):
        exchange.exactInputSingle((weth, quote, 0, seller, WAD, out + 1, 0), sender=seller)
    assert weth.balanceOf(seller) == balance


@settings(max_examples=200, deadline=None)
@given(
    depth=st.integers(10_000 * USDC, 10**8 * USDC),
    price=st.integers(100 * WAD, 100_000 * WAD),
    discount=st.integers(1, 3_000),  # the auction price below the market, bps
    margin_bps=st.integers(0, 500),
    limit=st.integers(0, 10**6 * WAD),
)
def test_largest_profitable_amount_is_the_boundary(depth, price, discount, margin_bps, limit):
    scale = amm.scale(18, 6)
    pool = amm.synced(price, depth, scale)
    auction_price = price * (10_000 - discount) // 10_000
    margin = margin_bps / 10_000
    amount = amm.largest_profitable_amount(pool, 30, auction_price, scale, margin, limit)
    assert 0 <= amount <= limit

    def pays(a: int) -> bool:
        cost = -(-a * auction_price // scale)
        return amm.quote_out(pool, a, 30) * 10_000 >= cost * round(10_000 * (1 + margin))

    if amount:
        assert pays(amount)
    if amount < limit:
        assert not pays(amount + 1)


def test_blocks_order_keepers_by_bid():
    a, b, c = (object() for _ in range(3))
    # bids 1, 3, 3: the two 3s first in the keepers' order, then the 1
    assert by_bid([(1.0, [a]), (3.0, [b]), (3.0, [c, a])]) == [b, c, a, a]
