"""One read of everything the invariants need, in two batches of views (one round trip each on
the fast path): balances, the engine's books, accounts, markets, prices, healths, auctions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solvent.abi import Record
from solvent.fuzz.driver import Call, Driver, Reverted
from solvent.fuzz.system import ASSETS, LP, TRADERS, FuzzSystem

TOKENS = ("quote", *ASSETS)
ROUND_FIELDS = ("roundId", "answer", "updatedAt")  # a primary feed's latest round


@dataclass
class State:
    balances: dict[str, dict[str, int]]  # token key -> holder address -> balance
    supply: dict[str, int]
    ledger: Record
    accounts: dict[int, Record]
    positions: dict[tuple[int, int], Record]
    collateral: dict[tuple[int, str], int]
    collateral_params: dict[str, Record]
    markets: dict[int, Record]
    prices: dict[str, int | None]  # None: the oracle reverts (stale feed, say)
    sigmas: dict[str, int]
    health: dict[int, Record | Reverted]
    initial_health: dict[int, Record | Reverted]
    auctions: dict[int, Record]
    queued: dict[int, Record]  # every live queued-lot record (waiting, or pieces still running)
    liquidator_globals: Record
    auction_collaterals: dict[str, Record]
    pool_assets: int | None  # None: it needs a price that is unavailable
    pool_supply: int
    # Quote the LP pool holds for the LP's requests: a pending deposit and executed, unclaimed
    # redemptions (ERC-7540 escrow, outside totalAssets).
    pool_escrow: int
    fund_assets: int
    account_count: int
    now: int  # the latest block's timestamp (what the views were evaluated at)
    rounds: dict[str, tuple[int, int, int]]  # asset -> primary feed's (roundId, answer, updatedAt)
    orders: dict[
        tuple[int, int], Record
    ]  # OrderBook.orders by (account, market); targetTime 0: none
    borrow: Record  # the engine's BorrowState accrued to `now` (index, lastTime, pendingInterest)
    borrow_index_of: dict[int, int]  # the borrow index at each account's last touch in debt
    risk_models: dict[int, str]  # each account's chosen risk model (lower-case; zero: standard)
    adl: Record  # the engine's `adlParams()`: trigger, target, armed


def read_state(driver: Driver, system: FuzzSystem) -> State:
    codec = system.codec
    holders = system.holders()
    calls: list[Call] = []
    keys: list[tuple[Any, ...]] = []

    def add(key: tuple[Any, ...], target: str, fn: str, *args: Any) -> None:
        keys.append(key)
        calls.append(Call(target, fn, args))

    for token in TOKENS:
        add(("supply", token), token, "totalSupply")
        for h in holders:
            add(("balance", token, h), token, "balanceOf", h)
    add(("ledger",), "admin", "ledger")
    add(("count",), "engine", "accountCount")
    for a in TRADERS:
        add(("account", a), "admin", "accounts", a)
        add(("health", a), "admin", "healthOf", [a])
        add(("initial", a), "admin", "initialHealthOf", a)
        add(("borrow_index", a), "admin", "borrowIndexOf", a)
        add(("risk_model", a), "admin", "riskModelOf", a)
        for m in system.markets:
            add(("position", a, m), "admin", "positions", a, m)
            add(("order", a, m), "orders", "orders", a << 8 | m)
        for token in ASSETS:
            add(("collateral", a, token), "admin", "collateralBalance", a, codec.address(token))
    for m in system.markets:
        add(("market", m), "admin", "markets", m)
    for token in ASSETS:
        address = codec.address(token)
        add(("cparams", token), "admin", "collaterals", address)
        add(("price", token), "oracle", "price", address)
        for field in ROUND_FIELDS:  # the mock's getters: latestRoundData's outputs are unnamed
            add(("round", token, field), f"feed.{token}", field)
        # The margin's sigma (phased in toward the raw estimate), as the engine reads it.
        add(("sigma", token), "oracle", "sigma", address)
        add(("auction_collateral", token), "liquidator", "collaterals", address)
    add(("borrow",), "admin", "borrowState")
    add(("globals",), "liquidator", "globals")
    add(("active",), "liquidator", "activeAuctionIds")
    add(("last_queue_id",), "liquidator", "lastQueueId")
    add(("pool_assets",), "pool", "totalAssets")
    add(("pool_supply",), "pool", "totalSupply")
    lp = system.actors[LP]
    add(("pool_pending",), "pool", "pendingDepositRequest", 0, lp)
    add(("pool_claimable",), "pool", "maxWithdraw", lp)
    add(("fund_assets",), "fund", "totalAssets")
    add(("adl",), "engine", "adlParams")
    values = dict(zip(keys, driver.views(calls), strict=True))
    now = driver.now()
    active = _ok(values[("active",)])
    queue_ids = range(1, _ok(values[("last_queue_id",)]) + 1)
    second = driver.views(
        [Call("liquidator", "status", (i,)) for i in active]
        + [Call("liquidator", "queuedLots", (q,)) for q in queue_ids]
    )
    statuses, records = second[: len(active)], [_ok(r) for r in second[len(active) :]]

    return State(
        balances={t: {h: _ok(values[("balance", t, h)]) for h in holders} for t in TOKENS},
        supply={t: _ok(values[("supply", t)]) for t in TOKENS},
        ledger=_ok(values[("ledger",)]),
        accounts={a: _ok(values[("account", a)]) for a in TRADERS},
        positions={
            (a, m): _ok(values[("position", a, m)]) for a in TRADERS for m in system.markets
        },
        collateral={(a, t): _ok(values[("collateral", a, t)]) for a in TRADERS for t in ASSETS},
        collateral_params={t: _ok(values[("cparams", t)]) for t in ASSETS},
        markets={m: _ok(values[("market", m)]) for m in system.markets},
        prices={t: _optional(values[("price", t)]) for t in ASSETS},
        sigmas={t: int(_ok(values[("sigma", t)])) for t in ASSETS},
        health={a: v[0] if isinstance(v := values[("health", a)], list) else v for a in TRADERS},
        initial_health={a: values[("initial", a)] for a in TRADERS},
        auctions={i: _ok(s) for i, s in zip(active, statuses, strict=True)},
        queued={q: r for q, r in zip(queue_ids, records, strict=True) if r.lot or r.pieces},
        liquidator_globals=_ok(values[("globals",)]),
        auction_collaterals={t: _ok(values[("auction_collateral", t)]) for t in ASSETS},
        pool_assets=_optional(values[("pool_assets",)]),
        pool_supply=_ok(values[("pool_supply",)]),
        pool_escrow=_ok(values[("pool_pending",)]) + _ok(values[("pool_claimable",)]),
        fund_assets=_ok(values[("fund_assets",)]),
        account_count=_ok(values[("count",)]),
        now=now,
        rounds={t: tuple(_ok(values[("round", t, f)]) for f in ROUND_FIELDS) for t in ASSETS},
        orders={(a, m): _ok(values[("order", a, m)]) for a in TRADERS for m in system.markets},
        borrow=_ok(values[("borrow",)]),
        borrow_index_of={a: _ok(values[("borrow_index", a)]) for a in TRADERS},
        risk_models={a: str(_ok(values[("risk_model", a)])).lower() for a in TRADERS},
        adl=_ok(values[("adl",)]),
    )


def _optional(value: Any) -> Any:
    return None if isinstance(value, Reverted) else value


def _ok(value: Any) -> Any:
    if isinstance(value, Reverted):
        raise AssertionError(f"a view that must not revert reverted: {value.error}")
    return value
