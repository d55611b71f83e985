"""ABI type strings, and decoded values made plain: structs as `Record`s, bytes as `bytes`,
addresses in one case, so that callers compare like with like whoever decoded them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from web3 import Web3


class Record(dict[str, Any]):
    """A decoded struct or event: `r.field` or `r["field"]`."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


@dataclass(frozen=True)
class Event:
    name: str
    address: str  # the emitter, in the case the decoder was asked for
    args: Record


def abi_type(item: Mapping[str, Any]) -> str:
    """The canonical type string of an ABI parameter (tuples spelled out)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in item["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(item: Mapping[str, Any]) -> str:
    """`name(type,...)`: what selectors, event topics and error ids are the keccak of."""
    return f"{item.get('name')}({','.join(abi_type(i) for i in item.get('inputs', []))})"


def shape(value: Any, item: Mapping[str, Any], checksum: bool = False) -> Any:
    """Decoded value -> plain Python: Records for structs, lists, addresses in lower case (or
    checksummed, what web3 accepts back)."""
    kind = str(item["type"])
    if kind.endswith("]"):
        element = {**item, "type": kind[: kind.rindex("[")]}
        return [shape(v, element, checksum) for v in value]
    if kind == "tuple":
        components = item["components"]
        values = (
            [value[i] for i in range(len(components))]
            if isinstance(value, list | tuple)
            else [getattr(value, c["name"]) for c in components]
        )
        return Record(
            {c["name"]: shape(v, c, checksum) for c, v in zip(components, values, strict=True)}
        )
    if kind == "address":
        return Web3.to_checksum_address(value) if checksum else str(value).lower()
    if kind.startswith("bytes"):
        return bytes(value)
    return value


def shape_outputs(values: Sequence[Any], outputs: Sequence[Mapping[str, Any]]) -> Any:
    """One output as itself; several (a public struct getter) as a Record by their names."""
    shaped = [shape(v, o) for v, o in zip(values, outputs, strict=True)]
    if len(shaped) == 1:
        return shaped[0]
    return Record({str(o["name"]): v for o, v in zip(outputs, shaped, strict=True)})
