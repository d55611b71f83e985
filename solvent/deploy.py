"""Deploy and wire the whole protocol from a network configuration (config/<network>.yaml).

Order (the liquidator needs the engine's address, the engine learns the liquidator afterwards):
tokens and feeds (mocks on local chains) -> OracleAdapter -> MarginEngine (+ its extension) ->
LPPool -> InsuranceFund -> DutchAuctionLiquidator and one price curve per collateral -> roles ->
collaterals, markets and liquidation parameters -> OrderBook (one configuration per market; the
engine trades only through it) -> timelock and role hand-over -> PortfolioRiskModel with its grid
and its roles handed over (last, so every address and transaction before it is as without it).

On a local chain a test-network configuration can be rehearsed: mocks are placed at the
configured token and feed addresses (`anvil_setCode` plus their storage), then the deployment runs
exactly as it would on the test network.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from solvent.abi.codec import Abi, abi_json, merge_abis
from solvent.config import AssetSpec, FeedSpec, ProtocolConfig, TokenSpec

DEPLOYMENTS_DIR = Path(__file__).resolve().parent.parent / "deployments"
MOCK_STORAGE_SLOTS = 16
ZERO_ADDRESS = "0x" + "00" * 20  # the mocks keep their constructor-set state in their first slots


class DeploymentExists(FileExistsError):
    """A deployment record exists for this network; pass force to replace it."""


class RecordNotFound(FileNotFoundError):
    """No deployment record for this network."""


@dataclass
class Protocol:
    """Live contract handles of one deployment (ape ContractInstances)."""

    quote: Any
    tokens: dict[str, Any]
    feeds: dict[str, Any]
    secondary_feeds: dict[str, Any]
    oracle: Any
    engine: Any
    admin: Any  # the engine's governance and views (extension ABI at the engine's address)
    pool: Any
    fund: Any
    liquidator: Any
    curves: dict[str, Any]
    market_ids: dict[str, int]
    deploy_block: int
    sequencer_feed: Any | None = None
    orders: Any | None = None  # the OrderBook: every trade is committed and settled through it
    steward: Any | None = None  # the RiskSteward: bounded volatility forecasts into the oracle
    timelock: Any | None = None  # holds every governor and admin role (solvent.governance)
    # PortfolioRiskModel, deployed last (standalone: the engine does not ask it yet)
    portfolio_model: Any | None = None
    roles: dict[str, dict[str, list[str]]] = field(
        default_factory=dict
    )  # contract -> role -> holders
    extra: dict[str, Any] = field(default_factory=dict)

    def addresses(self) -> dict[str, str]:
        out = {
            "quote": self.quote.address,
            "oracle": self.oracle.address,
            "engine": self.engine.address,
            "engine_extension": self.engine.extension(),
            "lp_pool": self.pool.address,
            "insurance_fund": self.fund.address,
            "liquidator": self.liquidator.address,
        }
        for key, token in self.tokens.items():
            out[f"token.{key}"] = token.address
            out[f"feed.{key}"] = self.feeds[key].address
            out[f"curve.{key}"] = self.curves[key].address
            if key in self.secondary_feeds:
                out[f"secondary_feed.{key}"] = self.secondary_feeds[key].address
        if self.sequencer_feed is not None:
            out["sequencer_feed"] = self.sequencer_feed.address
        if self.orders is not None:
            out["order_book"] = self.orders.address
        if self.steward is not None:
            out["risk_steward"] = self.steward.address
        if self.timelock is not None:
            out["timelock"] = self.timelock.address
        if self.portfolio_model is not None:
            out["portfolio_model"] = self.portfolio_model.address
        return out

    def abis(self) -> tuple[dict[str, str], dict[str, Abi]]:
        """(address key -> contract name, contract name -> ABI) for every address of
        `addresses()` but the engine's extension: what a client needs to call the deployment with
        nothing else. The engine's ABI is merged with its extension's (governance, views and the
        pool's ledger are reached through its fallback), so one ABI serves the engine's address."""
        handles: dict[str, Any] = {
            "quote": self.quote,
            "oracle": self.oracle,
            "lp_pool": self.pool,
            "insurance_fund": self.fund,
            "liquidator": self.liquidator,
        }
        for key, token in self.tokens.items():
            handles[f"token.{key}"] = token
            handles[f"feed.{key}"] = self.feeds[key]
            handles[f"curve.{key}"] = self.curves[key]
            if key in self.secondary_feeds:
                handles[f"secondary_feed.{key}"] = self.secondary_feeds[key]
        if self.sequencer_feed is not None:
            handles["sequencer_feed"] = self.sequencer_feed
        if self.orders is not None:
            handles["order_book"] = self.orders
        if self.steward is not None:
            handles["risk_steward"] = self.steward
        if self.timelock is not None:
            handles["timelock"] = self.timelock
        if self.portfolio_model is not None:
            handles["portfolio_model"] = self.portfolio_model
        names = {"engine": "MarginEngine"}
        engine = merge_abis(abi_json(self.engine.contract_type), abi_json(self.admin.contract_type))
        abis = {"MarginEngine": engine}
        for key, handle in handles.items():
            name = handle.contract_type.name
            names[key] = name
            abis.setdefault(name, abi_json(handle.contract_type))
        return names, abis


def deploy(
    project: Any,
    chain: Any,
    config: ProtocolConfig,
    deployer: Any,
    order_book: Any | None = None,
) -> Protocol:
    """Deploys every contract of `config` from `deployer` and the OrderBook, the engine's only
    caller of `fillOrder`/`chargeOrderFee` (tests of the engine alone may pass another
    `order_book`, an account driving the entry points directly). The deployer configures
    everything, then hands every role to the holders `config.governance` names (the timelock
    holds every governor and admin role) and renounces all it holds (`hand_over_roles`)."""
    tx = {"sender": deployer}
    deploy_block = chain.blocks.head.number
    quote = _token(project, config.quote, deployer)
    tokens = {a.key: _token(project, a.token, deployer) for a in config.assets}
    feeds = {a.key: _feed(project, a.feed, deployer) for a in config.assets}
    secondary = {
        a.key: _feed(project, a.secondary_feed, deployer) for a in config.assets if a.secondary_feed
    }

    oracle = deployer.deploy(project.OracleAdapter)
    for asset in config.assets:
        second = secondary.get(asset.key)
        oracle.setAssetConfig(
            tokens[asset.key], _oracle_params(asset, feeds[asset.key], second), **tx
        )
        oracle.seedVolatility(tokens[asset.key], asset.oracle.seed_sigma, **tx)
    sequencer_feed = None
    if config.sequencer is not None:
        sequencer_feed = (
            deployer.deploy(project.MockSequencerFeed, chain.pending_timestamp - 86_400)
            if config.sequencer.address is None
            else project.MockSequencerFeed.at(config.sequencer.address)
        )
        oracle.setSequencer(sequencer_feed, config.sequencer.grace_period, **tx)
    steward = _risk_steward(project, config, oracle, tokens, deployer)

    extension = deployer.deploy(project.MarginEngineExtension, quote, oracle)
    engine = deployer.deploy(project.MarginEngine, quote, oracle, deployer, extension)
    admin = project.MarginEngineExtension.at(engine.address)
    pool = deployer.deploy(project.LPPool, quote, engine)
    fund = deployer.deploy(
        project.InsuranceFund,
        quote,
        deployer,
        deployer,
        config.insurance.cooldown,
        config.insurance.window,
    )
    liquidator = deployer.deploy(
        project.DutchAuctionLiquidator, engine, quote, oracle, fund, deployer
    )

    for contract in (engine, fund, liquidator):
        contract.grantRole(contract.GOVERNOR_ROLE(), deployer, **tx)
    engine.grantRole(admin.GUARDIAN_ROLE(), deployer, **tx)
    liquidator.grantRole(liquidator.GUARDIAN_ROLE(), deployer, **tx)
    fund.grantRole(fund.COVER_ROLE(), engine, **tx)
    fund.grantRole(fund.COVER_ROLE(), liquidator, **tx)
    # Both pay keepers through the fund: the liquidator at auction start, the engine when an
    # account in deficit has no collateral to auction.
    fund.grantRole(fund.REWARD_ROLE(), liquidator, **tx)
    fund.grantRole(fund.REWARD_ROLE(), engine, **tx)
    fund.setTarget(config.insurance.target, **tx)
    # Fees accrued in the engine are swept in before the fund prices shares; pending losses
    # (liquidatable accounts, debt under auction) hold exits back (docs/pool.md).
    fund.setEngine(engine, **tx)

    curves = {a.key: _curve(project, a, deployer) for a in config.assets}
    for asset in config.assets:
        liquidator.allowCurve(curves[asset.key], **tx)
        liquidator.setCollateral(tokens[asset.key], _auction_params(asset, curves[asset.key]), **tx)
    liquidator.setGlobalHole(config.auction_global_hole, **tx)
    max_prepare = liquidator.MAX_PREPARE()
    for start in range(0, config.auction_slots, max_prepare):
        liquidator.prepareAuctionSlots(min(max_prepare, config.auction_slots - start), **tx)

    market_ids = {}
    for asset in config.assets:
        c = asset.collateral
        admin.listCollateral(tokens[asset.key], c.im_weight, c.mm_weight, c.deposit_cap, **tx)
        receipt = admin.createMarket(tokens[asset.key], _market_params(asset), **tx)
        market_ids[asset.key] = receipt.events.filter(admin.MarketCreated)[0].marketId
    liq = config.liquidation
    admin.setLiquidationParams(
        (
            liq.penalty_rate,
            liq.target_health,
            liq.full_liquidation_health,
            liq.restricted_liquidation_health,
            liq.keeper_chip,
            liq.dust_notional,
            liq.keeper_tip,
            liq.liquidation_fee,
            liq.min_position_margin,
        ),
        **tx,
    )
    admin.setPoolReserveRatio(config.pool_reserve_ratio, **tx)
    b = config.borrow
    admin.setBorrowParams(b.base_rate, b.optimal_utilization, b.max_rate, **tx)
    admin.setInsuranceFund(fund, **tx)
    admin.setLiquidator(liquidator, **tx)
    admin.setLPPool(pool, **tx)
    orders = None
    if order_book is None:
        orders = _order_book(project, config, engine, oracle, admin, market_ids, deployer)
    else:
        admin.setOrderBook(order_book, **tx)

    protocol = Protocol(
        quote=quote,
        tokens=tokens,
        feeds=feeds,
        secondary_feeds=secondary,
        oracle=oracle,
        engine=engine,
        admin=admin,
        pool=pool,
        fund=fund,
        liquidator=liquidator,
        curves=curves,
        market_ids=market_ids,
        deploy_block=deploy_block,
        sequencer_feed=sequencer_feed,
        orders=orders,
        steward=steward,
    )
    hand_over_roles(project, protocol, config, deployer)
    if config.portfolio_model is not None:
        # Last: deploying it earlier would shift every later address (and the gas rows that
        # carry them); its roles go to the same holders, and the record is read back again.
        protocol.portfolio_model = _portfolio_model(project, config, protocol.tokens, deployer)
        holders = _holders_by_kind(config, protocol.timelock, deployer)
        _grant_and_renounce({"portfolio_model": protocol.portfolio_model}, holders, deployer)
        protocol.roles = role_holders(protocol)
    return protocol


def _portfolio_model(
    project: Any, config: ProtocolConfig, tokens: dict[str, Any], deployer: Any
) -> Any:
    """Deploys PortfolioRiskModel and sets the config's grid (checked when the config was loaded,
    `solvent.config.PortfolioGridError`), keyed by each asset's token as the oracle is."""
    spec = config.portfolio_model
    assert spec is not None
    model = deployer.deploy(project.PortfolioRiskModel)
    model.setGrid(
        len(spec.scenarios),
        spec.mm_factor,
        [tokens[a.key] for a in spec.assets],
        [(a.sigma_multiple, a.floor, a.cap, a.haircut, a.add_on) for a in spec.assets],
        [spec.moves_of(a.key) for a in spec.assets],
        sender=deployer,
    )
    return model


