"""The keeper's health scan works for accounts under either risk model (issue 18, item 5): it
reads the engine's own views, which follow each account's model, so a crash that breaches only
the accounts on the portfolio model is liquidated exactly as the chain says, and nothing else."""

from __future__ import annotations

from solvent.harness.nodes import crowd
from solvent.harness.population import weth_longs


def test_the_keeper_liquidates_what_each_accounts_model_says(node, template):
    """24 WETH-collateral longs at 1.0-1.4x, every other one on the portfolio model (approved
    through the timelock). After ETH and BTC fall 28%, the standard margin (about 8% of notional
    maintenance) keeps every account healthy; the portfolio grid (30% move on collateral and
    position together, maintenance 0.8 of it) breaches the more leveraged half of its accounts.
    The keeper liquidates exactly those, in the block after the update."""
    w, traders = crowd(node, template, weth_longs(24, leverage=(1.0, 1.4)))
    model = w.record["addresses"]["portfolio_model"]
    w.govern([("admin", "approveRiskModel", (model, True))])
    on_model = traders[::2]
    w.send_ok([w.tx(t.owner, "admin", "setRiskModel", t.account_id, model) for t in on_model])
    assert all(
        w.read("admin", "riskModelOf", t.account_id).lower() == model.lower() for t in on_model
    )
    keeper = w.keeper()
    keeper.sync()
    w.mine_block()
    keeper.step()  # approval and pokes
    w.mine_block()
    assert keeper.step().liquidations_sent == 0 and w.liquidatable() == []

    w.set_prices({"WETH": 2_000 * 0.72, "WBTC": 60_000 * 0.72})
    update_block = w.block()[0]
    breached = w.liquidatable()
    portfolio_ids = {t.account_id for t in on_model}
    assert breached and set(breached) <= portfolio_ids
    report = keeper.step()
    assert report.liquidations_sent == len(breached)
    w.mine_block()
    keeper.step()
    liquidated = {e["accountId"] for e in w.logs("engine", "Liquidated", update_block)}
    assert liquidated == set(breached)
