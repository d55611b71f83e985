"""Fast transaction path: pre-signed raw transactions, local nonces, batched JSON-RPC, mining.

Ape's per-transaction path estimates gas, waits for each receipt and fetches traces on failure;
that is right for tests and scripts but slow for fuzzing, simulation and the demo's hundreds of
accounts. Here every transaction is signed locally with an explicit nonce and gas limit, a batch
goes out in one HTTP request, and on a `--no-mining` Anvil one `anvil_mine` includes the batch.

`send_and_wait` is the one way to send a batch that must all land (set-up): it mines as many blocks
as the batch needs and returns every receipt; `failures` says why the reverted ones reverted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from solvent.anvil import TEST_MNEMONIC
from solvent.rpc import RpcClient

Account.enable_unaudited_hdwallet_features()

DEFAULT_GAS_LIMIT = 1_000_000
MAX_FEE_PER_GAS = 100 * 10**9
PRIORITY_FEE_PER_GAS = 10**9
MAX_WAIT_BLOCKS = 256  # a batch that needs more blocks than this is a bug, not a big batch
SEND_ORDER_SPAN = 10**8  # wei of fee bid above the base fee that orders transactions in blocks
SEND_CHUNK = 2_000  # transactions per JSON-RPC request: a 30,000-transaction set-up in a few posts


def dev_accounts(count: int, mnemonic: str = TEST_MNEMONIC) -> list[LocalAccount]:
    """The first `count` accounts Anvil derives from `mnemonic` (local chains only)."""
    return [
        Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)
    ]


@dataclass(frozen=True)
class Tx:
    """An unsigned call: `sender` is an index into the sender's accounts."""

    sender: int
    to: str | None
    data: bytes | str
    gas: int = DEFAULT_GAS_LIMIT
    value: int = 0


class NotMined(RuntimeError):
    """Transactions of a batch that never got a receipt: `missing` holds (position in the batch,
    the transaction, its hash)."""

    def __init__(self, missing: list[tuple[int, Tx, str]], total: int, blocks: int) -> None:
        listed = "; ".join(
            f"#{i} from sender {tx.sender} to {tx.to} selector {_hex(tx.data)[:10]} ({h})"
            for i, tx, h in missing[:10]
        )
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        super().__init__(
            f"{len(missing)} of {total} transactions not mined after {blocks} blocks: "
            f"{listed}{more}"
        )
        self.missing = missing


@dataclass(frozen=True)
class Failure:
    """Why a mined transaction reverted, from its call trace: the EVM's error ("execution
    reverted", "out of gas", ...) and the revert data (a custom error, Error(string), Panic)."""

    error: str
    output: bytes


