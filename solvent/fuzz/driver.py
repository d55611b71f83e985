"""Two ways to run the same protocol actions: ape's contract calls (the naive path) and the fast
path (pre-signed raw transactions with explicit nonce and gas, batched JSON-RPC, no gas estimation
and no tracing). The state machine and the benchmark are written against `Driver` only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from solvent.abi import CodecSet, Event, shape_outputs
from solvent.fastpath import FastSender, Tx, dev_accounts
from solvent.rpc import RpcClient, RpcError

TX_GAS = 3_000_000  # above every action's use (a liquidation starting two auctions is ~700k)


@dataclass(frozen=True)
class Outcome:
    """A transaction's result: success and its decoded events, or the custom error's name."""

    ok: bool
    error: str | None = None
    events: list[Event] = field(default_factory=list)

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]


@dataclass(frozen=True)
class Reverted:
    """A view that reverted (a stale price, say) instead of answering."""

    error: str


@dataclass(frozen=True)
class Call:
    target: str
    fn: str
    args: tuple[Any, ...] = ()


class Driver(Protocol):
    codec: CodecSet

    def transact(self, sender: int, target: str, fn: str, *args: Any) -> Outcome: ...

    def views(self, calls: Sequence[Call]) -> list[Any]: ...

    def advance(self, seconds: int) -> None: ...

    def now(self) -> int: ...

    def snapshot(self) -> str: ...

    def revert(self, snapshot_id: str) -> None: ...


class FastDriver:
    """Raw signed transactions on an automining Anvil: each step is one HTTP request carrying the
    transaction and its receipt, every batch of views one more."""

    def __init__(self, url: str, codec: CodecSet, accounts: int = 10):
        self.codec = codec
        self.sender = FastSender(url, dev_accounts(accounts))
        self.rpc: RpcClient = self.sender.rpc
        # Block times from the chain, not the wall clock: a replayed example (shrinking, a seed)
        # sees the same timestamps, so the same auction prices and stale feeds.
        self.rpc.call("anvil_setBlockTimestampInterval", 1)

    def close(self) -> None:
        """Gives the node back its wall-clock block times (it may be shared with other tests)."""
        self.rpc.call("anvil_removeBlockTimestampInterval")

    def transact(self, sender: int, target: str, fn: str, *args: Any) -> Outcome:
        to = self.codec.address(target)
        data = self.codec.encode(target, fn, args)
        receipt = self.sender.send_automined(Tx(sender=sender, to=to, data=data, gas=TX_GAS))
        if int(receipt["status"], 16) == 1:
            return Outcome(True, events=self.codec.decode_logs(receipt["logs"]))
        return Outcome(False, error=self._revert_reason(sender, to, data))

    def _revert_reason(self, sender: int, to: str, data: str) -> str:
        """Replays the call on the unchanged state (a revert changes nothing but the nonce)."""
        origin = self.sender.signers[sender].address
        try:
            self.rpc.call("eth_call", {"from": origin, "to": to, "data": data, "gas": hex(TX_GAS)})
        except RpcError as exc:
            return self._error_of(exc)
        return "reverted (not reproducible by eth_call)"

    def _error_of(self, exc: RpcError) -> str:
        data = exc.error.get("data")
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            return self.codec.error_name(bytes.fromhex(data[2:]))
        return exc.message

    def views(self, calls: Sequence[Call]) -> list[Any]:
        if not calls:
            return []
        payload = [
            (
                "eth_call",
                [
                    {
                        "to": self.codec.address(c.target),
                        "data": self.codec.encode(c.target, c.fn, c.args),
                    },
                    "latest",
                ],
            )
            for c in calls
        ]
        replies = _batch_tolerant(self.rpc, payload)
        out: list[Any] = []
        for call, reply in zip(calls, replies, strict=True):
            if isinstance(reply, RpcError):
                out.append(Reverted(self._error_of(reply)))
            else:
                data = bytes.fromhex(str(reply)[2:])
                out.append(self.codec.decode_output(call.target, call.fn, data))
        return out

    def advance(self, seconds: int) -> None:
        # Anvil ignores evm_increaseTime while a block timestamp interval is set (the next block
        # is the last + 1 s regardless): the next block's time is set explicitly instead.
        self.rpc.call("evm_setNextBlockTimestamp", hex(self.now() + seconds))
        self.rpc.call("evm_mine")

    def now(self) -> int:
        """The latest block's timestamp: the time views (eth_call on `latest`) are evaluated at."""
        return int(self.rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    def snapshot(self) -> str:
        return str(self.rpc.call("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        if not self.rpc.call("evm_revert", snapshot_id):
            raise RuntimeError(f"evm_revert({snapshot_id}) failed")
        self.resync_nonces()

    def resync_nonces(self) -> None:
        self.sender.resync_nonces()


def _batch_tolerant(rpc: RpcClient, payload: list[tuple[str, list[Any]]]) -> list[Any]:
    """One batch in which a failing call yields its RpcError instead of failing the batch."""
    body = [
        {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
        for i, (method, params) in enumerate(payload)
    ]
    replies = {r["id"]: r for r in rpc._post(body)}
    return [
        RpcError(payload[i][0], replies[i]["error"])
        if "error" in replies[i]
        else replies[i]["result"]
        for i in range(len(payload))
    ]


class ApeDriver:
    """The naive path: ape contract instances, `fn(*args, sender=account)` for each transaction
    (gas estimation, receipt wait, traces on failure) and one ape call per view."""

    def __init__(
        self, codec: CodecSet, contracts: dict[str, Any], accounts: Sequence[Any], chain: Any
    ):
        self.codec = codec
        self.contracts = contracts
        self.accounts = list(accounts)
        self.chain = chain

    def transact(self, sender: int, target: str, fn: str, *args: Any) -> Outcome:
        from ape.exceptions import ContractLogicError

        method = getattr(self.contracts[target], fn)
        try:
            receipt = method(*args, sender=self.accounts[sender])
        except ContractLogicError as exc:
            return Outcome(False, error=self._error_of(exc))
        return Outcome(True, events=self.codec.decode_logs(receipt.logs))

    def _error_of(self, exc: Exception) -> str:
        from ape.exceptions import CustomError

        if isinstance(exc, CustomError):
            return type(exc).__name__
        message = str(getattr(exc, "revert_message", "") or exc)
        if message.startswith("0x") and len(message) >= 10:
            return self.codec.error_name(bytes.fromhex(message[2:]))
        return message

    def views(self, calls: Sequence[Call]) -> list[Any]:
        from ape.exceptions import ContractLogicError

        out: list[Any] = []
        for c in calls:
            try:
                # `.call` is an eth_call for views and state-changing functions alike (the
                # liquidation invariant simulates `liquidate`): nothing is ever sent from here.
                handler = getattr(self.contracts[c.target], c.fn)
                value = handler.call(*c.args) if hasattr(handler, "call") else handler(*c.args)
            except ContractLogicError as exc:
                out.append(Reverted(self._error_of(exc)))
                continue
            outputs = self.codec.function(c.target, c.fn)["outputs"]
            out.append(_shape_ape(value, outputs))
        return out

    def advance(self, seconds: int) -> None:
        self.chain.mine(timestamp=self.chain.pending_timestamp + seconds)

    def now(self) -> int:
        return int(self.chain.blocks.head.timestamp)

    def snapshot(self) -> str:
        return str(self.chain.provider.make_request("evm_snapshot", []))

    def revert(self, snapshot_id: str) -> None:
        self.chain.provider.make_request("evm_revert", [snapshot_id])


def _shape_ape(value: Any, outputs: list[dict[str, Any]]) -> Any:
    if len(outputs) == 1:
        return shape_outputs([value], outputs)
    values = [_field(value, i, str(o["name"])) for i, o in enumerate(outputs)]
    return shape_outputs(values, outputs)


def _field(value: Any, index: int, name: str) -> Any:
    try:
        return value[index]
    except (TypeError, KeyError, IndexError):
        return getattr(value, name)
