"""Network configuration of a Solvent deployment (config/<network>.yaml), typed and in chain units.

Ratios and prices are written as decimal strings and become WADs; quote amounts are written in
whole quote tokens and become quote units; durations are seconds. A token or feed without an
`address` is a mock, deployed on local chains only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from solvent.model import portfolio as pm
from solvent.model.fixed_point import WAD

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class ConfigError(ValueError):
    """The configuration file is missing a field or has a value of the wrong shape."""


class PortfolioGridError(ConfigError):
    """The `portfolio_model` grid is outside what PortfolioRiskModel.setGrid accepts (the bounds
    of solvent/model/portfolio.py's `validate`/`validate_rates`), or does not cover exactly the
    configured assets: refused when the config is loaded, before anything is sent."""


def to_wad(value: str | int | float) -> int:
    scaled = Decimal(str(value)) * WAD
    if scaled != scaled.to_integral_value():
        raise ConfigError(f"{value!r} has more than 18 decimals")
    return int(scaled)


def to_units(value: str | int | float, decimals: int) -> int:
    scaled = Decimal(str(value)) * 10**decimals
    if scaled != scaled.to_integral_value():
        raise ConfigError(f"{value!r} has more than {decimals} decimals")
    return int(scaled)


@dataclass(frozen=True)
class TokenSpec:
    symbol: str
    decimals: int
    address: str | None = None
    name: str = ""

    @property
    def is_mock(self) -> bool:
        return self.address is None


@dataclass(frozen=True)
class FeedSpec:
    decimals: int
    description: str
    address: str | None = None
    initial_price: str | None = None

    @property
    def is_mock(self) -> bool:
        return self.address is None

    def initial_answer(self) -> int:
        if self.initial_price is None:
            raise ConfigError(f"mock feed {self.description!r} needs an initial_price")
        return to_units(self.initial_price, self.decimals)


@dataclass(frozen=True)
class OracleSpec:
    max_staleness: int
    secondary_max_staleness: int
    max_deviation_bps: int
    min_price: int
    max_price: int
    breaker_threshold_bps: int
    breaker_window: int
    breaker_cooldown: int
    vol_interval: int
    vol_lambda: int
    vol_stale_after: int
    vol_max_sample_rise: int
    vol_max_rise_per_hour: int
    seed_sigma: int


@dataclass(frozen=True)
class CollateralSpec:
    im_weight: int
    mm_weight: int
    deposit_cap: int  # token units


@dataclass(frozen=True)
class MarketSpec:
    name: str
    base_mmr: int
    vol_factor: int
    sigma_cap: int
    im_scale: int
    fee_rate: int
    insurance_fee_share: int
    open_interest_cap: int  # size, WAD of the underlying
    skew_scale: int  # size, WAD of the underlying
    max_funding_velocity: int  # WAD per day per day
    funding_deadband: int  # WAD fraction of skew_scale
    max_funding_rate: int  # WAD per day
    max_exposure_ratio: int  # WAD multiple of the pool's cash bounding the traders' net notional


@dataclass(frozen=True)
class OrderSpec:
    """A market's two-step order parameters (OrderBook.setMarketOrders; docs/orders.md)."""

    settlement_delay: int  # seconds from the commit to the price that settles it
    settlement_window: int  # seconds after the target time in which it can settle
    settlement_fee: int  # quote units, paid by the trader to the settler
    maker_fee_rate: int  # WAD, on the part of a fill that reduces |skew|
    taker_fee_rate: int  # WAD, on the part that extends it
    commit_margin_bps: int  # commit pre-check: free initial margin >= this share of notional


@dataclass(frozen=True)
class CurveSpec:
    kind: str  # linear | exponential | stairstep
    tau: int = 0
    cut: int = 0
    step: int = 0


@dataclass(frozen=True)
class AuctionSpec:
    curve: CurveSpec
    buf: int
    tail: int
    cusp: int
    chip: int
    tip: int  # quote units
    chost: int  # quote units
    hole: int  # quote units


@dataclass(frozen=True)
class ForecastSpec:
    """The risk steward's bounds on an asset's volatility forecasts (RiskSteward.setBounds;
    docs/predictive-margin.md)."""

    floor: int  # WAD annualized sigma
    ceiling: int  # WAD annualized sigma
    max_change_bps: int  # from the live forecast, or the on-chain estimate when none is live
    min_delay: int  # seconds between two pushes
    ttl: int  # seconds a forecast counts


@dataclass(frozen=True)
class AssetSpec:
    key: str
    token: TokenSpec
    feed: FeedSpec
    secondary_feed: FeedSpec | None
    oracle: OracleSpec
    collateral: CollateralSpec
    market: MarketSpec
    auction: AuctionSpec
    orders: OrderSpec
    forecast: ForecastSpec | None = None  # None: no risk steward for the asset


@dataclass(frozen=True)
class LiquidationSpec:
    penalty_rate: int
    target_health: int
    full_liquidation_health: int
    restricted_liquidation_health: int
    dust_notional: int  # WAD USD
    keeper_tip: int  # quote units
    keeper_chip: int
    liquidation_fee: int  # WAD, on the debt handed to auction
    min_position_margin: int  # WAD USD per open position


@dataclass(frozen=True)
class BorrowSpec:
    """The borrow rate on quote debt: annual WAD rates, kinked at the optimal utilization."""

    base_rate: int
    optimal_utilization: int
    max_rate: int


@dataclass(frozen=True)
class InsuranceSpec:
    cooldown: int
    window: int
    target: int  # quote units


@dataclass(frozen=True)
class SequencerSpec:
    address: str | None
    grace_period: int


@dataclass(frozen=True)
class GovernanceSpec:
    """Who holds which role after deployment (docs/governance.md). Each holder is an address,
    `deployer` (the deploying account) or, on local chains, `test:N` (ape's N-th test account).
    The timelock holds every contract's governor and admin role; `delay` is its minimum delay."""

    delay: int  # seconds between a proposal and its execution
    proposers: tuple[str, ...]  # may schedule (and cancel) timelocked calls
    executors: tuple[str, ...]  # may execute them once ready; empty: anyone may
    guardian: str  # acts at once, only in the safer direction; cancels proposals
    risk_keeper: str  # pushes bounded volatility forecasts through the RiskSteward


@dataclass(frozen=True)
class GridAssetSpec:
    """One asset of the portfolio model's grid (PortfolioRiskModel's `AssetRisk`), all WAD."""

    key: str  # the asset's key in `assets`: its token is the oracle's (and the grid's) key
    sigma_multiple: int  # scan range = clamp(sigma x sigma_multiple, floor, cap)
    floor: int
    cap: int
    haircut: int  # liquidity haircut on the asset held as collateral
    add_on: int  # non-nettable add-on on a position's notional


@dataclass(frozen=True)
class ScenarioSpec:
    """One scenario: each asset's move as a WAD multiple of its scan range (absent: 0)."""

    name: str
    moves: tuple[tuple[str, int], ...]
    reason: str


@dataclass(frozen=True)
class PortfolioModelSpec:
    """The portfolio risk model's grid (docs/risk-models.md), set at deployment."""

    mm_factor: int  # WAD: maintenance = initial x mm_factor
    assets: tuple[GridAssetSpec, ...]
    scenarios: tuple[ScenarioSpec, ...]

    def params(self) -> pm.PortfolioParams:
        """The grid as the reference model takes it."""
        return pm.PortfolioParams(
            tuple(pm.Shock(s.name, dict(s.moves), s.reason) for s in self.scenarios),
            {a.key: pm.ScanRange(a.sigma_multiple, a.floor, a.cap) for a in self.assets},
            self.mm_factor,
        )

    def moves_of(self, key: str) -> list[int]:
        """The asset's move in each scenario, in order (setGrid's `moves[i]`)."""
        return [dict(s.moves).get(key, 0) for s in self.scenarios]


@dataclass(frozen=True)
class ProtocolConfig:
    network: str
    quote: TokenSpec
    assets: tuple[AssetSpec, ...]
    liquidation: LiquidationSpec
    pool_reserve_ratio: int
    borrow: BorrowSpec
    auction_global_hole: int
    auction_slots: int
    insurance: InsuranceSpec
    sequencer: SequencerSpec | None
    governance: GovernanceSpec
    portfolio_model: PortfolioModelSpec | None = None  # None: the model is not deployed

    def asset(self, key: str) -> AssetSpec:
        for asset in self.assets:
            if asset.key == key:
                return asset
        raise KeyError(key)


# Networks that deploy with another network's config: the persistent local node (`ape run node`,
# ape-config.yaml's `anvil`) runs the local mocks and parameters.
CONFIG_OF_NETWORK = {"anvil": "local"}


def config_name_for(network: str) -> str:
    """The config a deployment to `network` reads by default."""
    return CONFIG_OF_NETWORK.get(network, network)


def load(network: str, folder: Path = CONFIG_DIR) -> ProtocolConfig:
    path = folder / f"{config_name_for(network)}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        raise ConfigError(
            f"no config for network {network!r} (known: {', '.join(known)}; "
            "choose one with --config NAME)"
        )
    return parse(yaml.safe_load(path.read_text()))


