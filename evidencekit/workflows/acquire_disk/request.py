"""What `acquire disk` is asked to do (docs/interfaces.md, "workflows — requests and results")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evidencekit.workflows.acquire_disk.options import AcquireOptions
from evidencekit.workflows.progress import Progress


@dataclass(frozen=True, slots=True)
class AcquireDiskRequest:
    """Image `source` as item `item_id` of the case (with `resume`: continue that interrupted
    acquisition from the same source, with its own format, segment size, digests and window).

    Attributes:
        password: unlocks the LUKS volume with `options.decrypt`.
        command_line: recorded in the log, the seal and the attempt's record (None: this
            process's arguments).
        progress: told the source's size once it is open, then the bytes imaged, and each
            further pass (the stored-digest check, the read-back) with its own size.
        participants: participant SPECs of those present (`chain.parties.parse_spec`),
            recorded in the `acquired` event's `details.participants`.
        session: the seizure session the acquisition belongs to (open; `details.session`).
    """

    source: Path
    item_id: str
    options: AcquireOptions = field(default_factory=AcquireOptions)
    resume: bool = False
    password: str | None = field(default=None, repr=False)
    command_line: str | None = None
    progress: Progress | None = None
    participants: tuple[str, ...] = ()
    session: str | None = None
