"""Helpers for the test suite that work around ape behaviour rather than test the protocol."""

from __future__ import annotations

from typing import Any

import ape
from eth_utils import to_checksum_address
from web3.utils.address import get_create_address


def deploy_reverts(chain: Any, sender: Any, error: Any, container: Any, *args: Any) -> None:
    """Asserts that deploying `container(*args)` from `sender` reverts with `error`.

    Ape's contract cache outlives chain snapshots: the would-be address of this deployment may
    still be mapped to a contract another test deployed there before its snapshot was reverted.
    Ape then traces the failed deployment with that stale type and the trace display crashes, so
    the entry is forgotten first.
    """
    address = to_checksum_address(get_create_address(sender.address, sender.nonce))
    if chain.contracts.get(address) is not None:
        del chain.contracts[address]
    with ape.reverts(error):
        sender.deploy(container, *args)


# Anvil answers `eth_sendRawTransaction` before its automine has sealed the block, so the first
# receipt query often misses and web3 sleeps its default 0.1 s before asking again. The suite sends
# thousands of transactions: that sleep was 16% of a module's wall time (py-spy, tests/attacks).
RECEIPT_POLL_S = 0.002


def poll_receipts_quickly(poll_s: float = RECEIPT_POLL_S) -> None:
    """Makes web3's receipt wait (the one ape's `get_receipt` uses) poll every `poll_s` seconds
    unless a caller names its own latency. Idempotent."""
    from web3.eth import Eth

    current = Eth.wait_for_transaction_receipt
    original = getattr(current, "__wrapped__", current)

    def wait_for_transaction_receipt(
        self: Eth, transaction_hash: Any, timeout: float = 120, poll_latency: float = poll_s
    ) -> Any:
        return original(self, transaction_hash, timeout, poll_latency)

    wait_for_transaction_receipt.__wrapped__ = original  # type: ignore[attr-defined]
    Eth.wait_for_transaction_receipt = wait_for_transaction_receipt  # type: ignore[method-assign]


def memoize_transaction_type() -> None:
    """Ape resolves `Ethereum.default_transaction_type` from the network's config on every
    transaction it builds (four config look-ups each time): 15% of a module's wall time (py-spy,
    tests/attacks). A test session never changes its network's config, so the answer is kept per
    (ecosystem, connected network). Idempotent."""
    from ape_ethereum.ecosystem import Ethereum

    current = Ethereum.__dict__["default_transaction_type"]
    resolve = getattr(current.fget, "__wrapped__", current.fget)
    answers: dict[tuple[str, str | None], Any] = {}

    def default_transaction_type(self: Ethereum) -> Any:
        provider = self.network_manager.active_provider
        key = (self.name, provider.network.name if provider else None)
        if key not in answers:
            answers[key] = resolve(self)
        return answers[key]

    default_transaction_type.__wrapped__ = resolve  # type: ignore[attr-defined]
    Ethereum.default_transaction_type = property(default_transaction_type)  # type: ignore[method-assign,assignment]


def remember_contracts() -> None:
    """Ape asks the node for an address's code before every contract call and transaction, to
    fail early on an address without code: 12% of a module's wall time (py-spy, tests/attacks).
    An address that had code keeps it for the session (nothing in the suite self-destructs; a
    reverted deployment's instance is never called again), so a positive answer is kept."""
    from ape.contracts.base import ContractMethodHandler

    current = ContractMethodHandler.__dict__["_validate_is_contract"]
    check = getattr(current, "__wrapped__", current)
    with_code: set[str] = set()

    def _validate_is_contract(self: ContractMethodHandler) -> None:
        address = self.contract.address
        if address not in with_code:
            check(self)
            with_code.add(address)

    _validate_is_contract.__wrapped__ = check  # type: ignore[attr-defined]
    ContractMethodHandler._validate_is_contract = _validate_is_contract  # type: ignore[method-assign]
