"""The keeper's fast scan encoding and decoding agree with web3 / eth_abi on the same ABI."""

import eth_abi

from solvent.keeper.codec import ContractCodec, decode_static_tuple_array, encode_uint_array_call

HEALTH_OF = {
    "type": "function",
    "name": "healthOf",
    "stateMutability": "view",
    "inputs": [{"name": "accountIds", "type": "uint256[]"}],
    "outputs": [
        {
            "name": "healths",
            "type": "tuple[]",
            "components": [
                {"name": "equity", "type": "int256"},
                {"name": "requirement", "type": "uint256"},
                {"name": "health", "type": "uint256"},
            ],
        }
    ],
}
ENGINE = "0x00000000000000000000000000000000000000aa"


def test_fast_calldata_equals_web3_encoding():
    codec = ContractCodec(ENGINE, [HEALTH_OF])
    ids = [1, 7, 2**200, 0]
    fast = encode_uint_array_call(codec.selector("healthOf"), ids)
    assert fast == codec.encode("healthOf", ids)


def test_fast_decoding_equals_eth_abi():
    entries = [(-5 * 10**18, 3, 10**18 - 1), (0, 0, 2**256 - 1), (10**30, 10**6, 7)]
    data = "0x" + eth_abi.encode(["(int256,uint256,uint256)[]"], [entries]).hex()
    codec = ContractCodec(ENGINE, [HEALTH_OF])
    assert codec.decode("healthOf", data)[0] == tuple(entries)
    fast = decode_static_tuple_array(data, 3)
    assert [(e[1], e[2]) for e in fast] == [(r, h) for _, r, h in entries]
    assert fast[0][0] == 2**256 - 5 * 10**18  # words come back unsigned
    assert (
        decode_static_tuple_array(
            "0x" + eth_abi.encode(["(int256,uint256,uint256)[]"], [[]]).hex(), 3
        )
        == []
    )
