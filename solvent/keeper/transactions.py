"""Transactions for one keeper signer: a local nonce manager, EIP-1559 fees under a hard cap,
replacement of stuck transactions with geometrically bumped fees, and recovery of dropped ones.

Black Thursday's keepers stalled on fixed gas prices and transactions stuck behind others; here a
transaction that is not mined within `stuck_after_blocks` is re-signed with the same nonce and
fees multiplied by `bump_factor` (at least the +10% nodes require for a replacement), never above
`max_fee_cap`. A transaction the node forgot (restart, eviction) is broadcast again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_utils import keccak

from solvent.rpc import RpcClient, RpcError, RpcUnavailable

MIN_REPLACEMENT_BUMP = 1.10
CANCEL_GAS = 21_000  # a 0-value transfer to ourselves: fills a nonce, does nothing
# Rejections that mean "not now": the transaction stays pending and is tried again on a later poll.
RETRYABLE_REJECTIONS = (
    "nonce too low",  # our earlier version was mined meanwhile: poll settles it
    "less than block base fee",  # a fee spike above our cap: wait for it to pass
    "replacement transaction underpriced",
    "already known",
)


class SendRejected(Exception):
    """The node refused a batch for a reason other than "not now" (e.g. insufficient funds for
    gas). The transactions are signed and hold their nonces; `poll` keeps re-broadcasting them,
    so the caller must keep tracking `txs`."""

    def __init__(self, txs: list[PendingTx], error: RpcError) -> None:
        super().__init__(str(error))
        self.txs = txs
        self.error = error


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


@dataclass(frozen=True)
class TxRequest:
    to: str
    data: str
    gas: int
    label: str = ""
    value: int = 0


@dataclass
class PendingTx:
    label: str
    nonce: int
    fields: dict[str, Any]
    sent_block: int
    raw: str
    hashes: list[str] = field(default_factory=list)
    bumps: int = 0
    # Re-simulated before a re-broadcast and found to revert: its nonce now carries a 0-value
    # transfer to ourselves, so later nonces are not stuck behind a doomed transaction.
    cancelled: bool = False


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

    def resync(self) -> None:
        """Forgets every pending transaction and takes the nonce from the chain again: after the
        node lost blocks (a restart from an older state), what we sent may no longer exist."""
        self.pending.clear()
        self.next_nonce = self._chain_nonce("pending")

    def _chain_nonce(self, block: str) -> int:
        return int(self.rpc.call("eth_getTransactionCount", self.signer.address, block), 16)

    def _block_and_base_fee(self) -> tuple[int, int]:
        block = self.rpc.call("eth_getBlockByNumber", "latest", False)
        return int(block["number"], 16), int(block.get("baseFeePerGas", "0x0"), 16)

    def submit(self, to: str, data: str, gas: int, label: str = "", value: int = 0) -> PendingTx:
        return self.submit_many([TxRequest(to, data, gas, label, value)])[0]

    def submit_many(self, requests: Sequence[TxRequest]) -> list[PendingTx]:
        """Signs the requests with consecutive nonces and sends them in one JSON-RPC batch."""
        if not requests:
            return []
        block, base_fee = self._block_and_base_fee()
        max_fee, priority = self.policy.initial_fees(base_fee)
        txs = []
        for request in requests:
            fields = {
                "chainId": self.chain_id,
                "nonce": self.next_nonce,
                "to": request.to,
                "data": request.data,
                "gas": request.gas,
                "value": request.value,
                "maxFeePerGas": max_fee,
                "maxPriorityFeePerGas": priority,
                "type": 2,
            }
            tx = PendingTx(
                label=request.label, nonce=self.next_nonce, fields=fields, sent_block=block, raw=""
            )
            tx.raw = self.signer.sign(fields)
            self.next_nonce += 1
            self.pending[tx.nonce] = tx
            txs.append(tx)
        # Registered and signed: if the node is unreachable, `poll` re-broadcasts them later.
        try:
            self._broadcast_many(txs)
        except RpcUnavailable:
            pass
        except RpcError as exc:  # refused (e.g. no gas): still ours, re-broadcast by `poll`
            raise SendRejected(txs, exc) from exc
        return txs

    def _broadcast(self, tx: PendingTx, raw: str) -> None:
        tx.raw = raw
        self._broadcast_many([tx])

    def _broadcast_many(self, txs: Sequence[PendingTx]) -> None:
        """Sends each tx's `raw`; a "not now" rejection leaves it pending for a later poll, any
        other rejection is raised after the whole batch was sent (its nonce stays reserved)."""
        for tx in txs:
            # The hash is known before sending: a reply lost in transit cannot lose the receipt.
            tx_hash = "0x" + keccak(hexstr=tx.raw).hex()
            if tx_hash not in tx.hashes:
                tx.hashes.append(tx_hash)
        results = self.rpc.batch_results(("eth_sendRawTransaction", [tx.raw]) for tx in txs)
        fatal: RpcError | None = None
        for result in results:
            if not isinstance(result, RpcError):
                continue
            if not any(reason in result.message.lower() for reason in RETRYABLE_REJECTIONS):
                fatal = fatal or result
        if fatal is not None:
            raise fatal

    def poll(self) -> list[Outcome]:
        """Settles mined transactions, re-broadcasts dropped ones and bumps stuck ones: one batch
        reads the head, the mined nonce and every receipt, whatever the number pending."""
        if not self.pending:
            return []
        txs = [self.pending[nonce] for nonce in sorted(self.pending)]
        hashes = [(tx, h) for tx in txs for h in tx.hashes]
        answers = self.rpc.batch(
            [
                ("eth_getBlockByNumber", ["latest", False]),
                ("eth_getTransactionCount", [self.signer.address, "latest"]),
                *(("eth_getTransactionReceipt", [h]) for _, h in hashes),
            ]
        )
        block = int(answers[0]["number"], 16)
        mined_nonce = int(answers[1], 16)
        receipts: dict[int, dict[str, Any]] = {}
        for (tx, _), receipt in zip(hashes, answers[2:], strict=True):
            if receipt is not None:
                receipts[tx.nonce] = receipt
        finished: list[Outcome] = []
        waiting: list[PendingTx] = []
        for tx in txs:
            if tx.nonce in receipts:
                finished.append(Outcome(tx, receipts[tx.nonce]))
                del self.pending[tx.nonce]
            elif tx.nonce < mined_nonce:
                # Consumed by a transaction we no longer track (e.g. sent before a restart).
                del self.pending[tx.nonce]
            elif block - tx.sent_block >= self.policy.stuck_after_blocks:
                self._replace(tx, block)
            else:
                waiting.append(tx)
        known = self._known_many(waiting)
        self._resend([tx for tx, is_known in zip(waiting, known, strict=True) if not is_known])
        return finished

    def _known_many(self, txs: Sequence[PendingTx]) -> list[bool]:
        pairs = [(tx, h) for tx in txs for h in tx.hashes]
        found = self.rpc.batch(("eth_getTransactionByHash", [h]) for _, h in pairs)
        known = {tx.nonce for (tx, _), item in zip(pairs, found, strict=True) if item is not None}
        return [tx.nonce in known for tx in txs]

    def _resend(self, txs: Sequence[PendingTx]) -> None:
        """Broadcasts again what the node forgot (a restart, an eviction). Each is simulated
        first: the chain may have moved since it was signed (another keeper acted, prices or the
        clock changed), and a doomed action is replaced by a cancellation of its nonce instead of
        being mined as a revert."""
        if not txs:
            return
        live = [tx for tx in txs if not tx.cancelled]
        results = self.rpc.batch_results(
            (
                "eth_call",
                [
                    {
                        "from": self.signer.address,
                        "to": tx.fields["to"],
                        "data": tx.fields["data"],
                        "value": hex(tx.fields["value"]),
                    },
                    "latest",
                ],
            )
            for tx in live
        )
        for tx, result in zip(live, results, strict=True):
            if isinstance(result, RpcError):
                self._cancel(tx)
        self._broadcast_many(txs)

    def _cancel(self, tx: PendingTx) -> None:
        tx.fields = {
            **tx.fields,
            "to": self.signer.address,
            "data": "0x",
            "value": 0,
            "gas": CANCEL_GAS,
        }
        tx.raw = self.signer.sign(tx.fields)
        tx.cancelled = True

    def _known_to_node(self, tx: PendingTx) -> bool:
        return self._known_many([tx])[0]

    def _replace(self, tx: PendingTx, block: int) -> None:
        fees = self.policy.bumped(tx.fields["maxFeePerGas"], tx.fields["maxPriorityFeePerGas"])
        if fees is None:
            if not self._known_to_node(tx):
                self._resend([tx])
            return
        tx.fields = {**tx.fields, "maxFeePerGas": fees[0], "maxPriorityFeePerGas": fees[1]}
        tx.bumps += 1
        tx.sent_block = block
        self._broadcast(tx, self.signer.sign(tx.fields))
