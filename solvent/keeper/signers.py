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
