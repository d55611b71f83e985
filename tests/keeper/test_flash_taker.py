"""FlashTaker's guards: only its owner takes and sweeps, only the liquidator calls back, and only
for takes it started itself; no zero address at construction."""

from __future__ import annotations

import ape
import pytest

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="module")
def parts(project, deployer, accounts):
    usdc = deployer.deploy(project.MockERC20, "USD Coin", "USDC", 6)
    router = deployer.deploy(project.MockSwapRouter, usdc)
    liquidator = accounts[8]  # stands in for the liquidator: only the address matters here
    owner = accounts[9]
    taker = deployer.deploy(project.FlashTaker, liquidator, router, usdc, owner)
    return usdc, router, liquidator, owner, taker


def test_only_the_owner_takes_and_sweeps(parts, accounts):
    usdc, _, _, owner, taker = parts
    stranger = accounts[7]
    with ape.reverts(taker.NotOwner, caller=stranger.address):
        taker.take(1, 1, 1, usdc, 3000, 0, sender=stranger)
    with ape.reverts(taker.NotOwner, caller=stranger.address):
        taker.sweep(usdc, stranger, sender=stranger)
    with ape.reverts(taker.ZeroAddress):
        taker.sweep(usdc, ZERO, sender=owner)
    usdc.mint(taker, 1234, sender=owner)
    taker.sweep(usdc, owner, sender=owner)
    assert usdc.balanceOf(owner) == 1234 and usdc.balanceOf(taker) == 0


def test_only_the_liquidator_calls_back_for_its_own_takes(parts, accounts):
    _, _, liquidator, _, taker = parts
    stranger = accounts[7]
    with ape.reverts(taker.NotLiquidator, caller=stranger.address):
        taker.onAuctionTake(taker, 1, 1, b"", sender=stranger)
    with ape.reverts(taker.NotSelf, taker=stranger.address):
        taker.onAuctionTake(stranger, 1, 1, b"", sender=liquidator)


def test_no_zero_address_at_construction(project, deployer, parts):
    usdc, router, liquidator, owner, _ = parts
    for args in (
        (ZERO, router, usdc, owner),
        (liquidator, ZERO, usdc, owner),
        (liquidator, router, ZERO, owner),
        (liquidator, router, usdc, ZERO),
    ):
        with ape.reverts(project.FlashTaker.ZeroAddress):
            deployer.deploy(project.FlashTaker, *args)


def test_the_mock_router_refuses_what_a_router_refuses(parts, project, deployer):
    usdc, router, _, owner, _ = parts
    weth = deployer.deploy(project.MockERC20, "Wrapped Ether", "WETH", 18)
    params = (weth.address, usdc.address, 3000, owner.address, 10**18, 0, 0)
    with ape.reverts(router.PriceNotSet, token=weth.address):
        router.exactInputSingle(params, sender=owner)
    with ape.reverts(router.WrongOutputToken, token=weth.address):
        router.exactInputSingle(
            (usdc.address, weth.address, 3000, owner.address, 1, 0, 0), sender=owner
        )
    router.setPrice(weth, 2_000 * 10**18, sender=owner)
    with ape.reverts(router.TooLittleReceived, out=2_000 * 10**6, minOut=2_000 * 10**6 + 1):
        router.exactInputSingle(
            (weth.address, usdc.address, 3000, owner.address, 10**18, 2_000 * 10**6 + 1, 0),
            sender=owner,
        )
