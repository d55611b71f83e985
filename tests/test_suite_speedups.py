"""The suite's work-arounds of ape's per-transaction overheads (`solvent.testing`) change how fast
a transaction is built and confirmed, never what is sent or what comes back."""

import inspect

import pytest
from ape.contracts import ContractInstance
from ape.exceptions import ContractNotFoundError
from ape_ethereum.ecosystem import Ethereum
from web3.eth import Eth

from solvent.testing import RECEIPT_POLL_S, _last_call_target


def test_receipts_are_polled_quickly_and_still_found(chain, accounts):
    wait = Eth.wait_for_transaction_receipt
    assert (
        inspect.signature(wait, follow_wrapped=False).parameters["poll_latency"].default
        == RECEIPT_POLL_S
    )
    receipt = accounts[0].transfer(accounts[1], 1)
    found = chain.provider.web3.eth.wait_for_transaction_receipt(receipt.txn_hash, timeout=5)
    assert found["blockNumber"] == receipt.block_number
    assert found["status"] == 1


def test_the_remembered_transaction_type_is_ape_s_own_answer(chain):
    ecosystem = chain.provider.network.ecosystem
    resolve = Ethereum.__dict__["default_transaction_type"].fget.__wrapped__
    assert ecosystem.default_transaction_type == resolve(ecosystem)
    assert ecosystem.default_transaction_type is ecosystem.default_transaction_type


def test_an_address_without_code_is_still_refused(project, accounts):
    token = ContractInstance(accounts[3].address, project.MockERC20.contract_type)
    with pytest.raises(ContractNotFoundError):
        token.decimals()
    with pytest.raises(ContractNotFoundError):
        token.decimals()


def test_the_last_call_is_the_last_one_started_depth_first():
    tree = {
        "to": "0xroot",
        "calls": [
            {"to": "0xa", "calls": [{"to": "0xb"}, {"to": "0xc", "calls": [{"to": "0xd"}]}]},
            {"to": "0xe", "calls": [{"to": "0xf"}]},
        ],
    }
    assert _last_call_target(tree) == "0xf"
    assert (
        _last_call_target({"to": "0xroot", "calls": [{"to": "0xa", "calls": [{"to": "0xb"}]}]})
        == "0xb"
    )
    assert _last_call_target({"to": "0xroot"}) is None
