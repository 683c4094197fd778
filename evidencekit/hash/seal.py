"""Seals: `ITEM.seal.json`, a signed statement of what an evidence item's files hold.

A seal lists every artifact file of an item (name, size, digests), the digests of the item's
logical content (`combined`: e.g. the media of a split or E01 image, with per-window digests so a
later check names the byte ranges that changed), the caller's acquisition facts (read errors
included), tool, host and UTC times, and the examiner's certificate. It is encoded as RFC 8785
canonical JSON and signed (ECDSA P-256, SHA-256) over the canonical bytes of the document without
its `signature` member. Beside it, plain sums files (`ITEM.md5`, `ITEM.sha256`, …) let anyone
check the artifacts with coreutils alone (`cd evidence/ITEM && sha256sum -c ITEM.sha256`).

Threat model: the seal proves the files have not changed since the examiner signed; it does not
prove who holds the files now (that is the custody ledger's job). Verification therefore rejects
any edit (the file must be exactly its canonical encoding, so duplicate keys or a re-ordered copy
cannot show different values to different readers), any signer not pinned by the case or given
with `--trust`, and hostile artifact names that climb out of the item folder.

Verification never raises for a mismatch: it returns a :class:`VerifyStatus` listing every
problem precisely. Artifact formats whose logical content is not the plain concatenation of files
(E01) plug a checker in with :func:`register_media_verifier`; kinds that need extra checks (a tar
against its DFXML) use :func:`register_item_checker`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import socket
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography import x509

from evidencekit import __version__
from evidencekit.errors import EvidenceKitError, IntegrityError, UsageError
from evidencekit.fsutil import atomic_write as _atomic_write
from evidencekit.hash.algorithms import ALGORITHMS, DIGEST_HEX_LENGTH
from evidencekit.hash.canonical import canonical_json
from evidencekit.hash.multihash import HashResult, hash_file
from evidencekit.hash.sums import SUMS_EXTENSIONS, format_line
from evidencekit.identity import Identity
from evidencekit.ids import check_item_id
from evidencekit.timeutil import isoformat, utcnow

log = logging.getLogger(__name__)

SCHEMA = "evidencekit/seal/1"
SEAL_SUFFIX = ".seal.json"
SIGNATURE_ALGORITHM = "ecdsa-p256-sha256"
STATUSES = ("complete", "complete-with-errors", "incomplete")


# ---------------------------------------------------------------------------------------------
# value types


def _digest_list(digests: Mapping[str, str]) -> list[str]:
    return [f"{a}:{digests[a]}" for a in ALGORITHMS if a in digests]


def _parse_digest_list(items: Any, where: str) -> dict[str, str]:
    if not isinstance(items, list):
        raise ValueError(f"{where}: digests must be a list of 'algorithm:hex'")
    out: dict[str, str] = {}
    for item in items:
        algo, _, hexd = str(item).partition(":")
        if algo not in DIGEST_HEX_LENGTH or len(hexd) != DIGEST_HEX_LENGTH[algo]:
            raise ValueError(f"{where}: bad digest {item!r}")
        out[algo] = hexd
    return out


@dataclass(frozen=True, slots=True)
class Artifact:
    """One sealed file: `name` relative to the item folder (POSIX `/`), or absolute (in place).

    `digests` maps algorithm to lowercase hex.
    """

    name: str
    size: int
    digests: dict[str, str]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "size": self.size, "digests": _digest_list(self.digests)}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Artifact:
        name, size = doc["name"], doc["size"]
        if not isinstance(name, str) or not isinstance(size, int) or size < 0:
            raise ValueError(f"bad artifact entry {doc!r}")
        return cls(name, size, _parse_digest_list(doc["digests"], name))


@dataclass(frozen=True, slots=True)
class Combined:
    """Digests of the item's logical content (the media of an image), with window digests.

    `format` says how the content is read back: "raw" is the concatenation of `parts` (artifact
    names, in order: one raw file or split segments); anything else ("e01") needs a verifier
    registered with :func:`register_media_verifier`. `windows` holds one hex digest (algorithm
    `window_algorithm`) per `window_size` bytes; the last window may be shorter.
    """

    format: str
    parts: tuple[str, ...]
    size: int
    digests: dict[str, str]
    window_size: int | None = None
    window_algorithm: str | None = None
    windows: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "format": self.format,
            "parts": list(self.parts),
            "size": self.size,
            "digests": _digest_list(self.digests),
        }
        if self.window_size:
            doc["window_size"] = self.window_size
            doc["window_algorithm"] = self.window_algorithm
            doc["windows"] = [f"{self.window_algorithm}:{w}" for w in self.windows]
        return doc

    @classmethod
    def from_result(
        cls, result: HashResult, *, format: str = "raw", parts: Sequence[str] = ()
    ) -> Combined:
        algo = result.window_algorithm
        return cls(
            format=format,
            parts=tuple(parts),
            size=result.size,
            digests=dict(result.digests),
            window_size=result.window_size,
            window_algorithm=algo,
            windows=tuple(w.digests[algo] for w in result.windows) if algo else (),
        )

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Combined:
        wsize = doc.get("window_size")
        walgo = doc.get("window_algorithm")
        windows: list[str] = []
        if wsize:
            if not isinstance(wsize, int) or wsize <= 0 or walgo not in DIGEST_HEX_LENGTH:
                raise ValueError("combined: bad window_size or window_algorithm")
            for w in doc.get("windows", []):
                algo, _, hexd = str(w).partition(":")
                if algo != walgo or len(hexd) != DIGEST_HEX_LENGTH[algo]:
                    raise ValueError(f"combined: bad window digest {w!r}")
                windows.append(hexd)
        size = doc["size"]
        if not isinstance(size, int) or size < 0:
            raise ValueError("combined: bad size")
        return cls(
            format=str(doc["format"]),
            parts=tuple(str(p) for p in doc.get("parts", [])),
            size=size,
            digests=_parse_digest_list(doc["digests"], "combined"),
            window_size=wsize or None,
            window_algorithm=walgo if wsize else None,
            windows=tuple(windows),
        )


@dataclass(frozen=True, slots=True)
class Seal:
    """A parsed seal file (not yet verified: use :func:`verify_seal` for that)."""

    path: Path
    document: dict[str, Any]
    artifacts: tuple[Artifact, ...]
    combined: Combined | None

    @property
    def item_dir(self) -> Path:
        return self.path.parent

    @property
    def item_id(self) -> str:
        return str(self.document["item"])

    @property
    def kind(self) -> str:
        return str(self.document["kind"])

    @property
    def status(self) -> str:
        return str(self.document["status"])

    @property
    def facts(self) -> dict[str, Any]:
        facts = self.document.get("facts") or {}
        return dict(facts) if isinstance(facts, dict) else {}

    @property
    def examiner_name(self) -> str:
        return str(self.document.get("examiner", {}).get("name", ""))

    @property
    def examiner_fingerprint(self) -> str:
        return str(self.document.get("examiner", {}).get("fingerprint", ""))

    def artifact_path(self, name: str) -> Path:
        """Where artifact `name` lives (IntegrityError for a name that leaves the folder)."""
        return resolve_artifact(self.item_dir, name)

    def to_dict(self) -> dict[str, object]:
        return {"path": str(self.path), **self.document}


@dataclass(frozen=True, slots=True)
class SealResult:
    """What :func:`seal_item` wrote."""

    path: Path
    item_id: str
    status: str
    sums_files: tuple[Path, ...]
    seal_sha256: str
    document: dict[str, Any]

    @property
    def combined_digests(self) -> dict[str, str]:
        """Digests for a custody event: the logical content's, else the only artifact's."""
        comb = self.document.get("combined")
        if comb:
            return _parse_digest_list(comb["digests"], "combined")
        arts = self.document["artifacts"]
        if len(arts) == 1:
            return _parse_digest_list(arts[0]["digests"], arts[0]["name"])
        return {}

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "item": self.item_id,
            "status": self.status,
            "sums_files": [str(p) for p in self.sums_files],
            "seal_sha256": self.seal_sha256,
            "artifacts": self.document["artifacts"],
            "combined": self.document.get("combined"),
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """One precise reason an item does not verify.

    `kind` is one of: missing-file, unreadable-file, size-mismatch, digest-mismatch,
    window-mismatch, media-mismatch, sums-mismatch, bad-signature, missing-signature,
    unknown-signer, malformed-seal, item-mismatch, unsafe-name (verifier plug-ins may add
    their own, e.g. chunk-mismatch). `byte_range` is [start, end) in the file or media named.
    """

    kind: str
    file: str
    message: str
    byte_range: tuple[int, int] | None = None
    expected: str | None = None
    found: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "file": self.file,
            "message": self.message,
            "byte_range": list(self.byte_range) if self.byte_range else None,
            "expected": self.expected,
            "found": self.found,
        }

    def text(self) -> str:
        """One line for humans."""
        line = f"{self.kind}: {self.file}: {self.message}"
        if self.expected is not None or self.found is not None:
            line += f" (expected {self.expected}, found {self.found})"
        return line


@dataclass(frozen=True, slots=True)
class VerifyStatus:
    """The outcome of verifying one seal. `ok` when there is no problem at all."""

    seal_path: Path
    item_id: str | None
    status: str | None
    signer: str | None
    signer_fingerprint: str | None
    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = ()
    checked_files: tuple[str, ...] = ()
    bytes_hashed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "seal": str(self.seal_path),
            "item": self.item_id,
            "ok": self.ok,
            "status": self.status,
            "signer": self.signer,
            "signer_fingerprint": self.signer_fingerprint,
            "problems": [p.to_dict() for p in self.problems],
            "notes": list(self.notes),
            "checked_files": list(self.checked_files),
            "bytes_hashed": self.bytes_hashed,
        }


# ---------------------------------------------------------------------------------------------
# plug-ins

MediaVerifier = Callable[[Seal, Combined], list[Problem]]
"""Re-reads an item's logical content from its artifacts (e.g. decodes E01 segments), compares
it with `combined` (use :func:`compare_media`) and adds format checks (E01 chunk CRCs)."""

ItemChecker = Callable[[Seal], list[Problem]]
"""Extra checks for one kind of item (e.g. a tar's members against its DFXML manifest)."""

_MEDIA_VERIFIERS: dict[str, MediaVerifier] = {}
_ITEM_CHECKERS: dict[str, ItemChecker] = {}


def register_media_verifier(fmt: str, verifier: MediaVerifier) -> None:
    """Check `combined` digests of seals whose `combined.format` is `fmt` (e.g. "e01")."""
    _MEDIA_VERIFIERS[fmt] = verifier


def register_item_checker(kind: str, checker: ItemChecker) -> None:
    """Run `checker` on every verified seal of `kind` (e.g. "tar"), after the digest checks."""
    _ITEM_CHECKERS[kind] = checker


def media_verifier(fmt: str) -> MediaVerifier | None:
    """The verifier registered for `combined.format` `fmt`, if any."""
    return _MEDIA_VERIFIERS.get(fmt)


def item_checker(kind: str) -> ItemChecker | None:
    """The checker registered for seals of `kind`, if any."""
    return _ITEM_CHECKERS.get(kind)


# ---------------------------------------------------------------------------------------------
# writing


def resolve_artifact(item_dir: Path, name: str) -> Path:
    """The path of artifact `name`: absolute names as they are, relative ones under `item_dir`.

    Raises:
        IntegrityError: a relative name that is empty or climbs out (`..`), so a hostile seal
            cannot make a verifier read outside the item folder.
    """
    if name.startswith("/"):
        return Path(name)
    parts = PurePosixPath(name).parts
    if not parts or any(p in ("..", ".", "") for p in parts) or "\\" in name or "\x00" in name:
        raise IntegrityError(f"unsafe artifact name {name!r} in seal")
    return item_dir.joinpath(*parts)


def artifact_from_file(
    item_dir: Path, name: str, algorithms: Sequence[str], *, window: int | None = None
) -> tuple[Artifact, HashResult]:
    """Hash one file for sealing (when its digests were not computed while writing it).

    Raises:
        HashError: it cannot be read.
    """
    result = hash_file(resolve_artifact(item_dir, name), algorithms, window=window)
    return Artifact(name, result.size, dict(result.digests)), result


def atomic_write(path: Path, data: bytes) -> None:
    """Write a seal or sums file atomically and durably, read-only for everyone: such a file is
    never edited, only replaced whole."""
    _atomic_write(path, data, mode=0o444)


def sums_file_bytes(algorithm: str, artifacts: Sequence[Artifact]) -> bytes:
    """The `ITEM.<ext>` sums file: one coreutils/b3sum line per artifact."""
    return b"".join(format_line(algorithm, a.digests[algorithm], a.name) for a in artifacts)


def _unsigned_bytes(doc: Mapping[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in doc.items() if k != "signature"})


def seal_item(
    item_dir: Path,
    item_id: str,
    identity: Identity,
    *,
    kind: str,
    artifacts: Sequence[Artifact],
    status: str = "complete",
    combined: HashResult | Combined | None = None,
    combined_format: str = "raw",
    combined_parts: Sequence[str] | None = None,
    facts: Mapping[str, Any] | None = None,
    description: str | None = None,
    started: dt.datetime | None = None,
    finished: dt.datetime | None = None,
    algorithms: Sequence[str] | None = None,
) -> SealResult:
    """Sign and write `item_dir/ITEM.seal.json` and the sums files `ITEM.md5`, `ITEM.sha1`, ….

    The caller must have written and **fsync'ed** every artifact before calling (the digests
    must describe bytes that are on stable storage). Files are checked for their sizes here, not
    re-hashed. Sums files are written first and the seal last, each atomically (temporary file,
    fsync, rename, folder fsync): a seal that exists is whole.

    Args:
        item_dir: the item's folder (`evidence/ITEM/`); it must exist.
        item_id: 1–64 ASCII letters, digits, `.`, `_`, `-`.
        identity: the unlocked examiner identity that signs.
        kind: what the item is: "raw", "split-raw", "e01", "tar", "files", …
        artifacts: every file of the item; names relative to `item_dir` (or absolute for files
            sealed in place), digests as computed while writing.
        status: "complete", "complete-with-errors" (some source data unreadable: list it in
            `facts`), or "incomplete" (interrupted: never pass "complete" for that).
        combined: digests of the logical content (the media), with window digests if any.
        combined_format: "raw" when the content is the concatenation of `combined_parts`;
            another value ("e01") makes verification use the registered media verifier.
        combined_parts: artifact names making up the content, in order (default for "raw": all
            artifacts in the order given).
        facts: the acquisition's facts (source, read errors …): JSON values only.
        description: free text (Vietnamese welcome).
        started, finished: aware UTC times of the acquisition (default: now).
        algorithms: the algorithms every artifact carries, one sums file each (default: those
            common to all artifacts).

    Raises:
        UsageError: an invalid item id, status, name or algorithm list.
        IntegrityError: an artifact is missing or its size differs from the one given.
        EvidenceKitError: the facts cannot be encoded as canonical JSON; the seal cannot be
            written.
    """
    check_item_id(item_id)
    if status not in STATUSES:
        raise UsageError(f"invalid seal status {status!r}", hint=f"use {', '.join(STATUSES)}")
    if not artifacts:
        raise UsageError(f"item {item_id!r} has no artifact to seal")
    names = [a.name for a in artifacts]
    if len(set(names)) != len(names):
        raise UsageError(f"item {item_id!r}: an artifact is listed twice")
    common = [a for a in ALGORITHMS if all(a in art.digests for art in artifacts)]
    algos = [a for a in ALGORITHMS if a in (algorithms or common)]
    if not algos or any(a not in common for a in algos):
        raise UsageError(
            f"item {item_id!r}: artifacts do not all carry the algorithms {algos}",
            hint=f"they share {common}",
        )
    for art in artifacts:
        try:
            path = resolve_artifact(item_dir, art.name)
        except IntegrityError as exc:
            raise UsageError(exc.message) from None
        try:
            st = path.stat()
        except OSError as exc:
            raise IntegrityError(
                f"cannot seal {str(path)!r}: {exc.strerror}", hint="was it moved or deleted?"
            ) from exc
        if stat.S_ISREG(st.st_mode) and st.st_size != art.size:
            raise IntegrityError(
                f"cannot seal {str(path)!r}: it has {st.st_size} bytes, the digests cover "
                f"{art.size}",
                hint="the file changed after it was hashed",
            )
    comb: Combined | None
    if isinstance(combined, HashResult):
        parts = tuple(combined_parts) if combined_parts is not None else ()
        if not parts and combined_format == "raw":
            parts = tuple(names)
        comb = Combined.from_result(combined, format=combined_format, parts=parts)
    else:
        comb = combined
    if comb is not None:
        unknown = [p for p in comb.parts if p not in names]
        if unknown:
            raise UsageError(f"item {item_id!r}: combined parts {unknown} are not artifacts")
        if comb.format == "raw":
            part_size = sum(a.size for a in artifacts if a.name in comb.parts)
            if part_size != comb.size:
                raise IntegrityError(
                    f"item {item_id!r}: combined size {comb.size} differs from its parts' "
                    f"{part_size} bytes"
                )
    now = utcnow()
    sums = {a: f"{item_id}.{SUMS_EXTENSIONS[a]}" for a in algos}
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "item": item_id,
        "kind": kind,
        "status": status,
        "algorithms": algos,
        "artifacts": [a.to_dict() for a in artifacts],
        "combined": comb.to_dict() if comb else None,
        "facts": dict(facts or {}),
        "sums": sums,
        "tool": {"name": "evidencekit", "version": __version__},
        "host": socket.gethostname(),
        "started": isoformat(started or now),
        "finished": isoformat(finished or now),
        "sealed": isoformat(now),
        "examiner": {
            "name": identity.name,
            "fingerprint": identity.fingerprint,
            "certificate": identity.cert_pem(),
        },
    }
    if description:
        doc["description"] = description
    signature = identity.sign(_unsigned_bytes(doc))
    doc["signature"] = {
        "algorithm": SIGNATURE_ALGORITHM,
        "value": base64.b64encode(signature).decode("ascii"),
    }
    data = canonical_json(doc)
    sums_paths: list[Path] = []
    try:
        for algo, fname in sums.items():
            path = item_dir / fname
            atomic_write(path, sums_file_bytes(algo, artifacts))
            sums_paths.append(path)
        seal_path = item_dir / f"{item_id}{SEAL_SUFFIX}"
        atomic_write(seal_path, data)
    except OSError as exc:
        raise EvidenceKitError(
            f"cannot write the seal of {item_id!r} in {str(item_dir)!r}: {exc.strerror}"
        ) from exc
    return SealResult(
        path=seal_path,
        item_id=item_id,
        status=status,
        sums_files=tuple(sums_paths),
        seal_sha256=hashlib.sha256(data).hexdigest(),
        document=doc,
    )


