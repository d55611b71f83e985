"""Population, price moves and block driving for the keeper tests, all through batched JSON-RPC."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from solvent.fastpath import FastSender, Tx, dev_accounts, succeeded
from solvent.keeper.bot import Keeper, KeeperConfig
from solvent.keeper.codec import ContractCodec
from solvent.keeper.signers import LocalKeySigner
from solvent.rpc import RpcClient

WAD = 10**18
USDC = 10**6
MAX = 2**256 - 1
GAS_LIMIT = 3_000_000_000  # blocks large enough for hundreds of liquidations (see docs/keeper.md)
DEPLOYER, KEEPER, COMPETITOR, LP = 0, 1, 2, 3
OWNERS = (4, 5, 6, 7)
BLOCK_SECONDS = 12


@dataclass
class World:
    node: Any
    record: dict[str, Any]
    abis: dict[str, list[Any]]
    sender: FastSender
    codecs: dict[str, ContractCodec]
    accounts: list[int]

    def c(self, name: str) -> ContractCodec:
        return self.codecs[name]

    def call(self, codec: str, fn: str, *args: Any) -> tuple[Any, ...]:
        c = self.codecs[codec]
        return c.decode(fn, self.sender.call(c.address, c.encode(fn, *args)))

    def send(self, txs: list[Tx], mine: bool = True) -> list[dict[str, Any]]:
        hashes = self.sender.send(txs)
        if not mine:
            return []
        for _ in range(20):  # Anvil's block builder may spread a large batch over a few blocks
            mine_block(self.node)
            receipts = self.sender.receipts(hashes)
            if all(r is not None for r in receipts):
                break
        failed = [r for r in receipts if not succeeded(r)]
        assert not failed, f"{len(failed)} setup transactions reverted"
        return receipts

    def tx(self, sender: int, codec: str, fn: str, *args: Any, gas: int = 1_000_000) -> Tx:
        c = self.codecs[codec]
        return Tx(sender, c.address, c.encode(fn, *args), gas=gas)

    def keeper(self, index: int = KEEPER, **overrides: Any) -> Keeper:
        config = KeeperConfig(
            rpc_url=self.node.url, record=self.record, abis=self.abis, **overrides
        )
        return Keeper(config, LocalKeySigner(dev_accounts(index + 1)[index]))


def mine_block(node: Any, seconds: int = BLOCK_SECONDS) -> int:
    head = RpcClient(node.url).call("eth_getBlockByNumber", "latest", False)
    node.call("evm_setNextBlockTimestamp", hex(int(head["timestamp"], 16) + seconds))
    node.call("evm_mine")
    return int(head["number"], 16) + 1


def world(node: Any, template: Any) -> World:
    a = template.record["addresses"]
    codecs = {
        "engine": ContractCodec(a["engine"], template.abis["MarginEngine"]),
        "views": ContractCodec(a["engine"], template.abis["MarginEngineExtension"]),
        "liquidator": ContractCodec(a["liquidator"], template.abis["DutchAuctionLiquidator"]),
        "oracle": ContractCodec(a["oracle"], template.abis["OracleAdapter"]),
        "pool": ContractCodec(a["lp_pool"], template.abis["LPPool"]),
        "fund": ContractCodec(a["insurance_fund"], template.abis["InsuranceFund"]),
        "usdc": ContractCodec(a["quote"], template.abis["MockERC20"]),
        "weth": ContractCodec(a["token.WETH"], template.abis["MockERC20"]),
        "feed": ContractCodec(a["feed.WETH"], template.abis["MockAggregator"]),
        "feed2": ContractCodec(a["secondary_feed.WETH"], template.abis["MockAggregator"]),
        "bfeed": ContractCodec(a["feed.WBTC"], template.abis["MockAggregator"]),
        "bfeed2": ContractCodec(a["secondary_feed.WBTC"], template.abis["MockAggregator"]),
    }
    sender = FastSender(node.url, dev_accounts(max(OWNERS) + 1))
    return World(node, template.record, template.abis, sender, codecs, [])


def populate(w: World, n_accounts: int, seed: int = 7, fund_usdc: int = 5_000) -> World:
    """LP liquidity, a small insurance fund, keepers with quote, and `n_accounts` accounts (sub
    accounts of a few owners) with WETH collateral and random-leverage longs on ETH and BTC."""
    me = w.sender.signers
    lp = me[LP].address
    setup = [
        w.tx(DEPLOYER, "usdc", "mint", lp, 50_000_000 * USDC),
        w.tx(LP, "usdc", "approve", w.c("pool").address, MAX),
        w.tx(LP, "pool", "deposit", 50_000_000 * USDC, lp),
        w.tx(DEPLOYER, "usdc", "mint", me[DEPLOYER].address, fund_usdc * USDC),
        w.tx(DEPLOYER, "usdc", "approve", w.c("fund").address, MAX),
        w.tx(DEPLOYER, "fund", "deposit", fund_usdc * USDC, me[DEPLOYER].address),
    ]
    for k in (KEEPER, COMPETITOR):
        setup.append(w.tx(DEPLOYER, "usdc", "mint", me[k].address, 10_000_000 * USDC))
    for owner in OWNERS:
        setup.append(w.tx(DEPLOYER, "weth", "mint", me[owner].address, 100_000 * WAD))
        setup.append(w.tx(owner, "weth", "approve", w.c("engine").address, MAX))
    w.send(setup)
    plan = [(OWNERS[i % len(OWNERS)], i // len(OWNERS)) for i in range(n_accounts)]
    w.send([w.tx(owner, "engine", "openAccount", sub, gas=200_000) for owner, sub in plan])
    id_calls = [
        (w.c("engine").address, w.c("engine").encode("accountIdOf", me[o].address, s))
        for o, s in plan
    ]
    ids = [w.c("engine").decode("accountIdOf", r)[0] for r in w.sender.call_many(id_calls)]
    rng = random.Random(seed)
    txs = []
    for (owner, _), account in zip(plan, ids, strict=True):
        collateral = rng.randint(1, 5) * WAD
        leverage = rng.uniform(0.2, 3.4)  # ETH of exposure per ETH of collateral
        txs.append(w.tx(owner, "engine", "deposit", account, w.c("weth").address, collateral))
        if account % 2:
            size = int(collateral * leverage)
            txs.append(w.tx(owner, "engine", "trade", account, 0, size, MAX))
        else:
            size = int(collateral * leverage * 2_000 // 60_000)
            txs.append(w.tx(owner, "engine", "trade", account, 1, size, MAX))
    w.send(txs)
    w.accounts = ids
    return w


def set_prices(w: World, eth: int, btc: int, mine: bool = True) -> None:
    """Moves both feeds of both assets in one block (the adapter checks their deviation)."""
    txs = [
        w.tx(DEPLOYER, "feed", "setAnswer", eth * 10**8),
        w.tx(DEPLOYER, "feed2", "setAnswer", eth * 10**18),
        w.tx(DEPLOYER, "bfeed", "setAnswer", btc * 10**8),
        w.tx(DEPLOYER, "bfeed2", "setAnswer", btc * 10**6),
    ]
    w.send(txs, mine=mine)


def liquidatable(w: World) -> list[int]:
    return list(w.call("views", "liquidatableAccounts", 1, 10**9)[0])


def logs(w: World, codec: str, event: str, from_block: int = 0) -> list[dict[str, Any]]:
    c = w.c(codec)
    raw = w.sender.rpc.call(
        "eth_getLogs",
        {
            "address": c.address,
            "fromBlock": hex(from_block),
            "toBlock": "latest",
            "topics": [c.topic(event)],
        },
    )
    return [c.decode_log(item)[1] for item in raw]


def crashed(node: Any, template: Any, n_accounts: int = 40, **keeper_config: Any):
    """A populated world, a synced keeper that has approved and poked, and a 35% crash mined:
    returns (world, keeper, accounts liquidatable now, the update block)."""
    w = populate(world(node, template), n_accounts)
    keeper = w.keeper(**keeper_config)
    keeper.sync()
    mine_block(node)
    keeper.step()
    mine_block(node)
    keeper.step()
    set_prices(w, eth=1_300, btc=39_000)
    update_block = int(w.sender.rpc.call("eth_blockNumber"), 16)
    breached = liquidatable(w)
    assert breached
    return w, keeper, breached, update_block


def liquidation_counts(w: World, from_block: int) -> dict[int, int]:
    counts: dict[int, int] = {}
    for event in logs(w, "engine", "Liquidated", from_block):
        counts[event["accountId"]] = counts.get(event["accountId"], 0) + 1
    return counts


def drive(w: World, keeper: Keeper, blocks: int, seconds: int = BLOCK_SECONDS) -> list[Any]:
    reports = []
    for _ in range(blocks):
        mine_block(w.node, seconds)
        reports.append(keeper.step())
    return reports


def sent_by(w: World, address: str, from_block: int) -> list[dict[str, Any]]:
    """Receipts of every transaction `address` got mined since `from_block`."""
    head = int(w.sender.rpc.call("eth_blockNumber"), 16)
    blocks = w.sender.rpc.batch(
        ("eth_getBlockByNumber", [hex(b), True]) for b in range(from_block, head + 1)
    )
    hashes = [
        tx["hash"]
        for block in blocks
        for tx in block["transactions"]
        if tx["from"].lower() == address.lower()
    ]
    return w.sender.receipts(hashes)


class FlakyProxy:
    """An HTTP JSON-RPC proxy in front of a node that fails on demand: `down` answers every
    request with 503, `fail_every` answers every n-th with 503, `stall_every` holds every n-th
    request past the client's time-out before failing it."""

    def __init__(self, target: str, fail_every: int = 0, stall_every: int = 0, stall_s: float = 0):
        import http.server
        import threading

        import requests

        self.target = target
        self.fail_every = fail_every
        self.stall_every = stall_every
        self.stall_s = stall_s
        self.down = False
        self.requests = 0
        self.failures = 0
        proxy = self
        session = requests.Session()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.requests += 1
                n = proxy.requests
                if proxy.stall_every and n % proxy.stall_every == 0:
                    import time

                    time.sleep(proxy.stall_s)
                    return self._fail()
                if proxy.down or (proxy.fail_every and n % proxy.fail_every == 0):
                    return self._fail()
                reply = session.post(
                    proxy.target,
                    data=body,
                    timeout=60,
                    headers={"Content-Type": "application/json"},
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def _fail(self) -> None:
                proxy.failures += 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
