"""Calls, results, logs and custom errors of compiled contracts, offline: the keeper, the
simulator and the fuzz send everything themselves over batched JSON-RPC, so they need the bytes,
not a web3 provider."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import EncodingError
from eth_utils import keccak
from web3 import Web3

from solvent.abi.shape import Event, Record, abi_type, shape, shape_outputs, signature

Abi = list[dict[str, Any]]
MEMO_LIMIT = 100_000  # calldata memoized by a CodecSet (bounded: a long campaign stays small)

_W3 = Web3()


def abis_from_project(project: Any, names: Sequence[str]) -> dict[str, Abi]:
    """ABIs of compiled project contracts, as plain JSON lists (what web3 accepts)."""
    return {name: abi_json(getattr(project, name).contract_type) for name in names}


def abi_json(contract_type: Any) -> Abi:
    """An ape contract type's ABI as a plain JSON list."""
    return [
        item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in contract_type.abi
    ]


def merge_abis(*abis: Abi) -> Abi:
    """One ABI of a contract whose functions live in several code contracts behind one address
    (the engine's own, and its extension's, reached through its fallback): every entry once, the
    first ABI's entry winning when two declare the same function, event or error."""
    merged: Abi = []
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for abi in abis:
        for item in abi:
            inputs = tuple(abi_type(i) for i in item.get("inputs", []))
            key = (item["type"], item.get("name", ""), inputs)
            if key in seen:
                continue
            seen.add(key)
            merged.append(item)
    return merged


class ContractCodec:
    """One contract's ABI at one address: calldata, results, calldata back to arguments, logs,
    custom errors, selectors and topics."""

    def __init__(self, abi: Abi, address: str) -> None:
        self.abi = abi
        self.address = Web3.to_checksum_address(address)
        self._contract = _W3.eth.contract(address=self.address, abi=abi)
        self.functions = {item["name"]: item for item in abi if item.get("type") == "function"}
        self._output_types = {
            name: [abi_type(o) for o in item.get("outputs", [])]
            for name, item in self.functions.items()
        }
        self.selectors = {  # 0x-hex selector -> function name
            "0x" + keccak(text=signature(item))[:4].hex(): name
            for name, item in self.functions.items()
        }
        self._selector_of = {name: sel for sel, name in self.selectors.items()}
        overloads = Counter(item["name"] for item in abi if item.get("type") == "function")
        self._fast_inputs = {  # (selector, input types) of the functions not overloaded
            name: (self._selector_of[name], [abi_type(i) for i in item.get("inputs", [])])
            for name, item in self.functions.items()
            if overloads[name] == 1
        }
        self.event_abis = {  # topic 0 -> event ABI
            keccak(text=signature(item)): item
            for item in abi
            if item.get("type") == "event" and not item.get("anonymous")
        }
        self.event_layouts = {t: EventLayout.of(item) for t, item in self.event_abis.items()}
        self.topics = {"0x" + t.hex(): str(item["name"]) for t, item in self.event_abis.items()}
        self._topic_of = {name: topic for topic, name in self.topics.items()}
        self.errors = {
            keccak(text=signature(item))[:4]: str(item["name"])
            for item in abi
            if item.get("type") == "error"
        }

    def encode(self, fn: str, *args: Any) -> str:
        """Calldata (0x-hex) of `fn(*args)`; addresses in any case. Arguments the strict codec
        takes as they are go straight to it (the bytes web3 would produce, ~20x cheaper: web3
        searches and validates the ABI on every call); web3 handles the rest (overloaded names,
        hex strings for bytes, ...) and raises what it raised."""
        checked = [_checksummed(a) for a in args]
        fast = self._fast_inputs.get(fn)
        if fast is not None and len(fast[1]) == len(checked):
            try:
                return fast[0] + _W3.codec.encode(fast[1], checked).hex()
            except EncodingError:
                pass
        return self._contract.encode_abi(fn, checked)

    def call(self, fn: str, *args: Any) -> tuple[str, str]:
        """(to, data) for eth_call / a transaction."""
        return self.address, self.encode(fn, *args)

    def decode(self, fn: str, data: str | bytes) -> tuple[Any, ...]:
        """All outputs of `fn` as eth_abi gives them (addresses in lower case)."""
        return tuple(abi_decode(self._output_types[fn], _bytes(data)))

    def value(self, fn: str, data: str | bytes) -> Any:
        """A single output as itself, several as a tuple; addresses checksummed, so that they can
        go straight back into `encode` or be compared with deployed addresses."""
        values = _checksummed(self.decode(fn, data))
        return values[0] if len(values) == 1 else values

    def named(self, fn: str, data: str | bytes) -> Any:
        """The outputs of `fn` with struct fields by name (`Record`s): for readers that must not
        depend on a struct's field order."""
        return shape_outputs(list(self.decode(fn, data)), self.functions[fn]["outputs"])

    def decode_input(self, data: str) -> tuple[str, dict[str, Any]] | None:
        """(function name, arguments) of calldata to this contract, or None when unknown."""
        if data[:10] not in self.selectors:
            return None
        function, args = self._contract.decode_function_input(data)
        return function.fn_name, dict(args)

    def selector(self, fn: str) -> str:
        return self._selector_of[fn]

    def topic(self, event: str) -> str:
        return self._topic_of[event]

    def indexed_position(self, event: str, argument: str) -> int:
        """The topic index (1-3) of an indexed event argument."""
        item = self.event_abis[bytes.fromhex(self.topic(event)[2:])]
        indexed = [i["name"] for i in item["inputs"] if i.get("indexed")]
        return 1 + indexed.index(argument)

    def decode_log(self, log: Mapping[str, Any]) -> Event | None:
        """A raw JSON-RPC log of one of this ABI's events (whoever emitted it), addresses
        checksummed; None for another event."""
        return decode_event(self.event_layouts, log, checksum=True)

    def decode_logs(self, logs: Sequence[Mapping[str, Any]], name: str) -> list[Record]:
        """Arguments of the `name` events this contract emitted, in log order."""
        topic = self.topic(name)
        return [
            event.args
            for log in logs
            if log["address"].lower() == self.address.lower()
            and log["topics"]
            and _hex(log["topics"][0]) == topic
            and (event := self.decode_log(log)) is not None
        ]

    def events(self, name: str, receipt: Mapping[str, Any]) -> list[Record]:
        """Arguments of the `name` events this contract emitted in a receipt."""
        return self.decode_logs(receipt["logs"], name)

    def log_filter(self, name: str, from_block: int, to_block: int) -> dict[str, Any]:
        """eth_getLogs parameters for this contract's `name` events in a block range."""
        return {
            "address": self.address,
            "topics": [self.topic(name)],
            "fromBlock": hex(from_block),
            "toBlock": hex(to_block),
        }

    def error_name(self, data: bytes) -> str:
        """The custom error's name, or the raw data in hex when it is not this ABI's."""
        return self.errors.get(bytes(data[:4]), "0x" + bytes(data).hex())


