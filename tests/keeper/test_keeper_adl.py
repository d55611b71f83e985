"""The keeper runs auto-deleveraging when it is due (issue 15 item 6; docs/pool.md,
"Auto-deleveraging"; docs/keeper.md): each step it computes the pool's factor (every market's
traders' profit over the pool's value without it) from the head's views with the reference model
(solvent/model/adl.py); it sends nothing while the factor is at or below the trigger, then
`autoDeleverage(market, the model's ranked list)` for the market whose traders' PnL is largest,
and nothing again once the runs brought the factor to the target. The engine's run equals the
model's to the wei.

The crowd's $50M pool dwarfs its traders' PnL, so governance lowers the thresholds to 0.005% /
0.0025% (the contract's rule, not GMX's figures, is under test). Exactness: the model reads the
state the transaction saw at its block's time (rewind, an empty block at that time, the views)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from solvent.harness.nodes import crowd
from solvent.harness.population import PopulationSpec, weth_longs
from solvent.harness.world import World
from solvent.keeper import adl as adl_keeper
from solvent.model import adl
from solvent.sim.deleveraging import pool_state

WAD = 10**18
TRIGGER = WAD // 20_000
TARGET = WAD // 40_000


def _pool(w: World, now: int) -> tuple[dict[int, adl.Book], int, adl.AdlParams, int]:
    """(every market's book at `now`, G, `adlParams()`, the residual shortfall) from the head's
    views, as the engine's run reads them."""
    state = pool_state(w, now)
    return state.books, state.value, state.params, state.shortfall


def _others(books: dict[int, adl.Book], market: int) -> int:
    return adl.others_profit(b for m, b in books.items() if m != market)


def _holders(w: World, market: int, accounts: list[int]) -> tuple[dict, dict]:
    """(positions, maintenance equity) of the accounts holding one on `market`."""
    positions = {
        a: adl.position_from_view(w.read_named(w.admin, "positions", a, market)) for a in accounts
    }
    positions = {a: p for a, p in positions.items() if p.size}
    health = w.read_named(w.admin, "healthOf", list(positions))
    return positions, {a: int(h.equity) for a, h in zip(positions, health, strict=True)}


def _view(w: World, market: int, accounts: list[int], now: int) -> tuple[Any, ...]:
    """(book, positions, pool value, equity, params, others, shortfall) at the head, read as the
    engine's run reads them."""
    books, value, params, short = _pool(w, now)
    positions, equity = _holders(w, market, accounts)
    return books[market], positions, value, equity, params, _others(books, market), short


def assert_run_is(executed: Any, cuts: list, run: adl.Run) -> None:
    """The engine's `AdlExecuted` and `AutoDeleveraged` events are the model's run, to the wei."""
    assert (int(executed["factorBefore"]), int(executed["factorAfter"])) == (
        run.factor_before,
        run.factor_after,
    )
    assert [
        (int(c["accountId"]), int(c["sizeDelta"]), int(c["price"]), int(c["realizedPnl"]))
        for c in cuts
    ] == [(c.account, c.size_delta, c.price, c.realized_pnl) for c in run.cuts]


def test_keeper_deleverages_exactly_when_due_and_as_the_model(node, template):
    w, traders = crowd(node, template, weth_longs(12, leverage=(1.0, 3.0)))
    w.govern([(w.engine, "setAdlParams", (TRIGGER, TARGET))])
    market = w.market_ids["WETH"]
    accounts = [t.account_id for t in traders if t.positions.get("WETH")]
    assert len(accounts) >= 3
    keeper = w.keeper()
    keeper.sync()
    w.mine_block()
    calm = keeper.step()
    assert calm.adl_sent == 0  # the longs' PnL is about 0 at their entry price: not due

    # ETH +4%: the longs' PnL is above 0.005% of the pool's value
    w.set_prices({"WETH": w.oracle_prices()["WETH"] * 1.04})
    _, head = w.block()
    book, positions, value, equity, params, others, short = _view(w, market, accounts, head)
    assert adl.factor(book, value, others) > params.trigger
    plan = adl.plan(book, positions, value, equity, params, others, short)
    due = keeper.step()
    assert due.adl_sent == 1
    sent = keeper.pending[("adl", market)]
    assert sent.fields["data"].startswith(w.engine.selector("autoDeleverage"))
    assert adl_keeper.decode_call(sent.fields["data"]) == (market, plan)
    assert keeper._action_key(w.engine.address, sent.fields["data"]) == ("adl", market)

    snapshot = w.rpc.call("evm_snapshot")
    mined_at = w.mine_block()
    _, when = w.block()
    [executed] = w.logs(w.engine, "AdlExecuted", mined_at)
    cuts = w.logs(w.engine, "AutoDeleveraged", mined_at)
    after = keeper.step()  # the factor is at the target now: nothing more to do
    assert after.adl_sent == 0 and after.mined >= 1
    assert keeper.adl_checked_at == mined_at  # checked again: `AutoDeleveraged` was indexed
    assert {int(c["accountId"]) for c in cuts} <= keeper.accounts
    quiet = keeper.step()  # no new block, no event, no price change: not re-checked
    assert quiet.adl_sent == 0 and keeper.adl_checked_at == mined_at
    book_after, _, value_after, _, _, others_after, _ = _view(w, market, accounts, when)
    assert adl.factor(book_after, value_after, others_after) <= TRIGGER

    # the model at the run's own block state: rewind, an empty block at the same time
    w.rpc.call("evm_revert", snapshot)
    w.rpc.call("anvil_dropAllTransactions")
    w.mine_at(when)
    book, positions, value, equity, params, others, short = _view(w, market, accounts, when)
    run = adl.run(book, positions, value, plan, params, others, short)
    assert_run_is(executed, cuts, run)
    assert run.factor_after <= TARGET < TRIGGER < run.factor_before


def _two_market_longs() -> PopulationSpec:
    """A $100k pool and six accounts of $17k quote, each long ETH and BTC at 1.5x in equal
    halves: about $76k of longs on each market, so that a 60% rise of both leaves each market's
    traders about $45k in profit (each alone about 0.45 of the pool, together about 0.9)."""
    return PopulationSpec(
        6,
        seed=3,
        min_leverage=1.5,
        max_leverage=1.5,
        min_collateral_usd=17_000,
        max_collateral_usd=17_000,
        collateral_mixes=(("quote",),),
        market_sets=(("WETH", "WBTC"),),
        long_share=1.0,
        owners=3,
        lp_usd=100_000,
        insurance_usd=5_000,
    )


def _mine_run(
    w: World,
    keeper: Any,
    market: int,
    books: dict[int, adl.Book],
    value: int,
    params: adl.AdlParams,
    short: int,
    accounts: list[int],
) -> adl.Run:
    """Mines the keeper's pending run on `market`, checks the engine's events against the model's
    run on the head's views accrued to the block's time, and returns the model's run."""
    sent = keeper.pending[("adl", market)]
    _, listed = adl_keeper.decode_call(sent.fields["data"])
    positions, _ = _holders(w, market, accounts)
    stored = {m: w.read_named(w.admin, "markets", m) for m in books}
    mined_at = w.mine_block()
    _, when = w.block()
    [executed] = w.logs(w.engine, "AdlExecuted", mined_at)
    cuts = w.logs(w.engine, "AutoDeleveraged", mined_at)
    # No account owes quote (pending interest stays 0): the head's views accrued to the block's
    # time are what the run read.
    moved = {m: adl.book_from_market(stored[m], b.price, when) for m, b in books.items()}
    run = adl.run(moved[market], positions, value, listed, params, _others(moved, market), short)
    assert int(executed["marketId"]) == market
    assert_run_is(executed, cuts, run)
    return run


def test_keeper_deleverages_the_pool_across_markets_one_run_a_step(node, template):
    """ETH's and BTC's traders are each below the 0.85 trigger alone and above it together: the
    keeper cuts the market with the larger PnL first; its traders run out of profit with the
    pool's factor still above the 0.77 target (the run arms the next), and the next step cuts
    the other market down to the target. Each list is the model's plan with the other market's
    profit, and each run the engine executes is the model's."""
    w, traders = crowd(node, template, _two_market_longs())
    assert all(set(t.positions) == {"WETH", "WBTC"} for t in traders), [t.refused for t in traders]
    accounts = [t.account_id for t in traders]
    keeper = w.keeper()
    keeper.sync()
    w.mine_block()
    assert keeper.step().adl_sent == 0

    prices = w.oracle_prices()
    w.set_prices({"WETH": prices["WETH"] * 1.6, "WBTC": prices["WBTC"] * 1.6})
    _, head = w.block()
    books, value, params, short = _pool(w, head)
    assert int(w.read_named(w.admin, "ledger").accountDebt) == 0 and short == 0
    assert not params.armed and params.trigger == adl.TRIGGER_FACTOR
    pnl = adl_keeper.profits(books)
    for market, book in books.items():  # each market alone: below the trigger
        assert 0.40 * value < pnl[market] < 0.5 * value
        assert adl.factor(book, value) < params.trigger
    factor = adl_keeper.pool_factor(books, adl_keeper.AdlSnapshot(value, params))
    assert factor > params.trigger  # together: above it
    first = max(pnl, key=lambda m: (pnl[m], -m))
    [second] = [m for m in books if m != first]

    # step 1: the market with the larger PnL, with the other's profit in the factor
    positions, equity = _holders(w, first, accounts)
    plan = adl.plan(books[first], positions, value, equity, params, _others(books, first), short)
    assert len(plan) == len(accounts)  # every long: this market's profit alone cannot reach 0.77
    report = keeper.step()
    assert report.adl_sent == 1 and ("adl", second) not in keeper.pending
    assert adl_keeper.decode_call(keeper.pending[("adl", first)].fields["data"]) == (first, plan)
    run = _mine_run(w, keeper, first, books, value, params, short, accounts)
    assert run.factor_before == factor
    assert adl.market_pnl(run.book) <= 0 and run.factor_after > params.target
    assert bool(w.read_named(w.engine, "adlParams").armed)  # the run ended above the target

    # step 2: armed, the other market is cut down to the target
    _, head = w.block()
    books, value, params, short = _pool(w, head)
    assert params.armed
    positions, equity = _holders(w, second, accounts)
    others = _others(books, second)
    assert adl.factor(books[second], value, others) > params.target
    plan = adl.plan(books[second], positions, value, equity, params, others, short)
    assert plan
    report = keeper.step()
    assert report.adl_sent == 1
    assert adl_keeper.decode_call(keeper.pending[("adl", second)].fields["data"]) == (second, plan)
    run = _mine_run(w, keeper, second, books, value, params, short, accounts)
    # measured 0.8473 -> 0.77: a run that only the armed flag allows (below the 0.85 trigger)
    assert run.factor_before <= params.trigger
    assert adl.market_pnl(run.book) > 0 and run.factor_after <= params.target
    assert not bool(w.read_named(w.engine, "adlParams").armed)

    # step 3: the pool's factor is at the target, disarmed: nothing more to send
    _, head = w.block()
    books, value, params, _ = _pool(w, head)
    assert adl_keeper.pool_factor(books, adl_keeper.AdlSnapshot(value, params)) <= params.target
    assert keeper.step().adl_sent == 0 and not any(k[0] == "adl" for k in keeper.pending)


# ------------------------------------------------------------------ the choice, on plain books

USD = WAD  # WAD USD


def _long(profit_usd: int) -> adl.Book:
    """A market of 1 unit long at $1,000 whose traders' PnL is `profit_usd` (no funding)."""
    return adl.Book(WAD, 1_000 * USD, 0, 0, (1_000 + profit_usd) * USD)


def test_candidates_are_the_markets_in_profit_largest_first_once_the_pool_is_due():
    """A $100k pool: $45k + $40k of profit is 0.85 of it (not above the 0.85 trigger), $46k +
    $40k is above; the market at a loss is never a candidate (`AdlMarketNotInProfit`)."""
    pool = adl_keeper.AdlSnapshot(100_000 * USD, adl.AdlParams())
    at_trigger = {0: _long(45_000), 1: _long(40_000), 2: _long(-5_000)}
    assert adl_keeper.pool_factor(at_trigger, pool) == adl.TRIGGER_FACTOR
    assert adl_keeper.candidates(at_trigger, pool) == []
    due = {0: _long(40_000), 1: _long(46_000), 2: _long(-5_000)}
    chosen = adl_keeper.candidates(due, pool)
    assert [(d.market, d.others) for d in chosen] == [(1, 40_000 * USD), (0, 46_000 * USD)]
    assert {d.factor for d in chosen} == {adl_keeper.pool_factor(due, pool)} and chosen[
        0
    ].factor > (adl.TRIGGER_FACTOR)


def test_candidates_run_to_the_target_while_armed_or_short():
    """0.80 of the pool in profit: not due against the trigger, due while armed or while a
    residual shortfall remains (the target 0.77 is the bar then), not at or below the target."""
    books = {0: _long(50_000), 1: _long(30_000)}
    value = 100_000 * USD
    assert adl_keeper.candidates(books, adl_keeper.AdlSnapshot(value, adl.AdlParams())) == []
    armed = adl_keeper.AdlSnapshot(value, adl.AdlParams(armed=True))
    short = adl_keeper.AdlSnapshot(value, adl.AdlParams(), short=1)
    assert [d.market for d in adl_keeper.candidates(books, armed)] == [0, 1]
    assert [d.market for d in adl_keeper.candidates(books, short)] == [0, 1]
    low = {0: _long(50_000), 1: _long(27_000)}
    assert adl_keeper.candidates(low, armed) == []


def _stored(long_oi: int = 0, short_oi: int = 0, net_open: int = 0) -> SimpleNamespace:
    return SimpleNamespace(
        longOpenInterest=long_oi,
        shortOpenInterest=short_oi,
        netOpenNotional=net_open,
        fundingEntrySum=0,
        fundingRate=0,
        fundingIndex=0,
        lastFundingTime=0,
        skewScale=10**24,
        maxFundingVelocity=0,
        fundingDeadband=0,
        maxFundingRate=0,
    )


def test_books_need_a_price_only_where_there_is_open_interest():
    """An empty market counts 0 without a price (the engine does not read it); a market with open
    interest and no price makes the pool's factor unknown (the engine's run would revert)."""
    empty, held = _stored(), _stored(long_oi=WAD, net_open=1_000 * USD)
    books = adl_keeper.books({0: empty, 1: held}, {0: None, 1: 1_100 * USD}, now=0)
    assert books is not None and adl_keeper.profits(books) == {0: 0, 1: 100 * USD}
    assert adl_keeper.books({0: empty, 1: held}, {0: 2_000 * USD, 1: None}, now=0) is None
