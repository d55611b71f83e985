"""The ape account signer produces exactly the transaction a local key signs for the same fields."""

from solvent.fastpath import dev_accounts
from solvent.keeper.signers import ApeAccountSigner, LocalKeySigner

FIELDS = {
    "chainId": 31337,
    "nonce": 7,
    "to": "0x00000000000000000000000000000000000000bb",
    "data": "0x1234",
    "gas": 100_000,
    "value": 3,
    "maxFeePerGas": 50 * 10**9,
    "maxPriorityFeePerGas": 2 * 10**9,
    "type": 2,
}


def test_ape_account_signer_matches_the_local_key(accounts, networks):
    ecosystem = networks.provider.network.ecosystem
    ape_signer = ApeAccountSigner(accounts[1], ecosystem)
    local = LocalKeySigner(dev_accounts(2)[1])
    assert ape_signer.address == local.address
    assert ape_signer.sign(FIELDS) == local.sign(FIELDS)
