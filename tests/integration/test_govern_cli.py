"""`ape run govern` end to end, as an operator runs it on the persistent local node: propose a
YAML of changes, list it, execute it after the delay; cancel another; an out-of-bounds file is
refused before anything is sent."""

from __future__ import annotations

import json
import re

import pytest
from test_operator_path import NETWORK, NODE_URL, OPERATOR, ape_run, node, record  # noqa: F401

from solvent.rpc import RpcClient

pytestmark = pytest.mark.slow  # processes on the documented node (about 40 s): make test-slow

WAD = 10**18


def _proposal_id(output: str) -> str:
    [found] = re.findall(r"proposal (0x[0-9a-f]{64})", output)
    return found


def test_govern_propose_list_execute_cancel_and_refuse(node, record, tmp_path):  # noqa: F811
    rpc = RpcClient(NODE_URL)
    ape_run("deploy", *OPERATOR)
    deployed = json.loads(record.read_text())
    changes = tmp_path / "changes.yaml"
    changes.write_text('changes:\n  - {parameter: pool_reserve_ratio, value: "0.15"}\n')

    proposed = ape_run("govern", "propose", str(changes), *OPERATOR).stdout
    assert re.search(r"pool_reserve_ratio\s+0\.1\s+0\.15", proposed), proposed
    assert "executable from" in proposed
    first = _proposal_id(proposed)
    listed = ape_run("govern", "list", *NETWORK).stdout
    assert f"{first} Waiting" in listed
    early = ape_run("govern", "execute", first, *OPERATOR, check=False)
    assert early.returncode != 0 and "Waiting, not Ready" in early.stderr + early.stdout

    ape_run("mocks", "advance", str(deployed["parameters"]["governance"]["delay"]), *NETWORK)
    ape_run("govern", "execute", first, *OPERATOR)
    assert f"{first} Done" in ape_run("govern", "list", *NETWORK).stdout

    second = _proposal_id(ape_run("govern", "propose", str(changes), *OPERATOR).stdout)
    ape_run("govern", "cancel", second, *OPERATOR)
    assert f"{second} Cancelled" in ape_run("govern", "list", *NETWORK).stdout

    changes.write_text('changes:\n  - {parameter: market.WETH.base_mmr, value: "0.6"}\n')
    head = int(rpc.call("eth_blockNumber"), 16)
    refused = ape_run("govern", "propose", str(changes), *OPERATOR, check=False)
    assert refused.returncode != 0 and "refused before sending" in refused.stderr + refused.stdout
    assert int(rpc.call("eth_blockNumber"), 16) == head
