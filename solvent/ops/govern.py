"""`ape run govern`: timelocked parameter changes from a YAML file (docs/governance.md).

A changes file names parameters and their new values in the network config's units (ratios as
decimal strings, quote amounts in whole tokens):

    changes:
      - {parameter: pool_reserve_ratio, value: "0.15"}
      - {parameter: market.WETH.base_mmr, value: "0.07"}
      - {parameter: insurance.target, value: "2000000"}
      - {parameter: risk_model.portfolio, value: "approved"}   # or "withdrawn" (issue 18)

Each change is checked against the same bound its contract enforces (mirrored in `PARAMETERS`)
before anything is sent; changes to one setter's fields are merged into one call (built from the
current on-chain values), and all calls go to the timelock as one batch. Pending proposals are
read back from the timelock's `CallScheduled` events, so no local state is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from solvent.config import to_units, to_wad
from solvent.deploy import Protocol
from solvent.governance import ZERO_BYTES32, Call, Proposal

WAD = 10**18
BORROW_PARAM_UNIT = 10**12  # the engine stores borrow parameters in whole millionths
MARKET_FIELDS = (
    "base_mmr",
    "vol_factor",
    "sigma_cap",
    "im_scale",
    "insurance_fee_share",
    "open_interest_cap",
    "skew_scale",
    "max_funding_velocity",
    "funding_deadband",
    "max_funding_rate",
    "max_exposure_ratio",
)
BORROW_FIELDS = ("base_rate", "optimal_utilization", "max_rate")


class OutOfBounds(ValueError):
    """A proposed value outside the bound its contract enforces: refused before sending."""


class UnknownParameter(ValueError):
    """A changes file names a parameter `ape run govern` does not know."""


@dataclass(frozen=True)
class Bound:
    """Inclusive bounds; `low_open` excludes the low end (as `baseMmr == 0` is refused)."""

    low: int
    high: int
    unit: str  # "wad" or "quote"
    low_open: bool = False

    def check(self, name: str, value: int) -> None:
        if value > self.high or value < self.low or (self.low_open and value == self.low):
            low = "(" if self.low_open else "["
            raise OutOfBounds(f"{name} = {value} outside {low}{self.low}, {self.high}]")


# The contracts' bounds (EngineBase constants, InsuranceFund.maxTarget, the liquidator's uint88).
MARKET_BOUNDS = {
    "base_mmr": Bound(0, WAD // 2, "wad", low_open=True),
    "vol_factor": Bound(0, WAD, "wad"),
    "sigma_cap": Bound(0, 10 * WAD, "wad"),
    "im_scale": Bound(WAD, 5 * WAD, "wad"),
    "insurance_fee_share": Bound(0, WAD, "wad"),
    "open_interest_cap": Bound(0, 1 << 94, "wad", low_open=True),
    "skew_scale": Bound(0, 1 << 88, "wad", low_open=True),
    "max_funding_velocity": Bound(0, 18 * WAD, "wad"),
    "funding_deadband": Bound(0, WAD, "wad"),
    "max_funding_rate": Bound(0, WAD, "wad"),
    "max_exposure_ratio": Bound(0, 10 * WAD, "wad", low_open=True),
}
BORROW_BOUNDS = {
    "base_rate": Bound(0, 10 * WAD, "wad"),
    "optimal_utilization": Bound(0, WAD - 1, "wad", low_open=True),
    "max_rate": Bound(0, 10 * WAD, "wad"),
}
POOL_RESERVE_BOUND = Bound(0, WAD, "wad")
GLOBAL_HOLE_BOUND = Bound(0, (1 << 88) - 1, "quote")
TARGET_WHOLE_MAX = 10**12  # InsuranceFund.MAX_TARGET_WHOLE
# Whether accounts may choose the deployment's portfolio model (`approveRiskModel`).
APPROVAL_VALUES = {"approved": 1, "withdrawn": 0}
UNITS = {
    "insurance.target": "quote",
    "auction.global_hole": "quote",
    "risk_model.portfolio": "approval",
}


@dataclass(frozen=True)
class Change:
    parameter: str
    current: int
    proposed: int
    unit: str


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    calls: tuple[Call, ...]


def load_changes(path: Path) -> list[tuple[str, str]]:
    raw = yaml.safe_load(Path(path).read_text()) or {}
    entries = raw.get("changes")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: expected a non-empty `changes:` list")
    return [(str(e["parameter"]), str(e["value"])) for e in entries]


def plan(system: Protocol, entries: Sequence[tuple[str, str]]) -> Plan:
    """The changes with their current values and the calls that make them; raises `OutOfBounds`
    or `UnknownParameter` before anything is sent."""
    quote_decimals = int(system.quote.decimals())
    changes: list[Change] = []
    groups: dict[tuple[str, str], dict[str, int]] = {}
    for name, text in entries:
        parts = name.split(".")
        if name == "pool_reserve_ratio":
            value = to_wad(text)
            POOL_RESERVE_BOUND.check(name, value)
            current = int(system.admin.poolReserveRatio())
            groups.setdefault(("pool_reserve_ratio", ""), {})["value"] = value
        elif parts[0] == "borrow" and len(parts) == 2 and parts[1] in BORROW_BOUNDS:
            value = to_wad(text)
            BORROW_BOUNDS[parts[1]].check(name, value)
            if value % BORROW_PARAM_UNIT:
                raise OutOfBounds(f"{name} = {value}: not a whole number of millionths")
            current = int(system.admin.borrowParams()[BORROW_FIELDS.index(parts[1])])
            groups.setdefault(("borrow", ""), {})[parts[1]] = value
        elif parts[0] == "market" and len(parts) == 3 and parts[2] in MARKET_BOUNDS:
            if parts[1] not in system.market_ids:
                raise UnknownParameter(f"{name}: no market {parts[1]!r}")
            value = to_wad(text)
            MARKET_BOUNDS[parts[2]].check(name, value)
            current = _market_values(system, parts[1])[parts[2]]
            groups.setdefault(("market", parts[1]), {})[parts[2]] = value
        elif name == "insurance.target":
            value = to_units(text, quote_decimals)
            Bound(0, TARGET_WHOLE_MAX * 10**quote_decimals, "quote").check(name, value)
            current = int(system.fund.target())
            groups.setdefault(("insurance.target", ""), {})["value"] = value
        elif name == "auction.global_hole":
            value = to_units(text, quote_decimals)
            GLOBAL_HOLE_BOUND.check(name, value)
            current = int(system.liquidator.globals().hole)
            groups.setdefault(("auction.global_hole", ""), {})["value"] = value
        elif name == "risk_model.portfolio":
            if system.portfolio_model is None:
                raise UnknownParameter(f"{name}: this deployment has no portfolio model")
            if text not in APPROVAL_VALUES:
                raise OutOfBounds(f"{name} = {text!r}: expected one of {sorted(APPROVAL_VALUES)}")
            value = APPROVAL_VALUES[text]
            current = int(bool(system.admin.riskModelApproved(system.portfolio_model)))
            groups.setdefault(("risk_model.portfolio", ""), {})["value"] = value
        else:
            raise UnknownParameter(f"unknown parameter {name!r} (see docs/governance.md)")
        unit = UNITS.get(name, "wad")
        changes.append(Change(name, current, value, unit))
    calls = tuple(_call(system, kind, key, values) for (kind, key), values in groups.items())
    return Plan(tuple(changes), calls)


def _market_values(system: Protocol, key: str) -> dict[str, int]:
    m = system.admin.markets(system.market_ids[key])
    return {
        "base_mmr": int(m.baseMmr),
        "vol_factor": int(m.volFactor),
        "sigma_cap": int(m.sigmaCap),
        "im_scale": int(m.imScale),
        "insurance_fee_share": int(m.insuranceFeeShare),
        "open_interest_cap": int(m.openInterestCap),
        "skew_scale": int(m.skewScale),
        "max_funding_velocity": int(m.maxFundingVelocity),
        "funding_deadband": int(m.fundingDeadband),
        "max_funding_rate": int(m.maxFundingRate),
        "max_exposure_ratio": int(m.maxExposureRatio),
    }


def _call(system: Protocol, kind: str, key: str, values: dict[str, int]) -> Call:
    if kind == "risk_model.portfolio":
        return Call(
            system.admin, "approveRiskModel", (system.portfolio_model, bool(values["value"]))
        )
    if kind == "pool_reserve_ratio":
        return Call(system.admin, "setPoolReserveRatio", (values["value"],))
    if kind == "insurance.target":
        return Call(system.fund, "setTarget", (values["value"],))
    if kind == "auction.global_hole":
        return Call(system.liquidator, "setGlobalHole", (values["value"],))
    if kind == "borrow":
        merged = dict(zip(BORROW_FIELDS, map(int, system.admin.borrowParams()), strict=True))
        merged.update(values)
        if merged["base_rate"] > merged["max_rate"]:
            raise OutOfBounds(
                f"borrow.base_rate {merged['base_rate']} above borrow.max_rate {merged['max_rate']}"
            )
        return Call(system.admin, "setBorrowParams", tuple(merged[f] for f in BORROW_FIELDS))
    merged = {**_market_values(system, key), **values}
    params = tuple(merged[f] for f in MARKET_FIELDS)
    return Call(system.admin, "setMarketParams", (system.market_ids[key], params))


def propose_plan(system: Protocol, the_plan: Plan, proposer: Any) -> Proposal:
    from solvent.governance import propose

    return propose(system.timelock, the_plan.calls, proposer)


@dataclass(frozen=True)
class Pending:
    """A proposal read back from the timelock."""

    operation_id: str
    proposal: Proposal
    state: str  # Waiting, Ready, Done (or Cancelled: no longer known to the timelock)
    calls: tuple[tuple[str, str], ...]  # (target, selector + args as hex)


STATES = {0: "Cancelled", 1: "Waiting", 2: "Ready", 3: "Done"}  # OZ OperationState (Unset: 0)


def proposals(system: Protocol, from_block: int, to_block: int) -> list[Pending]:
    """Every batch scheduled on the timelock between the blocks, with its state now."""
    timelock = system.timelock
    scheduled: dict[str, list[Any]] = {}
    for log in timelock.CallScheduled.range(from_block, to_block + 1):
        scheduled.setdefault(_hex(log.id), []).append(log)
    salts = {
        _hex(log.id): bytes(log.salt) for log in timelock.CallSalt.range(from_block, to_block + 1)
    }
    out = []
    for op, logs in scheduled.items():
        logs.sort(key=lambda log: int(log.index))
        targets = tuple(str(log.target) for log in logs)
        payloads = tuple(bytes(log.data) for log in logs)
        salt = salts.get(op, ZERO_BYTES32)
        ready_at = int(timelock.getTimestamp(op))
        proposal = Proposal(targets, payloads, salt, bytes.fromhex(op[2:]), ready_at)
        state = STATES[int(timelock.getOperationState(op))]
        calls = tuple((t, "0x" + p.hex()) for t, p in zip(targets, payloads, strict=True))
        out.append(Pending(op, proposal, state, calls))
    return out


def find(system: Protocol, from_block: int, to_block: int, operation_id: str) -> Pending:
    for pending in proposals(system, from_block, to_block):
        if pending.operation_id.lower() == operation_id.lower():
            return pending
    raise LookupError(f"no proposal {operation_id} on the timelock")


def describe(the_plan: Plan, ready_at: int | None, decimals: int) -> list[str]:
    lines = [f"{'parameter':<34} {'current':>22} {'proposed':>22}"]
    for c in the_plan.changes:
        lines.append(
            f"{c.parameter:<34} {_show(c.current, c.unit, decimals):>22} "
            f"{_show(c.proposed, c.unit, decimals):>22}"
        )
    if ready_at is not None:
        lines.append(f"executable from {_when(ready_at)}")
    return lines


def describe_pending(pending: Pending, now: int, decoder: Callable[[str, str], str]) -> list[str]:
    ready = pending.proposal.ready_at
    when = "" if pending.state in ("Done", "Cancelled") else f", executable from {_when(ready)}"
    if pending.state == "Waiting":
        when += f" (in {max(ready - now, 0)} s)"
    lines = [f"{pending.operation_id} {pending.state}{when}"]
    lines += [f"  {decoder(target, data)}" for target, data in pending.calls]
    return lines


def _show(value: int, unit: str, decimals: int) -> str:
    if unit == "approval":
        return "approved" if value else "withdrawn"
    scale = WAD if unit == "wad" else 10**decimals
    whole, frac = divmod(value, scale)
    digits = 18 if unit == "wad" else decimals
    text = f"{whole}.{frac:0{digits}d}".rstrip("0").rstrip(".")
    return text


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()