# Every contract's roles, as (role getter, holder kind): `timelock`, `guardian`, `risk_keeper`.
GOVERNED_ROLES: dict[str, tuple[tuple[str, str], ...]] = {
    "engine": (
        ("DEFAULT_ADMIN_ROLE", "timelock"),
        ("GOVERNOR_ROLE", "timelock"),
        ("GUARDIAN_ROLE", "guardian"),
    ),
    "oracle": (("DEFAULT_ADMIN_ROLE", "timelock"), ("GOVERNOR_ROLE", "timelock")),
    "liquidator": (
        ("DEFAULT_ADMIN_ROLE", "timelock"),
        ("GOVERNOR_ROLE", "timelock"),
        ("GUARDIAN_ROLE", "timelock"),
        ("GUARDIAN_ROLE", "guardian"),
    ),
    "insurance_fund": (("DEFAULT_ADMIN_ROLE", "timelock"), ("GOVERNOR_ROLE", "timelock")),
    "order_book": (("DEFAULT_ADMIN_ROLE", "timelock"), ("GOVERNOR_ROLE", "timelock")),
    "risk_steward": (
        ("DEFAULT_ADMIN_ROLE", "timelock"),
        ("GOVERNOR_ROLE", "timelock"),
        ("GUARDIAN_ROLE", "guardian"),
        ("RISK_KEEPER_ROLE", "risk_keeper"),
    ),
    "portfolio_model": (("DEFAULT_ADMIN_ROLE", "timelock"), ("GOVERNOR_ROLE", "timelock")),
}
DEPLOYER_ROLES = ("GOVERNOR_ROLE", "GUARDIAN_ROLE", "RISK_KEEPER_ROLE", "DEFAULT_ADMIN_ROLE")


