"""ABI encoding and decoding for the fuzz drivers: calldata, return values, custom errors, logs.

Decoded structs become `Record`s (attribute access by field name) and addresses are lower-case,
whichever driver produced them, so the model compares like with like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_abi_to_4byte_selector, keccak
from web3 import Web3

Abi = list[dict[str, Any]]
MEMO_LIMIT = 100_000


class Record(dict[str, Any]):
    """A decoded struct: `r.field` or `r["field"]`."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


@dataclass(frozen=True)
class Event:
    name: str
    address: str
    args: Record


def abi_type(item: Mapping[str, Any]) -> str:
    """The canonical type string of an ABI parameter (tuples spelled out)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in item["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def shape(value: Any, item: Mapping[str, Any]) -> Any:
    """Decoded value -> plain Python: Records for structs, lists, lower-case addresses."""
    kind = str(item["type"])
    if kind.endswith("]"):
        element = {**item, "type": kind[: kind.rindex("[")]}
        return [shape(v, element) for v in value]
    if kind == "tuple":
        components = item["components"]
        values = (
            [value[i] for i in range(len(components))]
            if isinstance(value, list | tuple)
            else [getattr(value, c["name"]) for c in components]
        )
        return Record({c["name"]: shape(v, c) for c, v in zip(components, values, strict=True)})
    if kind == "address":
        return str(value).lower()
    if kind.startswith("bytes"):
        return bytes(value)
    return value


def shape_outputs(values: Sequence[Any], outputs: Sequence[Mapping[str, Any]]) -> Any:
    """One output as itself; several (a public struct getter) as a Record by their names."""
    shaped = [shape(v, o) for v, o in zip(values, outputs, strict=True)]
    if len(shaped) == 1:
        return shaped[0]
    return Record({str(o["name"]): v for o, v in zip(outputs, shaped, strict=True)})


class Codec:
    """Encodes calls to and decodes answers from a set of named contracts."""

    def __init__(self, abis: Mapping[str, Abi], addresses: Mapping[str, str]):
        self.addresses = {k: Web3.to_checksum_address(a) for k, a in addresses.items()}
        self.abis = dict(abis)
        self._contracts = {
            key: Web3().eth.contract(address=self.addresses[key], abi=abi)
            for key, abi in abis.items()
        }
        self._calldata: dict[tuple[Any, ...], str] = {}
        self._errors: dict[bytes, str] = {}
        self._events: dict[bytes, dict[str, Any]] = {}
        for abi in abis.values():
            for item in abi:
                signature = (
                    f"{item.get('name')}({','.join(abi_type(i) for i in item.get('inputs', []))})"
                )
                if item["type"] == "error":
                    self._errors[keccak(text=signature)[:4]] = str(item["name"])
                elif item["type"] == "event" and not item.get("anonymous"):
                    self._events[keccak(text=signature)] = item

    def address(self, key: str) -> str:
        return self.addresses[key]

    def function(self, key: str, fn: str) -> dict[str, Any]:
        return self._contracts[key].get_function_by_name(fn).abi

    def encode(self, key: str, fn: str, args: Sequence[Any]) -> str:
        """Calldata; memoized, since the invariants repeat the same views after every step."""
        try:
            memo_key = (key, fn, tuple(tuple(a) if isinstance(a, list) else a for a in args))
            cached = self._calldata.get(memo_key)
        except TypeError:  # unhashable argument
            memo_key, cached = None, None
        if cached is None:
            cached = self._contracts[key].encode_abi(fn, [_checksummed(a) for a in args])
            if memo_key is not None and len(self._calldata) < MEMO_LIMIT:
                self._calldata[memo_key] = cached
        return cached

    def selector(self, key: str, fn: str) -> bytes:
        return function_abi_to_4byte_selector(self.function(key, fn))

    def decode_output(self, key: str, fn: str, data: bytes) -> Any:
        outputs = self.function(key, fn)["outputs"]
        values = abi_decode([abi_type(o) for o in outputs], data)
        return shape_outputs(list(values), outputs)

    def error_name(self, data: bytes) -> str:
        """The custom error's name, or the raw data in hex when it is not ours."""
        return self._errors.get(bytes(data[:4]), "0x" + bytes(data).hex())

    def decode_log(self, log: Mapping[str, Any]) -> Event | None:
        topics = [_bytes(t) for t in log["topics"]]
        item = self._events.get(topics[0]) if topics else None
        if item is None:
            return None
        inputs = item["inputs"]
        indexed = [i for i in inputs if i["indexed"]]
        plain = [i for i in inputs if not i["indexed"]]
        if len(indexed) != len(topics) - 1:
            return None  # same signature, different indexing (an ERC-20 vs a mock): not ours
        values = dict(
            zip(
                [i["name"] for i in indexed],
                [abi_decode([abi_type(i)], t)[0] for i, t in zip(indexed, topics[1:], strict=True)],
                strict=True,
            )
        )
        values.update(
            zip(
                [i["name"] for i in plain],
                abi_decode([abi_type(i) for i in plain], _bytes(log["data"])),
                strict=True,
            )
        )
        args = Record({i["name"]: shape(values[i["name"]], i) for i in inputs})
        return Event(str(item["name"]), str(log["address"]).lower(), args)

    def decode_logs(self, logs: Sequence[Mapping[str, Any]]) -> list[Event]:
        return [e for e in (self.decode_log(log) for log in logs) if e is not None]


def _checksummed(value: Any) -> Any:
    """web3 encodes only checksummed addresses; the model keeps them lower-case."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return Web3.to_checksum_address(value)
    if isinstance(value, list):
        return [_checksummed(v) for v in value]
    return value


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)
