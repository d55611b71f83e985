"""Constants, deployment record and readers shared by the liquidation tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solvent.model.fixed_point import mul_div_up

USDC = 10**6
WAD = 10**18
ETH = 10**18
BTC = 10**8

WETH_PRICE = 2_000 * WAD
WBTC_PRICE = 60_000 * WAD

STEP_CUT = 99 * WAD // 100  # stairstep: -1% every 90 s
STEP_SECONDS = 90
EXP_CUT = 9_999 * WAD // 10_000  # exponential: -0.01% per second
LINEAR_TAU = 3_600

BUF = 12 * WAD // 10
TAIL = 3_600
CUSP = WAD // 2
CHIP = WAD // 1_000  # 0.1%
TIP = 5 * USDC
CHOST = 100 * USDC
HOLE = 10_000_000 * USDC
GLOBAL_HOLE = 15_000_000 * USDC
FUND_SEED = 100_000 * USDC
COOLDOWN = 7 * 86_400
WINDOW = 12 * 3_600  # <= COOLDOWN / 9: at most 10% of a stake exit-ready


def collateral_params(curve: Any, **overrides: int) -> tuple:
    """CollateralParams tuple (curve, buf, tail, cusp, chip, tip, chost, hole)."""
    p = {
        "buf": BUF,
        "tail": TAIL,
        "cusp": CUSP,
        "chip": CHIP,
        "tip": TIP,
        "chost": CHOST,
        "hole": HOLE,
    } | overrides
    return (curve, p["buf"], p["tail"], p["cusp"], p["chip"], p["tip"], p["chost"], p["hole"])


@dataclass
class System:
    quote: Any
    weth: Any
    wbtc: Any
    oracle: Any
    fund: Any
    engine: Any
    liquidator: Any
    stairstep: Any
    exponential: Any
    linear: Any
    exchange: Any
    deployer: Any
    keeper: Any
    taker: Any
    treasury: Any
    staker: Any

    def start(self, tokens: list[Any], lots: list[int], debt: int, penalty: int, account: int = 7):
        """Plays the engine's liquidation; returns (receipt, first auction id)."""
        for token, lot in zip(tokens, lots, strict=True):
            token.mint(self.engine, lot, sender=self.deployer)
        tx = self.engine.liquidate(
            account, tokens, lots, debt, penalty, self.keeper, sender=self.deployer
        )
        return tx, self.auction_ids(tx)[0]

    def auction_ids(self, tx: Any) -> list[int]:
        """Ids of the auctions a transaction started, lot by lot (slots are recycled, so ids are
        unique but not consecutive)."""
        return [e.id for e in tx.events.filter(self.liquidator.AuctionStarted)]

    def fund_taker(self, amount: int, taker: Any | None = None) -> Any:
        who = taker or self.taker
        self.quote.mint(who, amount, sender=self.deployer)
        self.quote.approve(self.liquidator, 2**256 - 1, sender=who)
        return who


SCALE_WETH = 10**30  # 10**(18 + 18 - 6)
SCALE_WBTC = 10**20  # 10**(8 + 18 - 6)


def start_price(oracle_price: int, buf: int) -> int:
    return mul_div_up(oracle_price, buf, WAD)


def active_tabs(liquidator: Any) -> int:
    return sum(liquidator.status(i).tab for i in liquidator.activeAuctionIds())


def settled(tx: Any, engine: Any) -> tuple[int, int]:
    """(debt repaid, penalty paid) reported to the engine in one transaction."""
    events = tx.events.filter(engine.ProceedsSettled)
    return sum(e.debtRepaid for e in events), sum(e.penaltyPaid for e in events)


def bad_debt(tx: Any, engine: Any) -> list[tuple[int, int, int]]:
    return [(e.amount, e.covered, e.socialized) for e in tx.events.filter(engine.BadDebtWrittenOff)]


def ends(tx: Any, engine: Any) -> list[tuple[int, str, int]]:
    return [(e.accountId, e.token, e.returned) for e in tx.events.filter(engine.AuctionEndReported)]