def resolve_holder(name: str, deployer: Any) -> str:
    """A config's role holder as an address: `deployer`, `test:N` (ape's test accounts) or 0x..."""
    if name == "deployer":
        return str(deployer.address)
    if name.startswith("test:"):
        import ape  # only local configs name test accounts

        return str(ape.accounts.test_accounts[int(name.split(":", 1)[1])].address)
    if not (name.startswith("0x") and len(name) == 42):
        raise ValueError(f"role holder {name!r}: expected deployer, test:N or an address")
    return name


def governed_contracts(protocol: Protocol) -> dict[str, Any]:
    """The contracts whose roles the timelock holds, by record key (the engine through its
    extension's ABI: the roles are the engine's)."""
    out = {
        "engine": protocol.engine,
        "oracle": protocol.oracle,
        "liquidator": protocol.liquidator,
        "insurance_fund": protocol.fund,
    }
    if protocol.orders is not None:
        out["order_book"] = protocol.orders
    if protocol.steward is not None:
        out["risk_steward"] = protocol.steward
    if protocol.portfolio_model is not None:
        out["portfolio_model"] = protocol.portfolio_model
    return out


def hand_over_roles(
    project: Any, protocol: Protocol, config: ProtocolConfig, deployer: Any
) -> None:
    """Deploys the timelock and gives each role to the holder the config names, then the deployer
    renounces every role it holds (it keeps only what the config names it for: timelock
    proposer/executor, guardian or risk keeper on a local chain). Records who holds what."""
    gov = config.governance
    proposers = [resolve_holder(h, deployer) for h in gov.proposers]
    executors = [resolve_holder(h, deployer) for h in gov.executors] or [ZERO_ADDRESS]
    guardian = resolve_holder(gov.guardian, deployer)
    # The guardian cancels queued proposals (proposers are cancellers already).
    timelock = deployer.deploy(project.SolventTimelock, gov.delay, proposers, executors, [guardian])
    holders = _holders_by_kind(config, timelock, deployer)
    _grant_and_renounce(governed_contracts(protocol), holders, deployer)
    protocol.timelock = timelock
    protocol.roles = role_holders(protocol)


