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
TAKE_GAS = 600_000
RESET_GAS = 300_000
GAS_LIMIT = 1_000_000_000  # every block of the script fits in one block
COMMIT_TIME = FILL_TIME - 20  # target time = commit + settlement delay (15 s) <= round time
ROUND_TIME = FILL_TIME - 1


KEEPER_CAPITAL = 50_000_000 * QUOTE  # the keeper pays its takes from it


def _owner(account_id: int) -> int:
    return 1 + (account_id - 1) % OWNERS


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
    tokens = {"quote": world.quote, **world.tokens}
    minted: dict[tuple[int, str], int] = {}
    for p in plans:
        for key, amount in (("quote", p.deposit), *p.collateral):
            owner = _owner(p.account_id)
            minted[(owner, key)] = minted.get((owner, key), 0) + amount
    keeper = world.address(KEEPER)
    world.send_ok(
        [
            world.tx(o, token, "approve", world.engine.address, MAX_UINT)
            for o in owners
            for token in tokens.values()
        ]
        + [
            world.tx(OPERATOR, tokens[key], "mint", world.address(o), amount)
            for (o, key), amount in minted.items()
        ]
        + [
            world.tx(OPERATOR, world.quote, "mint", keeper, KEEPER_CAPITAL),
            world.tx(KEEPER, world.quote, "approve", world.liquidator.address, MAX_UINT),
        ]
        + [
            world.tx(
                _owner(p.account_id), world.engine, "openAccount", (p.account_id - 1) // OWNERS
            )
            for p in plans
        ]
    )
    equal("accounts opened", int(world.read(world.engine, "accountCount")), len(plans))
    world.send_ok(
        [
            world.tx(
                _owner(p.account_id),
                world.engine,
                "deposit",
                p.account_id,
                tokens[key].address,
                amount,
            )
            for p in plans
            for key, amount in (("quote", p.deposit), *p.collateral)
            if amount
        ]
    )
    world.set_automine(False)
    book = world.c("order_book")
    _all_ok(world, _send_block(world, _feed_txs(world, answers0), COMMIT_TIME - 1), "feed")
    commits = [
        world.tx(
            _owner(p.account_id),
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
    trace = episode.trace
    ids: dict[tuple[int, str], int] = {}  # (account, asset key) -> running auction id
    checked = 0
    for step in range(1, trace.blocks + 1):
        sent, actions = trace.sent[step - 1], trace.actions[step - 1]
        txs = _feed_txs(world, answers[min(step, spec.path.steps - 1)])
        feeds = len(txs)
        txs += [
            world.tx(KEEPER, world.engine, "liquidate", a, keeper, gas=LIQUIDATION_GAS)
            for a in sent
        ]
        for action in actions:
            auction_id = ids[(action.account, action.token)]
            if action.kind == "take":
                args = (auction_id, action.max_amount, action.max_price, keeper, b"")
                txs.append(world.tx(KEEPER, world.liquidator, "take", *args, gas=TAKE_GAS))
            else:
                txs.append(
                    world.tx(KEEPER, world.liquidator, "reset", auction_id, keeper, gas=RESET_GAS)
                )
        receipts = _send_block(world, txs, step_time(spec, step))
        _all_ok(world, receipts[:feeds], "feed")
        by_id = {v: k for k, v in ids.items()}
        events, write_offs, takes, resets = [], [], [], []
        for receipt in receipts[feeds:]:
            if not succeeded(receipt):
                continue
            events += world.engine.events("Liquidated", receipt)
            write_offs += world.engine.events("BadDebtWrittenOff", receipt)
            takes += [
                (*by_id[int(t.id)], int(t.price), int(t.slice), int(t.owe))
                for t in world.liquidator.events("Take", receipt)
            ]
            resets += [
                (*by_id[int(r.id)], int(r.rewardRequested), int(r.rewardPaid))
                for r in world.liquidator.events("AuctionReset", receipt)
            ]
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
        want = [dataclasses.astuple(e) for e in trace.landed[step - 1]]
        equal(
            f"step {step}: liquidations (account, fraction, closed, pnl, penalty, reward)",
            got,
            want,
        )
        got_w = [
            (int(w.accountId), int(w.debt), int(w.coveredByInsurance), int(w.socialized))
            for w in write_offs
        ]
        want_w = [dataclasses.astuple(w) for w in trace.write_offs[step - 1]]
        equal(
            f"step {step}: bad debt written off (account, debt, covered, socialized)", got_w, want_w
        )
        want_t = [dataclasses.astuple(t) for t in trace.takes[step - 1]]
        equal(f"step {step}: takes (account, token, price, slice, owe)", takes, want_t)
        equal(f"step {step}: resets (account, token, reward, paid)", resets, trace.resets[step - 1])
        listed = [int(i) for i in world.read(world.admin, "liquidatableAccounts", 1, count)]
        equal(f"step {step}: liquidatable accounts", listed, trace.liquidatable[step - 1])
        ids, running = _auctions(world)
        equal(
            f"step {step}: running auctions (account, token, lot, tab, debt, start price, time)",
            sorted(running),
            sorted(trace.auctions[step - 1]),
        )
        checked += len(got) * 6 + len(got_w) * 4 + len(takes) * 5 + len(resets) * 4
        checked += 1 + len(running) * 7
    return checked


def _auctions(world: World) -> tuple[dict[tuple[int, str], int], list[tuple]]:
    """The liquidator's running auctions: (account, asset key) -> id, and each one's fields."""
    key_of = {token.address.lower(): key for key, token in world.tokens.items()}
    active = [int(i) for i in world.read(world.liquidator, "activeAuctionIds")]
    statuses = [world.read_named(world.liquidator, "status", i) for i in active]
    ids, running = {}, []
    for auction_id, st in zip(active, statuses, strict=True):
        account, key = int(st.accountId), key_of[str(st.token).lower()]
        ids[(account, key)] = auction_id
        running.append(
            (
                account,
                key,
                int(st.lot),
                int(st.tab),
                int(st.debt),
                int(st.startPrice),
                int(st.startTime),
            )
        )
    return ids, running


# ---------------------------------------------------------------------- the end


def _compare_books(world: World, model: Any, when: str) -> int:
    """Every account's quote and positions, each market and the ledger; returns the count."""
    b = model.books
    checked = 0
    for account in model.accounts:
        quote = int(world.read_named(world.admin, "accounts", account).quoteBalance)
        equal(f"{when}: quote of account {account}", quote, b.quote.get(account, 0))
        for key, token in world.tokens.items():
            held = int(world.read(world.admin, "collateralBalance", account, token.address))
            mine = model.collateral.get((account, key), 0)
            equal(f"{when}: {key} of account {account}", held, mine)
            checked += 1
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
    end = model.now
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
    _, running = _auctions(world)
    rules = model.rules.lots
    shortfall = sum(
        max(0, debt - lot * model.price_of(key) // rules[key].scale)
        for _, key, lot, _, debt, _, _ in running
    )
    chain = ((written + shortfall) * 10**12 + negative) / WAD
    equal("bad debt (USD)", chain, episode.metrics["bad_debt_usd"])
    liquidations = len(world.logs(world.engine, "Liquidated"))
    equal("liquidations", liquidations, episode.metrics["liquidations"])
    return checked + 3 * len(ids) + 4
