"""The keeper runs auto-deleveraging when it is due (issue 15 item 6; docs/pool.md,
"Auto-deleveraging"): each step it computes every market's factor from the head's views with the
reference model (solvent/model/adl.py); it sends nothing while the factor is at or below the
trigger, then `autoDeleverage(market, the model's ranked list)`, and nothing again once the run
brought the factor to the target. The engine's run equals the model's to the wei.

The crowd's $50M pool dwarfs its traders' PnL, so governance lowers the thresholds to 0.005% /
0.0025% (the contract's rule, not GMX's figures, is under test). Exactness: the model reads the
state the transaction saw at its block's time (rewind, an empty block at that time, the views)."""

from __future__ import annotations

from typing import Any

from solvent.harness.nodes import crowd
from solvent.harness.population import weth_longs
from solvent.harness.world import World
from solvent.keeper import adl as adl_keeper
from solvent.model import adl

WAD = 10**18
TRIGGER = WAD // 20_000
TARGET = WAD // 40_000


def _view(w: World, market: int, accounts: list[int], now: int) -> tuple[Any, ...]:
    """(book, positions, pool value, equity, params) at the head, read as the engine's run reads
    them."""
    stored = w.read_named(w.admin, "markets", market)
    price = int(w.read(w.oracle, "price", stored.asset))
    ledger = w.read_named(w.admin, "ledger")
    insurance = int(w.read(w.fund, "totalAssets")) if int(ledger.debtInAuction) else 0
    value = adl.pool_value_without_pnl(
        adl.ledger_from_views(ledger, w.read_named(w.admin, "borrowState"), insurance)
    )
    positions = {
        a: adl.position_from_view(w.read_named(w.admin, "positions", a, market)) for a in accounts
    }
    positions = {a: p for a, p in positions.items() if p.size}
    health = w.read_named(w.admin, "healthOf", list(positions))
    equity = {a: int(h.equity) for a, h in zip(positions, health, strict=True)}
    params = w.read_named(w.engine, "adlParams")
    return (
        adl.book_from_market(stored, price, now),
        positions,
        value,
        equity,
        adl.AdlParams(int(params.trigger), int(params.target)),
    )


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
    book, positions, value, equity, params = _view(w, market, accounts, head)
    assert adl.factor(book, value) > params.trigger
    plan = adl.plan(book, positions, value, equity, params)
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
    book_after, _, value_after, _, _ = _view(w, market, accounts, when)
    assert adl.factor(book_after, value_after) <= TRIGGER

    # the model at the run's own block state: rewind, an empty block at the same time
    w.rpc.call("evm_revert", snapshot)
    w.rpc.call("anvil_dropAllTransactions")
    w.mine_at(when)
    book, positions, value, equity, params = _view(w, market, accounts, when)
    run = adl.run(book, positions, value, plan, params)
    assert (int(executed["factorBefore"]), int(executed["factorAfter"])) == (
        run.factor_before,
        run.factor_after,
    )
    assert [
        (int(c["accountId"]), int(c["sizeDelta"]), int(c["price"]), int(c["realizedPnl"]))
        for c in cuts
    ] == [(c.account, c.size_delta, c.price, c.realized_pnl) for c in run.cuts]
    assert run.factor_after <= TARGET < TRIGGER < run.factor_before
