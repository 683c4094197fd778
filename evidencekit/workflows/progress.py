"""Progress of a use case, reported to whoever runs it (the command line draws a bar).

Every request of the workflows (docs/interfaces.md, "workflows — requests and results") may
carry one :class:`Progress` callable; the workflow calls it with :class:`Tick` values saying what
it is doing, how many bytes are done and — because the workflow opened the source — how many
there are in all. The caller never opens a source itself to learn its size.

This module imports nothing of evidencekit: it is the workflows' lowest layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Tick:
    """One progress report.

    Attributes:
        label: what is being done ("imaging D1", "D1 -> D1-E01", a file's name); a new label
            starts a new pass (e.g. the read-back after imaging).
        done: bytes done so far in this pass.
        total: bytes this pass will read, when known (None: a folder, a pipe).
        bad: unreadable sectors so far (disk acquisition).
    """

    label: str
    done: int
    total: int | None = None
    bad: int = 0


class Progress(Protocol):
    """Receives :class:`Tick` values from the thread doing the work; must return quickly and
    must not raise (a progress display that fails would fail the acquisition)."""

    def __call__(self, tick: Tick, /) -> None: ...


class Passes:
    """Adapts a workflow's `(done, bad)` and `(label, total)` callbacks to one :class:`Progress`:
    `phase()` starts a pass, `update()` reports within it."""

    def __init__(self, progress: Progress, label: str, total: int | None) -> None:
        self.progress = progress
        self.label = label
        self.total = total

    def phase(self, label: str, total: int | None) -> None:
        self.label, self.total = label, total
        self.progress(Tick(label, 0, total))

    def update(self, done: int, bad: int = 0) -> None:
        self.progress(Tick(self.label, done, self.total, bad))


class Accumulated:
    """Adapts a callback that receives byte counts as they are copied (`n` more bytes) to one
    :class:`Progress` (done = their sum)."""

    def __init__(self, progress: Progress, label: str, total: int | None = None) -> None:
        self.progress = progress
        self.label = label
        self.total = total
        self.done = 0

    def __call__(self, n: int) -> None:
        self.done += n
        self.progress(Tick(self.label, self.done, self.total))


class Bytes:
    """Adapts a callback that receives the bytes done so far to one :class:`Progress`."""

    def __init__(self, progress: Progress, label: str, total: int | None = None) -> None:
        self.progress = progress
        self.label = label
        self.total = total

    def __call__(self, done: int) -> None:
        self.progress(Tick(self.label, done, self.total))
