"""The report's value types: everything a report shows, as plain frozen values.

Built from the typed seal and custody events by `items` and `custody`, or by hand (tests); the
renderer reads nothing else.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Literal

from evidencekit.chain.details import DeviceDifference
from evidencekit.chain.events import Event
from evidencekit.chain.parties import Party
from evidencekit.hash.seal.document import SealStatus
from evidencekit.timeutil import compact

Pairs = tuple[tuple[str, str], ...]
SectionKind = Literal["disk", "logical", "other"]
"""How the report presents an item: a disk image (media map, unreadable extents), a logical
collection or sealed files (file table), or neither."""


def new_report_id(now: dt.datetime) -> str:
    """A unique, file-name-safe report id: `R-20261129T034006Z-1a2b3c4d`."""
    return f"R-{compact(now)}-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class Extent:
    """An unreadable byte range of a source."""

    offset: int
    length: int
    error: str

    def to_dict(self) -> dict[str, object]:
        return {"offset": self.offset, "length": self.length, "error": self.error}


@dataclass(frozen=True, slots=True)
class Artifact:
    """One sealed file of an item."""

    name: str
    size: int | None
    digests: Pairs

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "size": self.size, "digests": dict(self.digests)}


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo registered with an item (`registered` event's `details.photos`: its name in the
    case, size and SHA-256), and its bytes when the case's file still has that digest (for a
    thumbnail; None otherwise)."""

    name: str
    size: int | None
    sha256: str
    data: bytes | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class FileRow:
    """One collected file (logical collections), its name exactly as the manifest stores it."""

    path: str
    size: int | None
    sha256: str | None
    modified: str | None
    note: str

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "modified": self.modified,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class CustodyEntry:
    """One custody event as the report shows it."""

    seq: int
    time: dt.datetime
    event_type: str
    item_id: str | None
    actor: str
    counterpart: str | None
    purpose: str | None
    location: str | None
    detail: str
    result: bool | None = None  # a `verified` event's outcome
    counterpart_party: Party | None = None
    """The counterpart as recorded (chain.parties), when the event names one: how the report
    tells a party who holds no key apart (role, document) from an examiner of that name."""
    event: Event | None = field(default=None, compare=False)
    """The signed event itself, from which the report words its sentence (`report.sentences`);
    None for an entry built by hand."""
    description_typed: bool = field(default=False, compare=False)
    """True when an acquisition's description is the one the examiner typed (the item's seal
    holds it); otherwise it is the tool's own default and is not quoted."""

    def to_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "time": self.time.isoformat(),
            "type": self.event_type,
            "item_id": self.item_id,
            "actor": self.actor,
            "counterpart": self.counterpart,
            "purpose": self.purpose,
            "location": self.location,
            "detail": self.detail,
            **(
                {}
                if self.counterpart_party is None or self.counterpart_party.legacy
                else {"counterpart_party": self.counterpart_party.to_dict()}
            ),
        }


@dataclass(frozen=True, slots=True)
class Verification:
    """A recorded verification of an item."""

    time: dt.datetime | None
    ok: bool | None
    actor: str
    detail: str


@dataclass(frozen=True, slots=True)
class ItemSection:
    """Everything the report says about one item."""

    item_id: str
    kind: SectionKind
    description: str = ""
    evidence_number: str = ""
    status: SealStatus | None = None  # None: no seal, or one whose status is not a status
    content_size: int | None = None
    content_digests: Pairs = ()
    source: Pairs = ()
    acquisition: Pairs = ()
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    sealed_at: dt.datetime | None = None
    sealed_by: str = ""
    host: str = ""
    tool: str = ""
    artifacts: tuple[Artifact, ...] = ()
    window_count: int = 0
    window_size: int | None = None
    window_algorithms: tuple[str, ...] = ()
    read_errors: tuple[Extent, ...] = ()
    media_size: int | None = None
    verifications: tuple[Verification, ...] = ()
    files: tuple[FileRow, ...] = ()
    files_total: int | None = None
    custody: tuple[CustodyEntry, ...] = ()
    seal_sha256: str | None = None
    photos: tuple[Photo, ...] = field(default=(), compare=False)
    """The photos registered with the item (from its `registered` event)."""
    registered_device: Pairs = field(default=(), compare=False)
    """Make, model, serial and capacity (as written) the item was registered with (not
    compared, as `photos`: read from the `registered` event, beside the seal's facts)."""
    registered_capacity: int | None = field(default=None, compare=False)
    device_differences: tuple[DeviceDifference, ...] = field(default=(), compare=False)
    """What its acquisition measured otherwise than it was registered with."""

    @property
    def sha256(self) -> str | None:
        """The item's main sha256: of its content, else of its first artifact."""
        for digests in (self.content_digests, *(art.digests for art in self.artifacts)):
            for alg, value in digests:
                if alg == "sha256":
                    return value
        return None

    def to_dict(self) -> dict[str, object]:
        return {
            "item_id": self.item_id,
            "kind": self.kind,
            "status": self.status,
            "sha256": self.sha256,
            "files": len(self.files),
            "read_errors": [e.to_dict() for e in self.read_errors],
        }


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file embedded in the PDF."""

    name: str
    data: bytes
    description: str
    mime: str = "application/json"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The ledger checkpoint the report was built against."""

    text: str
    tree_size: int | None
    root: str | None


@dataclass(frozen=True, slots=True)
class ReportModel:
    """The whole report."""

    report_id: str
    lang: str
    generated: dt.datetime
    timezone: str
    case_number: str
    case_title: str
    agency: str
    examiner: str
    examiner_fingerprint: str
    tool_version: str
    items: tuple[ItemSection, ...] = ()
    custody: tuple[CustodyEntry, ...] = ()
    checkpoint: Checkpoint | None = None
    attachments: tuple[Attachment, ...] = ()
    signed: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "report_id": self.report_id,
            "lang": self.lang,
            "case_number": self.case_number,
            "items": [i.to_dict() for i in self.items],
            "custody_events": len(self.custody),
            "checkpoint": None
            if self.checkpoint is None
            else {"tree_size": self.checkpoint.tree_size, "root": self.checkpoint.root},
            "attachments": [a.name for a in self.attachments],
        }
