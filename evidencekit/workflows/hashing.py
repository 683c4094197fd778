"""The `hash` use cases: digests of files in one pass (`hash_files`), a sums file checked
(`check_sums`), files audited against a hashdeep file (`audit_files`).

File names are bytes here, as the file system gives them: a name that is not UTF-8 is hashed,
listed and compared exactly (shown with `hash.sums.display_name`). Each file is reported to the
request's `on_file` as soon as it is done, so a caller can stream its output (`--format sums`
lines as `sha256sum` writes them); the result then holds them all (for `--json`).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from evidencekit.errors import EvidenceKitError, IntegrityError, UsageError
from evidencekit.hash.algorithms import Algorithm, parse_algorithms
from evidencekit.hash.hashdeep import AuditResult, audit, parse
from evidencekit.hash.multihash import HashResult, hash_file
from evidencekit.hash.sums import SumsEntry, display_name, parse_sums
from evidencekit.workflows.progress import Bytes, Progress

STDIN = "-"
"""The path that names standard input, as in coreutils."""


@dataclass(frozen=True, slots=True)
class HashedFile:
    """One file met by the walk: hashed (`result`), failed (`error`), or passed over inside a
    tree because it is not a regular file (`skipped`; not an error)."""

    name: bytes
    result: HashResult | None = None
    error: str | None = None
    skipped: bool = False

    @property
    def shown(self) -> str:
        return display_name(self.name)


@dataclass(frozen=True, slots=True)
class HashRequest:
    """What `hash PATH…` is asked to do: the digests `algorithms` of every path (a folder's
    regular files, in name order, with `recursive`), a digest per `window` bytes too when
    given. A path "-" is standard input.

    Attributes:
        on_file: told each file as soon as it is done (in the walk's order).
        progress: told the bytes hashed of the current file, and its size when known.
    """

    paths: tuple[str, ...]
    algorithms: tuple[Algorithm, ...]
    recursive: bool = False
    window: int | None = None
    on_file: Callable[[HashedFile], None] | None = None
    progress: Progress | None = None


@dataclass(frozen=True, slots=True)
class HashFilesResult:
    """Every file hashed and every one that could not be (skipped ones are in neither)."""

    algorithms: tuple[Algorithm, ...]
    files: tuple[HashedFile, ...]
    errors: tuple[HashedFile, ...]

    @property
    def exit_code(self) -> int:
        return EvidenceKitError.exit_code if self.errors else 0

    def to_dict(self) -> dict[str, object]:
        """The `--json` document's body (`evidencekit/hash/1`)."""
        return {
            "algorithms": list(self.algorithms),
            "files": [
                {"name": f.shown, **f.result.to_dict()} for f in self.files if f.result is not None
            ],
            "errors": [{"name": f.shown, "error": f.error} for f in self.errors],
        }


def hash_files(request: HashRequest) -> HashFilesResult:
    """Hash every file `request.paths` names; a file that cannot be read is an error of its
    own and the others continue.

    Raises:
        UsageError: no path given.
    """
    if not request.paths:
        raise UsageError("no PATH given", hint="evidencekit hash FILE… (or -c SUMS_FILE)")
    files: list[HashedFile] = []
    errors: list[HashedFile] = []
    for arg in request.paths:
        for name, err, skipped in walk(os.fsencode(arg), request.recursive):
            if skipped:
                met = HashedFile(name, skipped=True)
            elif err is not None:
                met = HashedFile(name, error=err)
            else:
                met = _hash_one(name, request)
            if met.result is not None:
                files.append(met)
            elif met.error is not None:
                errors.append(met)
            if request.on_file is not None:
                request.on_file(met)
    return HashFilesResult(request.algorithms, tuple(files), tuple(errors))


def _hash_one(name: bytes, request: HashRequest) -> HashedFile:
    path = Path("/dev/stdin" if name == STDIN.encode() else os.fsdecode(name))
    on_progress = None
    if request.progress is not None:
        on_progress = Bytes(request.progress, display_name(name), _size(path))
    try:
        result = hash_file(path, request.algorithms, window=request.window, on_progress=on_progress)
    except EvidenceKitError as exc:
        return HashedFile(name, error=reason(exc))
    return HashedFile(name, result=result)


def _size(path: Path) -> int | None:
    """A regular file's size (what a progress display can count towards), else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def walk(path: bytes, recursive: bool) -> Iterator[tuple[bytes, str | None, bool]]:
    """(name, error or None, skipped) for every file under `path`, in sorted order."""
    if path == STDIN.encode():  # standard input, as coreutils
        yield path, None, False
        return
    try:
        st = os.stat(path)
    except OSError as exc:
        yield path, exc.strerror or str(exc), False
        return
    if not stat.S_ISDIR(st.st_mode):
        yield path, None, False
        return
    if not recursive:
        yield path, "Is a directory (use -r to recurse)", False
        return
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as exc:
        yield path, exc.strerror or str(exc), False
        return
    for entry in entries:
        child = os.path.join(path, entry.name)
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from walk(child, True)
                continue
            mode = entry.stat(follow_symlinks=True).st_mode
        except OSError as exc:
            yield child, exc.strerror or str(exc), False
            continue
        # Inside a tree only regular files (and symlinks to them) are hashed: a FIFO found while
        # recursing would block forever, and devices or linked folders are not the tree's files.
        # Named on the command line, FIFOs and devices are read until EOF.
        yield child, None, not stat.S_ISREG(mode)


def reason(exc: Exception) -> str:
    """'No such file or directory' from our wrapped OSError messages."""
    cause = exc.__cause__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(exc)


# -- hash -c ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """What `hash -c FILE` is asked to do: check every digest the sums file lists ("-":
    standard input). `algorithm`: the `-a` text given, one name (None: from each line's
    length; `.b3` and `.blake3` files are BLAKE3).

    Attributes:
        on_entry: told each listed file as soon as it is checked.
    """

    sums_file: str
    algorithm: str | None = None
    on_entry: Callable[[CheckedEntry], None] | None = None


@dataclass(frozen=True, slots=True)
class CheckedEntry:
    """One line of the sums file, checked: `verdict` is coreutils' word for it."""

    entry: SumsEntry
    verdict: str  # "OK", "FAILED" or "FAILED open or read"
    found: str | None  # the digest computed (None: the file could not be read)
    error: str | None = None  # why it could not be read

    def to_dict(self) -> dict[str, object]:
        return {**self.entry.to_dict(), "result": self.verdict, "found": self.found}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Every listed file's verdict, and the line numbers that were not sums lines."""

    entries: tuple[CheckedEntry, ...]
    bad_lines: tuple[int, ...]

    @property
    def failed(self) -> int:
        return sum(1 for e in self.entries if e.verdict == "FAILED")

    @property
    def unreadable(self) -> int:
        return sum(1 for e in self.entries if e.found is None)

    @property
    def exit_code(self) -> int:
        """3 when a digest differs (over 1 when a file could not be read), else 0."""
        if self.failed:
            return IntegrityError.exit_code
        return EvidenceKitError.exit_code if self.unreadable else 0

    def to_dict(self) -> dict[str, object]:
        """The `--json` document's body (`evidencekit/hash-check/1`)."""
        return {
            "ok": not self.failed and not self.unreadable,
            "entries": [e.to_dict() for e in self.entries],
            "bad_lines": list(self.bad_lines),
            "failed": self.failed,
            "unreadable": self.unreadable,
        }


def check_sums(request: CheckRequest) -> CheckResult:
    """Check every file a sums file lists against its digest.

    Raises:
        UsageError: more than one algorithm given.
        EvidenceKitError: the sums file cannot be read or holds no sums line.
    """
    algorithm: str | None = None
    if request.algorithm:
        algorithm = parse_algorithms(request.algorithm)[0]
        if "," in request.algorithm:
            raise UsageError("-c takes at most one algorithm with -a")
    name = request.sums_file
    try:
        data = sys.stdin.buffer.read() if name == STDIN else Path(name).read_bytes()
    except OSError as exc:
        raise EvidenceKitError(f"cannot read {name!r}: {exc.strerror}") from exc
    if algorithm is None and name.endswith((".b3", ".blake3")):
        algorithm = "blake3"
    entries, bad = parse_sums(data, algorithm=algorithm)
    if not entries:
        raise EvidenceKitError(
            f"{name}: no properly formatted checksum lines found",
            hint="expected lines like `HEX  NAME` (give -a blake3 for b3sum lists)",
        )
    checked: list[CheckedEntry] = []
    for entry in entries:
        try:
            result = hash_file(Path(os.fsdecode(entry.name)), (entry.algorithm,))
        except EvidenceKitError as exc:
            done = CheckedEntry(entry, "FAILED open or read", None, reason(exc))
        else:
            found = result.digests[entry.algorithm]
            done = CheckedEntry(entry, "OK" if found == entry.hex_digest else "FAILED", found)
        checked.append(done)
        if request.on_entry is not None:
            request.on_entry(done)
    return CheckResult(tuple(checked), tuple(bad))


# -- hash --audit -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRequest:
    """What `hash PATH… --audit KNOWN` is asked to do: compare the files under `paths` with
    the hashdeep file `known_file` by `algorithms` (None: every column it carries).

    Attributes:
        on_file: told each file the walk meets once hashed (or failed).
    """

    paths: tuple[str, ...]
    known_file: str
    algorithms: str | None = None
    recursive: bool = False
    on_file: Callable[[HashedFile], None] | None = None


@dataclass(frozen=True, slots=True)
class AuditFilesResult:
    """The audit, the files that could not be read, and the known file's malformed lines."""

    audit: AuditResult
    errors: tuple[HashedFile, ...]
    bad_lines: tuple[int, ...]

    @property
    def exit_code(self) -> int:
        """3 when anything is not matched (over 1 when a file could not be read), else 0."""
        if not self.audit.ok:
            return IntegrityError.exit_code
        return EvidenceKitError.exit_code if self.errors else 0

    def to_dict(self) -> dict[str, object]:
        """The `--json` document's body (`evidencekit/hash-audit/1`)."""
        return self.audit.to_dict()


def audit_files(request: AuditRequest) -> AuditFilesResult:
    """Audit the files under `request.paths` against a hashdeep file.

    Raises:
        EvidenceKitError: the known file cannot be read.
        HashError: it is not a hashdeep file.
        UsageError: it carries none of the digests asked for.
    """
    known_file = request.known_file
    try:
        data = Path(known_file).read_bytes()
    except OSError as exc:
        raise EvidenceKitError(f"cannot read known file {known_file!r}: {exc.strerror}") from exc
    known_algos, known, bad = parse(data, source=repr(known_file))
    algorithms = parse_algorithms(request.algorithms) if request.algorithms else known_algos
    missing_cols = [a for a in algorithms if a not in known_algos]
    if not algorithms or missing_cols:
        raise UsageError(
            f"the known file {known_file!r} has no {', '.join(missing_cols) or 'usable'} digests",
            hint=f"it carries {', '.join(known_algos) or 'none we compute'}",
        )
    scanned: list[tuple[bytes, int, dict[str, str]]] = []
    errors: list[HashedFile] = []
    for arg in request.paths:
        for name, err, skipped in walk(os.fsencode(arg), request.recursive):
            if skipped:
                met = HashedFile(name, skipped=True)
            elif err is not None:
                met = HashedFile(name, error=err)
            else:
                try:
                    r = hash_file(Path(os.fsdecode(name)), algorithms)
                except EvidenceKitError as exc:
                    met = HashedFile(name, error=reason(exc))
                else:
                    met = HashedFile(name, result=r)
                    scanned.append((name, r.size, dict(r.digests)))
            if met.error is not None:
                errors.append(met)
            if request.on_file is not None:
                request.on_file(met)
    return AuditFilesResult(audit(known, scanned, algorithms), tuple(errors), tuple(bad))