def _holders_by_kind(config: ProtocolConfig, timelock: Any, deployer: Any) -> dict[str, str]:
    """GOVERNED_ROLES' holder kinds as addresses."""
    return {
        "timelock": str(timelock.address),
        "guardian": resolve_holder(config.governance.guardian, deployer),
        "risk_keeper": resolve_holder(config.governance.risk_keeper, deployer),
    }


def _grant_and_renounce(contracts: dict[str, Any], holders: dict[str, str], deployer: Any) -> None:
    """Grants each contract's GOVERNED_ROLES to their holders, then the deployer renounces every
    role it holds there that the config does not name it for."""
    tx = {"sender": deployer}
    for key, contract in contracts.items():
        for role_name, kind in GOVERNED_ROLES[key]:
            contract.grantRole(getattr(contract, role_name)(), holders[kind], **tx)
    me = str(deployer.address)
    for key, contract in contracts.items():
        named = {name for name, kind in GOVERNED_ROLES[key] if holders[kind] == me}
        for role_name in DEPLOYER_ROLES:
            if role_name in named or not hasattr(contract, role_name):
                continue
            role = getattr(contract, role_name)()
            if contract.hasRole(role, deployer):
                contract.renounceRole(role, deployer, **tx)


TIMELOCK_ROLES = ("PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE", "DEFAULT_ADMIN_ROLE")
_ROLE_GRANTED = "0x" + keccak(text="RoleGranted(bytes32,address,address)").hex()
_ROLE_REVOKED = "0x" + keccak(text="RoleRevoked(bytes32,address,address)").hex()


