"""The one Python path for the LP pool's asynchronous entry and exit (ERC-7540, docs/pool.md):
request, find the rounds that price the request, execute, claim; and, on local chains with mock
feeds, the whole round trip in one call (`deposit`, `redeem`) for tests, the demo, the simulator,
the fuzz driver and the operator mocks, as `solvent.orders.trade` does for orders.

Contract handles are ape ContractInstances (`Protocol.pool`, `Protocol.feeds`, `Protocol.admin`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from solvent import orders

MAX_UINT = 2**256 - 1

Rounds = Callable[[int], list[int]]


def request_times(pool: Any, controller: Any, deposit: bool) -> tuple[int, int]:
    """(target time, expiry) of the controller's pending request; (0, 0) when none."""
    target, expiry = pool.requestTimes(controller, deposit)
    return int(target), int(expiry)


def market_keys(protocol: Any) -> list[str]:
    """Market keys in market-id order (the order `executeDeposit`'s round ids follow)."""
    return [key for key, _ in sorted(protocol.market_ids.items(), key=lambda item: item[1])]


def determining_rounds(protocol: Any, target: int) -> list[int]:
    """The first round of each market's primary feed at or after `target` (market-id order)."""
    rounds = []
    for key in market_keys(protocol):
        rid = orders.find_round(protocol.feeds[key], target)
        if rid is None:
            raise LookupError(f"no round of the {key} feed at or after {target} yet")
        rounds.append(rid)
    return rounds


def publish_and_find(protocol: Any, publisher: Any) -> Rounds:
    """Mock feeds only: a `Rounds` that publishes every market's current answer again (a fresh
    round, as a heartbeat would) and returns the determining rounds."""

    def rounds(target: int) -> list[int]:
        for key in market_keys(protocol):
            orders.publish_current_round(protocol, key, publisher)
        return determining_rounds(protocol, target)

    return rounds


def execute(pool: Any, executor: Any, controller: Any, deposit: bool, rounds: Rounds) -> Any:
    """Executes the controller's pending request at its determining rounds. Returns the receipt."""
    target, _ = request_times(pool, controller, deposit)
    ids = rounds(target)
    if deposit:
        return pool.executeDeposit(controller, ids, sender=executor)
    return pool.executeRedeem(controller, ids, sender=executor)


def _wait(chain: Any, pool: Any, controller: Any, deposit: bool) -> None:
    target, _ = request_times(pool, controller, deposit)
    chain.mine(timestamp=max(target, chain.pending_timestamp))


def deposit(
    pool: Any, quote: Any, chain: Any, lp: Any, assets: int, *, executor: Any, rounds: Rounds
) -> int:
    """Local chains: approve, request a deposit of `assets`, let the delay pass, execute (the
    executor earns the fee), claim the shares to `lp`. Returns the shares received."""
    if int(quote.allowance(lp, pool)) < assets:
        quote.approve(pool, MAX_UINT, sender=lp)
    pool.requestDeposit(assets, lp, lp, sender=lp)
    _wait(chain, pool, lp, True)
    execute(pool, executor, lp, True, rounds)
    claimable = int(pool.maxDeposit(lp))
    before = int(pool.balanceOf(lp))
    pool.deposit(claimable, lp, lp, sender=lp)
    return int(pool.balanceOf(lp)) - before


def redeem(
    pool: Any, quote: Any, chain: Any, lp: Any, shares: int, *, executor: Any, rounds: Rounds
) -> int:
    """Local chains: request a redemption of `shares`, let the delay pass, execute, claim the
    assets to `lp`. Returns the assets received."""
    pool.requestRedeem(shares, lp, lp, sender=lp)
    _wait(chain, pool, lp, False)
    execute(pool, executor, lp, False, rounds)
    before = int(quote.balanceOf(lp))
    pool.redeem(int(pool.maxRedeem(lp)), lp, lp, sender=lp)
    return int(quote.balanceOf(lp)) - before
