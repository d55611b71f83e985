"""Breach episodes: the spans during which an account is liquidatable.

An episode starts at the first step after which the account appears in `liquidatableAccounts`
and ends at the step whose block liquidates it, or at the first step after which it no longer
appears (it recovered: prices moved back, or its deficit was covered). Breach-to-liquidation
latency is measured per episode, and the keepers' latency counts from the episode's start: an
account that recovered and breached again starts afresh (remembering its first breach ever
reported a 610-block latency where the longest episode lasted 3 blocks, and let keepers
configured with a 10-block latency act after 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

LIQUIDATED = "liquidated"
RECOVERED = "recovered"
OPEN = "open"  # still liquidatable when the run ended


@dataclass(frozen=True)
class Episode:
    account: int
    start: int  # the step after which the account was first seen liquidatable
    end: int | None  # the step that liquidated it or after which it was healthy; None if open
    outcome: str

    @property
    def blocks(self) -> int | None:
        """Breach-to-liquidation latency in blocks (steps), for a liquidated episode."""
        return (
            self.end - self.start if self.outcome == LIQUIDATED and self.end is not None else None
        )


@dataclass
class BreachEpisodes:
    open: dict[int, int] = field(default_factory=dict)  # account -> start of its open episode
    closed: list[Episode] = field(default_factory=list)

    def observe(self, step: int, liquidatable: Iterable[int]) -> None:
        """What a scan after `step` found liquidatable: open episodes of accounts not in it end
        as recovered; accounts in it with no open episode start one."""
        now = list(liquidatable)
        present = set(now)
        for account in [a for a in self.open if a not in present]:
            self.closed.append(Episode(account, self.open.pop(account), step, RECOVERED))
        for account in now:
            self.open.setdefault(account, step)

    def liquidated(self, step: int, account: int) -> Episode | None:
        """The block of `step` liquidated `account`: its open episode ends. None when it had
        none (a second liquidation of the account in the same block)."""
        start = self.open.pop(account, None)
        if start is None:
            return None
        episode = Episode(account, start, step, LIQUIDATED)
        self.closed.append(episode)
        return episode

    def all(self) -> list[Episode]:
        """Every episode, the open ones last (end None)."""
        return self.closed + [Episode(a, s, None, OPEN) for a, s in self.open.items()]
