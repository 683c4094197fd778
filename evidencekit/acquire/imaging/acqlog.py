"""ID.log: the human-readable acquisition log (times in UTC), its opening lines, and the durable
text writer used for the log and the other side files of an acquisition."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path
from typing import Protocol

from evidencekit import __version__
from evidencekit.acquire.source.adapter import SourceInfo
from evidencekit.case import Case
from evidencekit.fsutil import names_shown
from evidencekit.identity import Identity
from evidencekit.sizes import human
from evidencekit.timeutil import isoformat, utcnow


class LoggedOptions(Protocol):
    """What the log header shows of the acquisition's options (the workflow's AcquireOptions)."""

    @property
    def evidence_number(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def notes(self) -> str | None: ...
    def to_dict(self) -> dict[str, object]: ...


class AcquisitionLog:
    """ID.log: human-readable, times in UTC."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def event(self, text: str) -> None:
        self.lines.append(f"{isoformat(utcnow())}  {text}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def write_text(path: Path, text: str) -> None:
    """Write a side file (log, map, device report) durably: it is hashed and sealed next.

    A name that is not UTF-8 (a source path in Latin-1, carried as surrogate escapes) is written
    with `\\xNN` for each such byte, as `ls -b` shows it: the file stays valid UTF-8."""
    text = names_shown(text)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def log_header(
    lg: AcquisitionLog,
    case: Case,
    identity: Identity,
    item_id: str,
    options: LoggedOptions,
    info: SourceInfo,
    clock: dict[str, str],
    command_line: str,
) -> None:
    """The log's opening: who, what, with which tool and parameters, the host clock, the source."""
    lg.add(f"evidencekit {__version__} — disk acquisition log")
    lg.add(f"Item:            {item_id}")
    lg.add(f"Case:            {case.info.number} — {case.info.title}")
    lg.add(f"Examiner:        {identity.name} ({identity.fingerprint})")
    if options.evidence_number:
        lg.add(f"Evidence number: {options.evidence_number}")
    if options.description:
        lg.add(f"Description:     {options.description}")
    if options.notes:
        lg.add(f"Notes:           {options.notes}")
    lg.add(f"Command line:    {command_line}")
    lg.add(f"Parameters:      {options.to_dict()}")
    lg.add(
        f"Tool:            evidencekit {__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()} on {socket.gethostname()}"
    )
    lg.add(
        f"Host clock:      time zone {clock.get('Timezone')}, NTP enabled "
        f"{clock.get('NTP', 'unknown')}, NTP synchronised {clock.get('NTPSynchronized')}, "
        f"offset {clock.get('offset')}; all times below are UTC"
    )
    lg.add("")
    lg.add(f"Source:          {info.path} ({info.kind}, {info.format})")
    lg.add(f"Size:            {info.size} bytes ({human(info.size)})")
    lg.add(
        f"Sectors:         logical {info.logical_sector_size}, "
        f"physical {info.physical_sector_size} bytes"
    )
    for key, value in info.identity.items():
        lg.add(f"  {key:20} {value}")