def role_id(name: str) -> str:
    """An AccessControl role's id as the contracts define it: 0 for the admin role, else
    keccak256 of its name."""
    raw = bytes(32) if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)
    return "0x" + raw.hex()


def role_holders(protocol: Protocol) -> dict[str, dict[str, list[str]]]:
    """contract -> role -> holders (the timelock's own roles too), replayed from the
    RoleGranted/RoleRevoked events since the deployment block: AccessControl has no enumeration,
    and its events name every holder, not only the addresses one thought to ask about. One
    eth_getLogs instead of a hasRole call per (contract, role, candidate)."""
    contracts = dict(governed_contracts(protocol))
    wanted = {
        key: {name for name, _ in GOVERNED_ROLES[key]} | set(DEPLOYER_ROLES) for key in contracts
    }
    if protocol.timelock is not None:
        contracts["timelock"] = protocol.timelock
        wanted["timelock"] = set(TIMELOCK_ROLES)
    by_address = {str(c.address).lower(): key for key, c in contracts.items()}
    web3 = protocol.engine.provider.web3
    logs = web3.eth.get_logs(
        {
            "fromBlock": protocol.deploy_block,
            "toBlock": "latest",
            "address": [c.address for c in contracts.values()],
            "topics": [[_ROLE_GRANTED, _ROLE_REVOKED]],
        }
    )
    held: dict[tuple[str, str], set[str]] = {}
    for log in sorted(logs, key=lambda entry: (entry["blockNumber"], entry["logIndex"])):
        key = by_address[str(log["address"]).lower()]
        role = "0x" + bytes(log["topics"][1]).hex()
        account = to_checksum_address(bytes(log["topics"][2])[-20:])
        members = held.setdefault((key, role), set())
        if "0x" + bytes(log["topics"][0]).hex() == _ROLE_GRANTED:
            members.add(account)
        else:
            members.discard(account)
    out: dict[str, dict[str, list[str]]] = {}
    for key in contracts:
        out[key] = {}
        for name in sorted(wanted[key]):
            if members := held.get((key, role_id(name))):
                out[key][name] = sorted(members)
    return out


def _risk_steward(
    project: Any, config: ProtocolConfig, oracle: Any, tokens: dict[str, Any], deployer: Any
) -> Any | None:
    """The RiskSteward when an asset has forecast bounds: the oracle's only forecaster, with the
    deployer as risk keeper and guardian (a role-separated deployment names other holders)."""
    bounded = [a for a in config.assets if a.forecast is not None]
    if not bounded:
        return None
    tx = {"sender": deployer}
    steward = deployer.deploy(project.RiskSteward, oracle)
    for asset in bounded:
        f = asset.forecast
        assert f is not None
        bounds = (f.floor, f.ceiling, f.max_change_bps, f.min_delay, f.ttl)
        steward.setBounds(tokens[asset.key], bounds, **tx)
    steward.grantRole(steward.RISK_KEEPER_ROLE(), deployer, **tx)
    steward.grantRole(steward.GUARDIAN_ROLE(), deployer, **tx)
    oracle.setForecaster(steward, **tx)
    return steward


def _order_book(
    project: Any,
    config: ProtocolConfig,
    engine: Any,
    oracle: Any,
    admin: Any,
    market_ids: dict[str, int],
    deployer: Any,
) -> Any:
    """Deploys the OrderBook, opens every market for orders and makes it the engine's only way
    to trade (docs/orders.md)."""
    tx = {"sender": deployer}
    orders = deployer.deploy(project.OrderBook, engine, oracle, deployer)
    for asset in config.assets:
        orders.setMarketOrders(market_ids[asset.key], _order_params(asset), **tx)
    admin.setOrderBook(orders, **tx)
    return orders


