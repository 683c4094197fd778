"""The one problem type of every verification: a seal's (`hash.seal.verify`), the custody
ledger's (`chain.verify`) and a signed report's (`workflows.report.verify`).

A :class:`Problem` is one precise reason something does not verify: its `kind` (a short
kebab-case name, see :data:`KNOWN_KINDS`), its `subject` (what it is about: a sealed file, a
ledger event, a part of a report), a `message` for humans, and where there is one the
`byte_range` and the `expected` and `found` values. Each command serialises problems in the
shape its `--json` has always had, chosen by the subject (:meth:`Problem.to_dict`).

Verification never raises for a finding; it returns a status object holding a tuple of these.
Notes (what held, what was not checked) are plain strings in a separate list, never problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

SealKind = Literal[
    "missing-file",
    "unreadable-file",
    "size-mismatch",
    "digest-mismatch",
    "window-mismatch",
    "media-mismatch",
    "sums-mismatch",
    "bad-signature",
    "missing-signature",
    "unknown-signer",
    "malformed-seal",
    "item-mismatch",
    "wrong-case",
    "wrong-item",
    "unsafe-name",
    "unsafe-file",
    "ledger-mismatch",
    "untrusted-examiner",
    "no-verifier",
    "not-sealed",
    "chain-invalid",
    "revoked-certificate",
    "unrecorded-file",
]
"""What a seal verification finds (docs/seal.md); `unrecorded-file`: a file in the case's
photos or documents folders that no custody event records (`workflows.casefiles`)."""

MediaKind = Literal[
    "chunk-mismatch",
    "format-mismatch",
    "malformed-manifest",
    "member-missing",
    "member-mismatch",
    "member-extra",
]
"""What the media verifiers shipped with evidencekit add: E01 chunks, the tar of a logical
collection against its manifest (docs/seal.md)."""

LedgerKind = Literal[
    "missing",
    "moved",
    "unknown-signer",
    "bad-signature",
    "malformed-event",
    "wrong-ledger",
    "signer-mismatch",
    "index-mismatch",
    "leaf-mismatch",
    "chain-broken",
    "rule-violation",
    "node-mismatch",
    "bad-checkpoint",
    "truncated",
    "root-mismatch",
    "uncovered",
    "timestamp-invalid",
    "rolled-back",
    "untrusted-examiner",
    "signed-before-pinned",
    "revoked-signer",
    "chain-invalid",
    "revoked-certificate",
    "not-timestamped",
    "untrusted-tsa",
]
"""What a custody ledger verification finds (docs/custody.md)."""

ReportKind = Literal[
    "report-signature",
    "case-trust",
    "bad-attachment",
    "malformed-report",
    "examiner-mismatch",
    "wrong-case",
    "seal-not-attached",
    "seal-mismatch",
    "seal-missing",
    "bad-checkpoint",
    "ledger-invalid",
    "rolled-back",
    "not-extended",
    "not-issued",
    "revoked-signer",
    "cosign-not-recorded",
    "cosign-not-in-report",
    "export-mismatch",
    "extension-not-in-report",
]
"""What a signed report's verification finds (docs/report.md)."""

ProblemKind = SealKind | MediaKind | LedgerKind | ReportKind

KNOWN_KINDS: frozenset[str] = frozenset(
    k for family in (SealKind, MediaKind, LedgerKind, ReportKind) for k in get_args(family)
)
"""Every kind evidencekit itself reports. A verifier plug-in (`hash.seal.plugins`) may report
a kind of its own: any name of lower-case words and digits joined by single hyphens
(:data:`KIND_RULE`) that it documents; a name outside that rule is a programming error."""

KIND_RULE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

ReportPart = Literal["signature", "attachment", "report", "case", "ledger"]


@dataclass(frozen=True, slots=True)
class FileSubject:
    """A file a seal names (or the item's media, "ITEM media"), as the seal spells it."""

    file: str


@dataclass(frozen=True, slots=True)
class EventSubject:
    """A custody ledger event by position (`seq`), and its item; `seq` None: the whole ledger."""

    seq: int | None = None
    item: str | None = None


