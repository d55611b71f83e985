"""Auto-deleveraging as the simulator's keepers run it (issue 15; docs/simulator.md, "Exposure bound
and auto-deleveraging").

**The factor is the pool's.** The engine measures every market's traders' profit (each market's
net PnL T_k counted when positive) over the pool's value without the traders' PnL, whichever
market a run names; a run needs that factor above the trigger (above the target while a residual
shortfall remains or an earlier run ended above the target, `armed`) and cuts only a market whose
traders are in profit (`AdlMarketNotInProfit`).

**Trigger.** After every block the keepers ask the engine itself: an `eth_call` of
`autoDeleverage(market, [])` per market succeeds exactly when the pool is due and that market's
traders are in profit; `AdlNotTriggered(factor, trigger)` carries the pool's factor and the bar
it did not pass. When the pool is due no call reports the factor, so it is read with the
reference model (solvent/model/adl.py, the contract's arithmetic to the wei) from the views: the
markets' books at the block's time, the ledger and the insurance fund.

**Market.** One run a block, on the market the engine accepts whose traders' PnL is largest
(cutting it lowers the factor most); a run that ends above the target arms the next, so the next
block continues on the next market.

**List.** The candidates are the accounts holding a position on the market's net side (the
larger open interest) in profit at the oracle price, ranked by PnL x leverage (notional over
maintenance equity, from `healthOf`; an account with no positive equity ranks first). The
ranking is advisory: the contract checks every entry. The list is tried with another `eth_call`:
`AdlOvercut(account)` (the target was met before that entry) cuts it there,
`AdlPositionNotInProfit` / `AdlWrongSide` (funding the ranking does not count) drop that account;
at most `MAX_ENTRIES` accounts a run, the rest in the next block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode

from solvent.harness.world import World
from solvent.model import adl
from solvent.rpc import RpcError

WAD = 10**18
MAX_ENTRIES = 16  # accounts one autoDeleverage call cuts (gas: see `gas_for`)
DEFAULT_TRIGGER = 85 * WAD // 100  # config/local.yaml; replaced by the engine's own when read
MAX_TRIES = 8  # eth_call rounds to fit a list before giving up for this block
BASE_GAS = 400_000
GAS_PER_ENTRY = 400_000  # a fill plus the cut's bisection on the market's books, with room
# errors whose first argument is an account the contract refused in the list
_DROPPED = ("AdlPositionNotInProfit", "AdlWrongSide")


def gas_for(entries: int) -> int:
    return BASE_GAS + GAS_PER_ENTRY * entries


@dataclass
class AdlView:
    """What the keepers see of auto-deleveraging after one block."""

    plans: dict[int, list[int]] = field(default_factory=dict)  # market id -> accounts to list
    triggered: list[int] = field(default_factory=list)  # markets a run may cut (pool due, T > 0)
    factor: int = 0  # the pool's factor (WAD)
    trigger: int = DEFAULT_TRIGGER  # the bar the factor must pass now (WAD)
    pnl: dict[int, int] = field(default_factory=dict)  # market id -> T (WAD USD), when due

    def reading(self) -> int:
        """The pool's factor after the block (WAD)."""
        return self.factor


def simulate(world: World, sender: int, market_id: int, accounts: list[int]) -> tuple[str, tuple]:
    """`autoDeleverage(market_id, accounts)` as an eth_call from `sender` on the latest block:
    ("", ()) when it would succeed, else the custom error's name and arguments."""
    to, data = world.engine.call("autoDeleverage", market_id, accounts)
    call = {"from": world.address(sender), "to": to, "data": data}
    [answer] = world.sender.rpc.batch_results([("eth_call", [call, "latest"])])
    if not isinstance(answer, RpcError):
        return "", ()
    return _error(world, answer)


def _error(world: World, error: RpcError) -> tuple[str, tuple]:
    raw = error.error.get("data") if isinstance(error.error, dict) else None
    data = bytes.fromhex(str(raw)[2:]) if isinstance(raw, str) and raw.startswith("0x") else b""
    name = world.error_names.get(data[:4], "") if len(data) >= 4 else ""
    if not name:
        return error.message or "revert", ()
    count = len(data[4:]) // 32
    return name, tuple(abi_decode(["uint256"] * count, data[4:])) if count else ()


def observe(world: World, sender: int, account_count: int, plan: bool = True) -> AdlView:
    """The pool's factor, the markets a run may cut and (with `plan`) the one run to send: the
    accepted market with the largest traders' PnL whose list the contract takes."""
    view = AdlView()
    due = False
    for market_id in sorted(world.market_ids.values()):
        name, args = simulate(world, sender, market_id, [])
        if name == "":
            view.triggered.append(market_id)
            due = True
        elif name == "AdlNotTriggered":
            view.factor, view.trigger = int(args[0]), int(args[1])
        elif name == "AdlMarketNotInProfit":
            due = True
    if due:
        view.factor, view.trigger, view.pnl = pool_reading(world)
    order = sorted(view.triggered, key=lambda m: (-view.pnl.get(m, 0), m))
    for market_id in order if plan else []:
        accounts = fit(world, sender, market_id, rank(world, market_id, account_count))
        if accounts:
            view.plans[market_id] = accounts
            break  # one run a block: the next market's cut depends on where this one ends
    return view


