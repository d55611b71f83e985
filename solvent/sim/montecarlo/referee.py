"""The referee: an episode replayed on the real contracts (solvent.deploy with the point's
config, on an Anvil of its own) and compared with the exact model to the wei.

The replay sends the model's script, block by block at the model's timestamps: the set-up (LP
and fund deposits, accounts, quote deposits, one commit per order, a round at the target time,
one `settleOrders` batch per market), then each step's feed answers and the liquidations the
model's keeper sent. It compares, and stops with `RefereeMismatch` at the first difference:

- after the fills: every position (size, open notional, funding entry), quote balance, market
  and the engine's ledger;
- after every block: which liquidations landed and each `Liquidated` and `BadDebtWrittenOff`
  event's fields, and the accounts `liquidatableAccounts` lists;
- at the end: every account's quote, positions and `healthOf` (equity, requirement, health), the
  ledger, each market, the fund's balance, the pool's `totalAssets`, and the headline metrics
  (bad debt, liquidations).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from solvent.anvil import AnvilOptions, ape_on_own_anvil
from solvent.deploy import deploy
from solvent.fastpath import Tx, succeeded
from solvent.harness.world import MAX_UINT, OPERATOR, World, world_from_protocol
from solvent.model.ledger import PositionBook
from solvent.sim.montecarlo.episode import (
    FILL_TIME,
    QUOTE,
    WAD,
    Episode,
    EpisodeSpec,
    path_answers,
    plan_book,
    protocol_config,
    run,
    step_time,
)
from solvent.sim.scenarios import GENESIS_TIMESTAMP

KEEPER = 10  # dev account of the keeper
OWNERS = 8  # dev accounts 1..8 own the accounts as sub-accounts
LIQUIDATION_GAS = 1_500_000
GAS_LIMIT = 1_000_000_000  # every block of the script fits in one block
COMMIT_TIME = FILL_TIME - 20  # target time = commit + settlement delay (15 s) <= round time
ROUND_TIME = FILL_TIME - 1


class RefereeMismatch(AssertionError):
    """The model and the chain disagree: a bug in one of them."""


def require(condition: bool, what: str, chain: Any, model: Any) -> None:
    if not condition:
        raise RefereeMismatch(f"{what}: chain {chain}, model {model}")


def equal(what: str, chain: Any, model: Any) -> None:
    require(chain == model, what, chain, model)


def replay(project: Any, networks: Any, spec: EpisodeSpec) -> dict[str, Any]:
    """Replays `spec` on a fresh deployment and returns the comparison's record (the metrics
    both sides agree on and how much was compared); raises RefereeMismatch on a difference."""
    episode = run(spec)
    config = protocol_config(spec.point)
    options = AnvilOptions(accounts=20, fixed_clock_from=GENESIS_TIMESTAMP, gas_limit=GAS_LIMIT)
    with ape_on_own_anvil(networks, options):
        from ape import accounts, chain

        operator = accounts.test_accounts[0]
        protocol = deploy(project, chain, config, operator)
        world = world_from_protocol(project, chain, protocol, accounts=KEEPER + 1)
        head = world.block()[1]
        if head >= COMMIT_TIME - 60:
            raise RuntimeError(f"the deployment ran to {head}, past the script's start")
        _set_up(world, spec, episode)
        checked = _path(world, spec, episode)
        checked += _final(world, spec, episode)
    return {
        "point": dataclasses.asdict(spec.point),
        "seed": spec.path_seed,
        "equal_to_the_wei": True,
        "values_compared": checked,
        **episode.metrics,
    }


# ---------------------------------------------------------------------- set-up


def _send_block(world: World, txs: list[Tx], timestamp: int) -> list[dict[str, Any]]:
    """The transactions in one block at `timestamp`; each must be mined in it."""
    hashes = world.send_block(txs, timestamp)
    receipts = world.sender.receipts(hashes)
    missing = [i for i, r in enumerate(receipts) if r is None]
    if missing:
        raise RuntimeError(f"{len(missing)} transactions left out of the block at {timestamp}")
    return receipts


def _all_ok(world: World, receipts: list[dict[str, Any]], what: str) -> None:
    failed = [r for r in receipts if not succeeded(r)]
    if failed:
        reasons = [world.reason(f) for f in world.sender.failures([failed[0]["transactionHash"]])]
        raise RuntimeError(f"{len(failed)} {what} transactions reverted: {reasons}")


def _feed_txs(world: World, answers: dict[str, int]) -> list[Tx]:
    """Each asset's primary answer, and the same price in its secondary feed's decimals."""
    txs = []
    for key, (primary, *others) in world.feeds.items():
        base = world.decimals[f"feed:{primary.address}"]
        txs.append(world.tx(OPERATOR, primary, "setAnswer", answers[key], gas=150_000))
        for feed in others:
            decimals = world.decimals[f"feed:{feed.address}"]
            value = answers[key] * 10**decimals // 10**base
            txs.append(world.tx(OPERATOR, feed, "setAnswer", value, gas=150_000))
    return txs


def _set_up(world: World, spec: EpisodeSpec, episode: Episode) -> None:
    config = protocol_config(spec.point)
    plans = plan_book(spec.book, spec.point, config)
    answers0 = path_answers(spec.path, spec.path_seed, config)[0]
    lp, fund = int(spec.book.lp_usd * QUOTE), int(spec.point.fund * QUOTE)
    me = world.address(OPERATOR)
    world.send_ok(
        [
            world.tx(OPERATOR, world.quote, "mint", me, lp + fund),
            world.tx(OPERATOR, world.quote, "approve", world.pool.address, MAX_UINT),
            world.tx(OPERATOR, world.quote, "approve", world.fund.address, MAX_UINT),
        ]
    )
    world.send_ok(
        [world.tx(OPERATOR, world.pool, "deposit", lp, me)]
        + ([world.tx(OPERATOR, world.fund, "deposit", fund, me)] if fund else [])
    )
    owners = range(1, OWNERS + 1)
    minted = {
        o: sum(p.deposit for p in plans if 1 + (p.account_id - 1) % OWNERS == o) for o in owners
    }
    world.send_ok(
        [world.tx(o, world.quote, "approve", world.engine.address, MAX_UINT) for o in owners]
        + [world.tx(OPERATOR, world.quote, "mint", world.address(o), minted[o]) for o in owners]
        + [
            world.tx(
                1 + (p.account_id - 1) % OWNERS,
                world.engine,
                "openAccount",
                (p.account_id - 1) // OWNERS,
            )
            for p in plans
        ]
    )
    equal("accounts opened", int(world.read(world.engine, "accountCount")), len(plans))
    world.send_ok(
        [
            world.tx(
                1 + (p.account_id - 1) % OWNERS,
                world.engine,
                "deposit",
                p.account_id,
                world.quote.address,
                p.deposit,
            )
            for p in plans
        ]
    )
    world.set_automine(False)
    book = world.c("order_book")
    _all_ok(world, _send_block(world, _feed_txs(world, answers0), COMMIT_TIME - 1), "feed")
    commits = [
        world.tx(
            1 + (p.account_id - 1) % OWNERS,
            book,
            "commitOrder",
            p.account_id,
            world.market_ids[key],
            size,
            MAX_UINT if size > 0 else 0,
            gas=500_000,
        )
        for p in plans
        for key, size in p.orders
    ]
    _all_ok(world, _send_block(world, commits, COMMIT_TIME), "commit")
    _all_ok(world, _send_block(world, _feed_txs(world, answers0), ROUND_TIME), "round")
    settles = []
    for key, market_id in sorted(world.market_ids.items(), key=lambda item: item[1]):
        ids = [p.account_id << 8 | market_id for p in plans for k, _ in p.orders if k == key]
        if not ids:
            continue
        primary = world.feeds[key][0]
        round_id = int(world.read(primary, "latestRoundData")[0])
        settles.append(
            world.tx(
                OPERATOR, book, "settleOrders", ids, round_id, gas=300_000 + 200_000 * len(ids)
            )
        )
    receipts = _send_block(world, settles, FILL_TIME)
    _all_ok(world, receipts, "settlement")
    for receipt in receipts:
        equal("orders cancelled at settlement", book.events("OrderCancelled", receipt), [])
    model = run_set_up_only(spec)
    _compare_books(world, model, "after the fills")
    for key, token in world.tokens.items():
        sigma = int(world.read(world.oracle, "sigma", token.address))
        equal(f"{key} margin sigma", sigma, model.rules.market(key).sigma)


def run_set_up_only(spec: EpisodeSpec) -> Any:
    """The model's world right after the fills (the episode with a path of one step)."""
    short = dataclasses.replace(spec, path=dataclasses.replace(spec.path, steps=1))
    return run(short).world


