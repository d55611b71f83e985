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


def _original(owner: type, name: str) -> Any:
    """`owner.name` as the library defines it, under any wrapper installed here before (every
    replacement keeps the original as `__wrapped__`, so installing twice wraps once)."""
    current = owner.__dict__[name]
    return getattr(current, "__wrapped__", current)


def _install(owner: type, name: str, original: Any, replacement: Any) -> None:
    replacement.__wrapped__ = original
    setattr(owner, name, replacement)


# Anvil answers `eth_sendRawTransaction` before its automine has sealed the block, so the first
# receipt query often misses and web3 sleeps its default 0.1 s before asking again. The suite sends
# thousands of transactions: that sleep was 16% of a module's wall time (py-spy, tests/attacks).
RECEIPT_POLL_S = 0.002


def poll_receipts_quickly(poll_s: float = RECEIPT_POLL_S) -> None:
    """Makes web3's receipt wait (the one ape's `get_receipt` uses) poll every `poll_s` seconds
    unless a caller names its own latency. Idempotent."""
    from web3.eth import Eth

    original = _original(Eth, "wait_for_transaction_receipt")

    def wait_for_transaction_receipt(
        self: Eth, transaction_hash: Any, timeout: float = 120, poll_latency: float = poll_s
    ) -> Any:
        return original(self, transaction_hash, timeout, poll_latency)

    _install(Eth, "wait_for_transaction_receipt", original, wait_for_transaction_receipt)


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

    check = _original(ContractMethodHandler, "_validate_is_contract")
    with_code: set[str] = set()

    def _validate_is_contract(self: ContractMethodHandler) -> None:
        address = self.contract.address
        if address not in with_code:
            check(self)
            with_code.add(address)

    _install(ContractMethodHandler, "_validate_is_contract", check, _validate_is_contract)


def _last_call_target(tree: dict[str, Any]) -> str | None:
    """The target of the last call a transaction made (depth first, in the order the calls
    started): the address ape's struct-log scan finds as the "last address used"."""
    last = None
    stack = list(reversed(tree.get("calls") or []))
    while stack:
        call = stack.pop()
        last = call.get("to") or last
        stack.extend(reversed(call.get("calls") or []))
    return last


def decode_errors_from_call_tree() -> None:
    """A custom error the reverted contract's ABI does not declare (one bubbled up from a
    contract it called) is looked up by ape in the contract the transaction called last, which
    it finds by parsing the transaction's whole struct-log trace: 18% of a module's wall time
    (py-spy, tests/attacks) for a few dozen reverts. The same address is the last call of
    Anvil's call tracer (one small answer), so the decoding is the same and the parse is gone."""
    from ape_ethereum.ecosystem import Ethereum
    from eth_utils import to_checksum_address, to_hex

    decode = _original(Ethereum, "decode_custom_error")

    def decode_custom_error(self: Ethereum, data: Any, address: Any, **kwargs: Any) -> Any:
        try:
            declared = (
                data[:4] in self.chain_manager.contracts.instance_at(address).contract_type.errors
            )
        except Exception:  # ape's own look-up answers None for these
            declared = False
        txn = kwargs.get("txn")
        if declared or txn is None or not self.network_manager.active_provider:
            return decode(self, data, address, **kwargs)
        try:
            tree = self.provider.make_request(
                "debug_traceTransaction", [to_hex(txn.txn_hash), {"tracer": "callTracer"}]
            )
        except Exception:  # unsigned, or no call tracer: ape's own way
            return decode(self, data, address, **kwargs)
        last = _last_call_target(dict(tree))
        if last is None or to_checksum_address(last) == address:
            return None
        return decode(
            self, data, to_checksum_address(last), **{k: v for k, v in kwargs.items() if k != "txn"}
        )

    _install(Ethereum, "decode_custom_error", decode, decode_custom_error)
