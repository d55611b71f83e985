"""`ape run govern`: propose -> wait -> execute, cancel, refusals before sending, wrong network."""

from __future__ import annotations

import json
from types import SimpleNamespace

import ape
import click
import pytest

from solvent import governance
from solvent.ops import govern as gov
from solvent.ops.cli import record_for

WAD = 10**18
USDC = 10**6


def _pending(system, chain, operation_id):
    return gov.find(system, 0, chain.blocks.head.number, operation_id)


def test_propose_wait_execute(system, chain, tmp_path):
    changes = tmp_path / "changes.yaml"
    changes.write_text(
        "changes:\n"
        '  - {parameter: pool_reserve_ratio, value: "0.15"}\n'
        '  - {parameter: market.WETH.base_mmr, value: "0.07"}\n'
        '  - {parameter: market.WETH.vol_factor, value: "0.09"}\n'
        '  - {parameter: insurance.target, value: "2000000"}\n'
    )
    the_plan = gov.plan(system, gov.load_changes(changes))
    assert [(c.parameter, c.current, c.proposed) for c in the_plan.changes] == [
        ("pool_reserve_ratio", WAD // 10, 15 * WAD // 100),
        ("market.WETH.base_mmr", 65 * WAD // 1000, 7 * WAD // 100),
        ("market.WETH.vol_factor", 8 * WAD // 100, 9 * WAD // 100),
        ("insurance.target", 1_000_000 * USDC, 2_000_000 * USDC),
    ]
    assert len(the_plan.calls) == 3  # both market fields merge into one setMarketParams
    lines = gov.describe(the_plan, 0, 6)
    assert "0.1" in lines[1] and "0.15" in lines[1] and "2000000" in lines[4]

    proposer = governance.proposer_of(system)
    proposal = gov.propose_plan(system, the_plan, proposer)
    op = "0x" + proposal.operation_id.hex()
    pending = _pending(system, chain, op)
    assert pending.state == "Waiting" and len(pending.calls) == 3
    assert pending.proposal == proposal
    listing = gov.describe_pending(pending, chain.blocks.head.timestamp, lambda t, d: t)
    assert listing[0].startswith(f"{op} Waiting, executable from ")
    with ape.reverts(system.timelock.TimelockUnexpectedOperationState):
        governance.execute(system.timelock, pending.proposal, proposer)
    assert system.admin.poolReserveRatio() == WAD // 10  # nothing changed while it waits

    governance.wait_past(chain, proposal.ready_at)
    assert _pending(system, chain, op).state == "Ready"
    governance.execute(system.timelock, _pending(system, chain, op).proposal, proposer)
    assert _pending(system, chain, op).state == "Done"
    assert system.admin.poolReserveRatio() == 15 * WAD // 100
    market = system.admin.markets(system.market_ids["WETH"])
    assert (market.baseMmr, market.volFactor) == (7 * WAD // 100, 9 * WAD // 100)
    assert market.imScale == 15385 * WAD // 10000  # the fields not named keep their values
    assert system.fund.target() == 2_000_000 * USDC


def test_cancel(system, chain):
    the_plan = gov.plan(system, [("auction.global_hole", "1000")])
    proposal = gov.propose_plan(system, the_plan, governance.proposer_of(system))
    op = "0x" + proposal.operation_id.hex()
    governance.cancel(
        system.timelock, _pending(system, chain, op).proposal, governance.guardian_of(system)
    )
    assert _pending(system, chain, op).state == "Cancelled"
    governance.wait_past(chain, proposal.ready_at)
    with ape.reverts(system.timelock.TimelockUnexpectedOperationState):
        governance.execute(system.timelock, proposal, governance.proposer_of(system))
    assert system.liquidator.globals().hole == 200_000_000 * USDC


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("pool_reserve_ratio", "1.01"),
        ("market.WETH.base_mmr", "0"),
        ("market.WETH.base_mmr", "0.51"),
        ("market.WETH.im_scale", "0.99"),
        ("market.WBTC.sigma_cap", "11"),
        ("market.WBTC.max_funding_rate", "1.5"),
        ("market.WETH.max_exposure_ratio", "0"),
        ("market.WETH.max_exposure_ratio", "10.5"),
        ("borrow.optimal_utilization", "1"),
        ("borrow.base_rate", "0.0000001"),
        ("borrow.base_rate", "2"),  # above the current max_rate of 1
        ("insurance.target", "1000000000001"),
    ],
)
def test_out_of_bounds_is_refused_before_sending(system, chain, parameter, value):
    before = chain.blocks.head.number
    with pytest.raises(gov.OutOfBounds):
        gov.plan(system, [(parameter, value)])
    assert chain.blocks.head.number == before  # nothing was sent


def test_unknown_parameter_is_refused(system):
    with pytest.raises(gov.UnknownParameter):
        gov.plan(system, [("engine.liquidator", "0x" + "11" * 20)])


def test_wrong_network_record_is_refused(system, chain, tmp_path, monkeypatch):
    record = {"chain_id": 11155111, "addresses": {}, "deploy_block": 0}
    path = tmp_path / "sepolia.json"
    path.write_text(json.dumps(record))
    monkeypatch.setattr("solvent.ops.cli.read_record", lambda name: json.loads(path.read_text()))
    network = SimpleNamespace(name="sepolia", is_local=False)
    with pytest.raises(click.UsageError, match="the record is for chain 11155111"):
        record_for(network, chain, None, check_code=True)


def test_the_portfolio_model_is_approved_through_a_changes_file(system, chain, tmp_path):
    """`risk_model.portfolio: approved` becomes `approveRiskModel(model, true)` through the
    timelock; any other value is refused before sending."""
    with pytest.raises(gov.OutOfBounds, match=r"risk_model\.portfolio"):
        gov.plan(system, [("risk_model.portfolio", "yes")])
    the_plan = gov.plan(system, [("risk_model.portfolio", "approved")])
    assert [(c.parameter, c.current, c.proposed) for c in the_plan.changes] == [
        ("risk_model.portfolio", 0, 1)
    ]
    assert "withdrawn" in gov.describe(the_plan, None, 6)[1]
    proposer = governance.proposer_of(system)
    proposal = gov.propose_plan(system, the_plan, proposer)
    governance.wait_past(chain, proposal.ready_at)
    governance.execute(system.timelock, proposal, proposer)
    assert system.admin.riskModelApproved(system.portfolio_model)
