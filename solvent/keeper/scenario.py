"""A keeper scenario on an Anvil of our own, all through batched JSON-RPC: a deployment made with
ape and dumped once (`snapshot_deployment`), nodes started from it (`start_from`), a population of
sub-accounts with random leverage (`populate`), price moves through the mock feeds and blocks
driven one at a time. Used by the keeper tests and the keeper benchmark."""

from __future__ import annotations

import gzip
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solvent import config as configs
from solvent.abi import ContractCodec, abis_from_project
from solvent.anvil import AnvilNode, AnvilOptions, start_anvil
from solvent.deploy import deploy, write_record
from solvent.fastpath import (
    MAX_FEE_PER_GAS,
    PRIORITY_FEE_PER_GAS,
    FastSender,
    Tx,
    dev_accounts,
    succeeded,
)
from solvent.keeper.bot import CONTRACTS, Keeper, KeeperConfig
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
class Template:
    """A deployment made on ape's node: its Anvil state dump, record and ABIs."""

    state: str
    timestamp: int
    record: dict[str, Any]
    abis: dict[str, list[Any]]


def snapshot_deployment(project: Any, chain: Any, deployer: Any, folder: Path) -> Template:
    config = configs.load("local")
    protocol = deploy(project, chain, config, deployer)
    path = write_record(protocol, config, "local", chain.chain_id, "0.8.28", folder=folder)
    return Template(
        state=chain.provider.make_request("anvil_dumpState", []),
        timestamp=chain.blocks.head.timestamp,
        record=json.loads(path.read_text()),
        abis=abis_from_project(project, (*CONTRACTS, "MockAggregator")),
    )


def start_from(template: Template, folder: Path, gas_limit: int = GAS_LIMIT) -> AnvilNode:
    """An Anvil that mines only when told, loaded with the template's state (`--state`), with a
    large block gas limit (the dump carries the old one) and a clock after the wall clock."""
    state_path = folder / "state.json"
    state_path.write_bytes(gzip.decompress(bytes.fromhex(template.state.removeprefix("0x"))))
    node = start_anvil(AnvilOptions(no_mining=True, gas_limit=gas_limit, state_path=state_path))
    try:
        node.call("evm_setBlockGasLimit", hex(gas_limit))
        head = node.call("eth_getBlockByNumber", "latest", False)
        start = max(template.timestamp, int(head["timestamp"], 16), int(time.time())) + 5
        node.call("evm_setNextBlockTimestamp", hex(start))
        node.call("evm_mine")
    except Exception:
        node.kill()
        raise
    return node


# World codec key -> (contract, its key in the deployment record's addresses)
CODECS = {
    "engine": ("MarginEngine", "engine"),
    "views": ("MarginEngineExtension", "engine"),
    "liquidator": ("DutchAuctionLiquidator", "liquidator"),
    "oracle": ("OracleAdapter", "oracle"),
    "pool": ("LPPool", "lp_pool"),
    "fund": ("InsuranceFund", "insurance_fund"),
    "usdc": ("MockERC20", "quote"),
    "weth": ("MockERC20", "token.WETH"),
    "feed": ("MockAggregator", "feed.WETH"),
    "feed2": ("MockAggregator", "secondary_feed.WETH"),
    "bfeed": ("MockAggregator", "feed.WBTC"),
    "bfeed2": ("MockAggregator", "secondary_feed.WBTC"),
}


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
        hashes = self._send_unsigned(txs)
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

    def _send_unsigned(self, txs: list[Tx]) -> list[str]:
        """Anvil signs for its unlocked dev accounts (`eth_sendTransaction`): Python's native
        secp256k1 backend takes ~5-20 ms per signature, too slow for 30,000 setup transactions.
        Nonces are explicit, so the order inside a JSON-RPC batch does not matter."""
        calls = []
        for tx in txs:
            fields = {
                "from": self.sender.signers[tx.sender].address,
                "to": tx.to,
                "data": tx.data if isinstance(tx.data, str) else "0x" + tx.data.hex(),
                "gas": hex(tx.gas),
                "value": hex(tx.value),
                "nonce": hex(self.sender.nonces[tx.sender]),
                "maxFeePerGas": hex(MAX_FEE_PER_GAS),
                "maxPriorityFeePerGas": hex(PRIORITY_FEE_PER_GAS),
            }
            self.sender.nonces[tx.sender] += 1
            calls.append(("eth_sendTransaction", [fields]))
        return self.sender.rpc.batch(calls)

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
        key: ContractCodec(template.abis[contract], a[record_key])
        for key, (contract, record_key) in CODECS.items()
    }
    sender = FastSender(node.url, dev_accounts(max(OWNERS) + 1))
    return World(node, template.record, template.abis, sender, codecs, [])


def populate(
    w: World,
    n_accounts: int,
    seed: int = 7,
    fund_usdc: int = 5_000,
    leverage: tuple[float, float] = (0.2, 3.4),
    batch: int = 3_000,
    first_sub: int = 0,
) -> World:
    """LP liquidity, a small insurance fund, keepers with quote, and `n_accounts` accounts (sub
    accounts of a few owners) with WETH collateral and longs on ETH (odd ids) or BTC (even ids) of
    `leverage` ETH of exposure per ETH of collateral, drawn uniformly. A second call adds accounts
    (sub-indices from `first_sub` on) without funding the pool and the fund again."""
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
    if first_sub == 0:
        w.send(setup)
    plan = [(OWNERS[i % len(OWNERS)], first_sub + i // len(OWNERS)) for i in range(n_accounts)]
    opens = [w.tx(owner, "engine", "openAccount", sub, gas=200_000) for owner, sub in plan]
    for i in range(0, len(opens), batch):
        w.send(opens[i : i + batch])
    id_calls = [
        (w.c("engine").address, w.c("engine").encode("accountIdOf", me[o].address, s))
        for o, s in plan
    ]
    answers = [
        answer
        for i in range(0, len(id_calls), batch)
        for answer in w.sender.call_many(id_calls[i : i + batch])
    ]
    ids = [w.c("engine").decode("accountIdOf", r)[0] for r in answers]
    rng = random.Random(seed)
    txs = []
    for (owner, _), account in zip(plan, ids, strict=True):
        collateral = rng.randint(1, 5) * WAD
        exposure = rng.uniform(*leverage)
        txs.append(w.tx(owner, "engine", "deposit", account, w.c("weth").address, collateral))
        if account % 2:
            size = int(collateral * exposure)
            txs.append(w.tx(owner, "engine", "trade", account, 0, size, MAX))
        else:
            size = int(collateral * exposure * 2_000 // 60_000)
            txs.append(w.tx(owner, "engine", "trade", account, 1, size, MAX))
    for i in range(0, len(txs), batch):
        w.send(txs[i : i + batch])
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
    return c.decode_logs(raw, event)
