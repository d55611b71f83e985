"""The one offline ABI codec: every raw JSON-RPC path (keeper, simulator, demo, fuzz) encodes
calls and decodes results, logs and custom errors here, without a web3 provider.

- `ContractCodec`: one contract's ABI at one address (keeper, simulator, demo).
- `CodecSet`: several contracts by name, memoized calldata and struct-shaped results (fuzz).
- `words`: hand-rolled word encoding for the keeper's 10,000-account health scan.
"""

from solvent.abi.codec import Abi, CodecSet, ContractCodec, abi_json, abis_from_project
from solvent.abi.shape import Event, Record, abi_type, shape, shape_outputs, signature
from solvent.abi.words import decode_static_tuple_array, encode_uint_array_call

__all__ = [
    "Abi",
    "CodecSet",
    "ContractCodec",
    "Event",
    "Record",
    "abi_json",
    "abi_type",
    "abis_from_project",
    "decode_static_tuple_array",
    "encode_uint_array_call",
    "shape",
    "shape_outputs",
    "signature",
]
