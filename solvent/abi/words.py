"""Hand-rolled ABI words for the keeper's health scan: web3's encoder costs ~1 ms a call and
eth_abi decodes 10,000 `AccountHealth` tuples in about a second; these take milliseconds."""

from __future__ import annotations


def encode_uint_array_call(selector: str, values: list[int]) -> str:
    """Calldata of `f(uint256[])` (`selector` as 0x-prefixed hex)."""
    words = [32, len(values), *values]
    return selector + "".join(f"{w:064x}" for w in words)


def decode_static_tuple_array(data: str, fields: int) -> list[list[int]]:
    """Return data of a function returning one array of static tuples of `fields` 32-byte words,
    as unsigned words (e.g. `healthOf` -> AccountHealth[]; a negative int256 comes back as its
    two's complement)."""
    raw = bytes.fromhex(data.removeprefix("0x"))
    start = int.from_bytes(raw[0:32], "big")
    count = int.from_bytes(raw[start : start + 32], "big")
    base = start + 32
    return [
        [
            int.from_bytes(
                raw[base + 32 * (fields * i + j) : base + 32 * (fields * i + j + 1)], "big"
            )
            for j in range(fields)
        ]
        for i in range(count)
    ]
