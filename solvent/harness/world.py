"""A deployed protocol driven over raw JSON-RPC: codecs for every contract (named as in the
deployment record), the one send path (`FastSender`), batched reads, feed prices and mining.

Every caller that drives the protocol (the demo, the simulator, the keeper tests and benchmark)
holds one `World`; contracts are named by their key in the record's addresses ("engine",
"liquidator", "token.WETH", "feed.WETH", "secondary_feed.WETH", ...) plus "admin" (the engine's
extension ABI at the engine's address) and "quote"."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_abi import decode as abi_decode

from solvent.abi import ContractCodec, abis_from_project
from solvent.deploy import Protocol
from solvent.fastpath import Failure, FastSender, NotMined, Tx, dev_accounts, succeeded
from solvent.rpc import RpcClient, RpcError

# The harness's contracts (the keeper's list, the extension, the mock feeds).
CONTRACTS = (
    "MarginEngine",
    "MarginEngineExtension",
    "DutchAuctionLiquidator",
    "OracleAdapter",
    "MockERC20",
    "MockAggregator",
    "LPPool",
    "InsuranceFund",
    "FlashTaker",
    "OrderBook",
    "RiskSteward",
    "MockAmm",
    "SolventTimelock",
)
# Dev account roles, the same in every harness run: the deployer operates the mock feeds and
# funds the pool; trader accounts belong to owners 1..8 (population.py); keepers come after.
OPERATOR = 0
KEEPER = 10
COMPETITOR = 11
DEV_ACCOUNTS = 20  # unlocked on every node the harness starts (the node signs for them)
MAX_UINT = 2**256 - 1
BLOCK_SECONDS = 12
ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string): require with a message
PANIC = bytes.fromhex("4e487b71")  # Panic(uint256): assert, arithmetic, ...
# record address key -> contract (the ABI the codec decodes with)
_ABI_OF_PREFIX = {
    "engine": "MarginEngine",
    "liquidator": "DutchAuctionLiquidator",
    "oracle": "OracleAdapter",
    "lp_pool": "LPPool",
    "insurance_fund": "InsuranceFund",
    "quote": "MockERC20",
    "token": "MockERC20",
    "feed": "MockAggregator",
    "secondary_feed": "MockAggregator",
    "order_book": "OrderBook",
    "risk_steward": "RiskSteward",
    "amm": "MockAmm",  # the simulator's exchange (solvent/sim/amm.py), when a scenario has one
    "timelock": "SolventTimelock",
}
_CODEC_NAME = {"lp_pool": "pool", "insurance_fund": "fund", "risk_steward": "steward"}


class SetupFailed(RuntimeError):
    """A transaction reverted for a reason the caller does not accept, or never got mined; the
    message names each one and why."""


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


CodecRef = ContractCodec | str


@dataclass
class World:
    rpc: RpcClient
    sender: FastSender
    record: dict[str, Any]  # addresses, market_ids, deploy_block (what the keeper reads)
    abis: dict[str, list[Any]]
    codecs: dict[str, ContractCodec]
    decimals: dict[str, int]  # asset key, "quote", and f"feed:{address}" for each feed
    node: Any | None = None  # the AnvilNode when the harness started it (tests restart it)
    _salt: int = 0  # the last timelock salt `govern` used (each batch needs a fresh one)

    # -- contracts -----------------------------------------------------------------------------

    def c(self, ref: CodecRef) -> ContractCodec:
        return ref if isinstance(ref, ContractCodec) else self.codecs[ref]

    @property
    def engine(self) -> ContractCodec:
        return self.codecs["engine"]

    @property
    def admin(self) -> ContractCodec:
        return self.codecs["admin"]

    @property
    def liquidator(self) -> ContractCodec:
        return self.codecs["liquidator"]

    @property
    def oracle(self) -> ContractCodec:
        return self.codecs["oracle"]

    @property
    def pool(self) -> ContractCodec:
        return self.codecs["pool"]

    @property
    def fund(self) -> ContractCodec:
        return self.codecs["fund"]

    @property
    def quote(self) -> ContractCodec:
        return self.codecs["quote"]

    @property
    def tokens(self) -> dict[str, ContractCodec]:
        return {k.split(".", 1)[1]: c for k, c in self.codecs.items() if k.startswith("token.")}

    @property
    def feeds(self) -> dict[str, list[ContractCodec]]:
        """Each asset's mock feeds, primary first."""
        return {
            key: [self.codecs[f"feed.{key}"]]
            + (
                [self.codecs[f"secondary_feed.{key}"]]
                if f"secondary_feed.{key}" in self.codecs
                else []
            )
            for key in self.tokens
        }

    @property
    def market_ids(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.record["market_ids"].items()}

    def address(self, index: int) -> str:
        """The address of dev account `index`."""
        return str(self.sender.signers[index].address)

    # -- sending: every transaction of the harness goes through `send_all` or `post` -----------

    def tx(self, sender: int, ref: CodecRef, fn: str, *args: Any, gas: int = 1_500_000) -> Tx:
        codec = self.c(ref)
        return Tx(sender=sender, to=codec.address, data=codec.encode(fn, *args), gas=gas)

    def post(self, txs: list[Tx]) -> list[str]:
        """Puts a batch in the node's pool without mining (the caller mines the block)."""
        return self.sender.send(txs)

    def send_all(self, txs: list[Tx]) -> list[Outcome]:
        """Sends a batch, mines until every transaction of it is mined
        (`FastSender.send_and_wait`), and decodes why each reverted one reverted. Raises
        `SetupFailed` naming the transactions that never got mined."""
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

    def send_block(self, txs: list[Tx], timestamp: int) -> list[str]:
        """Sends a batch and mines one block at `timestamp`; returns the transaction hashes
        (a block holds what its gas limit allows: the rest waits for the next block)."""
        hashes = self.post(txs)
        self.mine_at(timestamp)
        return hashes

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
        for codec in self.codecs.values():
            names.update(codec.errors)
        return names

    def describe(self, tx: Tx) -> str:
        """A transaction's function name (its selector when no ABI here knows it), target and
        sender, for error messages."""
        data = tx.data if isinstance(tx.data, str) else "0x" + tx.data.hex()
        fn = data[:10]
        for codec in self.codecs.values():
            if tx.to is not None and codec.address.lower() == tx.to.lower():
                fn = codec.selectors.get(data[:10], fn)
                if fn != data[:10]:
                    break
        return f"{fn} to {tx.to} from dev account {tx.sender}"

    # -- reading -------------------------------------------------------------------------------

    def read(self, ref: CodecRef, fn: str, *args: Any) -> Any:
        codec = self.c(ref)
        return codec.value(fn, self.sender.call(*codec.call(fn, *args)))

    def read_named(self, ref: CodecRef, fn: str, *args: Any) -> Any:
        """`read`, with struct fields by name (`ContractCodec.named`)."""
        codec = self.c(ref)
        return codec.named(fn, self.sender.call(*codec.call(fn, *args)))

    def read_many(self, calls: list[tuple[CodecRef, str, tuple[Any, ...]]]) -> list[Any]:
        codecs = [self.c(ref) for ref, _, _ in calls]
        raw = self.sender.call_many(
            [codec.call(fn, *args) for codec, (_, fn, args) in zip(codecs, calls, strict=True)]
        )
        return [
            codec.value(fn, data)
            for codec, (_, fn, _), data in zip(codecs, calls, raw, strict=True)
        ]

    def logs(self, ref: CodecRef, event: str, from_block: int = 0) -> list[dict[str, Any]]:
        """Every `event` of a contract from `from_block` to the head, decoded."""
        codec = self.c(ref)
        head = self.block()[0]
        raw = self.rpc.call("eth_getLogs", codec.log_filter(event, from_block, head))
        return codec.decode_logs(raw, event)

    def liquidatable(self) -> list[int]:
        return [int(i) for i in self.read(self.admin, "liquidatableAccounts", 1, 10**9)]

    def oracle_prices(self) -> dict[str, float]:
        """Each asset's oracle price in USD."""
        keys = list(self.tokens)
        prices = self.read_many([(self.oracle, "price", (self.tokens[k].address,)) for k in keys])
        return {k: int(p) / 10**18 for k, p in zip(keys, prices, strict=True)}

    # -- prices and blocks ---------------------------------------------------------------------

    def block(self) -> tuple[int, int]:
        head = self.rpc.call("eth_getBlockByNumber", "latest", False)
        return int(head["number"], 16), int(head["timestamp"], 16)

    def price_txs(self, prices: dict[str, float]) -> list[Tx]:
        """Writes of each asset's USD price into its primary and secondary mock feeds."""
        feeds = self.feeds
        return [
            self.tx(OPERATOR, feed, "setAnswer", self.feed_answer(feed, price), gas=100_000)
            for key, price in prices.items()
            for feed in feeds[key]
        ]

    def feed_answer(self, feed: ContractCodec, price: float) -> int:
        return round(price * 10 ** self.decimals[f"feed:{feed.address}"])

    def set_prices(self, prices: dict[str, float]) -> None:
        """Writes the prices into every feed (both feeds of an asset in one block: the adapter
        checks their deviation) and mines until they are in."""
        self.send_ok(self.price_txs(prices))

    def set_prices_in_block(self, prices: dict[str, float], timestamp: int) -> list[str]:
        """The price writes and whatever else is pending, mined in one block at `timestamp`."""
        return self.send_block(self.price_txs(prices), timestamp)

    def mine_at(self, timestamp: int) -> None:
        self.rpc.batch([("evm_setNextBlockTimestamp", [hex(timestamp)]), ("anvil_mine", ["0x1"])])

    def mine_block(self, seconds: int = BLOCK_SECONDS) -> int:
        """Mines one block `seconds` after the head (pending transactions go in); its number."""
        number, timestamp = self.block()
        self.mine_at(timestamp + seconds)
        return number + 1

    def govern(
        self, calls: list[tuple[CodecRef, str, tuple[Any, ...]]], sender: int = OPERATOR
    ) -> None:
        """Parameter changes as the deployment makes them: one batch scheduled on the timelock
        by `sender` (the local config's proposer), a block past the delay, then executed."""
        timelock = self.c("timelock")
        targets = [self.c(ref).address for ref, _, _ in calls]
        payloads = [bytes.fromhex(self.c(ref).encode(fn, *args)[2:]) for ref, fn, args in calls]
        values = [0] * len(calls)
        self._salt += 1
        salt = self._salt.to_bytes(32, "big")
        delay = int(self.read(timelock, "getMinDelay"))
        no_predecessor = b"\x00" * 32
        schedule = (targets, values, payloads, no_predecessor, salt, delay)
        self.send_ok([self.tx(sender, timelock, "scheduleBatch", *schedule)])
        _, now = self.block()
        self.mine_at(now + delay)
        execute = (targets, values, payloads, no_predecessor, salt)
        self.send_ok([self.tx(sender, timelock, "executeBatch", *execute)])

    def set_automine(self, enabled: bool) -> None:
        self.rpc.call("evm_setAutomine", enabled)

    # -- keepers -------------------------------------------------------------------------------

    def keeper(self, index: int = KEEPER, **overrides: Any) -> Any:
        """The production keeper (solvent.keeper) signing with dev account `index`."""
        from solvent.keeper.bot import Keeper, KeeperConfig
        from solvent.keeper.signers import LocalKeySigner

        config = KeeperConfig(rpc_url=self.rpc.url, record=self.record, abis=self.abis, **overrides)
        return Keeper(config, LocalKeySigner(dev_accounts(index + 1)[index]))


