"""The fast path sends real transactions to a real Anvil, in batches, with local nonces."""

import pytest
from web3 import Web3

from solvent.anvil import AnvilOptions, running_anvil
from solvent.fastpath import FastSender, Tx, contract_address, dev_accounts, succeeded
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