def _order_params(asset: AssetSpec) -> tuple:
    o = asset.orders
    return (
        o.settlement_delay,
        o.settlement_window,
        o.settlement_fee,
        o.maker_fee_rate,
        o.taker_fee_rate,
        o.commit_margin_bps,
    )


def stage_mocks_at_configured_addresses(
    project: Any, chain: Any, config: ProtocolConfig, deployer: Any
) -> list[str]:
    """Local rehearsal of a test-network config: puts a mock token or feed at every configured
    address (its code and storage), so `deploy` finds them where the test network has them."""
    staged = []
    specs: list[TokenSpec | FeedSpec] = [config.quote]
    for asset in config.assets:
        specs += [asset.token, asset.feed]
        if asset.secondary_feed:
            specs.append(asset.secondary_feed)
    for spec in specs:
        if spec.address is None:
            continue
        template = (
            _mock_token(project, spec, deployer)
            if isinstance(spec, TokenSpec)
            else deployer.deploy(
                project.MockAggregator, spec.decimals, spec.description, _rehearsal_answer(spec)
            )
        )
        _copy_contract(chain, template.address, spec.address)
        staged.append(spec.address)
    return staged


def write_record(
    protocol: Protocol,
    config: ProtocolConfig,
    network: str,
    chain_id: int,
    compiler: str,
    folder: Path = DEPLOYMENTS_DIR,
    force: bool = False,
) -> Path:
    """Writes deployments/<network>.json; refuses to replace an existing one unless `force`."""
    path = refuse_existing_record(network, force, folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "network": network,
        "config": config.network,
        "chain_id": chain_id,
        "deploy_block": protocol.deploy_block,
        "compiler": compiler,
        "addresses": protocol.addresses(),
        "market_ids": protocol.market_ids,
        "parameters": jsonable(config),
        # Who holds which role (contract -> role -> addresses), read back after the hand-over.
        "roles": protocol.roles,
    }
    # Every contract's ABI (the engine's merged with its extension's): a web3.py, ethers or viem
    # client integrates from this file alone. `contracts` names the ABI of each address key.
    record["contracts"], record["abis"] = protocol.abis()
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def record_path(network: str, folder: Path = DEPLOYMENTS_DIR) -> Path:
    return folder / f"{network}.json"


def refuse_existing_record(network: str, force: bool, folder: Path = DEPLOYMENTS_DIR) -> Path:
    """The record's path; raises `DeploymentExists` when one is there and `force` is not set.
    Deploy calls it before sending anything, so a refused deployment spends no gas."""
    path = record_path(network, folder)
    if path.exists() and not force:
        raise DeploymentExists(f"{path} exists: pass --force to replace it")
    return path


def read_record(network: str, folder: Path = DEPLOYMENTS_DIR) -> dict[str, Any]:
    path = record_path(network, folder)
    if not path.exists():
        raise RecordNotFound(f"{path} not found: deploy first (ape run deploy --network ...)")
    return json.loads(path.read_text())


def addresses_without_code(record: dict[str, Any], code_at: Callable[[str], str]) -> list[str]:
    """Names of the record's contracts that hold no code on the connected chain: a record from
    another chain, or from a node that was reset since it was written."""
    return [
        name
        for name, address in record["addresses"].items()
        if code_at(address) in ("", "0x", "0x0", b"")
    ]


def attach(project: Any, record: dict[str, Any]) -> Protocol:
    """Contract handles for an existing deployment record."""
    a = record["addresses"]
    keys = sorted({name.split(".", 1)[1] for name in a if name.startswith("token.")})
    engine = project.MarginEngine.at(a["engine"])
    return Protocol(
        quote=project.MockERC20.at(a["quote"]),
        tokens={k: project.MockERC20.at(a[f"token.{k}"]) for k in keys},
        feeds={k: project.MockAggregator.at(a[f"feed.{k}"]) for k in keys},
        secondary_feeds={
            k: project.MockAggregator.at(a[f"secondary_feed.{k}"])
            for k in keys
            if f"secondary_feed.{k}" in a
        },
        oracle=project.OracleAdapter.at(a["oracle"]),
        engine=engine,
        admin=project.MarginEngineExtension.at(a["engine"]),
        pool=project.LPPool.at(a["lp_pool"]),
        fund=project.InsuranceFund.at(a["insurance_fund"]),
        liquidator=project.DutchAuctionLiquidator.at(a["liquidator"]),
        curves={},
        market_ids={k: int(v) for k, v in record["market_ids"].items()},
        deploy_block=int(record["deploy_block"]),
        steward=project.RiskSteward.at(a["risk_steward"]) if "risk_steward" in a else None,
        sequencer_feed=project.MockSequencerFeed.at(a["sequencer_feed"])
        if "sequencer_feed" in a
        else None,
        orders=project.OrderBook.at(a["order_book"]) if "order_book" in a else None,
        timelock=project.SolventTimelock.at(a["timelock"]) if "timelock" in a else None,
        portfolio_model=project.PortfolioRiskModel.at(a["portfolio_model"])
        if "portfolio_model" in a
        else None,
        roles=record.get("roles", {}),
    )


