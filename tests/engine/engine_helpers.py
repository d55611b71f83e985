"""Engine test constants and helpers shared by the engine tests."""

from __future__ import annotations

from solvent.model.margin import (
    CollateralHolding,
    CollateralParams,
    LiquidationParams,
    MarketParams,
    Portfolio,
    PositionState,
    trade_fee,
)

WAD = 10**18
USDC = 10**6
ETH_PRICE = 3_000 * WAD
BTC_PRICE = 60_000 * WAD

WETH_PARAMS = CollateralParams(decimals=18, im_weight=8 * WAD // 10, mm_weight=85 * WAD // 100)
WBTC_PARAMS = CollateralParams(decimals=8, im_weight=75 * WAD // 100, mm_weight=8 * WAD // 10)
ETH_MARKET = MarketParams(
    base_mmr=65 * WAD // 1000,
    vol_factor=8 * WAD // 100,
    sigma_cap=3 * WAD,
    im_scale=15385 * WAD // 10000,
    fee_rate=5 * WAD // 10000,
    insurance_fee_share=2 * WAD // 10,
)
BTC_MARKET = MarketParams(
    base_mmr=65 * WAD // 1000,
    vol_factor=7 * WAD // 100,
    sigma_cap=3 * WAD,
    im_scale=15385 * WAD // 10000,
    fee_rate=5 * WAD // 10000,
    insurance_fee_share=2 * WAD // 10,
)
OI_CAP = 100_000 * WAD
# Funding parameters of both test markets (config/local.yaml's ETH-PERP): skewScale, velocity (per
# day per day), dead-band (fraction of skewScale), |rate| bound (per day).
SKEW_SCALE = 350_000 * WAD
FUNDING = (SKEW_SCALE, 9 * WAD, WAD // 1000, WAD // 100)
LIQ = LiquidationParams(
    penalty_rate=25 * WAD // 1000,
    target_health=115 * WAD // 100,
    full_liquidation_health=WAD // 2,
    restricted_liquidation_health=9 * WAD // 10,
    keeper_chip=WAD // 1000,
    dust_notional=100 * WAD,
    keeper_tip=5 * USDC,
    liquidation_fee=2 * WAD // 100,
    min_position_margin=50 * WAD,
)
KEEPER_TIP = LIQ.keeper_tip
KEEPER_CHIP = LIQ.keeper_chip


EXPOSURE_RATIO = WAD  # the traders' net notional in a market at most the pool's cash


def market_tuple(
    p: MarketParams,
    oi_cap: int = OI_CAP,
    funding: tuple = FUNDING,
    exposure_ratio: int = EXPOSURE_RATIO,
) -> tuple:
    return (
        p.base_mmr,
        p.vol_factor,
        p.sigma_cap,
        p.im_scale,
        p.insurance_fee_share,
        oi_cap,
        *funding,
        exposure_ratio,
    )


# The trading fee the engine tests charge through the order book (5 bps of notional, the old
# market fee rate): the order book owns fee rates now.
FEE_RATE = 5 * WAD // 10000


class Book:
    """A test account playing the order book: fills at the oracle price with a 5 bps fee, as
    `engine.trade` did before the order book (its signature, minus the checks the order book
    makes now: authorization and the acceptable price)."""

    def __init__(self, engine, oracle, account, price_of) -> None:
        self.engine = engine
        self.oracle = oracle
        self.account = account
        self._price_of = price_of

    def price(self, market_id: int) -> int:
        return self._price_of(market_id)

    def trade(self, account_id, market_id, size, limit=None, sender=None, fee_rate=FEE_RATE):
        """`fillOrder` at the oracle price (1 when the oracle has none: the engine then fails on
        its own read), charging `fee_rate` of the notional."""
        del limit, sender
        price = self.price(market_id) or WAD
        fee = trade_fee(size, price, fee_rate) if size else 0
        return self.engine.fillOrder(
            account_id, market_id, size, price, fee, 0, self.account, sender=self.account
        )


def liquidation_tuple(p: LiquidationParams) -> tuple:
    return (
        p.penalty_rate,
        p.target_health,
        p.full_liquidation_health,
        p.restricted_liquidation_health,
        p.keeper_chip,
        p.dust_notional,
        p.keeper_tip,
        p.liquidation_fee,
        p.min_position_margin,
    )


def read_portfolio(engine, admin, oracle, weth, wbtc, account_id: int) -> Portfolio:
    """The on-chain account as the Python model's Portfolio (prices and vol from the oracle)."""
    account = admin.accounts(account_id)
    collaterals = []
    for token, params in ((weth, WETH_PARAMS), (wbtc, WBTC_PARAMS)):
        amount = admin.collateralBalance(account_id, token)
        if amount:
            collaterals.append(CollateralHolding(amount, oracle.prices(token) or None, params))
    positions = []
    for market_id, (token, params) in enumerate(((weth, ETH_MARKET), (wbtc, BTC_MARKET))):
        position = admin.positions(account_id, market_id)
        if position.size:
            positions.append(
                PositionState(
                    position.size,
                    position.openNotional,
                    oracle.prices(token) or None,  # 0: the mock reverts PriceNotSet
                    oracle.sigmas(token),
                    params,
                )
            )
    return Portfolio(account.quoteBalance, collaterals, positions)


def ledger_sum(engine, admin, usdc) -> tuple[int, int]:
    """(engine's quote balance, what the ledgers say it holds), over every account."""
    ledger = admin.ledger()
    count = engine.accountCount()
    owed = sum(max(admin.accounts(i).quoteBalance, 0) for i in range(1, count + 1))
    return usdc.balanceOf(engine), owed + ledger.poolCash + ledger.insuranceFees


def settlement(account: int, token: object, **fields: object) -> dict[str, object]:
    """An `IAuctionSettlement.Settlement` for `settleAuction`, every field not given zero."""
    base: dict[str, object] = {
        "accountId": account,
        "token": token,
        "receiver": "0x" + "00" * 20,
        "released": 0,
        "debtRepaid": 0,
        "penaltyPaid": 0,
        "badDebt": 0,
        "returned": 0,
        "ended": False,
    }
    return {**base, **fields}