def parse(raw: dict[str, Any]) -> ProtocolConfig:
    try:
        quote = TokenSpec(**raw["quote"])
        q = quote.decimals
        assets = tuple(_asset(key, spec, q) for key, spec in raw["assets"].items())
        liq = raw["liquidation"]
        insurance = raw["insurance"]
        sequencer = raw.get("sequencer")
        return ProtocolConfig(
            network=raw["network"],
            quote=quote,
            assets=assets,
            liquidation=LiquidationSpec(
                penalty_rate=to_wad(liq["penalty_rate"]),
                target_health=to_wad(liq["target_health"]),
                full_liquidation_health=to_wad(liq["full_liquidation_health"]),
                restricted_liquidation_health=to_wad(liq["restricted_liquidation_health"]),
                dust_notional=to_wad(liq["dust_notional"]),
                keeper_tip=to_units(liq["keeper_tip"], q),
                keeper_chip=to_wad(liq["keeper_chip"]),
                liquidation_fee=to_wad(liq["liquidation_fee"]),
                min_position_margin=to_wad(liq["min_position_margin"]),
            ),
            pool_reserve_ratio=to_wad(raw["pool_reserve_ratio"]),
            borrow=BorrowSpec(
                base_rate=to_wad(raw["borrow"]["base_rate"]),
                optimal_utilization=to_wad(raw["borrow"]["optimal_utilization"]),
                max_rate=to_wad(raw["borrow"]["max_rate"]),
            ),
            auction_global_hole=to_units(raw["auction_global_hole"], q),
            auction_slots=int(raw["auction_slots"]),
            insurance=InsuranceSpec(
                cooldown=int(insurance["cooldown"]),
                window=int(insurance["window"]),
                target=to_units(insurance["target"], q),
            ),
            sequencer=SequencerSpec(sequencer.get("address"), int(sequencer["grace_period"]))
            if sequencer
            else None,
            governance=_governance(raw["governance"]),
            portfolio_model=_portfolio_model(raw["portfolio_model"], assets)
            if raw.get("portfolio_model")
            else None,
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"invalid configuration: {exc!r}") from exc


