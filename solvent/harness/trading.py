"""The harness's one way to trade: every position the demo, the simulator, the keeper tests and
the keeper benchmark open goes through `trade`, so switching them all to another trade flow is
one change here."""

from __future__ import annotations

from dataclasses import dataclass

from solvent.harness.world import MAX_UINT, Outcome, World, raise_failures

# The engine's refusals of a trade for the account's risk: a planned position that would breach
# initial margin or a market's open-interest cap is not opened; the account keeps its collateral.
REFUSALS = frozenset({"InsufficientMargin", "OpenInterestCapExceeded"})
TRADE_GAS = 1_500_000


@dataclass(frozen=True)
class TradeRequest:
    owner: int  # dev account that owns (or operates) the account
    account_id: int
    market: str  # asset key of the market
    size: int  # signed size delta, WAD
    acceptable_price: int | None = None  # WAD; None: any price


def trade(world: World, requests: list[TradeRequest]) -> list[Outcome]:
    """Executes every request and returns one outcome each, in order: a fill, or the engine's
    refusal named in `Outcome.error` (one of `REFUSALS`). Any other failure raises `SetupFailed`
    with its decoded reason."""
    txs = [
        world.tx(
            r.owner,
            world.engine,
            "trade",
            r.account_id,
            world.market_ids[r.market],
            r.size,
            _acceptable(r),
            gas=TRADE_GAS,
        )
        for r in requests
    ]
    outcomes = world.send_all(txs)
    raise_failures(world, [o for o in outcomes if not o.ok and o.error not in REFUSALS], len(txs))
    return outcomes


def _acceptable(request: TradeRequest) -> int:
    if request.acceptable_price is not None:
        return request.acceptable_price
    return MAX_UINT if request.size > 0 else 0