@dataclass(frozen=True, slots=True)
class ReportSubject:
    """A part of a signed report: its signatures and revisions, an attachment (`name`), its
    report.json, the case it is checked against, or that case's ledger."""

    part: ReportPart
    name: str | None = None


Subject = FileSubject | EventSubject | ReportSubject


def shown(value: object) -> str:
    """Text from outside made safe to print: a tampered row or file can hold anything (control
    and escape sequences, invalid UTF-8, bytes where text belongs), and a terminal must show
    it, not obey it. Printable characters (Vietnamese included) stay; others become `\\xNN`,
    `\\uNNNN`; bytes are shown as their escaped repr."""
    if isinstance(value, bytes | bytearray | memoryview):
        return repr(bytes(value))
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Problem:
    """One precise reason something does not verify.

    `byte_range` is [start, end) in the file or media the subject names; `expected` and `found`
    are the values compared (digests as `algo:hex`, sizes), when there are such values.
    """

    kind: str
    subject: Subject
    message: str
    byte_range: tuple[int, int] | None = None
    expected: str | None = None
    found: str | None = None

    def __post_init__(self) -> None:
        if not KIND_RULE.fullmatch(self.kind):
            raise ValueError(f"problem kind {self.kind!r} is not lower-case-with-hyphens")

    @classmethod
    def of_file(
        cls,
        kind: str,
        file: str,
        message: str,
        byte_range: tuple[int, int] | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> Problem:
        """A seal's problem about `file` (as the seal names it)."""
        return cls(kind, FileSubject(file), message, byte_range, expected, found)

    @classmethod
    def of_event(
        cls, kind: str, message: str, seq: int | None = None, item: str | None = None
    ) -> Problem:
        """A ledger's problem about event `seq` (None: the whole ledger) of `item`."""
        return cls(kind, EventSubject(seq, item), message)

    @classmethod
    def of_report(
        cls, kind: str, part: ReportPart, message: str, name: str | None = None
    ) -> Problem:
        """A report's problem about one of its parts."""
        return cls(kind, ReportSubject(part, name), message)

    @property
    def file(self) -> str | None:
        """The file a seal problem is about (None for other subjects)."""
        return self.subject.file if isinstance(self.subject, FileSubject) else None

    @property
    def seq(self) -> int | None:
        """The ledger event a ledger problem is about (None: the whole ledger, or not one)."""
        return self.subject.seq if isinstance(self.subject, EventSubject) else None

    @property
    def item(self) -> str | None:
        """The item of the ledger event a ledger problem is about."""
        return self.subject.item if isinstance(self.subject, EventSubject) else None

    def to_dict(self) -> dict[str, object]:
        """The problem as each command's `--json` has always carried it (a contract for labs):
        a seal's with kind/file/message/byte_range/expected/found, a ledger's with
        kind/seq/item/message, a report's with kind/part/name/message (`report verify` prints
        the message only, see `ReportVerification.to_dict`)."""
        s = self.subject
        if isinstance(s, FileSubject):
            return {
                "kind": self.kind,
                "file": s.file,
                "message": self.message,
                "byte_range": list(self.byte_range) if self.byte_range else None,
                "expected": self.expected,
                "found": self.found,
            }
        if isinstance(s, EventSubject):
            item = s.item if s.item is None or isinstance(s.item, str) else shown(s.item)
            return {"kind": self.kind, "seq": s.seq, "item": item, "message": self.message}
        return {"kind": self.kind, "part": s.part, "name": s.name, "message": self.message}

    def text(self) -> str:
        """One line for humans, in the form each command has always printed."""
        s = self.subject
        if isinstance(s, FileSubject):
            line = f"{self.kind}: {s.file}: {self.message}"
            if self.expected is not None:
                line += f" (expected {self.expected}, found {self.found})"
            elif self.found is not None:
                line += f" (found {self.found})"
            return line
        if isinstance(s, EventSubject):
            where = f"event {s.seq}" if s.seq is not None else "ledger"
            if s.item:
                where += f" (item {shown(s.item)})"
            return f"{where}: {shown(self.message)}"
        return self.message

    def __str__(self) -> str:
        return self.text()
