"""hashdeep's file format (`%%%% HASHDEEP-1.0`) and its audit (matched/changed/moved/new/missing).

Files we write load in `hashdeep -a -k FILE` (hashdeep 4.4), and files hashdeep writes load here.
hashdeep knows md5, sha1, sha256 (and tiger, whirlpool, which we do not compute); like hashdeep,
names are written raw, so a name holding a newline cannot round-trip (hashdeep has no escaping).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from evidencekit.errors import HashError, UsageError
from evidencekit.hash.algorithms import ALGORITHMS
from evidencekit.hash.sums import display_name

MAGIC = b"%%%% HASHDEEP-1.0"
HASHDEEP_ALGORITHMS = ("md5", "sha1", "sha256")


def check_algorithms(algorithms: Sequence[str]) -> None:
    """Raises UsageError for an algorithm hashdeep cannot read (sha512, blake3)."""
    bad = [a for a in algorithms if a not in HASHDEEP_ALGORITHMS]
    if bad:
        raise UsageError(
            f"hashdeep files cannot carry {', '.join(bad)}",
            hint=f"hashdeep 4.4 reads {', '.join(HASHDEEP_ALGORITHMS)}; use --format json or sums",
        )


def header(algorithms: Sequence[str], cwd: str, command: str) -> bytes:
    """The header hashdeep writes (its `## #`/`## $` prompt line records the command)."""
    cols = ",".join(["size", *algorithms, "filename"])
    return (
        MAGIC
        + b"\n"
        + f"%%%% {cols}\n## Invoked from: {cwd}\n## $ {command}\n## \n".encode(
            "utf-8", "surrogateescape"
        )
    )


def record(size: int, digests: dict[str, str], algorithms: Sequence[str], name: bytes) -> bytes:
    """`size,hex,hex,name\\n` in the header's column order."""
    return b",".join([str(size).encode(), *(digests[a].encode() for a in algorithms), name]) + b"\n"


@dataclass(frozen=True, slots=True)
class KnownFile:
    """One record of a hashdeep file."""

    name: bytes
    size: int
    digests: dict[str, str]

    def to_dict(self) -> dict[str, object]:
        return {"name": display_name(self.name), "size": self.size, "digests": dict(self.digests)}


def parse(
    data: bytes, *, source: str = "known file"
) -> tuple[tuple[str, ...], list[KnownFile], list[int]]:
    """Read a hashdeep file (several concatenated files too).

    Returns:
        (the algorithms we can check, in ALGORITHMS order; the records; the numbers of the
        malformed lines that were skipped).

    Raises:
        HashError: not a hashdeep file, or a malformed record.
    """
    if not data.startswith(MAGIC):
        raise HashError(f"{source} is not a hashdeep file (no {MAGIC.decode()} header)")
    columns: list[str] = []
    found: set[str] = set()
    records: list[KnownFile] = []
    bad: list[int] = []
    for number, line in enumerate(data.split(b"\n"), 1):
        line = line.rstrip(b"\r")
        if not line or line.startswith(b"##") or line == MAGIC:
            continue
        if line.startswith(b"%%%% "):
            columns = line[5:].decode("ascii", "replace").strip().split(",")
            if columns[:1] != ["size"] or columns[-1:] != ["filename"]:
                raise HashError(f"{source} line {number}: unexpected columns {columns}")
            continue
        if not columns:
            raise HashError(f"{source} line {number}: record before the column header")
        fields = line.split(b",", len(columns) - 1)
        if len(fields) != len(columns) or not fields[0].isdigit():
            # hashdeep skips such lines too (a name with a newline splits its record in two)
            bad.append(number)
            continue
        size = int(fields[0])
        digests: dict[str, str] = {
            col: fields[i].decode("ascii", "replace").lower()
            for i, col in enumerate(columns[1:-1], 1)
            if col in ALGORITHMS
        }
        found.update(digests)
        records.append(KnownFile(fields[-1], size, digests))
    return tuple(a for a in ALGORITHMS if a in found), records, bad


@dataclass
class AuditResult:
    """hashdeep's audit categories; `changed` = same name, different content."""

    matched: list[bytes] = field(default_factory=list)
    changed: list[bytes] = field(default_factory=list)
    moved: list[tuple[bytes, bytes]] = field(default_factory=list)  # (new name, known name)
    new: list[bytes] = field(default_factory=list)
    missing: list[bytes] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.moved or self.new or self.missing)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "matched": [display_name(n) for n in self.matched],
            "changed": [display_name(n) for n in self.changed],
            "moved": [{"name": display_name(a), "was": display_name(b)} for a, b in self.moved],
            "new": [display_name(n) for n in self.new],
            "missing": [display_name(n) for n in self.missing],
        }


def audit(
    known: Sequence[KnownFile],
    scanned: Iterable[tuple[bytes, int, dict[str, str]]],
    algorithms: Sequence[str],
) -> AuditResult:
    """Compare scanned files (name, size, digests) with the known records on `algorithms`."""
    result = AuditResult()

    def key(size: int, digests: dict[str, str]) -> tuple[int, tuple[str, ...]]:
        return size, tuple(digests.get(a, "") for a in algorithms)

    by_name = {k.name: k for k in known}
    by_content: dict[tuple[int, tuple[str, ...]], list[bytes]] = {}
    for k in known:
        by_content.setdefault(key(k.size, k.digests), []).append(k.name)
    used: set[bytes] = set()
    for name, size, digests in scanned:
        mine = key(size, digests)
        entry = by_name.get(name)
        if entry is not None and key(entry.size, entry.digests) == mine:
            result.matched.append(name)
            used.add(name)
        elif entry is not None:
            result.changed.append(name)
            used.add(name)
        elif mine in by_content:
            was = by_content[mine][0]
            result.moved.append((name, was))
            used.add(was)
        else:
            result.new.append(name)
    result.missing = [k.name for k in known if k.name not in used]
    return result
