"""A deployed protocol driven over raw JSON-RPC: codecs for every contract, a fast sender for the
dev accounts, and the reads the simulator and the demo need, batched."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_abi import decode as abi_decode

from solvent.abi import ContractCodec, abis_from_project
from solvent.deploy import Protocol
from solvent.fastpath import Failure, FastSender, NotMined, Tx, dev_accounts, succeeded
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
ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string): require with a message
PANIC = bytes.fromhex("4e487b71")  # Panic(uint256): assert, arithmetic, ...


class SetupFailed(RuntimeError):
    """A set-up transaction reverted for a reason the caller does not accept, or never got
    mined; the message names each one and why."""


@dataclass(frozen=True)
class Outcome:
    """A mined transaction of a batch: its receipt and, when it reverted, the decoded reason (a
    custom error's name such as `InsufficientMargin`, `Error: <message>`, `Panic(0x11)`, or the
    EVM's own error such as `out of gas`)."""

    tx: Tx
    receipt: dict[str, Any]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


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

    def send_all(self, txs: list[Tx]) -> list[Outcome]:
        """Every set-up batch goes through here: sends it, mines until every transaction of it
        is mined (`FastSender.send_and_wait`), and decodes why each reverted one reverted.
        Raises `SetupFailed` naming the transactions that never got mined."""
        try:
            receipts = self.sender.send_and_wait(txs)
        except NotMined as exc:
            named = "; ".join(f"#{i} {self.describe(tx)}" for i, tx, _ in exc.missing[:10])
            raise SetupFailed(f"{exc} [{named}]") from exc
        reverted = [i for i, r in enumerate(receipts) if not succeeded(r)]
        failures = self.sender.failures([receipts[i]["transactionHash"] for i in reverted])
        reasons = dict(zip(reverted, (self.reason(f) for f in failures), strict=True))
        return [
            Outcome(tx, r, reasons.get(i))
            for i, (tx, r) in enumerate(zip(txs, receipts, strict=True))
        ]

    def send_ok(self, txs: list[Tx]) -> list[dict[str, Any]]:
        """`send_all` for a batch that must all succeed: raises `SetupFailed` naming each
        transaction that reverted and its decoded reason."""
        outcomes = self.send_all(txs)
        raise_failures(self, [o for o in outcomes if not o.ok], len(txs))
        return [o.receipt for o in outcomes]

    def reason(self, failure: Failure) -> str:
        """A revert's reason in words: the custom error's name (of any contract here),
        `Error: <message>`, `Panic(0x..)`, or the EVM's error when there is no revert data."""
        data = failure.output
        if len(data) < 4:
            return failure.error or "reverted without data"
        if data[:4] == ERROR_STRING:
            return f"Error: {abi_decode(['string'], data[4:])[0]}"
        if data[:4] == PANIC:
            return f"Panic({hex(abi_decode(['uint256'], data[4:])[0])})"
        return self.error_names.get(data[:4], "0x" + data.hex())

    @cached_property
    def error_names(self) -> dict[bytes, str]:
        names: dict[bytes, str] = {}
        for codec in self._codecs():
            names.update(codec.errors)
        return names

    def describe(self, tx: Tx) -> str:
        """A transaction's function name (its selector when no ABI here knows it), target and
        sender, for error messages."""
        data = tx.data if isinstance(tx.data, str) else "0x" + tx.data.hex()
        fn = data[:10]
        for codec in self._codecs():
            if tx.to is not None and codec.address.lower() == tx.to.lower():
                fn = codec.selectors.get(data[:10], fn)
                if fn != data[:10]:
                    break
        return f"{fn} to {tx.to} from dev account {tx.sender}"

    def _codecs(self) -> list[ContractCodec]:
        return [
            self.engine,
            self.admin,
            self.liquidator,
            self.oracle,
            self.pool,
            self.fund,
            self.quote,
            *self.tokens.values(),
            *(feed for feeds in self.feeds.values() for feed in feeds),
        ]

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


def raise_failures(world: World, failed: list[Outcome], total: int) -> None:
    """Raises `SetupFailed` listing each failed outcome with its decoded reason (none: returns)."""
    if failed:
        listed = "; ".join(f"{world.describe(o.tx)}: {o.error}" for o in failed[:10])
        more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
        raise SetupFailed(f"{len(failed)} of {total} set-up transactions reverted: {listed}{more}")


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
        sender=FastSender(url, dev_accounts(accounts), chain_id=chain.chain_id, in_send_order=True),
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
