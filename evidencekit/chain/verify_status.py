"""What `custody verify` reports: the `LedgerStatus` that carries one `evidencekit.problems.Problem`
per precise reason the ledger does not verify (each about an event, or the whole ledger), with
the recomputed tree's size and root."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from evidencekit.problems import Problem
from evidencekit.timeutil import isoformat


@dataclass(frozen=True, slots=True)
class TimestampSeen:
    """A timestamp that verified: the tree size it covers, when, and by whom."""

    seq: int
    tree_size: int
    time: dt.datetime
    tsa: str
    tsa_fingerprint: str
    tsa_pinned: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "tree_size": self.tree_size,
            "time": isoformat(self.time),
            "tsa": self.tsa,
            "tsa_fingerprint": self.tsa_fingerprint,
            "tsa_pinned": self.tsa_pinned,
        }


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    """What `verify_ledger` found."""

    problems: tuple[Problem, ...]
    events: int
    tree_size: int
    root: bytes
    checkpoints: int
    latest_checkpoint: str | None
    signers: tuple[str, ...] = field(default_factory=tuple)
    timestamps: tuple[TimestampSeen, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)
    """What held but a reader should know (an original examined, with the recorded reason)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_event(self) -> int | None:
        return first_bad_event(self.problems)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "events": self.events,
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "checkpoints": self.checkpoints,
            "first_bad_event": self.first_bad_event,
            "problems": [p.to_dict() for p in self.problems],
            "signers": list(self.signers),
            "latest_checkpoint": self.latest_checkpoint,
            "timestamps": [t.to_dict() for t in self.timestamps],
            "notes": list(self.notes),
        }


def first_bad_event(problems: Iterable[Problem], below: int | None = None) -> int | None:
    """The lowest event position a problem names (only those before `below`, when given)."""
    seqs = [p.seq for p in problems if p.seq is not None and (below is None or p.seq < below)]
    return min(seqs) if seqs else None


def in_order(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """The problems by event position (ledger-wide ones last), each said once."""
    # A stable sort: the problems of one event keep the order the checks found them in.
    ordered = sorted(problems, key=lambda p: p.seq if p.seq is not None else 1 << 62)
    seen: set[tuple[Any, ...]] = set()
    out = []
    for p in ordered:
        key = (p.kind, p.seq, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return tuple(out)
