"""Fast transaction path: pre-signed raw transactions, local nonces, batched JSON-RPC, mining.

Ape's per-transaction path estimates gas, waits for each receipt and fetches traces on failure;
that is right for tests and scripts but slow for fuzzing, simulation and the demo's hundreds of
accounts. Here every transaction is signed locally with an explicit nonce and gas limit, a batch
goes out in one HTTP request, and on a `--no-mining` Anvil one `anvil_mine` includes the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from solvent.anvil import TEST_MNEMONIC
from solvent.rpc import RpcClient

Account.enable_unaudited_hdwallet_features()

DEFAULT_GAS_LIMIT = 1_000_000
MAX_FEE_PER_GAS = 100 * 10**9
PRIORITY_FEE_PER_GAS = 10**9


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


class FastSender:
    """Signs and sends batches of transactions for a fixed set of local accounts."""

    def __init__(self, url: str, signers: Sequence[LocalAccount], chain_id: int = 31337):
        self.rpc = RpcClient(url, timeout_s=60)
        self.signers = list(signers)
        self.chain_id = chain_id
        self.nonces = [
            int(n, 16)
            for n in self.rpc.batch(
                ("eth_getTransactionCount", [s.address, "pending"]) for s in self.signers
            )
        ]

    def sign(self, tx: Tx) -> str:
        signer = self.signers[tx.sender]
        fields: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": self.nonces[tx.sender],
            "gas": tx.gas,
            "maxFeePerGas": MAX_FEE_PER_GAS,
            "maxPriorityFeePerGas": PRIORITY_FEE_PER_GAS,
            "value": tx.value,
            "data": tx.data,
            "type": 2,
        }
        if tx.to is not None:
            fields["to"] = tx.to
        self.nonces[tx.sender] += 1
        return "0x" + signer.sign_transaction(fields).raw_transaction.hex().removeprefix("0x")

    def send(self, txs: Iterable[Tx]) -> list[str]:
        """Signs every transaction (nonces in order per sender) and sends them in one batch."""
        raw = [self.sign(tx) for tx in txs]
        return self.rpc.batch(("eth_sendRawTransaction", [r]) for r in raw)

    def mine(self, blocks: int = 1) -> None:
        self.rpc.batch([("anvil_mine", [hex(blocks)])])

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
