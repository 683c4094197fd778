"""Progress on stderr, only on a terminal: bytes, percent, rate, ETA, bad sectors.

The workflows report progress as `Tick`s (evidencekit/workflows/progress.py), sizes included;
:class:`TickBar` draws them. Nothing here opens a source.
"""

from __future__ import annotations

import re
import sys
import time
from typing import TextIO

from evidencekit.cli.i18n import N_, _, ngettext
from evidencekit.sizes import human
from evidencekit.workflows.progress import Tick


def _eta(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """A one-line progress display; does nothing unless `stream` is a TTY (and enabled).

    Call `update(done, bad_sectors)` as often as you like (redrawn at most 4 times a second),
    `phase(label, total)` to start another pass (e.g. verification), `finish()` at the end.
    """

    def __init__(
        self,
        label: str,
        total: int,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = 0.25,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.label = label
        self.total = total
        self.interval = interval
        self._start = time.monotonic()
        self._last = 0.0
        self._width = 0

    def phase(self, label: str, total: int) -> None:
        self.finish()
        self.label = label
        self.total = total
        self._start = time.monotonic()
        self._last = 0.0

    def line(self, done: int, bad: int = 0) -> str:
        elapsed = max(time.monotonic() - self._start, 1e-6)
        rate = done / elapsed
        label = phase_label(self.label)
        if self.total:
            first = _("{label}: {done} of {total} ({percent} %)").format(
                label=label,
                done=human(done),
                total=human(self.total),
                percent=f"{100.0 * done / self.total:5.1f}",
            )
        else:
            first = _("{label}: {done}").format(label=label, done=human(done))
        parts = [first, _("{rate}/s").format(rate=human(int(rate)))]
        if self.total and rate > 0 and done < self.total:
            parts.append(_("ETA {eta}").format(eta=_eta((self.total - done) / rate)))
        if bad:
            parts.append(ngettext("{n} bad sector", "{n} bad sectors", bad).format(n=bad))
        return ", ".join(parts)

    def update(self, done: int, bad: int = 0) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.interval and (not self.total or done < self.total):
            return
        self._last = now
        text = self.line(done, bad)
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


_PHASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), template)
    for pattern, template in (
        (r"imaging (?P<x>.+) \(decrypted\)", N_("imaging {x} (decrypted)")),
        (r"imaging (?P<x>.+)", N_("imaging {x}")),
        (r"verifying (?P<x>.+)", N_("verifying {x}")),
        (r"collecting (?P<x>.+)", N_("collecting {x}")),
        (r"sealing (?P<x>.+)", N_("sealing {x}")),
        (r"checking the stored digests", N_("checking the stored digests")),
        (r"re-reading the source", N_("re-reading the source")),
    )
)


def phase_label(label: str) -> str:
    """A workflow's pass label ("imaging E1", "verifying image" …) in the interface language;
    one the table does not know is shown as the workflow wrote it."""
    for pattern, template in _PHASES:
        found = pattern.fullmatch(label)
        if found:
            return _(template).format(**found.groupdict())
    return label


class TickBar:
    """Draws a workflow's :class:`Tick`s as one :class:`Progress` line; a new label starts a new
    pass. `transient`: `finish()` (and each new pass) wipes the line instead of ending it, for
    commands whose results follow on the same terminal line by line (hash, verify).
    Pass the instance as a request's `progress` when `enabled`, else None."""

    def __init__(
        self, *, enabled: bool = True, transient: bool = False, stream: TextIO | None = None
    ) -> None:
        self.bar = Progress("", 0, stream=stream, enabled=enabled)
        self.transient = transient
        self._label: str | None = None

    @property
    def enabled(self) -> bool:
        return self.bar.enabled

    def __call__(self, tick: Tick) -> None:
        if tick.label != self._label:
            if self._label is not None:
                self._end()
            self.bar.phase(tick.label, tick.total or 0)
            self._label = tick.label
        elif tick.total is not None:
            self.bar.total = tick.total
        self.bar.update(tick.done, tick.bad)

    def _end(self) -> None:
        if self.transient:
            self.clear()
        else:
            self.bar.finish()

    def clear(self) -> None:
        """Wipe the line drawn so far (before a result line is printed)."""
        if self.bar.enabled and self.bar._width:
            self.bar.stream.write("\r\033[K")
            self.bar.stream.flush()
            self.bar._width = 0

    def finish(self) -> None:
        self._end()
        self._label = None
