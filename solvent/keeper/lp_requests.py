"""The keeper's side of the LP pool's asynchronous requests (contracts/engine/LPPool.sol,
docs/pool.md): which deposit and redeem requests are pending, which can be executed now (every
market's primary feed has published a round at or after the request's target time, and the window
has not passed), and which have expired (anyone may return them).

Pure, like `solvent.keeper.orders`: the bot feeds it the pool's events and each market's latest
feed round, and finds the determining rounds with the same walk it uses for orders. Execution also
needs every liquidatable account liquidated first (the pool refuses otherwise): the bot's
liquidations come first in each step, so a request refused for that is simply retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from solvent.keeper.orders import Round

REQUEST_WINDOW = 4_500  # LPPool.REQUEST_WINDOW
REQUEST_DELAY = 15  # LPPool.REQUEST_DELAY
# The pool's events the keeper follows.
LP_EVENTS = (
    "DepositRequest",
    "RedeemRequest",
    "DepositExecuted",
    "RedeemExecuted",
    "RequestCancelled",
)


@dataclass(frozen=True)
class PendingRequest:
    controller: str  # lower-case address
    deposit: bool
    target_time: int

    @property
    def key(self) -> tuple[str, bool]:
        return (self.controller, self.deposit)


@dataclass
class LPRequestIndex:
    """Pending requests by (controller, deposit), advanced by the pool's events in chain order."""

    pending: dict[tuple[str, bool], PendingRequest] = field(default_factory=dict)

    def requested(self, controller: str, deposit: bool, block_timestamp: int) -> None:
        """A request event: its target time is the block's timestamp + the delay."""
        request = PendingRequest(controller.lower(), deposit, block_timestamp + REQUEST_DELAY)
        self.pending[request.key] = request

    def closed(self, controller: str, deposit: bool) -> None:
        """Executed or cancelled."""
        self.pending.pop((controller.lower(), deposit), None)

    def apply(self, name: str, args: Mapping[str, object], block_timestamp: int) -> None:
        """Books one decoded pool event."""
        controller = str(args["controller"])
        if name == "DepositRequest":
            self.requested(controller, True, block_timestamp)
        elif name == "RedeemRequest":
            self.requested(controller, False, block_timestamp)
        elif name == "DepositExecuted":
            self.closed(controller, True)
        elif name == "RedeemExecuted":
            self.closed(controller, False)
        elif name == "RequestCancelled":
            self.closed(controller, bool(args["deposit"]))

    def due(
        self, timestamp: int, latest: Mapping[int, Round | None], markets: list[int]
    ) -> tuple[list[PendingRequest], list[PendingRequest]]:
        """(executable now: target reached, not expired, every market has a round at or after
        the target; expired: anyone may cancel), in a stable order."""
        executable, expired = [], []
        for request in sorted(self.pending.values(), key=lambda r: (r.target_time, r.key)):
            if timestamp > request.target_time + REQUEST_WINDOW:
                expired.append(request)
            elif timestamp >= request.target_time and all(
                (round_ := latest.get(m)) is not None and round_.updated_at >= request.target_time
                for m in markets
            ):
                executable.append(request)
        return executable, expired
