"""Governance through the timelock (docs/governance.md).

Every parameter and wiring change of a deployment is a call the timelock (OpenZeppelin's
`TimelockController`, deployed as `SolventTimelock`) makes: a proposer schedules a batch of calls,
it sits visible for the timelock's delay, then an executor executes it; a canceller (the guardian)
may cancel it meanwhile. `govern` runs the whole cycle on a local chain (it advances Anvil's clock
past the delay): the one way tests change parameters, so they exercise the deployment as shipped.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ZERO_BYTES32 = b"\x00" * 32


@dataclass(frozen=True)
class Call:
    """One call the timelock makes: `contract.<method>(*args)`."""

    contract: Any  # an ape ContractInstance (for the engine's governance: `Protocol.admin`)
    method: str
    args: tuple[Any, ...] = ()

    @property
    def target(self) -> str:
        return str(self.contract.address)

    @property
    def data(self) -> bytes:
        return bytes(getattr(self.contract, self.method).encode_input(*self.args))


@dataclass(frozen=True)
class Proposal:
    """A scheduled batch: what `execute` and `cancel` need to name it again."""

    targets: tuple[str, ...]
    payloads: tuple[bytes, ...]
    salt: bytes
    operation_id: bytes
    ready_at: int  # unix time from which it may be executed


def call(contract: Any, method: str, *args: Any) -> Call:
    return Call(contract, method, tuple(args))


def _batch(calls: Sequence[Call | tuple]) -> list[Call]:
    return [c if isinstance(c, Call) else Call(c[0], c[1], tuple(c[2:])) for c in calls]


def propose(
    timelock: Any, calls: Sequence[Call | tuple], proposer: Any, salt: bytes | None = None
) -> Proposal:
    """Schedules `calls` as one batch after the timelock's minimum delay."""
    batch = _batch(calls)
    targets = tuple(c.target for c in batch)
    payloads = tuple(c.data for c in batch)
    values = [0] * len(batch)
    # A random salt: the same batch proposed again (by another process, after the first was
    # executed or cancelled) is a new operation, not a clash with the old one's id.
    salt = salt if salt is not None else secrets.token_bytes(32)
    delay = int(timelock.getMinDelay())
    timelock.scheduleBatch(targets, values, payloads, ZERO_BYTES32, salt, delay, sender=proposer)
    op = bytes(timelock.hashOperationBatch(targets, values, payloads, ZERO_BYTES32, salt))
    return Proposal(targets, payloads, salt, op, int(timelock.getTimestamp(op)))


def execute(timelock: Any, proposal: Proposal, executor: Any, contracts: Sequence[Any] = ()) -> Any:
    """Executes a ready proposal. The timelock bubbles a call's revert data up unchanged; when
    it is a custom error of one of `contracts` (the calls' targets), it is raised as that
    contract's error, so `ape.reverts(contract.SomeBound)` matches a refused proposal."""
    from ape.exceptions import ContractLogicError

    values = [0] * len(proposal.targets)
    try:
        return timelock.executeBatch(
            proposal.targets,
            values,
            proposal.payloads,
            ZERO_BYTES32,
            proposal.salt,
            sender=executor,
        )
    except ContractLogicError as err:
        named = _target_error(err, contracts)
        if named is None:
            raise
        raise named from err


def _target_error(err: Any, contracts: Sequence[Any]) -> Exception | None:
    """`err`'s revert data decoded as a custom error of one of `contracts`, or None."""
    from eth_abi import decode
    from eth_utils import keccak, to_checksum_address

    decoded = getattr(err, "abi", None)
    if decoded is not None and hasattr(err, "inputs"):
        # ape decoded it already, possibly as another contract's error with the same signature
        # (the engine's and the order book's `UnknownMarket`): name it by the calls' targets.
        for contract in contracts:
            for abi in contract.contract_type.errors:
                if abi.selector == decoded.selector:
                    return getattr(contract, abi.name)(
                        abi, err.inputs, txn=getattr(err, "txn", None)
                    )
        return None
    message = str(getattr(err, "revert_message", "") or err.message or "")
    if not message.startswith("0x") or len(message) < 10:
        return None
    data = bytes.fromhex(message[2:])
    for contract in contracts:
        for abi in contract.contract_type.errors:
            if keccak(text=abi.selector)[:4] != data[:4]:
                continue
            values = decode([i.canonical_type for i in abi.inputs], data[4:])
            inputs = {
                i.name: to_checksum_address(v) if i.canonical_type == "address" else v
                for i, v in zip(abi.inputs, values, strict=True)
            }
            return getattr(contract, abi.name)(abi, inputs, txn=getattr(err, "txn", None))
    return None


def cancel(timelock: Any, proposal: Proposal, canceller: Any) -> Any:
    return timelock.cancel(proposal.operation_id, sender=canceller)


def wait_past(chain: Any, timestamp: int) -> None:
    """Mines a block at or after `timestamp` (local chains only)."""
    if chain.pending_timestamp < timestamp:
        chain.pending_timestamp = timestamp
    chain.mine()


def govern(
    system: Any, calls: Sequence[Call | tuple], sender: Any | None = None, chain: Any | None = None
) -> Any:
    """Schedules `calls` on `system`'s timelock, advances the local chain past the delay and
    executes them: the receipt of the execution. `calls` are `Call`s or tuples
    `(contract, "method", *args)`. `sender` proposes and executes (default: the config's first
    proposer, which `solvent.deploy` records)."""
    if chain is None:
        import ape  # the chain of the running ape session

        chain = ape.chain
    actor = sender if sender is not None else proposer_of(system)
    batch = _batch(calls)
    proposal = propose(system.timelock, batch, actor)
    wait_past(chain, proposal.ready_at)
    return execute(system.timelock, proposal, actor, [c.contract for c in batch])


def proposer_of(system: Any) -> Any:
    """The account that proposes for `system`: the first proposer on record, as an ape account
    (local chains: one of ape's test accounts)."""
    return _account(system.roles["timelock"]["PROPOSER_ROLE"][0])


def guardian_of(system: Any) -> Any:
    """The engine's guardian on record, as an ape account."""
    return _account(system.roles["engine"]["GUARDIAN_ROLE"][0])


def _account(address: str) -> Any:
    import ape

    for account in ape.accounts.test_accounts:
        if account.address.lower() == address.lower():
            return account
    return ape.accounts[address]  # an account the operator imported into ape