def _governance(raw: dict[str, Any]) -> GovernanceSpec:
    delay = int(raw["delay"])
    if delay <= 0:
        raise ConfigError(
            "governance.delay must be positive: every change goes through the timelock"
        )
    proposers = tuple(str(p) for p in raw["proposers"])
    if not proposers:
        raise ConfigError("governance.proposers is empty: nobody could change a parameter")
    return GovernanceSpec(
        delay=delay,
        proposers=proposers,
        executors=tuple(str(e) for e in raw.get("executors") or ()),
        guardian=str(raw["guardian"]),
        risk_keeper=str(raw["risk_keeper"]),
    )


def _portfolio_model(raw: dict[str, Any], assets: tuple[AssetSpec, ...]) -> PortfolioModelSpec:
    """The grid, refused (`PortfolioGridError`) unless the contract would take it and it covers
    every configured asset (an account holding an asset outside the grid could not be margined)
    and nothing else (the grid is keyed by the configured assets' tokens)."""
    spec = PortfolioModelSpec(
        mm_factor=to_wad(raw["mm_factor"]),
        assets=tuple(
            GridAssetSpec(
                key=str(key),
                sigma_multiple=to_wad(a["sigma_multiple"]),
                floor=to_wad(a["floor"]),
                cap=to_wad(a["cap"]),
                haircut=to_wad(a["haircut"]),
                add_on=to_wad(a["add_on"]),
            )
            for key, a in raw["assets"].items()
        ),
        scenarios=tuple(
            ScenarioSpec(
                name=str(s["name"]),
                moves=tuple((str(k), to_wad(v)) for k, v in s["moves"].items()),
                reason=str(s.get("reason", "")),
            )
            for s in raw["scenarios"]
        ),
    )
    listed = [a.key for a in assets]
    covered = [a.key for a in spec.assets]
    if sorted(covered) != sorted(listed):
        raise PortfolioGridError(
            f"portfolio_model.assets must be exactly the configured assets {listed}, got {covered}"
        )
    try:
        pm.validate(spec.params())
        for a in spec.assets:
            try:
                pm.validate_rates(a.haircut, a.add_on)
            except ValueError as exc:
                raise ValueError(f"{a.key}: {exc}") from exc
    except ValueError as exc:
        raise PortfolioGridError(f"portfolio_model: {exc}") from exc
    return spec


