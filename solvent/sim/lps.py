"""An LP who runs under stress (opt-in): it deposits `usd` into the pool at set-up, beside the
operator's seed, and requests to redeem all its shares once a market falls `exit_drawdown` below
its price when the path started (a crash, whatever it does to the pool's value). The request goes
through the pool's asynchronous flow (docs/pool.md) as any LP's would: the LP executes it itself
at the determining rounds (the first round of each market's feed at or after request + delay),
retries while the pool refuses (a liquidatable account, or debt under auction above the insurance
fund), re-requests after the window expires, and claims what the execution fixed. It measures
what the delayed, gated exit does to a leaver in a crash, against an LP that stays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solvent.fastpath import Tx, succeeded
from solvent.harness.world import MAX_UINT, OPERATOR, World
from solvent.sim.rounds import determining_rounds_all

STRESS_LP = 9  # dev account: owners are 1..8, keepers start at 10


@dataclass(frozen=True)
class StressLP:
    usd: float = 0.0  # 0: no such LP
    exit_drawdown: float = 0.10


@dataclass
class StressedLP:
    spec: StressLP
    start_prices: dict[str, float] | None = None  # each market's price when the path started
    shares: int = 0  # requested for redemption (all it had)
    requested_at: int | None = None  # step
    executed_at: int | None = None
    claimed: int = 0  # quote units received
    exited: int = 0  # quote units the executions took out of the pool's value
    execution_refusals: int = 0  # executions the pool's gate refused (retried)
    requests: int = 0

    @property
    def active(self) -> bool:
        return self.spec.usd > 0

    def set_up(self, world: World) -> None:
        """Funds and deposits (instant: the pool has no position yet)."""
        me = world.address(STRESS_LP)
        amount = int(self.spec.usd * 10 ** world.decimals["quote"])
        world.rpc.call("anvil_setBalance", me, hex(10**24))
        world.send_ok([world.tx(OPERATOR, world.quote, "mint", me, amount)])
        world.send_ok([world.tx(STRESS_LP, world.quote, "approve", world.pool.address, MAX_UINT)])
        world.send_ok([world.tx(STRESS_LP, world.pool, "deposit", amount, me)])

    def decide(self, world: World, step: int, prices: dict[str, float], now: int) -> list[Tx]:
        """This block's transaction, if any (the flow has one pending step at a time)."""
        me = world.address(STRESS_LP)
        if self.executed_at is not None:
            if self.claimed == 0:
                shares = int(world.read(world.pool, "maxRedeem", me))
                if shares:
                    return [world.tx(STRESS_LP, world.pool, "redeem", shares, me, me, gas=800_000)]
            return []
        if self.requested_at is None:
            start = self.start_prices or prices
            fall = max(1 - prices[k] / start[k] for k in prices)
            if fall < self.spec.exit_drawdown:
                return []
            self.shares = int(world.read(world.pool, "balanceOf", me))
            self.requested_at = step
            self.requests += 1
            return [world.tx(STRESS_LP, world.pool, "requestRedeem", self.shares, me, me)]
        target, expiry = (int(v) for v in world.read(world.pool, "requestTimes", me, False))
        if target == 0:
            return []  # the request is not mined yet
        if now > expiry:
            self.requests += 1
            return [
                world.tx(STRESS_LP, world.pool, "cancelRequest", me, False),
                world.tx(STRESS_LP, world.pool, "requestRedeem", self.shares, me, me),
            ]
        rounds = determining_rounds_all(world, target)
        if rounds is None:
            return []
        return [world.tx(STRESS_LP, world.pool, "executeRedeem", me, rounds, gas=3_000_000)]

    def observe(self, world: World, step: int, receipts: list[dict]) -> None:
        """Books the outcome of the last block's transactions of this LP."""
        me = world.address(STRESS_LP).lower()
        for receipt in receipts:
            if str(receipt.get("from", "")).lower() != me:
                continue
            for event in world.pool.events("RedeemExecuted", receipt):
                self.executed_at = step
                self.exited += int(event["assets"])
            if (
                self.executed_at != step
                and not succeeded(receipt)
                and str(receipt.get("to", "")).lower() == (world.pool.address.lower())
            ):
                self.execution_refusals += 1
            for event in world.pool.events("Withdraw", receipt):
                self.claimed += int(event["assets"])

    def summary(self, world: World, quote: int) -> dict[str, Any]:
        if not self.active:
            return {}
        me = world.address(STRESS_LP)
        shares_left = int(world.read(world.pool, "balanceOf", me))
        left_value = (
            int(world.read(world.pool, "convertToAssets", shares_left)) if shares_left else 0
        )
        deposited = int(self.spec.usd * quote)
        return {
            "deposited_usd": self.spec.usd,
            "requested_at_step": self.requested_at,
            "executed_at_step": self.executed_at,
            "requests": self.requests,
            "refused_executions": self.execution_refusals,
            "claimed_usd": round(self.claimed / quote, 2),
            "still_in_pool_usd": round(left_value / quote, 2),
            "pnl_usd": round((self.claimed + left_value - deposited) / quote, 2),
        }
