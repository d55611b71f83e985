"""The one ABI codec agrees with web3 / eth_abi and known vectors on the compiled contracts' ABIs:
calls, results (raw, plain and struct-shaped), calldata back to arguments, logs, topics,
custom errors, and the keeper's fast word helpers."""

import eth_abi
import pytest
from eth_utils import keccak
from web3 import Web3

from solvent.abi import (
    CodecSet,
    ContractCodec,
    Record,
    abis_from_project,
    decode_static_tuple_array,
    encode_uint_array_call,
)

ENGINE = "0x00000000000000000000000000000000000000aa"
LIQUIDATOR = "0x00000000000000000000000000000000000000bb"
TOKEN = "0x00000000000000000000000000000000000000cc"
HOLDER = "0x52908400098527886e0f7030069857d2e4169ee7"  # EIP-55 test vector, lower case
HOLDER_CHECKSUM = "0x52908400098527886E0F7030069857D2E4169EE7"
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
STATUS = "(bool,bool,uint256,address,uint256,uint256,uint256,uint256,uint256,uint256)"


@pytest.fixture(scope="module")
def abis(project):
    names = ("MarginEngine", "MarginEngineExtension", "DutchAuctionLiquidator", "MockERC20")
    return abis_from_project(project, names)


@pytest.fixture(scope="module")
def engine(abis):
    return ContractCodec(abis["MarginEngine"], ENGINE)


@pytest.fixture(scope="module")
def views(abis):
    return ContractCodec(abis["MarginEngineExtension"], ENGINE)


@pytest.fixture(scope="module")
def token(abis):
    return ContractCodec(abis["MockERC20"], TOKEN)


@pytest.fixture(scope="module")
def system(abis):
    return CodecSet(
        {"engine": abis["MarginEngine"], "liquidator": abis["DutchAuctionLiquidator"]},
        {"engine": ENGINE, "liquidator": LIQUIDATOR},
    )


def _log(address, event_signature, indexed, data_types, data_values):
    return {
        "address": address,
        "topics": ["0x" + keccak(text=event_signature).hex()]
        + ["0x" + eth_abi.encode([t], [v]).hex() for t, v in indexed],
        "data": "0x" + eth_abi.encode(data_types, data_values).hex(),
    }


def test_abis_from_project_are_plain_json_web3_accepts(abis, project):
    engine_abi = abis["MarginEngine"]
    assert len(engine_abi) == len(project.MarginEngine.contract_type.abi)
    assert all(None not in item.values() for item in engine_abi)
    web3_contract = Web3().eth.contract(abi=engine_abi)
    assert web3_contract.encode_abi("deposit", [1, TOKEN, 2]).startswith("0x")


def test_encode_equals_selector_and_eth_abi(engine, token):
    data = engine.encode("deposit", 7, HOLDER, 10**18)  # a lower-case address is accepted
    expected = keccak(text="deposit(uint256,address,uint256)")[:4] + eth_abi.encode(
        ["uint256", "address", "uint256"], [7, HOLDER, 10**18]
    )
    assert data == "0x" + expected.hex()
    assert token.selector("approve") == "0x095ea7b3"
    assert token.call("balanceOf", HOLDER) == (
        Web3.to_checksum_address(TOKEN),
        "0x70a08231" + "00" * 12 + HOLDER[2:],
    )


def test_encode_leaves_what_the_strict_codec_refuses_to_web3(abis):
    liquidator = ContractCodec(abis["DutchAuctionLiquidator"], LIQUIDATOR)
    web3_contract = Web3().eth.contract(
        address=liquidator.address, abi=abis["DutchAuctionLiquidator"]
    )
    args = [3, 10**18, 2 * 10**18, HOLDER_CHECKSUM]
    expected = web3_contract.encode_abi("take", [*args, b"\x12\x34"])
    assert liquidator.encode("take", *args, b"\x12\x34") == expected
    assert liquidator.encode("take", *args, "0x1234") == expected  # web3 turns hex into bytes


def test_decode_input_round_trips(engine, token):
    assert engine.decode_input(engine.encode("liquidate", 42, HOLDER)) == (
        "liquidate",
        {"accountId": 42, "keeper": HOLDER_CHECKSUM},
    )
    assert engine.decode_input(token.encode("approve", HOLDER, 1)) is None


