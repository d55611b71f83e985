"""Random sequences of starts, takes, resets, cancels and time jumps; invariants after each step:

- Σ tabs of active auctions == global dirt, and per collateral == its dirt, each <= its cap;
- collateral seized == taken + returned + cancelled + still in auction (== the engine's custody);
- an auction's price never rises except by a reset;
- the fund's balance == seed - rewards - covered shortfalls (never negative);
- bad debt is written off only when a lot is exhausted.
"""

from __future__ import annotations

from collections import defaultdict

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from liquidation_support import BTC, ETH, FUND_SEED, GLOBAL_HOLE, HOLE, USDC

OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("start"),
            st.integers(min_value=1, max_value=50 * ETH),
            st.integers(min_value=0, max_value=3 * BTC),
            st.integers(min_value=1, max_value=300_000 * USDC),
            st.integers(min_value=0, max_value=15_000 * USDC),
        ),
        st.tuples(st.just("take"), st.integers(0, 7), st.integers(1, 1_000)),
        st.tuples(st.just("warp"), st.integers(1, 5_000)),
        st.tuples(st.just("reset"), st.integers(0, 7)),
        st.tuples(st.just("cancel"), st.integers(0, 7)),
    ),
    min_size=3,
    max_size=10,
)


class Ledger:
    def __init__(self, s):
        self.s = s
        self.seized = defaultdict(int)
        self.out = defaultdict(int)  # taken + returned + cancelled, per token
        self.token_of: dict[int, str] = {}
        self.fund_out = 0
        self.prices: dict[int, tuple[int, int]] = {}

    def record(self, tx, op: str) -> None:
        s, liq = self.s, self.s.liquidator
        for e in tx.events.filter(liq.AuctionStarted):
            self.seized[e.token] += e.lot
            self.token_of[e.id] = e.token
        for e in tx.events.filter(liq.Take):
            self.out[self.token_of[e.id]] += e.slice
        for e in tx.events.filter(s.engine.AuctionEndReported):
            self.out[e.token] += e.returned
        for e in tx.events.filter(liq.AuctionCancelled):
            self.out[self.token_of[e.id]] += e.lot
        self.fund_out += sum(e.paid for e in tx.events.filter(liq.KeeperRewarded))
        self.fund_out += sum(e.rewardPaid for e in tx.events.filter(liq.AuctionReset))
        written = list(tx.events.filter(s.engine.BadDebtWrittenOff))
        self.fund_out += sum(e.covered for e in written)
        if written and op == "take":
            assert all(e.lotLeft == 0 and e.tabLeft > 0 for e in tx.events.filter(liq.Take))

    def check(self) -> None:
        s, liq = self.s, self.s.liquidator
        active = [liq.status(i) for i in liq.activeAuctionIds()]
        g = liq.globals()
        assert sum(a.tab for a in active) == g.dirt <= GLOBAL_HOLE
        for token in (s.weth, s.wbtc):
            mine = [a for a in active if a.token == token.address]
            dirt = liq.collaterals(token).dirt
            assert sum(a.tab for a in mine) == dirt <= HOLE
            held = s.engine.collateralInAuction(token)
            assert held == sum(a.lot for a in mine)
            assert token.balanceOf(liq) == 0
            assert self.seized[token.address] == self.out[token.address] + held
        for a_id, a in zip(liq.activeAuctionIds(), active, strict=True):
            before = self.prices.get(a_id)
            if before is not None and before[0] == a.startTime:
                assert a.price <= before[1]
            self.prices[a_id] = (a.startTime, a.price)
        assert s.quote.balanceOf(s.fund) == s.fund.totalAssets() == FUND_SEED - self.fund_out >= 0


# Derandomized: the vacuity guard below must not depend on the run's luck (15 random sequences
# sometimes had no successful take). The stateful campaign in tests/fuzz explores at random.
# 20-50 s alone: `make test-slow` (and CI) runs it; `make test` stays nearer 10 minutes
@pytest.mark.slow
@settings(max_examples=15, deadline=None, derandomize=True)
@given(ops=OPS)
def test_invariants_hold_over_random_sequences(system, chain, ops):
    s = system
    with chain.isolate():
        taker = s.fund_taker(10**9 * USDC)
        ledger = Ledger(s)
        for op in ops:
            tx = _apply(s, chain, taker, op)
            if tx is not None:
                ledger.record(tx, op[0])
                APPLIED[op[0]] += 1
            ledger.check()


APPLIED: defaultdict[str, int] = defaultdict(int)


# Slow like the property it guards: it reads the counts that test leaves behind
@pytest.mark.slow
def test_random_sequences_exercised_every_operation():
    """Guards the test above against vacuity: each kind of step succeeded at least once."""
    assert {k for k, v in APPLIED.items() if v} >= {"start", "take", "cancel"}, dict(APPLIED)


def _apply(s, chain, taker, op):
    liq = s.liquidator
    ids = list(liq.activeAuctionIds())
    kind = op[0]
    try:
        if kind == "start":
            _, weth_lot, wbtc_lot, debt, penalty = op
            tokens, lots = [s.weth], [weth_lot]
            if wbtc_lot:
                tokens, lots = [s.weth, s.wbtc], [weth_lot, wbtc_lot]
            for token, lot in zip(tokens, lots, strict=True):
                token.mint(s.engine, lot, sender=s.deployer)
            return s.engine.liquidate(9, tokens, lots, debt, penalty, s.keeper, sender=s.deployer)
        if kind == "warp":
            chain.pending_timestamp += op[1]
            chain.mine()
            return None
        if not ids:
            return None
        auction_id = ids[op[1] % len(ids)]
        if kind == "take":
            lot = liq.status(auction_id).lot
            amount = max(lot * op[2] // 1_000, 1)
            return liq.take(auction_id, amount, 2**255, taker, b"", sender=taker)
        if kind == "reset":
            return liq.reset(auction_id, s.keeper, sender=s.keeper)
        return liq.cancel(auction_id, sender=s.deployer)
    except ape.exceptions.ContractLogicError:
        return None