def _asset(key: str, raw: dict[str, Any], quote_decimals: int) -> AssetSpec:
    token = TokenSpec(**raw["token"])
    oracle, market, auction, collateral = (
        raw["oracle"],
        raw["market"],
        raw["auction"],
        raw["collateral"],
    )
    curve = auction["curve"]
    return AssetSpec(
        key=key,
        token=token,
        feed=FeedSpec(**raw["feed"]),
        secondary_feed=FeedSpec(**raw["secondary_feed"]) if raw.get("secondary_feed") else None,
        oracle=OracleSpec(
            max_staleness=int(oracle["max_staleness"]),
            secondary_max_staleness=int(oracle["secondary_max_staleness"]),
            max_deviation_bps=int(oracle["max_deviation_bps"]),
            min_price=to_wad(oracle["min_price"]),
            max_price=to_wad(oracle["max_price"]),
            breaker_threshold_bps=int(oracle["breaker_threshold_bps"]),
            breaker_window=int(oracle["breaker_window"]),
            breaker_cooldown=int(oracle["breaker_cooldown"]),
            vol_interval=int(oracle["vol_interval"]),
            vol_lambda=to_wad(oracle["vol_lambda"]),
            vol_stale_after=int(oracle["vol_stale_after"]),
            vol_max_sample_rise=to_wad(oracle["vol_max_sample_rise"]),
            vol_max_rise_per_hour=to_wad(oracle["vol_max_rise_per_hour"]),
            seed_sigma=to_wad(oracle["seed_sigma"]),
        ),
        collateral=CollateralSpec(
            im_weight=to_wad(collateral["im_weight"]),
            mm_weight=to_wad(collateral["mm_weight"]),
            deposit_cap=to_units(collateral["deposit_cap"], token.decimals),
        ),
        market=MarketSpec(
            name=market["name"],
            base_mmr=to_wad(market["base_mmr"]),
            vol_factor=to_wad(market["vol_factor"]),
            sigma_cap=to_wad(market["sigma_cap"]),
            im_scale=to_wad(market["im_scale"]),
            fee_rate=to_wad(market["fee_rate"]),
            insurance_fee_share=to_wad(market["insurance_fee_share"]),
            open_interest_cap=to_wad(market["open_interest_cap"]),
            skew_scale=to_wad(market["skew_scale"]),
            max_funding_velocity=to_wad(market["max_funding_velocity"]),
            funding_deadband=to_wad(market["funding_deadband"]),
            max_funding_rate=to_wad(market["max_funding_rate"]),
            max_exposure_ratio=to_wad(market["max_exposure_ratio"]),
        ),
        auction=AuctionSpec(
            curve=CurveSpec(
                kind=curve["kind"],
                tau=int(curve.get("tau", 0)),
                cut=to_wad(curve.get("cut", 0)),
                step=int(curve.get("step", 0)),
            ),
            buf=to_wad(auction["buf"]),
            tail=int(auction["tail"]),
            cusp=to_wad(auction["cusp"]),
            chip=to_wad(auction["chip"]),
            tip=to_units(auction["tip"], quote_decimals),
            chost=to_units(auction["chost"], quote_decimals),
            hole=to_units(auction["hole"], quote_decimals),
        ),
        orders=_orders(raw["orders"], quote_decimals),
        forecast=_forecast(raw["forecast"]) if raw.get("forecast") else None,
    )


def _forecast(raw: dict[str, Any]) -> ForecastSpec:
    return ForecastSpec(
        floor=to_wad(raw["floor"]),
        ceiling=to_wad(raw["ceiling"]),
        max_change_bps=int(raw["max_change_bps"]),
        min_delay=int(raw["min_delay"]),
        ttl=int(raw["ttl"]),
    )


def _orders(raw: dict[str, Any], quote_decimals: int) -> OrderSpec:
    return OrderSpec(
        settlement_delay=int(raw["settlement_delay"]),
        settlement_window=int(raw["settlement_window"]),
        settlement_fee=to_units(raw["settlement_fee"], quote_decimals),
        maker_fee_rate=to_wad(raw["maker_fee_rate"]),
        taker_fee_rate=to_wad(raw["taker_fee_rate"]),
        commit_margin_bps=int(raw["commit_margin_bps"]),
    )
