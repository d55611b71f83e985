"""The fast path sends real transactions to a real Anvil, in batches, with local nonces."""

import pytest
from web3 import Web3

from solvent.anvil import AnvilOptions, running_anvil
from solvent.fastpath import (
    Failure,
    FastSender,
    NotMined,
    Tx,
    contract_address,
    dev_accounts,
    succeeded,
)
from solvent.rpc import RpcError


@pytest.fixture(scope="module")
def token_type(project):
    return project.MockERC20.contract_type


def erc20(token_type, address=None):
    abi = [item.model_dump(mode="json", by_alias=True) for item in token_type.abi]
    if address is not None:
        return Web3().eth.contract(address=address, abi=abi)
    return Web3().eth.contract(abi=abi, bytecode=token_type.deployment_bytecode.bytecode)


def test_batch_of_mints_lands_in_one_block(token_type):
    with running_anvil(AnvilOptions(no_mining=True)) as node:
        sender = FastSender(node.url, dev_accounts(3))
        constructor = erc20(token_type).constructor("Fast", "FST", 6)
        deploy_data = constructor.data_in_transaction
        [deploy_hash] = sender.send([Tx(sender=0, to=None, data=deploy_data, gas=3_000_000)])
        sender.mine()
        token_address = Web3.to_checksum_address(
            contract_address(sender.receipts([deploy_hash])[0])
        )
        token = erc20(token_type, token_address)

        recipients = [s.address for s in sender.signers]
        txs = [
            Tx(
                sender=i % 3,
                to=token_address,
                data=token.encode_abi("mint", [recipients[i % 3], 1]),
            )
            for i in range(150)
        ]
        hashes = sender.send(txs)
        sender.mine()
        receipts = sender.receipts(hashes)
        assert all(succeeded(r) for r in receipts)
        assert len({r["blockNumber"] for r in receipts}) == 1
        balances = sender.call_many(
            [(token_address, token.encode_abi("balanceOf", [a])) for a in recipients]
        )
        assert [int(b, 16) for b in balances] == [50, 50, 50]
        assert sender.nonces == [51, 50, 50]


def test_rpc_error_is_raised_with_its_method():
    with running_anvil() as node:
        sender = FastSender(node.url, dev_accounts(1))
        with pytest.raises(RpcError, match="eth_sendRawTransaction"):
            sender.rpc.batch([("eth_sendRawTransaction", ["0xdeadbeef"])])


# Runtime code that reverts every call with the 4 bytes 0xdeadbeef (PUSH4, SHL, MSTORE, REVERT),
# behind init code that returns it.
REVERTER_RUNTIME = "63deadbeef60e01b5f5260045ffd"
REVERTER_INIT = "0x600e600a5f39600e5ff3" + REVERTER_RUNTIME


def test_send_and_wait_mines_until_a_batch_larger_than_a_block_is_all_in(token_type):
    # A 1M-gas block holds about 15 first mints (~70k gas each): 60 mints need several blocks;
    # on an automining node the reads used to race the background miner.
    with running_anvil(AnvilOptions(gas_limit=1_000_000)) as node:
        sender = FastSender(node.url, dev_accounts(4))
        constructor = erc20(token_type).constructor("Fast", "FST", 6)
        [receipt] = sender.send_and_wait(
            [Tx(sender=0, to=None, data=constructor.data_in_transaction, gas=990_000)]
        )
        assert succeeded(receipt)
        token_address = Web3.to_checksum_address(contract_address(receipt))
        token = erc20(token_type, token_address)
        head = int(sender.rpc.call("eth_blockNumber"), 16)

        txs = [
            Tx(
                sender=i % 4,
                to=token_address,
                data=token.encode_abi("mint", [ZERO_ONE, 1]),
                gas=100_000,
            )
            for i in range(60)
        ]
        receipts = sender.send_and_wait(txs)

        assert len(receipts) == 60 and all(succeeded(r) for r in receipts)
        blocks = {int(r["blockNumber"], 16) for r in receipts}
        assert len(blocks) > 1
        assert int(sender.rpc.call("eth_blockNumber"), 16) == head + len(blocks)  # none idle
        balance = sender.call(token_address, token.encode_abi("balanceOf", [ZERO_ONE]))
        assert int(balance, 16) == 60
        assert sender.rpc.call("anvil_getAutomine") is True  # restored


def test_send_and_wait_names_what_never_got_mined():
    with running_anvil() as node:
        sender = FastSender(node.url, dev_accounts(2))
        sender.nonces[1] += 1  # a nonce gap: this sender's transaction can never be mined
        txs = [
            Tx(sender=0, to=ZERO_ONE, data="0x", gas=21_000),
            Tx(sender=1, to=ZERO_ONE, data="0x1234", gas=30_000),
        ]
        with pytest.raises(NotMined, match=r"1 of 2 transactions not mined .*#1 from sender 1"):
            sender.send_and_wait(txs)
        assert sender.rpc.call("anvil_getAutomine") is True


def test_failures_return_the_revert_data_of_each_reverted_transaction():
    with running_anvil(AnvilOptions(no_mining=True)) as node:
        sender = FastSender(node.url, dev_accounts(2))
        [deployed] = sender.send_and_wait([Tx(sender=0, to=None, data=REVERTER_INIT, gas=100_000)])
        reverter = Web3.to_checksum_address(contract_address(deployed))
        receipts = sender.send_and_wait(
            [
                Tx(sender=1, to=reverter, data="0x12345678", gas=50_000),
                Tx(sender=0, to=reverter, data="0x", gas=21_005),  # too little gas to run it
            ]
        )
        assert [succeeded(r) for r in receipts] == [False, False]
        revert, out_of_gas = sender.failures([r["transactionHash"] for r in receipts])
        assert revert == Failure("execution reverted", bytes.fromhex("deadbeef"))
        assert out_of_gas.output == b"" and "gas" in out_of_gas.error
        assert sender.rpc.call("anvil_getAutomine") is False  # left as it was


ZERO_ONE = "0x0000000000000000000000000000000000000001"


def test_in_send_order_a_block_takes_a_batch_in_the_order_it_was_signed():
    # Equal fees leave the order to arrival, which a loaded node varies within one batch.
    with running_anvil(AnvilOptions(no_mining=True)) as node:
        sender = FastSender(node.url, dev_accounts(10), in_send_order=True)
        txs = [Tx(sender=(7 * i) % 10, to=ZERO_ONE, data="0x", gas=21_000) for i in range(300)]
        hashes = sender.send(txs)
        sender.mine()
        block = sender.rpc.call("eth_getBlockByNumber", "latest", False)
        assert block["transactions"] == hashes
