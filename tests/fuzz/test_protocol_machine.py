"""The protocol state machine on the real deployment, through the fast transaction path.

Every invariant of solvent/fuzz/model.py is checked after every step; a failure shrinks and
Hypothesis prints the seed (`--hypothesis-seed=N` replays it)."""

from __future__ import annotations

import pytest
from hypothesis.stateful import invariant, run_state_machine_as_test

from solvent.fuzz.machine import ProtocolMachine
from solvent.fuzz.profiles import active_settings

# The CI campaign (25 sequences of up to 40 steps, about a minute) runs in `make test-slow`, which
# CI runs too: `make test` stays under its 10 minutes. `make fuzz` is the deep campaign.
pytestmark = pytest.mark.slow

BRANCHES: dict[str, int] = {}


def test_protocol_keeps_its_promises(fast_driver, fuzz_system):
    bound = ProtocolMachine.bind(fast_driver, fuzz_system)

    class Recording(bound):  # type: ignore[misc, valid-type]
        @invariant()
        def protocol_keeps_its_promises(self) -> None:
            BRANCHES["steps"] = BRANCHES.get("steps", 0) + 1
            super().protocol_keeps_its_promises()

        def teardown(self) -> None:
            counts = [
                *self.branches.items(),
                *((f"event:{k}", v) for k, v in self.shadow.counts.items()),
            ]
            for name, n in counts:
                BRANCHES[name] = BRANCHES.get(name, 0) + n
            super().teardown()

    fast_driver.resync_nonces()
    run_state_machine_as_test(Recording, settings=active_settings())


def test_campaign_reached_every_kind_of_step():
    """Guards the campaign against vacuity: the steps that matter succeeded at least once."""
    wanted = {
        "engine.deposit:ok",
        "orders.commitOrder:ok",
        "orders.settleOrder:ok",
        # Not required: "orders.settleOrders:ok". `trade_now` settles through a batch when other
        # orders wait for its round, which this campaign rarely sets up; a rule of its own shifted
        # every draw of the derandomized mutation campaigns (one mutant escaped).
        # tests/fuzz/test_regressions.py settles a four-order batch through the machine.
        "event:OrderSettled",
        "event:OrderCancelled:Expired",  # cancelled after expiry, or replaced by a new commit
        "cancel:before-expiry-refused",
        "event:OrderCancelled:FillRefused",  # the fill's own margin check refused it
        "event:FundingSettled",  # funding moved and was settled at a touch
        # Not required: "event:funding:accrual-replayed". Whether this derandomized campaign
        # replays an accrual depends on which steps find a fresh price, which depends on block
        # times: a fresh clone in CI reached it 0 times, this machine 4 times in 1,011 steps.
        # tests/engine/test_funding_borrow.py replays accruals against the chain on every run.
        "engine.liquidate:ok",
        # Not required: "liquidatable-check:ok" (the liquidation invariant saw accounts under
        # water) and "pool.deposit:ok" (an LP claimed an executed deposit). With issue 18's rule
        # the draws reach them on some machines and not on others (a fresh clone in CI: 0 of
        # each in 934 steps; this machine: both in 1,013). tests/fuzz/test_regressions.py
        # requires both through the machine on every run.
        "liquidate:healthy-refused",
        "fund.deposit:ok",
        # Issue 18: accounts switch to the portfolio model and withdraw under it.
        "admin.setRiskModel:ok",
        "event:portfolio:RiskModelChosen",
        "event:portfolio:Withdrawn",
        # Not required: "event:portfolio:Traded" (a fill of an account on the model: the ci
        # campaign reached it alone on this machine but not once in 962 steps after the rest of
        # the slow suite, where the block times differ), "event:portfolio:Liquidated" (once in
        # 1,013 steps: too few to count on) nor a refused switch (none here).
        # tests/fuzz/test_regressions.py trades, switches, refuses a switch and liquidates a
        # portfolio account through the machine on every run.
        # Issue 15: accepted fills that grew |net| within the exposure bound; the replayed cash
        # equal to the chain's. Not required: "event:fill:PoolExposureExceeded",
        # "event:ProfitUnpaid", "event:credit:capped" (the set-up's `squeeze`) and
        # "event:ProfitUnpaid:adl": which examples draw the squeeze depends on block times, and a
        # fresh clone in CI drew none (1,025 steps) where this machine drew several.
        # tests/fuzz/test_regressions.py reaches each of them through the machine on every run
        # (the squeeze at 2x and 5x, the ADL set-up at goal 1.5).
        "event:exposure:bound-held",
        "event:cash:replayed",
        # Issue 15's auto-deleveraging (the set-up's `adl_goal` and the `deleverage` rule): calls
        # refused below the trigger, on a market whose traders are not in profit, with an account
        # listed after the target was reached and with a wrong-side account; calls that ran, one
        # of them ending on the bisection's partial cut, each judged by invariant 17; a run that
        # ended above the target (`armed`) and calls that met the target as their trigger.
        # Not required: "adl:AdlPositionNotInProfit" (3 in 1,013 steps here: the under-water
        # account exists only when the set-up's final move is small);
        # tests/fuzz/test_regressions.py reaches it through the machine on every run.
        "adl:ok",
        "adl:AdlNotTriggered",
        "adl:AdlMarketNotInProfit",
        "adl:ended-armed",
        "adl:trigger-is-target",
        "adl:AdlOvercut",
        "adl:AdlWrongSide",
        "adl:cut-partial",
        "event:adl:invariant-held",
    }
    print("steps and events of the campaign:", sorted(BRANCHES.items()))
    assert any(b.startswith("wrong-round-refused:") for b in BRANCHES), sorted(BRANCHES.items())
    assert wanted <= set(BRANCHES), (
        f"missing {wanted - set(BRANCHES)} in {sorted(BRANCHES.items())}"
    )