# ---------------------------------------------------------------------------------------------
# reading


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise ValueError(f"duplicate key {key!r}")
        doc[key] = value
    return doc


def parse_seal(path: Path, data: bytes) -> Seal:
    """Parse seal bytes (structure only; no signature or digest check).

    Raises:
        IntegrityError: not a seal document of a known schema.
    """
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        if doc.get("schema") != SCHEMA:
            raise ValueError(f"unknown schema {doc.get('schema')!r} (expected {SCHEMA})")
        for key in ("item", "kind", "status", "artifacts", "examiner"):
            if key not in doc:
                raise ValueError(f"no {key!r} member")
        arts = tuple(Artifact.from_dict(a) for a in doc["artifacts"])
        comb = Combined.from_dict(doc["combined"]) if doc.get("combined") else None
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(f"{str(path)!r} is not a valid evidencekit seal: {exc}") from exc
    return Seal(path=path, document=doc, artifacts=arts, combined=comb)


def load_seal(path: Path) -> Seal:
    """Read and parse a seal file (no verification).

    Raises:
        IntegrityError: missing or malformed.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IntegrityError(f"cannot read seal {str(path)!r}: {exc.strerror}") from exc
    return parse_seal(path, data)


def find_seal(path: Path) -> Path:
    """`ITEM/` (a folder holding one `*.seal.json`) or the seal file itself -> the seal file.

    Raises:
        UsageError: no seal there, or several.
    """
    if path.is_dir():
        named = path / f"{path.name}{SEAL_SUFFIX}"
        if named.is_file():
            return named
        found = sorted(path.glob(f"*{SEAL_SUFFIX}"))
        if len(found) == 1:
            return found[0]
        raise UsageError(
            f"{str(path)!r} holds {'no' if not found else 'several'} *{SEAL_SUFFIX} files",
            hint="give the seal file itself",
        )
    return path


# ---------------------------------------------------------------------------------------------
# comparing media (also used by media verifier plug-ins)


def _pick(digests: Mapping[str, str]) -> str:
    for algo in ("sha256", "sha512", "blake3", "sha1", "md5"):
        if algo in digests:
            return algo
    return next(iter(digests))


def _locate(parts: Sequence[tuple[str, int]], begin: int, end: int) -> str:
    """'ITEM.001 bytes 0-65535' for the media range [begin, end) (may span several files)."""
    found: list[str] = []
    start = 0
    for name, size in parts:
        lo, hi = max(begin, start), min(end, start + size)
        if lo < hi:
            found.append(f"{name} bytes {lo - start}-{hi - start - 1}")
        start += size
    return ", ".join(found) or "past the end of the files"


def compare_media(
    expected: Combined,
    found: HashResult,
    *,
    name: str,
    parts: Sequence[tuple[str, int]] = (),
) -> list[Problem]:
    """Compare re-computed media digests with the sealed ones; one problem per differing window.

    Args:
        expected: the sealed combined digests.
        found: a fresh hash of the content (same window size and algorithm).
        name: how to call the content in messages (e.g. "ITEM media").
        parts: (file name, size) in order, to say which file holds a changed range.
    """
    problems: list[Problem] = []
    if found.size != expected.size:
        problems.append(
            Problem(
                "media-mismatch",
                name,
                f"{'shorter' if found.size < expected.size else 'longer'} than sealed: "
                f"{expected.size} bytes sealed, {found.size} found",
                byte_range=(min(found.size, expected.size), max(found.size, expected.size)),
                expected=str(expected.size),
                found=str(found.size),
            )
        )
    bad = {a: h for a, h in expected.digests.items() if found.digests.get(a, h) != h}
    if bad:
        algo = _pick(bad)
        problems.append(
            Problem(
                "media-mismatch",
                name,
                f"the digests of the whole content differ ({', '.join(bad)})",
                expected=f"{algo}:{bad[algo]}",
                found=f"{algo}:{found.digests[algo]}",
            )
        )
    if expected.window_size and found.window_algorithm == expected.window_algorithm:
        walgo = expected.window_algorithm or ""
        wsize = expected.window_size
        for w in found.windows:
            if w.index >= len(expected.windows):
                break
            want = expected.windows[w.index]
            want_len = min(wsize, expected.size - w.index * wsize)
            if w.digests.get(walgo) != want or w.length != want_len:
                start, end = w.offset, w.offset + max(w.length, want_len)
                where = f" = {_locate(parts, start, end)}" if parts else ""
                problems.append(
                    Problem(
                        "window-mismatch",
                        name,
                        f"media bytes {start}-{end - 1} (window {w.index} of {wsize} bytes"
                        f"{where}) differ",
                        byte_range=(start, end),
                        expected=f"{walgo}:{want}",
                        found=f"{walgo}:{w.digests.get(walgo)}",
                    )
                )
    return problems


# ---------------------------------------------------------------------------------------------
# verification (in sealcheck.py)


def verify_seal(
    seal_path: Path,
    *,
    trusted: Mapping[str, x509.Certificate],
    rehash: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> VerifyStatus:
    """Check a seal's signature, its signer, and every sealed file; never raises for a mismatch.

    See :func:`evidencekit.hash.sealcheck.verify` for what is checked.
    """
    from evidencekit.hash.sealcheck import verify

    return verify(seal_path, trusted=trusted, rehash=rehash, on_progress=on_progress)


__all__ = [
    "SCHEMA",
    "SEAL_SUFFIX",
    "STATUSES",
    "Artifact",
    "Combined",
    "ItemChecker",
    "MediaVerifier",
    "Problem",
    "Seal",
    "SealResult",
    "VerifyStatus",
    "artifact_from_file",
    "atomic_write",
    "compare_media",
    "find_seal",
    "load_seal",
    "parse_seal",
    "register_item_checker",
    "register_media_verifier",
    "resolve_artifact",
    "seal_item",
    "sums_file_bytes",
    "verify_seal",
]