def test_outputs_raw_plain_and_shaped(abis, system):
    liquidator = ContractCodec(abis["DutchAuctionLiquidator"], LIQUIDATOR)
    status = (True, False, 9, HOLDER, 5, 6, 7, 8, 9, 10)
    data = eth_abi.encode([STATUS], [status])
    assert liquidator.decode("status", data) == (status,)  # eth_abi: lower-case addresses
    assert liquidator.decode("status", "0x" + data.hex()) == (status,)
    assert liquidator.value("status", data) == (True, False, 9, HOLDER_CHECKSUM, 5, 6, 7, 8, 9, 10)
    shaped = system.decode_output("liquidator", "status", data)
    assert isinstance(shaped, Record)
    assert (shaped.active, shaped.token, shaped.price, shaped.startTime) == (True, HOLDER, 8, 10)
    ids = eth_abi.encode(["uint256[]"], [[3, 1]])
    assert liquidator.value("activeAuctionIds", ids) == (3, 1)  # one output: unwrapped
    assert system.decode_output("liquidator", "activeAuctionIds", ids) == [3, 1]


def test_codec_set_memoizes_calldata_and_names_errors(system, engine):
    first = system.encode("engine", "deposit", [1, HOLDER, 5])
    assert first == engine.encode("deposit", 1, HOLDER, 5)
    assert system.encode("engine", "deposit", [1, HOLDER, 5]) is first
    assert system.address("liquidator") == Web3.to_checksum_address(LIQUIDATOR)
    revert = keccak(text="UnknownAccount(uint256)")[:4] + eth_abi.encode(["uint256"], [77])
    assert system.error_name(revert) == "UnknownAccount"
    assert engine.error_name(revert) == "UnknownAccount"
    assert system.error_name(b"\xde\xad\xbe\xef") == "0xdeadbeef"


def test_logs_decoded_with_topics_and_indexed_positions(engine, token, system):
    signature = "Deposited(uint256,address,address,uint256)"
    log = _log(
        ENGINE,
        signature,
        [("uint256", 12), ("address", HOLDER)],
        ["address", "uint256"],
        [TOKEN, 99],
    )
    assert engine.topic("Deposited") == "0x" + keccak(text=signature).hex()
    assert engine.topics[engine.topic("Deposited")] == "Deposited"
    assert engine.indexed_position("Deposited", "token") == 2
    event = engine.decode_log(log)
    assert event.name == "Deposited"
    assert event.address == Web3.to_checksum_address(ENGINE)
    assert event.args == {
        "accountId": 12,
        "token": HOLDER_CHECKSUM,
        "from": Web3.to_checksum_address(TOKEN),
        "amount": 99,
    }
    fuzz_event = system.decode_log(log)
    assert fuzz_event.args.token == HOLDER and fuzz_event.args["from"] == TOKEN
    assert fuzz_event.address == ENGINE

    transfer = _log(
        TOKEN,
        "Transfer(address,address,uint256)",
        [("address", HOLDER), ("address", ENGINE)],
        ["uint256"],
        [5],
    )
    assert token.topic("Transfer") == TRANSFER_TOPIC
    assert token.indexed_position("Transfer", "to") == 2
    assert engine.decode_log(transfer) is None
    elsewhere = {**log, "address": TOKEN}
    assert engine.decode_logs([log, transfer, elsewhere], "Deposited") == [event.args]
    assert engine.events("Deposited", {"logs": [transfer, log]}) == [event.args]
    # the fuzz decodes every known event whoever emitted it (a mutant at the same address too)
    decoded = system.decode_logs([transfer, log, elsewhere])
    assert [(e.address, e.args) for e in decoded] == [
        (ENGINE, fuzz_event.args),
        (TOKEN, fuzz_event.args),
    ]
    assert engine.log_filter("Deposited", 3, 10) == {
        "address": Web3.to_checksum_address(ENGINE),
        "topics": [engine.topic("Deposited")],
        "fromBlock": "0x3",
        "toBlock": "0xa",
    }


def test_fast_calldata_equals_web3_encoding(views):
    ids = [1, 7, 2**200, 0]
    fast = encode_uint_array_call(views.selector("healthOf"), ids)
    assert fast == views.encode("healthOf", ids)


def test_fast_decoding_equals_eth_abi(views):
    entries = [(-5 * 10**18, 3, 10**18 - 1), (0, 0, 2**256 - 1), (10**30, 10**6, 7)]
    data = "0x" + eth_abi.encode(["(int256,uint256,uint256)[]"], [entries]).hex()
    assert views.decode("healthOf", data)[0] == tuple(entries)
    fast = decode_static_tuple_array(data, 3)
    assert [(e[1], e[2]) for e in fast] == [(r, h) for _, r, h in entries]
    assert fast[0][0] == 2**256 - 5 * 10**18  # words come back unsigned
    empty = "0x" + eth_abi.encode(["(int256,uint256,uint256)[]"], [[]]).hex()
    assert decode_static_tuple_array(empty, 3) == []