def _token(project: Any, spec: TokenSpec, deployer: Any) -> Any:
    if spec.is_mock:
        return _mock_token(project, spec, deployer)
    return project.MockERC20.at(spec.address)  # only its ERC-20 functions are used


def _mock_token(project: Any, spec: TokenSpec, deployer: Any) -> Any:
    return deployer.deploy(project.MockERC20, spec.name or spec.symbol, spec.symbol, spec.decimals)


def _feed(project: Any, spec: FeedSpec | None, deployer: Any) -> Any:
    assert spec is not None
    if spec.is_mock:
        return deployer.deploy(
            project.MockAggregator, spec.decimals, spec.description, spec.initial_answer()
        )
    return project.MockAggregator.at(spec.address)  # only the AggregatorV3 functions are used


def _rehearsal_answer(spec: FeedSpec) -> int:
    return spec.initial_answer() if spec.initial_price else 10**spec.decimals


def _copy_contract(chain: Any, source: str, target: str) -> None:
    web3 = chain.provider.web3
    chain.provider.make_request("anvil_setCode", [target, web3.eth.get_code(source).to_0x_hex()])
    for slot in range(MOCK_STORAGE_SLOTS):
        value = web3.eth.get_storage_at(source, slot)
        chain.provider.make_request(
            "anvil_setStorageAt", [target, hex(slot), "0x" + bytes(value).hex().rjust(64, "0")]
        )


def _oracle_params(asset: AssetSpec, primary: Any, secondary: Any | None) -> tuple:
    o = asset.oracle
    return (
        primary,
        secondary.address if secondary is not None else "0x" + "00" * 20,
        o.max_staleness,
        o.secondary_max_staleness,
        o.max_deviation_bps,
        o.min_price,
        o.max_price,
        o.breaker_threshold_bps,
        o.breaker_window,
        o.breaker_cooldown,
        o.vol_interval,
        o.vol_lambda,
        o.vol_stale_after,
        o.vol_max_sample_rise,
        o.vol_max_rise_per_hour,
    )


def _market_params(asset: AssetSpec) -> tuple:
    m = asset.market
    return (
        m.base_mmr,
        m.vol_factor,
        m.sigma_cap,
        m.im_scale,
        m.insurance_fee_share,
        m.open_interest_cap,
        m.skew_scale,
        m.max_funding_velocity,
        m.funding_deadband,
        m.max_funding_rate,
        m.max_exposure_ratio,
    )


def _curve(project: Any, asset: AssetSpec, deployer: Any) -> Any:
    curve = asset.auction.curve
    if curve.kind == "linear":
        return deployer.deploy(project.LinearDecrease, curve.tau)
    if curve.kind == "exponential":
        return deployer.deploy(project.ExponentialDecrease, curve.cut)
    if curve.kind == "stairstep":
        return deployer.deploy(project.StairstepExponentialDecrease, curve.cut, curve.step)
    raise ValueError(f"unknown curve kind {curve.kind!r} for {asset.key}")


def _auction_params(asset: AssetSpec, curve: Any) -> tuple:
    a = asset.auction
    return (curve, a.buf, a.tail, a.cusp, a.chip, a.tip, a.chost, a.hole)


def jsonable(value: Any) -> Any:
    """A config (dataclasses, tuples, ints) as JSON values; ints beyond 2**53 as strings."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: jsonable(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, int) and abs(value) >= 2**53:
        return str(value)  # exact in JSON readers that use doubles
    return value