# ---------------------------------------------------------------------- the path


def _path(world: World, spec: EpisodeSpec, episode: Episode) -> int:
    config = protocol_config(spec.point)
    answers = path_answers(spec.path, spec.path_seed, config)
    keeper = world.address(KEEPER)
    count = len(episode.world.accounts)
    checked = 0
    for step in range(1, spec.path.steps):
        sent = episode.trace.sent[step - 1]
        txs = _feed_txs(world, answers[step]) + [
            world.tx(KEEPER, world.engine, "liquidate", a, keeper, gas=LIQUIDATION_GAS)
            for a in sent
        ]
        receipts = _send_block(world, txs, step_time(spec, step))
        feeds, liquidations = receipts[: len(txs) - len(sent)], receipts[len(txs) - len(sent) :]
        _all_ok(world, feeds, "feed")
        events, write_offs = [], []
        for receipt in liquidations:
            if succeeded(receipt):
                events += world.engine.events("Liquidated", receipt)
                write_offs += world.engine.events("BadDebtWrittenOff", receipt)
        got = [
            (
                int(e.accountId),
                int(e.fraction),
                int(e.closedNotional),
                int(e.realizedPnl),
                int(e.penalty),
                int(e.keeperReward),
            )
            for e in events
        ]
        want = [dataclasses.astuple(e) for e in episode.trace.landed[step - 1]]
        equal(
            f"step {step}: liquidations (account, fraction, closed, pnl, penalty, reward)",
            got,
            want,
        )
        got_w = [
            (int(w.accountId), int(w.debt), int(w.coveredByInsurance), int(w.socialized))
            for w in write_offs
        ]
        want_w = [dataclasses.astuple(w) for w in episode.trace.write_offs[step - 1]]
        equal(
            f"step {step}: bad debt written off (account, debt, covered, socialized)", got_w, want_w
        )
        listed = [int(i) for i in world.read(world.admin, "liquidatableAccounts", 1, count)]
        equal(f"step {step}: liquidatable accounts", listed, episode.trace.liquidatable[step - 1])
        checked += len(got) * 6 + len(got_w) * 4 + 1
    return checked


