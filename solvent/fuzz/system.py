"""The system under fuzzing: the real deployment (solvent.deploy) plus funded actors, a toy
exchange and a flash taker, described by addresses and ABIs so either driver can run it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solvent import config as configs
from solvent.abi import Abi, CodecSet, abi_json
from solvent.deploy import Protocol, deploy
from solvent.governance import govern
from solvent.model import portfolio as pm

WAD = 10**18
USDC = 10**6
MAX_UINT = 2**256 - 1

DEPLOYER, KEEPER, LP, STAKER = 0, 7, 5, 6
TRADERS = (1, 2, 3, 4)  # account i of the engine belongs to dev account i
ACTORS = 10  # dev accounts the campaign deploys, funds and signs with
ASSETS = ("WETH", "WBTC")
LP_SEED = 2_000_000 * USDC
# The campaign's markets get 1/100 of the configured skew scale (ETH 3,500, BTC 120): the traders'
# skew of a few hundred ETH then moves the funding rate to its bound within minutes and the fill
# premium to tens of bps, so funding, premiums and maker/taker splits are exercised, not rounded
# to zero as they would be against 350,000 ETH.
SKEW_SCALE_DIVISOR = 100
FUND_SEED = 20_000 * USDC


@dataclass(frozen=True)
class MarketInfo:
    asset: str
    base_mmr: int
    vol_factor: int
    sigma_cap: int
    im_scale: int
    insurance_fee_share: int
    skew_scale: int
    max_exposure_ratio: int  # WAD: the traders' net notional at most this times the pool's cash


@dataclass(frozen=True)
class OrderParams:
    """A market's order configuration (OrderBook.marketOrders)."""

    settlement_delay: int
    settlement_window: int
    settlement_fee: int  # quote units
    maker_fee_rate: int
    taker_fee_rate: int
    commit_margin_bps: int


@dataclass(frozen=True)
class PortfolioGrid:
    """The deployed portfolio risk model (approved at set-up) and its grid, as the reference
    (solvent.model.portfolio) takes it: scenarios and scan ranges, each asset's rates (WAD)."""

    params: pm.PortfolioParams
    haircuts: dict[str, int]  # asset key -> liquidity haircut on it as collateral
    add_ons: dict[str, int]  # asset key -> non-nettable add-on on a position in it


@dataclass(frozen=True)
class FuzzSystem:
    codec: CodecSet
    contracts: dict[str, Any]  # ape instances by the codec's keys (for the naive driver)
    actors: list[str]  # dev account addresses (lower-case)
    decimals: dict[str, int]
    weights: dict[str, tuple[int, int]]  # (imWeight, mmWeight)
    markets: dict[int, MarketInfo]
    liquidation: tuple[int, ...]  # LiquidationParams in the contract's order
    chost: int
    feed_decimals: dict[str, int]
    orders: dict[int, OrderParams]  # market id -> its order configuration
    grid: PortfolioGrid  # the model an account may choose (codec key "portfolio_model")

    def market_of(self, asset: str) -> int:
        return next(m for m, info in self.markets.items() if info.asset == asset)

    def holders(self) -> list[str]:
        keys = ("engine", "liquidator", "pool", "fund", "exchange", "swap_taker", "orders")
        users = [self.actors[i] for i in (*TRADERS, LP, STAKER, KEEPER)]
        return [*users, *(self.codec.address(k).lower() for k in keys)]