def pool_income(world: World, ids: list[int]) -> dict[str, Any]:
    """Funding and borrow interest paid to the pool over the run: what the engine settled
    (`FundingSettled`, positive when the account paid; `InterestCharged`) plus what the open
    positions and debts owe and have not settled yet (`pendingCharges`). A figure the engine
    does not report (an engine without funding or borrow) is None."""
    admin = world.admin
    events = {name for name in world.engine.topics.values()} | set(admin.topics.values())
    out: dict[str, Any] = {"funding_to_pool_usd": None, "borrow_interest_to_pool_usd": None}
    pending_funding = pending_interest = 0
    if "pendingCharges" in admin.functions and ids:
        markets = list(world.market_ids.values())
        calls = [admin.call("pendingCharges", i, m) for i in ids for m in markets]
        answers = world.rpc.batch_results(
            ("eth_call", [{"to": to, "data": data}, "latest"]) for to, data in calls
        )
        owed = [
            (0, 0) if isinstance(a, RpcError) else admin.decode("pendingCharges", a)
            for a in answers
        ]  # an account the view cannot price (a stale feed) counts nothing pending
        pending_funding = sum(int(f) for f, _ in owed)
        # one interest figure per account (the same in every market's answer)
        pending_interest = sum(int(owed[k * len(markets)][1]) for k in range(len(ids)))
    if "FundingSettled" in events:
        settled = sum(int(e["amount"]) for e in world.logs(world.engine, "FundingSettled"))
        out["funding_to_pool_usd"] = round(
            (settled + pending_funding) / 10 ** world.decimals["quote"], 2
        )
    if "InterestCharged" in events:
        charged = sum(int(e["amount"]) for e in world.logs(world.engine, "InterestCharged"))
        out["borrow_interest_to_pool_usd"] = round(
            (charged + pending_interest) / 10 ** world.decimals["quote"], 2
        )
    return out