# ---------------------------------------------------------------------- the end


def _compare_books(world: World, model: Any, when: str) -> int:
    """Every account's quote and positions, each market and the ledger; returns the count."""
    b = model.books
    checked = 0
    for account in model.accounts:
        quote = int(world.read_named(world.admin, "accounts", account).quoteBalance)
        equal(f"{when}: quote of account {account}", quote, b.quote.get(account, 0))
        for m in model.rules.markets:
            p = world.read_named(world.admin, "positions", account, m.market_id)
            mine = b.positions.get((account, m.market_id), PositionBook())
            equal(
                f"{when}: position {account}/{m.key} (size, open notional, funding entry)",
                (int(p.size), int(p.openNotional), int(p.fundingEntry)),
                (mine.size, mine.open_notional, mine.entry if mine.size else 0),
            )
            checked += 4
    for m in model.rules.markets:
        c = world.read_named(world.admin, "markets", m.market_id)
        mine = b.markets[m.market_id]
        equal(
            f"{when}: market {m.key} (long, short, net open notional, entries, rate, index, time)",
            (
                int(c.longOpenInterest),
                int(c.shortOpenInterest),
                int(c.netOpenNotional),
                int(c.fundingEntrySum),
                int(c.fundingRate),
                int(c.fundingIndex),
                int(c.lastFundingTime),
            ),
            (
                mine.long_oi,
                mine.short_oi,
                mine.net_open_notional,
                mine.entry_sum,
                mine.state.rate,
                mine.state.index,
                mine.state.last_time,
            ),
        )
        checked += 7
    ledger = world.read_named(world.admin, "ledger")
    equal(
        f"{when}: ledger (pool cash, account debt, debt in auction, insurance fees)",
        (
            int(ledger.poolCash),
            int(ledger.accountDebt),
            int(ledger.debtInAuction),
            int(ledger.insuranceFees),
        ),
        (b.pool_cash, b.account_debt, b.debt_in_auction, b.insurance_fees),
    )
    return checked + 4


def _final(world: World, spec: EpisodeSpec, episode: Episode) -> int:
    model = episode.world
    end = step_time(spec, spec.path.steps - 1)
    checked = _compare_books(world, model, "at the end")
    ids = list(model.accounts)
    healths = world.read(world.admin, "healthOf", ids)
    for account, h in zip(ids, healths, strict=True):
        equal(
            f"health of account {account} (equity, requirement, health)",
            (int(h[0]), int(h[1]), int(h[2])),
            model.health(account, end),
        )
    fund = int(world.read(world.quote, "balanceOf", world.fund.address))
    equal("insurance fund balance", fund, model.fund)
    equal("pool totalAssets", int(world.read(world.pool, "totalAssets")), model.pool_assets(end))
    written = sum(int(e["debt"]) for e in world.logs(world.engine, "BadDebtWrittenOff"))
    negative = sum(max(0, -int(h[0])) for h in healths)
    equal("bad debt (USD)", (written * 10**12 + negative) / WAD, episode.metrics["bad_debt_usd"])
    liquidations = len(world.logs(world.engine, "Liquidated"))
    equal("liquidations", liquidations, episode.metrics["liquidations"])
    return checked + 3 * len(ids) + 4
