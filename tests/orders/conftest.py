"""The order book on the real deployment (config/local.yaml), deployed once per module."""

from __future__ import annotations

import dataclasses

import pytest

from solvent import config as configs

WAD = 10**18
USDC = 10**6
MAX = 2**256 - 1


@pytest.fixture(scope="module")
def config():
    """config/local.yaml without its L2 sequencer feed: the order book's gas rows
    (`orders.settle_*`) measure the L1 path, as config/sepolia.yaml ships. Every other package
    runs the L2 path; its uptime read adds 9,761 gas to a settlement that increases risk."""
    return dataclasses.replace(configs.load("local"), sequencer=None)


@pytest.fixture(scope="module")
def lp(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def trader(accounts):
    return accounts[2]


@pytest.fixture(scope="module")
def keeper(accounts):
    return accounts[3]


@pytest.fixture(scope="module")
def stranger(accounts):
    return accounts[4]


@pytest.fixture(scope="module")
def funded(system, deployer, lp):
    """$10M in the LP pool."""
    amount = 10_000_000 * USDC
    system.quote.mint(lp, amount, sender=deployer)
    system.quote.approve(system.pool, MAX, sender=lp)
    system.pool.deposit(amount, lp, sender=lp)
    return system


def open_funded_account(system, deployer, owner, usd: int, sub: int = 0) -> int:
    """Opens `owner`'s account `sub` and deposits `usd` of quote into it."""
    system.engine.openAccount(sub, sender=owner)
    account = int(system.engine.accountIdOf(owner, sub))
    system.quote.mint(owner, usd * USDC, sender=deployer)
    system.quote.approve(system.engine, MAX, sender=owner)
    system.engine.deposit(account, system.quote, usd * USDC, sender=owner)
    return account
