"""Transactions for one keeper signer: a local nonce manager, EIP-1559 fees under a hard cap,
replacement of stuck transactions with geometrically bumped fees, and recovery of dropped ones.

Black Thursday's keepers stalled on fixed gas prices and transactions stuck behind others; here a
transaction that is not mined within `stuck_after_blocks` is re-signed with the same nonce and
fees multiplied by `bump_factor` (at least the +10% nodes require for a replacement), never above
`max_fee_cap`. A transaction the node forgot (restart, eviction) is broadcast again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from solvent.rpc import RpcClient, RpcError

MIN_REPLACEMENT_BUMP = 1.10
# Rejections that mean "not now": the transaction stays pending and is tried again on a later poll.
RETRYABLE_REJECTIONS = (
    "nonce too low",  # our earlier version was mined meanwhile: poll settles it
    "less than block base fee",  # a fee spike above our cap: wait for it to pass
    "replacement transaction underpriced",
    "already known",
)


class Signer(Protocol):
    """Anything that signs an EIP-1559 transaction dict into raw bytes (hex)."""

    @property
    def address(self) -> str: ...

    def sign(self, fields: dict[str, Any]) -> str: ...


@dataclass(frozen=True)
class FeePolicy:
    max_fee_cap: int
    priority_fee: int
    base_fee_headroom: float = 2.0
    bump_factor: float = 1.25
    stuck_after_blocks: int = 2

    def __post_init__(self) -> None:
        if self.bump_factor < MIN_REPLACEMENT_BUMP:
            raise ValueError("nodes reject replacements bumped by less than 10%")
        if self.priority_fee > self.max_fee_cap:
            raise ValueError("priority fee above the fee cap")

    def initial_fees(self, base_fee: int) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas) for a new transaction."""
        max_fee = int(base_fee * self.base_fee_headroom) + self.priority_fee
        return min(max_fee, self.max_fee_cap), self.priority_fee

    def bumped(self, max_fee: int, priority_fee: int) -> tuple[int, int] | None:
        """Replacement fees, or None when already at the cap."""
        if max_fee >= self.max_fee_cap:
            return None
        new_max = min(int(max_fee * self.bump_factor) + 1, self.max_fee_cap)
        new_priority = min(int(priority_fee * self.bump_factor) + 1, new_max)
        if (
            new_max < max_fee * MIN_REPLACEMENT_BUMP
            or new_priority < priority_fee * MIN_REPLACEMENT_BUMP
        ):
            return None
        return new_max, new_priority


@dataclass
class PendingTx:
    label: str
    nonce: int
    fields: dict[str, Any]
    sent_block: int
    raw: str
    hashes: list[str] = field(default_factory=list)
    bumps: int = 0


@dataclass(frozen=True)
class Outcome:
    tx: PendingTx
    receipt: dict[str, Any]

    @property
    def succeeded(self) -> bool:
        return int(self.receipt["status"], 16) == 1


class TxManager:
    """Sends and shepherds the transactions of one signer. Not thread-safe: one loop owns it."""

    def __init__(self, rpc: RpcClient, signer: Signer, chain_id: int, policy: FeePolicy):
        self.rpc = rpc
        self.signer = signer
        self.chain_id = chain_id
        self.policy = policy
        self.pending: dict[int, PendingTx] = {}
        self.next_nonce = self._chain_nonce("pending")

    def _chain_nonce(self, block: str) -> int:
        return int(self.rpc.call("eth_getTransactionCount", self.signer.address, block), 16)

    def _block_and_base_fee(self) -> tuple[int, int]:
        block = self.rpc.call("eth_getBlockByNumber", "latest", False)
        return int(block["number"], 16), int(block.get("baseFeePerGas", "0x0"), 16)

    def submit(self, to: str, data: str, gas: int, label: str = "", value: int = 0) -> PendingTx:
        block, base_fee = self._block_and_base_fee()
        max_fee, priority = self.policy.initial_fees(base_fee)
        fields = {
            "chainId": self.chain_id,
            "nonce": self.next_nonce,
            "to": to,
            "data": data,
            "gas": gas,
            "value": value,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority,
            "type": 2,
        }
        tx = PendingTx(label=label, nonce=self.next_nonce, fields=fields, sent_block=block, raw="")
        self.next_nonce += 1
        self.pending[tx.nonce] = tx
        self._broadcast(tx, self.signer.sign(fields))
        return tx

    def _broadcast(self, tx: PendingTx, raw: str) -> None:
        tx.raw = raw
        try:
            tx.hashes.append(self.rpc.call("eth_sendRawTransaction", raw))
        except RpcError as exc:
            if not any(reason in exc.message.lower() for reason in RETRYABLE_REJECTIONS):
                raise

    def poll(self) -> list[Outcome]:
        """Settles mined transactions, re-broadcasts dropped ones and bumps stuck ones."""
        if not self.pending:
            return []
        block, _ = self._block_and_base_fee()
        mined_nonce = self._chain_nonce("latest")
        finished: list[Outcome] = []
        for nonce in sorted(self.pending):
            tx = self.pending[nonce]
            receipt = self._receipt(tx)
            if receipt is not None:
                finished.append(Outcome(tx, receipt))
                del self.pending[nonce]
            elif nonce < mined_nonce:
                # Consumed by a transaction we no longer track (e.g. sent before a restart).
                del self.pending[nonce]
            elif block - tx.sent_block >= self.policy.stuck_after_blocks:
                self._replace(tx, block)
            elif not self._known_to_node(tx):
                self._broadcast(tx, tx.raw)
        return finished

    def _receipt(self, tx: PendingTx) -> dict[str, Any] | None:
        receipts = self.rpc.batch(("eth_getTransactionReceipt", [h]) for h in tx.hashes)
        return next((r for r in receipts if r is not None), None)

    def _known_to_node(self, tx: PendingTx) -> bool:
        found = self.rpc.batch(("eth_getTransactionByHash", [h]) for h in tx.hashes)
        return any(item is not None for item in found)

    def _replace(self, tx: PendingTx, block: int) -> None:
        fees = self.policy.bumped(tx.fields["maxFeePerGas"], tx.fields["maxPriorityFeePerGas"])
        if fees is None:
            if not self._known_to_node(tx):
                self._broadcast(tx, tx.raw)
            return
        tx.fields = {**tx.fields, "maxFeePerGas": fees[0], "maxPriorityFeePerGas": fees[1]}
        tx.bumps += 1
        tx.sent_block = block
        self._broadcast(tx, self.signer.sign(tx.fields))
