"""The keeper sweeps the insurance fees the engine holds for the fund (`sweepInsuranceFees`) on a
schedule of chain time: until they are swept the fund cannot cover a loss with them (an
independent replay of a -50% gap saw $9.2k socialized on LPs while $579k of fund income sat
unswept in the engine, because nobody called it)."""

from __future__ import annotations

from solvent.harness.nodes import crowd
from solvent.harness.population import weth_longs
from solvent.harness.trading import TradeRequest, trade
from solvent.harness.world import World

INTERVAL = 3_600


def _fees(w: World) -> int:
    return int(w.read_named(w.admin, "ledger").insuranceFees)


def _fund_balance(w: World) -> int:
    return int(w.read(w.quote, "balanceOf", w.fund.address))


def test_the_keeper_sweeps_insurance_fees_once_per_interval(node, template):
    w, traders = crowd(node, template, weth_longs(6, leverage=(0.5, 1.5)))
    keeper = w.keeper(sweep_interval_s=INTERVAL)
    keeper.sync()
    waiting, fund_before = _fees(w), _fund_balance(w)
    assert waiting > 0  # the crowd's trades paid fees, part of them the fund's

    assert keeper.step().sweeps_sent == 1  # never checked before: due at once
    w.mine_block()
    keeper.step()
    assert _fees(w) == 0
    assert _fund_balance(w) == fund_before + waiting
    assert keeper.metrics.fee_sweeps.labels("mined")._value.get() == 1

    # New fees inside the interval wait for the next check ...
    held = [t for t in traders if "WETH" in t.positions]
    size = w.read(w.admin, "positions", held[0].account_id, w.market_ids["WETH"])[0]
    trade(w, [TradeRequest(held[0].owner, held[0].account_id, "WETH", -(int(size) // 10))])
    more = _fees(w)
    assert more > 0
    assert keeper.step().sweeps_sent == 0
    # ... and are swept once it has passed.
    w.mine_block(seconds=INTERVAL)
    assert keeper.step().sweeps_sent == 1
    w.mine_block()
    keeper.step()
    assert _fees(w) == 0 and _fund_balance(w) == fund_before + waiting + more


def test_nothing_is_sent_when_no_fees_wait_or_sweeping_is_off(node, template):
    w, _ = crowd(node, template, weth_longs(4, leverage=(0.5, 1.5)))
    off = w.keeper(sweep_interval_s=0)
    off.sync()
    assert off.step().sweeps_sent == 0
    high = w.keeper(sweep_min_quote=_fees(w) + 1)
    high.sync()
    assert high.step().sweeps_sent == 0
    assert _fees(w) > 0  # still waiting: below the keeper's threshold