def raise_failures(world: World, failed: list[Outcome], total: int) -> None:
    """Raises `SetupFailed` listing each failed outcome with its decoded reason (none: returns)."""
    if failed:
        listed = "; ".join(f"{world.describe(o.tx)}: {o.error}" for o in failed[:10])
        more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
        raise SetupFailed(f"{len(failed)} of {total} set-up transactions reverted: {listed}{more}")


def connect(
    url: str,
    record: dict[str, Any],
    abis: dict[str, list[Any]],
    accounts: int = DEV_ACCOUNTS,
    node: Any | None = None,
    in_send_order: bool = False,
) -> World:
    """A World on the deployment `record` describes, reached at `url`. The node signs for its
    dev accounts (they must be unlocked: the nodes the harness starts unlock `DEV_ACCOUNTS`)."""
    rpc = RpcClient(url)
    chain_id = int(rpc.call("eth_chainId"), 16)
    codecs: dict[str, ContractCodec] = {}
    for key, address in record["addresses"].items():
        prefix = key.split(".", 1)[0]
        if prefix in _ABI_OF_PREFIX and _ABI_OF_PREFIX[prefix] in abis:
            codecs[_CODEC_NAME.get(key, key)] = ContractCodec(abis[_ABI_OF_PREFIX[prefix]], address)
    codecs["admin"] = ContractCodec(abis["MarginEngineExtension"], record["addresses"]["engine"])
    sender = FastSender(
        url,
        dev_accounts(accounts),
        chain_id=chain_id,
        in_send_order=in_send_order,
        node_signs=True,
    )
    erc20 = [k for k in codecs if k == "quote" or k.startswith("token.")]
    feeds = [k for k in codecs if k.startswith(("feed.", "secondary_feed."))]
    answers = sender.call_many([codecs[k].call("decimals") for k in erc20 + feeds])
    decimals: dict[str, int] = {}
    for key, raw in zip(erc20 + feeds, answers, strict=True):
        value = int(codecs[key].value("decimals", raw))
        if key in feeds:
            decimals[f"feed:{codecs[key].address}"] = value
        else:
            decimals[key.removeprefix("token.")] = value
    return World(rpc, sender, record, abis, codecs, decimals, node)


def world_from_protocol(
    project: Any,
    chain: Any,
    protocol: Protocol,
    extra_addresses: dict[str, str] | None = None,
    **options: Any,
) -> World:
    """A World on a deployment just made with ape on `chain` (`solvent.deploy.deploy`), plus
    `extra_addresses` (e.g. the simulator's exchange, "amm")."""
    record = {
        "chain_id": chain.chain_id,
        "deploy_block": protocol.deploy_block,
        "addresses": {**protocol.addresses(), **(extra_addresses or {})},
        "market_ids": dict(protocol.market_ids),
    }
    options.setdefault("in_send_order", True)  # a seed reproduces the order of every block
    return connect(chain.provider.uri, record, abis_from_project(project, CONTRACTS), **options)