@dataclass(frozen=True)
class PoolState:
    """The pool as an ADL run reads it: every market's book, the pool's value without the
    traders' PnL (G), `adlParams()` and the residual shortfall (debt under auction the insurance
    fund does not cover)."""

    books: dict[int, adl.Book]
    value: int
    params: adl.AdlParams
    shortfall: int


def pool_state(world: World, now: int) -> PoolState:
    """The pool's state at `now` from the views, by the reference model (a run's funding and
    borrow accruals to `now`). The one reader of the pool for the simulator and the keeper's
    tests."""
    books = {}
    for market_id in sorted(world.market_ids.values()):
        market = world.read_named(world.admin, "markets", market_id)
        price = int(world.read(world.oracle, "price", market.asset))
        books[market_id] = adl.book_from_market(market, price, now)
    ledger = world.read_named(world.admin, "ledger")
    insurance = int(world.read(world.fund, "totalAssets")) if int(ledger.debtInAuction) else 0
    pool = adl.ledger_from_views(ledger, world.read_named(world.admin, "borrowState"), insurance)
    raw = world.read_named(world.engine, "adlParams")
    params = adl.AdlParams(int(raw.trigger), int(raw.target), bool(raw.armed))
    return PoolState(books, adl.pool_value_without_pnl(pool), params, adl.shortfall(pool))


def pool_reading(world: World) -> tuple[int, int, dict[int, int]]:
    """(the pool's factor, the bar it must pass, each market's T) at the latest block's time."""
    _, now = world.block()
    state = pool_state(world, now)
    factor = adl.pnl_factor(0, state.value, adl.others_profit(state.books.values()))
    pnl = {m: adl.market_pnl(b) for m, b in state.books.items()}
    return factor, adl.trigger_of(state.params, state.shortfall), pnl


def rank(world: World, market_id: int, account_count: int) -> list[int]:
    """Accounts on the market's net side in profit at the oracle price, best PnL x leverage
    first (ties by account id)."""
    market = world.read_named(world.admin, "markets", market_id)
    net = int(market.longOpenInterest) - int(market.shortOpenInterest)
    if net == 0 or account_count == 0:
        return []
    key = next(k for k, m in world.market_ids.items() if m == market_id)
    price = int(world.read(world.oracle, "price", world.tokens[key].address))
    ids = list(range(1, account_count + 1))
    accounts = world.read_many([(world.admin, "accounts", (i,)) for i in ids])
    holders = [i for i, a in zip(ids, accounts, strict=True) if int(a[2]) >> market_id & 1]
    if not holders:
        return []
    positions = world.read_many([(world.admin, "positions", (i, market_id)) for i in holders])
    healths = world.read(world.admin, "healthOf", holders)
    scored = []
    for account, position, health in zip(holders, positions, healths, strict=True):
        size, open_notional = int(position[0]), int(position[1])
        if size == 0 or (size > 0) != (net > 0):
            continue
        pnl = size * price // WAD - open_notional
        if pnl <= 0:
            continue
        scored.append((score(pnl, abs(size) * price // WAD, int(health[0])), account))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [account for _, account in scored]


def score(pnl: int, notional: int, equity: int) -> float:
    """PnL x leverage (leverage = notional / equity; unbounded without positive equity)."""
    if equity <= 0:
        return float("inf")
    return pnl * (notional / equity)


def fit(world: World, sender: int, market_id: int, ranked: list[int]) -> list[int]:
    """The longest prefix of `ranked` (at most MAX_ENTRIES) the contract accepts now."""
    plan = ranked[:MAX_ENTRIES]
    for _ in range(MAX_TRIES):
        if not plan:
            return []
        name, args = simulate(world, sender, market_id, plan)
        if name == "":
            return plan
        if name == "AdlOvercut" and int(args[0]) in plan:
            plan = plan[: plan.index(int(args[0]))]
        elif name in _DROPPED and int(args[0]) in plan:
            plan = [a for a in plan if a != int(args[0])]
        else:  # not triggered any more, or a refusal the list cannot fix
            return []
    return []


def summary_fields(tally: Any, world: World) -> dict[str, Any]:
    """The summary's ADL and pool-bound figures (see run._Tally)."""
    return {
        "adl_runs": tally.adl_runs,
        "adl_positions_cut": tally.adl_cuts,
        "adl_volume_usd": tally.adl_volume / WAD,
        "adl_realized_pnl_usd": tally.adl_realized / WAD,
        "adl_blocks_triggered": tally.adl_blocks_triggered,
        "adl_factor_max": round(tally.adl_factor / WAD, 4),
        "profit_unpaid_usd": tally.profit_unpaid / 10 ** world.decimals["quote"],
        "profit_unpaid_events": tally.profit_unpaid_events,
    }
