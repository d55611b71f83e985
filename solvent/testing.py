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