class FastSender:
    """Signs and sends batches of transactions for a fixed set of local accounts.

    With `in_send_order`, blocks take the transactions in the order they were signed. A node
    orders a block by fee, ties by arrival, and the arrival order of a batch's transactions
    varies with the node's load (it handles a batch's calls concurrently): two runs of one seed
    then opened the same accounts under different ids. So each transaction bids 1 wei (on the
    priority fee and the fee cap) less than the one signed before it."""

    def __init__(
        self,
        url: str,
        signers: Sequence[LocalAccount],
        chain_id: int = 31337,
        in_send_order: bool = False,
        node_signs: bool = False,
    ):
        self.rpc = RpcClient(url, timeout_s=60)
        self.signers = list(signers)
        self.chain_id = chain_id
        self.in_send_order = in_send_order
        self.node_signs = node_signs
        self.signed = 0
        self.nonces: list[int] = []
        self.resync_nonces()

    def _fields(self, tx: Tx) -> dict[str, Any]:
        """The transaction's fields with the next nonce of its sender (taken here)."""
        bid = max(0, SEND_ORDER_SPAN - self.signed) if self.in_send_order else 0
        self.signed += 1
        fields: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": self.nonces[tx.sender],
            "gas": tx.gas,
            "maxFeePerGas": MAX_FEE_PER_GAS + bid,
            "maxPriorityFeePerGas": PRIORITY_FEE_PER_GAS + bid,
            "value": tx.value,
            "data": tx.data,
            "type": 2,
        }
        if tx.to is not None:
            fields["to"] = tx.to
        self.nonces[tx.sender] += 1
        return fields

    def sign(self, tx: Tx) -> str:
        fields = self._fields(tx)
        signed = self.signers[tx.sender].sign_transaction(fields)
        return "0x" + signed.raw_transaction.hex().removeprefix("0x")

    def _request(self, tx: Tx) -> tuple[str, list[Any]]:
        """The JSON-RPC call that submits `tx`: signed here, or by the node (`node_signs`)."""
        if not self.node_signs:
            return ("eth_sendRawTransaction", [self.sign(tx)])
        fields = self._fields(tx)
        unsigned = {
            "from": self.signers[tx.sender].address,
            "nonce": hex(fields["nonce"]),
            "gas": hex(fields["gas"]),
            "maxFeePerGas": hex(fields["maxFeePerGas"]),
            "maxPriorityFeePerGas": hex(fields["maxPriorityFeePerGas"]),
            "value": hex(fields["value"]),
            "data": _hex(fields["data"]),
        }
        if tx.to is not None:
            unsigned["to"] = tx.to
        return ("eth_sendTransaction", [unsigned])

    def send(self, txs: Iterable[Tx]) -> list[str]:
        """Submits every transaction (nonces in order per sender, explicit, so the order inside a
        request does not matter) in batched requests of `SEND_CHUNK`; returns their hashes."""
        calls = [self._request(tx) for tx in txs]
        return [
            h
            for start in range(0, len(calls), SEND_CHUNK)
            for h in self.rpc.batch(calls[start : start + SEND_CHUNK])
        ]

    def send_automined(self, tx: Tx) -> dict[str, Any]:
        """One locally signed transaction to an automining node, and its receipt, in one request
        (the node mines it before answering the send); returns the receipt."""
        raw = self.sign(tx)
        tx_hash = "0x" + keccak(hexstr=raw).hex().removeprefix("0x")
        _, receipt = self.rpc.batch(
            [("eth_sendRawTransaction", [raw]), ("eth_getTransactionReceipt", [tx_hash])]
        )
        while receipt is None:  # automine includes it right after answering the send
            receipt = self.rpc.call("eth_getTransactionReceipt", tx_hash)
        return dict(receipt)

    def resync_nonces(self) -> None:
        """Reads every sender's nonce from the node again (after `evm_revert`, say)."""
        self.nonces = [
            int(n, 16)
            for n in self.rpc.batch(
                ("eth_getTransactionCount", [s.address, "pending"]) for s in self.signers
            )
        ]

    def mine(self, blocks: int = 1) -> None:
        self.rpc.batch([("anvil_mine", [hex(blocks)])])

    def send_and_wait(
        self, txs: Sequence[Tx], max_blocks: int = MAX_WAIT_BLOCKS
    ) -> list[dict[str, Any]]:
        """Sends a batch and mines blocks until every transaction of it has a receipt; returns
        the receipts in order (reverted ones included: check them with `succeeded`).

        A block holds what its gas limit allows, so a large batch takes several blocks. Automine
        is off meanwhile (and restored after): an automining node mines in the background, racing
        the receipt reads, and how many blocks a batch took would then depend on the machine's
        load, and with it every later block's timestamp. Raises `NotMined`, naming each
        transaction still without a receipt, when a mined block includes none of them (nothing
        more can land) or after `max_blocks` blocks."""
        txs = list(txs)
        if not txs:
            return []
        automine = bool(self.rpc.call("anvil_getAutomine"))
        if automine:
            self.rpc.call("evm_setAutomine", False)
        try:
            hashes = self.send(txs)
            return self._mine_until_mined(txs, hashes, max_blocks)
        finally:
            if automine:
                self.rpc.call("evm_setAutomine", True)

    def _mine_until_mined(
        self, txs: list[Tx], hashes: list[str], max_blocks: int
    ) -> list[dict[str, Any]]:
        receipts: list[dict[str, Any] | None] = [None] * len(hashes)
        waiting = list(range(len(hashes)))
        blocks = 0
        while waiting:
            if blocks == max_blocks:
                break
            self.mine()
            blocks += 1
            answers = self.receipts([hashes[i] for i in waiting])
            for i, receipt in zip(waiting, answers, strict=True):
                receipts[i] = receipt
            still = [i for i in waiting if receipts[i] is None]
            if len(still) == len(waiting):
                break  # the block took none of them: another one would not either
            waiting = still
        if waiting:
            raise NotMined([(i, txs[i], hashes[i]) for i in waiting], len(txs), blocks)
        return [r for r in receipts if r is not None]

    def failures(self, hashes: Sequence[str]) -> list[Failure]:
        """Why each of these mined, reverted transactions reverted: the top call of its trace,
        replayed by the node on the state it ran on (an eth_call later would see a later state)."""
        traces = self.rpc.batch(
            ("debug_traceTransaction", [h, {"tracer": "callTracer"}]) for h in hashes
        )
        return [
            Failure(str(t.get("error", "")), bytes.fromhex(str(t.get("output", "0x"))[2:]))
            for t in traces
        ]

    def receipts(self, hashes: Sequence[str]) -> list[dict[str, Any]]:
        return self.rpc.batch(("eth_getTransactionReceipt", [h]) for h in hashes)

    def call(self, to: str, data: bytes | str) -> str:
        return self.call_many([(to, data)])[0]

    def call_many(self, calls: Sequence[tuple[str, bytes | str]]) -> list[str]:
        """Batched eth_call at the latest block; raw return data as hex strings."""
        return self.rpc.batch(
            ("eth_call", [{"to": to, "data": _hex(data)}, "latest"]) for to, data in calls
        )


def _hex(data: bytes | str) -> str:
    return data if isinstance(data, str) else "0x" + data.hex()


def contract_address(receipt: dict[str, Any]) -> str:
    address = receipt.get("contractAddress")
    if not address:
        raise RuntimeError("receipt has no contract address: the deployment failed")
    return str(address)


def succeeded(receipt: dict[str, Any]) -> bool:
    return int(receipt["status"], 16) == 1
