"""Signers for the keeper's transactions: a local key for dev chains, an ape account otherwise."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount


class LocalKeySigner:
    """A key held in memory: Anvil's dev accounts only (never a key read from a file)."""

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    @property
    def address(self) -> str:
        return self._account.address

    def sign(self, fields: dict[str, Any]) -> str:
        raw = self._account.sign_transaction(fields).raw_transaction.hex()
        return "0x" + raw.removeprefix("0x")


class ApeAccountSigner:
    """An ape account (a keystore alias, or `TEST::n` on a local network): the key never leaves
    ape. For unattended keystore accounts, enable ape's autosign (`account.set_autosign(True)`,
    passphrase from the environment) before starting the keeper."""

    def __init__(self, account: Any, ecosystem: Any) -> None:
        self._account = account
        self._ecosystem = ecosystem

    @property
    def address(self) -> str:
        return str(self._account.address)

    def sign(self, fields: dict[str, Any]) -> str:
        txn = self._ecosystem.create_transaction(
            chain_id=fields["chainId"],
            nonce=fields["nonce"],
            receiver=fields.get("to"),
            data=fields["data"],
            gas_limit=fields["gas"],
            value=fields.get("value", 0),
            max_fee=fields["maxFeePerGas"],
            max_priority_fee=fields["maxPriorityFeePerGas"],
            type=2,
        )
        signed = self._account.sign_transaction(txn)
        if signed is None:
            raise RuntimeError(f"{self.address}: the account refused to sign")
        return "0x" + bytes(signed.serialize_transaction()).hex()
