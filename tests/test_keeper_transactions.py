"""The keeper's transaction manager on a real Anvil that mines only when told to."""

import pytest

from solvent.anvil import AnvilOptions, running_anvil
from solvent.fastpath import dev_accounts
from solvent.keeper.signers import LocalKeySigner
from solvent.keeper.transactions import FeePolicy, TxManager
from solvent.rpc import RpcClient

GWEI = 10**9
SINK = "0x00000000000000000000000000000000000000bb"


@pytest.fixture
def node():
    with running_anvil(AnvilOptions(no_mining=True)) as node:
        yield node


def manager(node, **policy) -> TxManager:
    fees = FeePolicy(**{"max_fee_cap": 200 * GWEI, "priority_fee": GWEI, **policy})
    signer = LocalKeySigner(dev_accounts(1)[0])
    return TxManager(RpcClient(node.url), signer, 31337, fees)


def mine(node, blocks=1):
    node.call("anvil_mine", hex(blocks))


def set_base_fee(node, wei):
    node.call("anvil_setNextBlockBaseFeePerGas", hex(wei))


def send(txm, value=1, label="transfer"):
    return txm.submit(SINK, "0x", 21_000, label=label, value=value)


def test_submitted_transaction_is_settled_once(node):
    txm = manager(node)
    tx = send(txm)
    assert txm.poll() == []
    mine(node)
    [outcome] = txm.poll()
    assert outcome.tx is tx and outcome.succeeded
    assert txm.pending == {} and txm.poll() == []


def test_stuck_transaction_is_replaced_with_bumped_fees_and_mined_once(node):
    txm = manager(node, bump_factor=2.0, stuck_after_blocks=1)
    tx = send(txm, value=5)
    first_fee = tx.fields["maxFeePerGas"]
    set_base_fee(node, first_fee * 3)  # a gas spike: the transaction no longer fits
    mine(node)
    assert txm.poll() == []
    set_base_fee(node, first_fee * 3)
    mine(node)
    assert txm.poll() == []
    assert tx.bumps >= 1 and tx.fields["maxFeePerGas"] > first_fee
    for _ in range(4):
        set_base_fee(node, first_fee * 3)
        mine(node)
        outcomes = txm.poll()
        if outcomes:
            break
    [outcome] = outcomes
    assert outcome.succeeded
    assert int(outcome.receipt["effectiveGasPrice"], 16) >= first_fee * 3
    assert int(node.call("eth_getBalance", SINK, "latest"), 16) == 5


def test_fees_never_exceed_the_cap(node):
    txm = manager(node, max_fee_cap=3 * GWEI, bump_factor=2.0, stuck_after_blocks=1)
    tx = send(txm)
    for _ in range(5):
        set_base_fee(node, 50 * GWEI)
        mine(node)
        assert txm.poll() == []
    assert tx.fields["maxFeePerGas"] == 3 * GWEI


def test_dropped_transaction_is_broadcast_again_and_gap_closes(node):
    txm = manager(node)
    first = send(txm, value=1)
    second = send(txm, value=2)
    node.call("anvil_dropTransaction", first.hashes[-1])
    mine(node)
    assert txm.poll() == []  # nonce gap: the second cannot be mined; the first is re-sent
    mine(node)
    outcomes = txm.poll()
    assert sorted(o.tx.nonce for o in outcomes) == [first.nonce, second.nonce]
    assert int(node.call("eth_getBalance", SINK, "latest"), 16) == 3


def test_restarted_manager_resumes_after_mined_nonces(node):
    txm = manager(node)
    send(txm)
    send(txm)
    mine(node)
    restarted = manager(node)
    assert restarted.next_nonce == 2
    assert restarted.pending == {}


def test_replacement_bump_below_ten_percent_is_rejected():
    with pytest.raises(ValueError):
        FeePolicy(max_fee_cap=GWEI, priority_fee=1, bump_factor=1.05)