class CodecSet:
    """Several contracts by name (the fuzz's system): memoized calldata, struct-shaped results,
    and logs and errors of any of them, addresses in lower case as the model keeps them."""

    def __init__(self, abis: Mapping[str, Abi], addresses: Mapping[str, str]) -> None:
        self.codecs = {key: ContractCodec(abi, addresses[key]) for key, abi in abis.items()}
        self._calldata: dict[tuple[Any, ...], str] = {}
        self._errors: dict[bytes, str] = {}
        self._events: dict[bytes, EventLayout] = {}
        for codec in self.codecs.values():
            self._errors.update(codec.errors)
            self._events.update(codec.event_layouts)

    def address(self, key: str) -> str:
        return self.codecs[key].address

    def function(self, key: str, fn: str) -> dict[str, Any]:
        return self.codecs[key].functions[fn]

    def encode(self, key: str, fn: str, args: Sequence[Any]) -> str:
        """Calldata; memoized, since the invariants repeat the same views after every step."""
        try:
            memo_key = (key, fn, tuple(tuple(a) if isinstance(a, list) else a for a in args))
            cached = self._calldata.get(memo_key)
        except TypeError:  # unhashable argument
            memo_key, cached = None, None
        if cached is None:
            cached = self.codecs[key].encode(fn, *args)
            if memo_key is not None and len(self._calldata) < MEMO_LIMIT:
                self._calldata[memo_key] = cached
        return cached

    def decode_output(self, key: str, fn: str, data: bytes) -> Any:
        """Results shaped: one output as itself, several as a Record, structs as Records."""
        codec = self.codecs[key]
        return shape_outputs(list(codec.decode(fn, data)), codec.functions[fn]["outputs"])

    def error_name(self, data: bytes) -> str:
        """The custom error's name (of any contract here), or the raw data in hex."""
        return self._errors.get(bytes(data[:4]), "0x" + bytes(data).hex())

    def decode_log(self, log: Mapping[str, Any]) -> Event | None:
        return decode_event(self._events, log, checksum=False)

    def decode_logs(self, logs: Sequence[Mapping[str, Any]]) -> list[Event]:
        """Every log of an event known here, whoever emitted it."""
        return [e for e in (self.decode_log(log) for log in logs) if e is not None]


@dataclass(frozen=True)
class EventLayout:
    """An event's ABI worked out once: which arguments sit in topics and which in data."""

    name: str
    inputs: list[dict[str, Any]]
    indexed_names: list[str]
    indexed_types: list[str]
    plain_names: list[str]
    plain_types: list[str]

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> EventLayout:
        indexed = [i for i in item["inputs"] if i.get("indexed")]
        plain = [i for i in item["inputs"] if not i.get("indexed")]
        return cls(
            str(item["name"]),
            list(item["inputs"]),
            [i["name"] for i in indexed],
            [abi_type(i) for i in indexed],
            [i["name"] for i in plain],
            [abi_type(i) for i in plain],
        )


def decode_event(
    layouts: Mapping[bytes, EventLayout], log: Mapping[str, Any], checksum: bool
) -> Event | None:
    """A raw log (JSON-RPC hex or ape's bytes) decoded with eth_abi directly: several times
    cheaper than web3's `process_log`. None when topic 0 is not in `layouts`, or when the indexing
    differs (an ERC-20's Transfer against a mock's with the same signature)."""
    topics = [_bytes(t) for t in log["topics"]]
    layout = layouts.get(topics[0]) if topics else None
    if layout is None or len(layout.indexed_types) != len(topics) - 1:
        return None
    indexed = abi_decode(layout.indexed_types, b"".join(topics[1:]))  # static types: 1 topic each
    values = dict(zip(layout.indexed_names, indexed, strict=True))
    plain = abi_decode(layout.plain_types, _bytes(log["data"]))
    values.update(zip(layout.plain_names, plain, strict=True))
    args = Record({i["name"]: shape(values[i["name"]], i, checksum) for i in layout.inputs})
    address = str(log["address"])
    emitter = Web3.to_checksum_address(address) if checksum else address.lower()
    return Event(layout.name, emitter, args)


def _checksummed(value: Any) -> Any:
    """web3 encodes only checksummed addresses; eth_abi decodes and the model keeps lower case."""
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return Web3.to_checksum_address(value)
    if isinstance(value, tuple | list):
        return type(value)(_checksummed(v) for v in value)
    return value


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)


def _hex(value: Any) -> str:
    return (value if isinstance(value, str) else "0x" + bytes(value).hex()).lower()
