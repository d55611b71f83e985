"""What the operator commands (`scripts/`) share: the deployment record of the connected chain,
with the refusals an operator should see as usage errors, not tracebacks."""

from __future__ import annotations

from typing import Any

import click

from solvent.deploy import addresses_without_code, read_record

LOCAL_NODES = ("anvil",)  # ape-config.yaml's persistent local node (`ape run node`)


def is_local(network: Any) -> bool:
    """A throwaway local network or the persistent local node: mocks may be driven there."""
    return bool(network.is_local) or network.name in LOCAL_NODES


def record_for(network: Any, chain: Any, deployment: str | None, check_code: bool = False) -> dict:
    """deployments/<deployment or network>.json, refused when it is missing, belongs to another
    chain id, or (with `check_code`) names an address that holds no code on this node."""
    try:
        record = read_record(deployment or network.name)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from exc
    if int(record["chain_id"]) != chain.chain_id:
        raise click.UsageError(
            f"the record is for chain {record['chain_id']}, not {chain.chain_id}"
        )
    if check_code and (
        missing := addresses_without_code(record, lambda a: chain.provider.get_code(a).hex())
    ):
        raise click.UsageError(
            f"no contract code at the record's {', '.join(missing)} on this node: the record "
            "belongs to another chain or a node that was reset; deploy again"
        )
    return record
