"""A trading desk on a deployment, for tests and replays: funds the LP pool, opens and funds
accounts, trades through the order book (commit, delay, fresh round, settle), moves the mock
feeds and the clock, as the issues' actors do. One driver for the attack replays
(tests/attacks), the ADL comparisons (tests/pool) and the risk-model tests (tests/risk)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from solvent import orders, pool
from solvent.deploy import Protocol

USDC = 10**6
MAX = 2**256 - 1


@dataclass
class Desk:
    """Drives a deployment as the issue's actors do (the deployer mints, settles and executes)."""

    system: Protocol
    chain: Any
    deployer: Any

    def fund_pool(self, lp: Any, usd: int) -> None:
        """Mints and deposits through the pool's request, execution (by the deployer) and claim."""
        self.mint(lp, "quote", usd * USDC)
        pool.deposit(
            self.system.pool,
            self.system.quote,
            self.chain,
            lp,
            usd * USDC,
            executor=self.deployer,
            rounds=self.rounds(),
        )

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

    def trader(self, owner: Any, sub: int, usd: int, market: str, size_wad: int) -> int:
        """A new account with `usd` of quote, trading `size_wad` of `market`."""
        account = self.open_account(owner, sub)
        self.deposit(owner, account, "quote", usd * USDC)
        self.trade(owner, account, market, size_wad)
        return account

    def trade(self, owner: Any, account: int, market: str, size_wad: int) -> Any:
        """Trades through the order book, as every trade goes: commit, let the settlement delay
        pass, publish a fresh round at the current price on the market's mock feeds, settle (the
        deployer settles and earns the settlement fee). A fill the order book cancels is raised
        as the engine's error (or `solvent.orders.OrderCancelled`), so a refused trade still
        reads as a revert. Returns the settlement's receipt."""
        try:
            return orders.trade_filled(
                self.system, self.chain, owner, account, market, size_wad, self.deployer
            )
        except orders.OrderCancelled as cancelled:
            raise_engine_error(self.system, cancelled)
            raise

    def rounds(self) -> pool.Rounds:
        """The determining rounds of LP requests, published on the mock feeds by the deployer."""
        return pool.publish_and_find(self.system, self.deployer)

    def execute_request(self, executor: Any, controller: Any, deposit: bool) -> Any:
        """Lets the controller's pending LP request's delay pass and executes it. Returns the
        receipt."""
        target, _ = pool.request_times(self.system.pool, controller, deposit)
        self.chain.mine(timestamp=max(target, self.chain.pending_timestamp))
        return pool.execute(self.system.pool, executor, controller, deposit, self.rounds())

    def redeem_to_reserve(self, lp: Any) -> None:
        """The LP redeems what the pool lets it (`poolWithdrawable`, less 1% for the price moves
        between request and execution): request, execution by the deployer, claim."""
        lp_pool = self.system.pool
        withdrawable = int(self.system.admin.poolWithdrawable())
        shares = int(lp_pool.convertToShares(withdrawable)) * 99 // 100
        lp_pool.requestRedeem(shares, lp, lp, sender=lp)
        self.execute_request(self.deployer, lp, False)
        lp_pool.redeem(int(lp_pool.maxRedeem(lp)), lp, lp, sender=lp)

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

    def allow_exposure(self, ratio: str) -> None:
        """Raises every market's exposure bound (`maxExposureRatio`, config/local.yaml: the net
        notional of a market at most 1x the pool's cash) through the timelock, with `ape run
        govern`'s plan. For replays whose set-up carries more net exposure than that: each then
        exercises the defence it is about, not the bound, which alone would refuse its trade."""
        from solvent.governance import govern
        from solvent.ops import govern as gov

        entries = [(f"market.{key}.max_exposure_ratio", ratio) for key in self.system.market_ids]
        govern(self.system, gov.plan(self.system, entries).calls, chain=self.chain)


def raise_engine_error(system: Protocol, cancelled: orders.OrderCancelled) -> None:
    """Re-raises the engine's refusal carried by the cancellation as that error (an instance of
    `system.engine.<Error>`), so `ape.reverts(system.engine.X)` matches it; returns when the order
    book refused the order itself (the caller re-raises `OrderCancelled`)."""
    data = cancelled.engine_error
    if not data:
        return
    for abi in system.engine.contract_type.errors:
        if keccak(text=abi.selector)[:4] == data[:4]:
            values = decode([i.canonical_type for i in abi.inputs], data[4:])
            inputs = {
                i.name: to_checksum_address(v) if i.canonical_type == "address" else v
                for i, v in zip(abi.inputs, values, strict=True)
            }
            raise getattr(system.engine, abi.name)(abi, inputs, txn=cancelled.receipt)
