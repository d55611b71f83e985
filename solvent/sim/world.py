"""A deployed protocol driven over raw JSON-RPC: codecs for every contract, a fast sender for the
dev accounts, and the reads the simulator and the demo need, batched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solvent.abi import ContractCodec, abis_from_project
from solvent.deploy import Protocol
from solvent.fastpath import FastSender, Tx, dev_accounts, succeeded
from solvent.rpc import RpcClient

CONTRACTS = (
    "MarginEngine",
    "MarginEngineExtension",
    "DutchAuctionLiquidator",
    "OracleAdapter",
    "MockERC20",
    "MockAggregator",
    "LPPool",
    "InsuranceFund",
)
OPERATOR = 0  # dev account 0 deployed the protocol and drives the mock feeds
MAX_UINT = 2**256 - 1


@dataclass
class World:
    rpc: RpcClient
    sender: FastSender
    engine: ContractCodec
    admin: ContractCodec
    liquidator: ContractCodec
    oracle: ContractCodec
    pool: ContractCodec
    fund: ContractCodec
    quote: ContractCodec
    tokens: dict[str, ContractCodec]
    feeds: dict[str, list[ContractCodec]]  # primary first
    decimals: dict[str, int]
    market_ids: dict[str, int]

    def send(self, txs: list[Tx], mine: bool = True) -> list[dict[str, Any]]:
        """Sends a batch, mines a block (automine nodes mine per transaction anyway), returns
        the receipts in order."""
        hashes = self.sender.send(txs)
        if mine:
            self.sender.mine()
        return self.sender.receipts(hashes) if hashes else []

    def send_ok(self, txs: list[Tx]) -> list[dict[str, Any]]:
        receipts = self.send(txs)
        failed = [i for i, r in enumerate(receipts) if r is None or not succeeded(r)]
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(txs)} set-up transactions failed")
        return receipts

    def tx(
        self, sender: int, codec: ContractCodec, fn: str, *args: Any, gas: int = 1_500_000
    ) -> Tx:
        return Tx(sender=sender, to=codec.address, data=codec.encode(fn, *args), gas=gas)

    def read(self, codec: ContractCodec, fn: str, *args: Any) -> Any:
        return codec.value(fn, self.sender.call(*codec.call(fn, *args)))

    def read_many(self, calls: list[tuple[ContractCodec, str, tuple[Any, ...]]]) -> list[Any]:
        raw = self.sender.call_many([codec.call(fn, *args) for codec, fn, args in calls])
        return [codec.value(fn, data) for (codec, fn, _), data in zip(calls, raw, strict=True)]

    def block(self) -> tuple[int, int]:
        head = self.rpc.call("eth_getBlockByNumber", "latest", False)
        return int(head["number"], 16), int(head["timestamp"], 16)

    def price_txs(self, prices: dict[str, float]) -> list[Tx]:
        """Writes of each asset's USD price into its primary and secondary mock feeds."""
        return [
            self.tx(OPERATOR, feed, "setAnswer", self.feed_answer(feed, price), gas=100_000)
            for key, price in prices.items()
            for feed in self.feeds[key]
        ]

    def feed_answer(self, feed: ContractCodec, price: float) -> int:
        return round(price * 10 ** self.decimals[f"feed:{feed.address}"])

    def set_prices(self, prices: dict[str, float]) -> None:
        self.send_ok(self.price_txs(prices))

    def set_prices_in_block(self, prices: dict[str, float], timestamp: int) -> list[str]:
        """The price writes and whatever else is pending, mined in one block at `timestamp`."""
        return self.send_block(self.price_txs(prices), timestamp)

    def mine_at(self, timestamp: int) -> None:
        self.rpc.batch([("evm_setNextBlockTimestamp", [hex(timestamp)]), ("anvil_mine", ["0x1"])])

    def send_block(self, txs: list[Tx], timestamp: int) -> list[str]:
        """Sends a batch and mines one block at `timestamp`; returns the transaction hashes
        (a block holds what its gas limit allows: the rest waits for the next block)."""
        hashes = self.sender.send(txs)
        self.mine_at(timestamp)
        return hashes

    def set_automine(self, enabled: bool) -> None:
        self.rpc.call("evm_setAutomine", enabled)


def world_from_protocol(project: Any, chain: Any, protocol: Protocol, accounts: int = 10) -> World:
    abis = abis_from_project(project, CONTRACTS)
    url = chain.provider.uri
    rpc = RpcClient(url)
    feeds = {
        key: [ContractCodec(abis["MockAggregator"], feed.address)]
        + (
            [ContractCodec(abis["MockAggregator"], protocol.secondary_feeds[key].address)]
            if key in protocol.secondary_feeds
            else []
        )
        for key, feed in protocol.feeds.items()
    }
    decimals = {key: int(token.decimals()) for key, token in protocol.tokens.items()}
    decimals["quote"] = int(protocol.quote.decimals())
    for codecs in feeds.values():
        for codec in codecs:
            decimals[f"feed:{codec.address}"] = int(
                project.MockAggregator.at(codec.address).decimals()
            )
    return World(
        rpc=rpc,
        sender=FastSender(url, dev_accounts(accounts), chain_id=chain.chain_id),
        engine=ContractCodec(abis["MarginEngine"], protocol.engine.address),
        admin=ContractCodec(abis["MarginEngineExtension"], protocol.engine.address),
        liquidator=ContractCodec(abis["DutchAuctionLiquidator"], protocol.liquidator.address),
        oracle=ContractCodec(abis["OracleAdapter"], protocol.oracle.address),
        pool=ContractCodec(abis["LPPool"], protocol.pool.address),
        fund=ContractCodec(abis["InsuranceFund"], protocol.fund.address),
        quote=ContractCodec(abis["MockERC20"], protocol.quote.address),
        tokens={k: ContractCodec(abis["MockERC20"], t.address) for k, t in protocol.tokens.items()},
        feeds=feeds,
        decimals=decimals,
        market_ids=dict(protocol.market_ids),
    )
