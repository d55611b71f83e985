"""Offline ABI codec for contracts reached over raw JSON-RPC (fast path, simulator, keeper):
encode calls and decode results and events without a web3 provider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi import decode
from eth_utils.abi import get_abi_output_types
from web3 import Web3
from web3.utils.abi import get_abi_element

_W3 = Web3()


def abis_from_project(project: Any, names: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """ABIs of compiled project contracts, as plain JSON lists (what web3 accepts)."""
    return {
        name: [
            item.model_dump(mode="json", by_alias=True, exclude_none=True)
            for item in getattr(project, name).contract_type.abi
        ]
        for name in names
    }


class Codec:
    """One contract's ABI at one address."""

    def __init__(self, abi: list[dict[str, Any]], address: str):
        self.abi = abi
        self.address = Web3.to_checksum_address(address)
        self._contract = _W3.eth.contract(address=self.address, abi=abi)

    def data(self, fn: str, *args: Any) -> str:
        return self._contract.encode_abi(fn, list(args))

    def call(self, fn: str, *args: Any) -> tuple[str, str]:
        """(to, data) for eth_call / a transaction."""
        return self.address, self.data(fn, *args)

    def decode(self, fn: str, result: str, *args: Any) -> Any:
        element = get_abi_element(self.abi, fn, *args) if args else _by_name(self.abi, fn)
        values = decode(get_abi_output_types(element), bytes.fromhex(result.removeprefix("0x")))
        values = _checksummed(values)
        return values[0] if len(values) == 1 else values

    def events(self, name: str, receipt: dict[str, Any]) -> list[Any]:
        """Decoded `name` events this contract emitted in a receipt."""
        return self.decode_logs(name, receipt["logs"])

    def decode_logs(self, name: str, logs: list[dict[str, Any]]) -> list[Any]:
        event = self._contract.events[name]()
        mine = [log for log in logs if log["address"].lower() == self.address.lower()]
        return [event.process_log(_normalized(log))["args"] for log in mine if _matches(event, log)]

    def log_filter(self, name: str, from_block: int, to_block: int) -> dict[str, Any]:
        """eth_getLogs parameters for this contract's `name` events in a block range."""
        topic = _hex(self._contract.events[name]().topic)
        return {
            "address": self.address,
            "topics": [topic],
            "fromBlock": hex(from_block),
            "toBlock": hex(to_block),
        }


def _checksummed(value: Any) -> Any:
    """eth_abi returns addresses in lower case; web3 only accepts checksummed ones back."""
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return Web3.to_checksum_address(value)
    if isinstance(value, tuple | list):
        return type(value)(_checksummed(v) for v in value)
    return value


def _by_name(abi: list[dict[str, Any]], fn: str) -> dict[str, Any]:
    matches = [item for item in abi if item.get("type") == "function" and item["name"] == fn]
    if len(matches) != 1:
        raise ValueError(f"{fn}: {len(matches)} functions of that name; pass the arguments")
    return matches[0]


def _matches(event: Any, log: dict[str, Any]) -> bool:
    topic = log["topics"][0] if log["topics"] else None
    return topic is not None and _hex(topic) == _hex(event.topic)


def _hex(value: Any) -> str:
    return (value if isinstance(value, str) else "0x" + bytes(value).hex()).lower()


def _normalized(log: dict[str, Any]) -> dict[str, Any]:
    return {
        **log,
        "topics": [bytes.fromhex(_hex(t)[2:]) for t in log["topics"]],
        "data": bytes.fromhex(_hex(log["data"])[2:]),
        "logIndex": int(log["logIndex"], 16)
        if isinstance(log["logIndex"], str)
        else log["logIndex"],
        "transactionIndex": int(log["transactionIndex"], 16)
        if isinstance(log["transactionIndex"], str)
        else log["transactionIndex"],
        "blockNumber": int(log["blockNumber"], 16)
        if isinstance(log["blockNumber"], str)
        else log["blockNumber"],
    }
