"""Attack replays on the real deployment: `solvent.deploy` with `config/local.yaml` (oracle adapter,
engine, LP pool, Dutch-auction liquidator, insurance fund, mock tokens and feeds), deployed once
per module; ape isolates each test with a chain snapshot.

One file per issue, named after the attack it replays. Each test sets up the issue's scenario with
its figures and asserts that the attack no longer pays (a named custom error, or balances)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from solvent import config as configs
from solvent.deploy import Protocol, deploy

WAD = 10**18
USDC = 10**6
MAX = 2**256 - 1


@pytest.fixture(scope="module")
def config():
    return configs.load("local")


@pytest.fixture(scope="module")
def system(project, chain, deployer, config) -> Protocol:
    return deploy(project, chain, config, deployer)


@dataclass
class Attack:
    """Drives a deployment as the issue's actors do."""

    system: Protocol
    chain: Any
    deployer: Any

    def fund_pool(self, lp: Any, usd: int) -> None:
        self.mint(lp, "quote", usd * USDC)
        self.system.quote.approve(self.system.pool, MAX, sender=lp)
        self.system.pool.deposit(usd * USDC, lp, sender=lp)

    def fund_insurance(self, staker: Any, usd: int) -> None:
        self.mint(staker, "quote", usd * USDC)
        self.system.quote.approve(self.system.fund, MAX, sender=staker)
        self.system.fund.deposit(usd * USDC, staker, sender=staker)

    def token(self, key: str) -> Any:
        return self.system.quote if key == "quote" else self.system.tokens[key]

    def mint(self, to: Any, key: str, amount: int) -> None:
        self.token(key).mint(to, amount, sender=self.deployer)

    def open_account(self, owner: Any, sub: int = 0) -> int:
        self.system.engine.openAccount(sub, sender=owner)
        return int(self.system.engine.accountIdOf(owner, sub))

    def deposit(self, owner: Any, account: int, key: str, amount: int) -> None:
        """Mints `amount` (token units) to `owner` and deposits it into `account`."""
        self.mint(owner, key, amount)
        self.token(key).approve(self.system.engine, MAX, sender=owner)
        self.system.engine.deposit(account, self.token(key), amount, sender=owner)

    def trade(self, owner: Any, account: int, market: str, size_wad: int) -> Any:
        limit = MAX if size_wad > 0 else 0
        return self.system.engine.trade(
            account, self.system.market_ids[market], size_wad, limit, sender=owner
        )

    def set_price(self, key: str, usd: float, secondary: bool = True) -> None:
        """Writes the price into the primary feed (and the secondary, unless told not to)."""
        feeds = [self.system.feeds[key]]
        if secondary and key in self.system.secondary_feeds:
            feeds.append(self.system.secondary_feeds[key])
        for feed in feeds:
            feed.setAnswer(round(usd * 10 ** int(feed.decimals())), sender=self.deployer)

    def advance(self, seconds: int) -> None:
        """Mines a block `seconds` later, so views see the new time too."""
        self.chain.mine(timestamp=self.chain.pending_timestamp + seconds)

    def health(self, account: int) -> Any:
        return self.system.admin.healthOf([account])[0]


@pytest.fixture(scope="module")
def attack(system, chain, deployer) -> Attack:
    return Attack(system, chain, deployer)