def build(project: Any, chain: Any, accounts: Any) -> FuzzSystem:
    """Deploys the protocol from the local config and funds every actor (through ape)."""
    deployer = accounts[DEPLOYER]
    config = configs.load("local")
    p = deploy(project, chain, config, deployer)
    exchange = deployer.deploy(project.MockExchange, p.quote)
    swap_taker = deployer.deploy(project.SwapTaker, p.liquidator, exchange)
    _fund_actors(p, accounts, exchange)
    # One timelocked batch (the deployer is the local config's proposer): the campaign's skew, and
    # the portfolio model offered to every account.
    assert p.portfolio_model is not None and config.portfolio_model is not None
    approval = (p.admin, "approveRiskModel", p.portfolio_model, True)
    govern(p, [*_sharpened_skew(p), approval], sender=deployer)
    contracts = _contracts(p, exchange, swap_taker)
    abis: dict[str, Abi] = {key: abi_json(c.contract_type) for key, c in contracts.items()}
    # The engine and its extension share an address, and ape merges the ABIs it knows at an
    # address (`withdraw` then collides): each key gets its own contract's ABI.
    abis["engine"] = abi_json(project.MarginEngine.contract_type)
    abis["admin"] = abi_json(project.MarginEngineExtension.contract_type)
    abis["portfolio_model"] = abi_json(project.PortfolioRiskModel.contract_type)
    codec = CodecSet(abis, {k: c.address for k, c in contracts.items()})
    admin = p.admin
    markets = {}
    for key in ASSETS:
        m = admin.markets(p.market_ids[key])
        markets[p.market_ids[key]] = MarketInfo(
            key,
            m.baseMmr,
            m.volFactor,
            m.sigmaCap,
            m.imScale,
            m.insuranceFeeShare,
            m.skewScale,
            m.maxExposureRatio,
        )
    orders = {}
    for market_id in markets:
        o = p.orders.marketOrders(market_id)
        orders[market_id] = OrderParams(
            o.settlementDelay,
            o.settlementWindow,
            o.settlementFee,
            o.makerFeeRate,
            o.takerFeeRate,
            o.commitMarginBps,
        )
    weights = {}
    for key in ASSETS:
        c = admin.collaterals(p.tokens[key])
        weights[key] = (c.imWeight, c.mmWeight)
    liq = admin.liquidationParams()
    return FuzzSystem(
        codec=codec,
        contracts=contracts,
        actors=[a.address.lower() for a in list(accounts)[:ACTORS]],
        decimals={k: p.tokens[k].decimals() for k in ASSETS},
        weights=weights,
        markets=markets,
        liquidation=tuple(liq),
        chost=config.asset("WETH").auction.chost,
        feed_decimals={
            **{f"feed.{k}": p.feeds[k].decimals() for k in ASSETS},
            **{f"feed2.{k}": p.secondary_feeds[k].decimals() for k in ASSETS},
        },
        orders=orders,
        grid=PortfolioGrid(
            config.portfolio_model.params(),
            {a.key: a.haircut for a in config.portfolio_model.assets},
            {a.key: a.add_on for a in config.portfolio_model.assets},
        ),
    )


def _sharpened_skew(p: Protocol) -> list[tuple]:
    """The calls that divide every market's skew scale."""
    calls: list[tuple] = []
    for market_id in p.market_ids.values():
        m = p.admin.markets(market_id)
        params = (
            m.baseMmr,
            m.volFactor,
            m.sigmaCap,
            m.imScale,
            m.insuranceFeeShare,
            m.openInterestCap,
            m.skewScale // SKEW_SCALE_DIVISOR,
            m.maxFundingVelocity,
            m.fundingDeadband,
            m.maxFundingRate,
            m.maxExposureRatio,
        )
        calls.append((p.admin, "setMarketParams", market_id, params))
    return calls


def _fund_actors(p: Protocol, accounts: Any, exchange: Any) -> None:
    deployer = accounts[DEPLOYER]
    tx = {"sender": deployer}
    usdc = p.quote
    for i in TRADERS:
        trader = accounts[i]
        usdc.mint(trader, 1_000_000 * USDC, **tx)
        usdc.approve(p.engine, MAX_UINT, sender=trader)
        for key, amount in (("WETH", 1_000 * WAD), ("WBTC", 50 * 10**8)):
            p.tokens[key].mint(trader, amount, **tx)
            p.tokens[key].approve(p.engine, MAX_UINT, sender=trader)
        p.engine.openAccount(0, sender=trader)
    usdc.mint(accounts[KEEPER], 100_000_000 * USDC, **tx)
    usdc.approve(p.liquidator, MAX_UINT, sender=accounts[KEEPER])
    usdc.mint(accounts[LP], 20_000_000 * USDC, **tx)
    usdc.approve(p.pool, MAX_UINT, sender=accounts[LP])
    p.pool.deposit(LP_SEED, accounts[LP], sender=accounts[LP])
    usdc.mint(accounts[STAKER], 1_000_000 * USDC, **tx)
    usdc.approve(p.fund, MAX_UINT, sender=accounts[STAKER])
    p.fund.deposit(FUND_SEED, accounts[STAKER], sender=accounts[STAKER])
    usdc.mint(exchange, 1_000_000_000 * USDC, **tx)


def _contracts(p: Protocol, exchange: Any, swap_taker: Any) -> dict[str, Any]:
    out = {
        "quote": p.quote,
        "oracle": p.oracle,
        "engine": p.engine,
        "admin": p.admin,
        "pool": p.pool,
        "fund": p.fund,
        "liquidator": p.liquidator,
        "orders": p.orders,
        "exchange": exchange,
        "swap_taker": swap_taker,
        "portfolio_model": p.portfolio_model,
    }
    for key in ASSETS:
        out[key] = p.tokens[key]
        out[f"feed.{key}"] = p.feeds[key]
        out[f"feed2.{key}"] = p.secondary_feeds[key]
    return out
