"""Drive the mocks of a local deployment: mint tokens, move or refresh the feeds, seed the LP pool
and the insurance fund, open leveraged traders. Every function takes the deployment's handles
(`solvent.deploy.attach`) and an ape account that signs; none of it exists on a real network,
where tokens and feeds are the real ones."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from solvent import orders
from solvent import pool as lp_flow
from solvent.deploy import Protocol

WAD = 10**18
MAX_UINT = 2**256 - 1


class UnknownAsset(KeyError):
    """The deployment has no token or feed of that name."""


def token(protocol: Protocol, symbol: str) -> Any:
    """The quote token (by its symbol, or `quote`) or a collateral token by its asset key."""
    if symbol in protocol.tokens:
        return protocol.tokens[symbol]
    if symbol.lower() == "quote" or symbol == str(protocol.quote.symbol()):
        return protocol.quote
    known = ", ".join(["quote", *protocol.tokens])
    raise UnknownAsset(f"unknown token {symbol!r} (known: {known})")


def units(contract: Any, amount: Decimal) -> int:
    """`amount` whole tokens in the token's (or feed's) smallest units."""
    return int(amount * 10 ** int(contract.decimals()))


def mint(protocol: Protocol, signer: Any, symbol: str, amount: Decimal, to: str) -> int:
    contract = token(protocol, symbol)
    raw = units(contract, amount)
    contract.mint(to, raw, sender=signer)
    return raw


def feeds_of(protocol: Protocol, asset: str) -> list[Any]:
    if asset not in protocol.feeds:
        raise UnknownAsset(f"unknown asset {asset!r} (known: {', '.join(protocol.feeds)})")
    secondary = protocol.secondary_feeds.get(asset)
    return [protocol.feeds[asset], *([secondary] if secondary is not None else [])]


def set_price(protocol: Protocol, signer: Any, asset: str, usd: Decimal) -> None:
    """Writes `usd` into the asset's primary and secondary feeds (a new round each)."""
    for feed in feeds_of(protocol, asset):
        feed.setAnswer(units(feed, usd), sender=signer)


def price(protocol: Protocol, asset: str) -> Decimal:
    """The primary feed's latest answer in USD."""
    feed = protocol.feeds[asset]
    answer = feed.latestRoundData()[1]
    return Decimal(answer) / 10 ** int(feed.decimals())


def refresh(protocol: Protocol, signer: Any) -> dict[str, Decimal]:
    """Re-publishes every feed's latest answer as a new round, so the oracle's staleness limit
    (4,500 s on the local config) does not expire on a chain whose prices nobody moves."""
    prices = {}
    for asset in protocol.feeds:
        for feed in feeds_of(protocol, asset):
            feed.setAnswer(feed.latestRoundData()[1], sender=signer)
        prices[asset] = price(protocol, asset)
    return prices


def seed_liquidity(protocol: Protocol, signer: Any, pool_usd: Decimal, fund_usd: Decimal) -> None:
    """Mints quote to the signer and deposits it into the LP pool and the insurance fund."""
    quote = protocol.quote
    for target, usd in ((protocol.pool, pool_usd), (protocol.fund, fund_usd)):
        if usd <= 0:
            continue
        amount = units(quote, usd)
        quote.mint(signer, amount, sender=signer)
        if target == protocol.pool and not protocol.pool.isFlat():
            # Positions are open: the pool takes deposits as requests executed at a later round
            # (docs/pool.md); on local mock feeds request, publish the rounds, execute, claim.
            from ape import chain

            lp_flow.deposit(
                protocol.pool,
                quote,
                chain,
                signer,
                amount,
                executor=signer,
                rounds=lp_flow.publish_and_find(protocol, signer),
            )
            continue
        quote.approve(target, amount, sender=signer)
        target.deposit(amount, signer, sender=signer)


@dataclass(frozen=True)
class TraderPlan:
    count: int
    collateral: str  # asset key, or "quote"
    collateral_usd: Decimal
    market: str  # asset key of the perp market
    leverage: Decimal
    short: bool = False


def open_traders(protocol: Protocol, chain: Any, signer: Any, plan: TraderPlan) -> list[int]:
    """Opens `plan.count` sub-accounts of the signer, each with `collateral_usd` of collateral and
    a position of `leverage` times that in `plan.market`, through the order book: every order is
    committed, the clock passes the settlement delay, the mock feed publishes a round at its
    current price and the signer settles the orders (earning their settlement fees back). Returns
    the new account ids."""
    engine = protocol.engine
    collateral = token(protocol, plan.collateral)
    collateral_price = (
        Decimal(1) if collateral == protocol.quote else price(protocol, plan.collateral)
    )
    per_account = units(collateral, plan.collateral_usd / collateral_price)
    collateral.mint(signer, per_account * plan.count, sender=signer)
    collateral.approve(engine, MAX_UINT, sender=signer)
    size = int(plan.collateral_usd * plan.leverage / price(protocol, plan.market) * WAD)
    size = -size if plan.short else size
    limit = 0 if plan.short else MAX_UINT
    market_id = protocol.market_ids[plan.market]
    ids = []
    sub = 0
    for _ in range(plan.count):
        while int(engine.accountIdOf(signer, sub)) != 0:
            sub += 1
        engine.openAccount(sub, sender=signer)
        account_id = int(engine.accountIdOf(signer, sub))
        engine.deposit(account_id, collateral, per_account, sender=signer)
        orders.commit(protocol, signer, account_id, plan.market, size, limit)
        ids.append(account_id)
    oids = [orders.order_id(account_id, market_id) for account_id in ids]
    target = max(orders.settlement_times(protocol, oid)[0] for oid in oids)
    # Plain JSON-RPC time travel: ape's generic node provider (`make node`) has none of its own.
    wait = target - int(chain.blocks.head.timestamp)
    if wait > 0:
        chain.provider.make_request("evm_increaseTime", [wait])
    chain.provider.make_request("evm_mine", [])
    orders.publish_current_round(protocol, plan.market, signer)
    for oid in oids:
        orders.settle(protocol, signer, oid, plan.market)
    return ids
