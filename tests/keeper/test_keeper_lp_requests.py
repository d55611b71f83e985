"""The keeper executes the LP pool's ERC-7540 requests on the real deployment (docs/pool.md): it
follows `DepositRequest`/`RedeemRequest`, sends nothing while a market's round for the request's
target time is missing, then executes each request naming every market's determining round, and
earns the execution fee. Chain time only: every block's timestamp is set by the test."""

from __future__ import annotations

from solvent.harness.nodes import crowd
from solvent.harness.population import weth_longs
from solvent.harness.trading import publish_rounds
from solvent.harness.world import KEEPER, OPERATOR

USDC = 10**6


def test_lp_requests_are_executed_once_their_rounds_exist(node, template):
    w, traders = crowd(node, template, weth_longs(4, leverage=(0.5, 1.5)))
    assert all(t.positions for t in traders)  # the pool is not flat: requests are the way in
    keeper = w.keeper()
    keeper.sync()
    for _ in range(2):
        w.mine_block()
        keeper.step()
    operator = w.address(OPERATOR)
    shares = int(w.read(w.pool, "balanceOf", operator))
    w.send_ok(
        [
            w.tx(OPERATOR, w.quote, "mint", operator, 50_000 * USDC),
            w.tx(OPERATOR, w.pool, "requestDeposit", 50_000 * USDC, operator, operator),
            w.tx(OPERATOR, w.pool, "requestRedeem", shares // 10, operator, operator),
        ]
    )
    target = max(int(w.read(w.pool, "requestTimes", operator, d)[0]) for d in (True, False))
    w.mine_block(seconds=1)  # no round at or after the target yet: nothing to execute
    early = keeper.step()
    assert early.block and not w.logs(w.pool, "DepositExecuted")

    published = publish_rounds(w, list(w.market_ids), target)
    keeper.step()
    w.mine_block()
    keeper.step()
    deposits = w.logs(w.pool, "DepositExecuted", published)
    redeems = w.logs(w.pool, "RedeemExecuted", published)
    assert len(deposits) == len(redeems) == 1
    assert {deposits[0]["executor"], redeems[0]["executor"]} == {w.address(KEEPER)}
    assert deposits[0]["fee"] == redeems[0]["fee"] == 2 * USDC
    assert int(w.read(w.pool, "pendingDepositRequest", 0, operator)) == 0
    assert int(w.read(w.pool, "maxDeposit", operator)) == 50_000 * USDC
    assert int(w.read(w.pool, "claimableRedeemRequest", 0, operator)) == shares // 10
    assert not keeper.lp_index.pending
