"""Verifying a seal: signature and signer, every artifact's size and digests, the combined media
window by window, the sums files, then the registered format plug-ins.

Nothing here raises for a mismatch: every finding becomes a :class:`Problem` in the returned
:class:`VerifyStatus` (use :func:`evidencekit.hash.seal.verify_seal`).
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography import x509

from evidencekit.errors import EvidenceKitError, IntegrityError
from evidencekit.hash.canonical import canonical_json
from evidencekit.hash.multihash import MultiHasher, open_readonly
from evidencekit.hash.pipeline import Consumer, pump
from evidencekit.hash.seal import _unsigned_bytes, sums_file_bytes
from evidencekit.hash.sealdoc import (
    SEAL_SUFFIX,
    SIGNATURE_ALGORITHM,
    Artifact,
    Seal,
    resolve_artifact,
)
from evidencekit.hash.sealio import parse_seal
from evidencekit.hash.sealplugins import _pick, compare_media, item_checker, media_verifier
from evidencekit.hash.sealstatus import Problem, VerifyStatus
from evidencekit.hash.sums import SUMS_EXTENSIONS
from evidencekit.identity import fingerprint, load_cert_pem, subject_name
from evidencekit.identity import verify_signature as _verify_signature
from evidencekit.timeutil import isoformat, parse_iso


class _NoClose:
    """Feeds a long-lived consumer across several pumps (the combined media spans files)."""

    def __init__(self, inner: Consumer) -> None:
        self.inner = inner

    def consume(self, data: memoryview) -> None:
        self.inner.consume(data)

    def close(self) -> None:
        pass


def _size_message(expected: int, found: int) -> str:
    if found < expected:
        return f"truncated: {expected} bytes sealed, {found} found ({expected - found} missing)"
    return f"bytes appended: {expected} bytes sealed, {found} found ({found - expected} extra)"


class _Checker:
    def __init__(self, seal: Seal, rehash: bool, on_progress: Callable[[int], None] | None):
        self.seal = seal
        self.rehash = rehash
        self.on_progress = on_progress
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.checked: list[str] = []
        self.hashed = 0
        self.found: dict[str, dict[str, str]] = {}

    def add(self, *problems: Problem) -> None:
        self.problems.extend(problems)

    def check_artifacts(self) -> None:
        seal = self.seal
        comb = seal.combined
        raw_parts = comb.parts if comb is not None and comb.format == "raw" else ()
        media: MultiHasher | None = None
        if raw_parts and self.rehash:
            media = MultiHasher(
                list(comb.digests) if comb else [],
                window=comb.window_size if comb else None,
                window_algorithm=(comb.window_algorithm or "sha256") if comb else "sha256",
            )
        by_name = {a.name: a for a in seal.artifacts}
        media_ok = True
        ordered = [by_name[p] for p in raw_parts if p in by_name]
        ordered += [a for a in seal.artifacts if a.name not in raw_parts]
        for art in ordered:
            in_media = art.name in raw_parts
            if not self._check_one(art, media if in_media else None):
                media_ok = media_ok and not in_media
        if media is not None and comb is not None:
            if media_ok:
                parts = [(p, by_name[p].size) for p in raw_parts if p in by_name]
                self.add(
                    *compare_media(comb, media.result(), name=f"{seal.item_id} media", parts=parts)
                )
            else:
                self.notes.append("media digests not compared: a part is missing or unreadable")
        self._find_swaps()

    def _check_one(self, art: Artifact, media: MultiHasher | None) -> bool:
        """False when the file is missing or unreadable."""
        try:
            path = self.seal.artifact_path(art.name)
        except IntegrityError as exc:
            self.add(Problem("unsafe-name", art.name, exc.message))
            return False
        self.checked.append(art.name)
        try:
            st = path.stat()
        except FileNotFoundError:
            self.add(Problem("missing-file", art.name, f"sealed file is missing ({path})"))
            return False
        except OSError as exc:
            self.add(Problem("unreadable-file", art.name, f"cannot stat {path}: {exc.strerror}"))
            return False
        if stat.S_ISREG(st.st_mode) and st.st_size != art.size:
            self.add(
                Problem(
                    "size-mismatch",
                    art.name,
                    _size_message(art.size, st.st_size),
                    byte_range=(min(art.size, st.st_size), max(art.size, st.st_size)),
                    expected=str(art.size),
                    found=str(st.st_size),
                )
            )
        if not self.rehash:
            return True
        hasher = MultiHasher(list(art.digests))
        consumers: list[Consumer] = list(hasher.consumers())
        if media is not None:
            consumers += [_NoClose(c) for c in media.consumers()]
        base = self.hashed
        progress = None
        if self.on_progress is not None:
            cb = self.on_progress

            def progress(n: int) -> None:
                cb(base + n)

        try:
            fd = open_readonly(path)
        except EvidenceKitError as exc:
            self.add(Problem("unreadable-file", art.name, exc.message))
            return False
        try:
            with open(fd, "rb", buffering=0, closefd=False) as fh:
                n = pump(fh.readinto, consumers, on_progress=progress)  # type: ignore[arg-type]
        except OSError as exc:
            self.add(Problem("unreadable-file", art.name, f"read error: {exc.strerror}"))
            return False
        finally:
            os.close(fd)
        self.hashed += n
        result = hasher.result()
        self.found[art.name] = dict(result.digests)
        if not stat.S_ISREG(st.st_mode) and n != art.size:
            self.add(
                Problem(
                    "size-mismatch",
                    art.name,
                    _size_message(art.size, n),
                    expected=str(art.size),
                    found=str(n),
                )
            )
        bad = [a for a in art.digests if result.digests.get(a) != art.digests[a]]
        if bad:
            algo = _pick({a: art.digests[a] for a in bad})
            self.add(
                Problem(
                    "digest-mismatch",
                    art.name,
                    f"content differs from the seal ({', '.join(bad)} differ)",
                    expected=f"{algo}:{art.digests[algo]}",
                    found=f"{algo}:{result.digests[algo]}",
                )
            )
        return True

    def _find_swaps(self) -> None:
        """Name the artifact whose sealed content a changed file now holds (swapped files)."""
        expected = {a.name: a.digests for a in self.seal.artifacts}
        for i, p in enumerate(self.problems):
            if p.kind not in ("digest-mismatch", "size-mismatch") or p.file not in self.found:
                continue
            got = self.found[p.file]
            for other, digests in expected.items():
                if other != p.file and digests and all(got.get(a) == h for a, h in digests.items()):
                    self.problems[i] = Problem(
                        p.kind,
                        p.file,
                        f"{p.message}; it holds the sealed content of {other!r} "
                        "(files swapped or renamed?)",
                        p.byte_range,
                        p.expected,
                        p.found,
                    )
                    break

    def note_unsealed(self) -> None:
        """Files in the item folder that the seal does not cover (a note, not a failure: other
        steps may add files later, but a reader should know they are not sealed)."""
        folder = self.seal.item_dir
        covered = {a.name for a in self.seal.artifacts}
        sums = self.seal.document.get("sums")
        if isinstance(sums, dict):
            covered.update(str(v) for v in sums.values())
        covered.add(self.seal.path.name)
        try:
            names = sorted(
                p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
            )
        except OSError:
            return
        extra = [n for n in names if n not in covered and not n.startswith(".")]
        if extra:
            shown = ", ".join(extra[:10]) + (
                f" and {len(extra) - 10} more" if len(extra) > 10 else ""
            )
            self.notes.append(f"not covered by the seal: {shown}")

    def check_sums(self) -> None:
        sums = self.seal.document.get("sums") or {}
        if not isinstance(sums, dict):
            self.add(Problem("malformed-seal", self.seal.path.name, "'sums' is not an object"))
            return
        for algo, fname in sums.items():
            if algo not in SUMS_EXTENSIONS or not isinstance(fname, str):
                self.add(Problem("malformed-seal", self.seal.path.name, f"bad sums entry {algo}"))
                continue
            try:
                path = resolve_artifact(self.seal.item_dir, fname)
            except IntegrityError as exc:
                self.add(Problem("unsafe-name", fname, exc.message))
                continue
            try:
                want = sums_file_bytes(algo, self.seal.artifacts)
            except KeyError:
                self.add(Problem("malformed-seal", fname, f"an artifact has no {algo} digest"))
                continue
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                self.add(Problem("missing-file", fname, f"sums file is missing ({path})"))
                continue
            except OSError as exc:
                self.add(Problem("unreadable-file", fname, f"cannot read: {exc.strerror}"))
                continue
            self.checked.append(fname)
            if data != want:
                self.add(
                    Problem(
                        "sums-mismatch",
                        fname,
                        "the sums file does not match the seal's digests (edited?)",
                    )
                )


def _check_signature(
    seal: Seal, data: bytes, trusted: Mapping[str, x509.Certificate]
) -> tuple[list[Problem], str | None, str | None]:
    name = seal.path.name
    doc = seal.document
    problems: list[Problem] = []
    if canonical_json(doc) != data:
        problems.append(
            Problem(
                "malformed-seal",
                name,
                "the file is not in canonical JSON form: it was rewritten or edited after sealing",
            )
        )
    examiner = doc.get("examiner")
    if not isinstance(examiner, dict) or not isinstance(examiner.get("certificate"), str):
        problems.append(Problem("bad-signature", name, "no examiner certificate in the seal"))
        return problems, None, None
    try:
        cert = load_cert_pem(examiner["certificate"], what="the seal's examiner certificate")
    except EvidenceKitError as exc:
        problems.append(Problem("bad-signature", name, exc.message))
        return problems, None, None
    fp = fingerprint(cert)
    signer = subject_name(cert)
    problems += _check_validity(cert, doc.get("sealed"), name, signer)
    if examiner.get("fingerprint") != fp:
        problems.append(
            Problem(
                "bad-signature",
                name,
                "the examiner fingerprint does not belong to the embedded certificate",
                expected=fp,
                found=str(examiner.get("fingerprint")),
            )
        )
    sig = doc.get("signature")
    if sig is None:
        problems.append(Problem("missing-signature", name, "the seal carries no signature"))
    else:
        try:
            if not isinstance(sig, dict) or sig.get("algorithm") != SIGNATURE_ALGORITHM:
                raise ValueError("unknown signature algorithm")
            raw = base64.b64decode(str(sig["value"]), validate=True)
        except (ValueError, KeyError) as exc:
            problems.append(Problem("bad-signature", name, f"unreadable signature: {exc}"))
        else:
            if not _verify_signature(cert, _unsigned_bytes(doc), raw):
                problems.append(
                    Problem(
                        "bad-signature",
                        name,
                        f"the signature of {signer} ({fp[:16]}) does not match the seal's "
                        "content: the seal was changed after signing",
                    )
                )
    if fp not in trusted:
        problems.append(
            Problem(
                "unknown-signer",
                name,
                f"signed by {signer} ({fp[:16]}), who is not pinned in the case nor given "
                "with --trust",
                found=fp,
            )
        )
    return problems, signer, fp


def _check_validity(
    cert: x509.Certificate, sealed: object, name: str, signer: str
) -> list[Problem]:
    """The certificate must have been valid when the seal says it was made (an expired or
    not-yet-valid certificate signs nothing, even if its key still works)."""
    try:
        when = parse_iso(str(sealed))
    except ValueError:
        return [Problem("malformed-seal", name, f"bad 'sealed' time {sealed!r}")]
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if start <= when <= end:
        return []
    return [
        Problem(
            "bad-signature",
            name,
            f"the certificate of {signer} was not valid when the seal was made "
            f"({isoformat(when)}; valid {isoformat(start)} to {isoformat(end)})",
        )
    ]


def verify(
    seal_path: Path,
    *,
    trusted: Mapping[str, x509.Certificate],
    rehash: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> VerifyStatus:
    """Check a seal's signature, its signer, and every sealed file; never raises for a mismatch.

    Checks, each reported as a :class:`Problem`: the file is canonical and well-formed; the
    signature matches; the signer's certificate fingerprint is in `trusted`; every artifact is
    present with its size and (with `rehash`) its digests; the combined media digests and each
    window (naming the byte range and the file holding it); the sums files; then the registered
    media verifier for non-raw content (E01) and the item checker for the seal's kind.

    Args:
        seal_path: `ITEM.seal.json`.
        trusted: fingerprint -> certificate of the accepted signers (`Case.trusted()` and any
            `--trust` certificate).
        rehash: re-read and hash every file (else sizes only).
        on_progress: called with the bytes hashed so far.
    """
    name = seal_path.name
    try:
        data = seal_path.read_bytes()
    except FileNotFoundError:
        return _failed(seal_path, Problem("missing-file", name, "the seal file is missing"))
    except OSError as exc:
        return _failed(seal_path, Problem("unreadable-file", name, f"cannot read: {exc.strerror}"))
    try:
        seal = parse_seal(seal_path, data)
    except IntegrityError as exc:
        return _failed(seal_path, Problem("malformed-seal", name, exc.message))
    problems, signer, fp = _check_signature(seal, data, trusted)
    item = seal.item_id
    if name != f"{item}{SEAL_SUFFIX}":
        problems.append(
            Problem("item-mismatch", name, f"the seal is for item {item!r} but is named {name!r}")
        )
    checker = _Checker(seal, rehash, on_progress)
    checker.add(*problems)
    checker.check_artifacts()
    checker.check_sums()
    checker.note_unsealed()
    comb = seal.combined
    if comb is not None and comb.format != "raw":
        verifier = media_verifier(comb.format)
        if verifier is None:
            checker.notes.append(
                f"{comb.format} media digests not re-computed: no verifier for that format "
                "(the artifact files' digests were checked)"
            )
        elif rehash:
            checker.add(*_guarded(lambda: verifier(seal, comb), item))
    item_check = item_checker(seal.kind)
    if item_check is not None and rehash:
        checker.add(*_guarded(lambda: item_check(seal), item))
    if seal.status != "complete":
        checker.notes.append(
            f"the item was sealed as {seal.status}"
            + (": the acquisition did not finish" if seal.status == "incomplete" else "")
        )
    return VerifyStatus(
        seal_path=seal_path,
        item_id=item,
        status=seal.status,
        signer=signer,
        signer_fingerprint=fp,
        problems=tuple(checker.problems),
        notes=tuple(checker.notes),
        checked_files=tuple(checker.checked),
        bytes_hashed=checker.hashed,
    )


def _guarded(func: Callable[[], list[Problem]], item: str) -> list[Problem]:
    try:
        return list(func())
    except EvidenceKitError as exc:
        return [Problem("unreadable-file", item, exc.message)]
    except OSError as exc:  # a plug-in's raw I/O error still becomes a reported problem
        where = f" {exc.filename}" if exc.filename else ""
        return [Problem("unreadable-file", item, f"read error{where}: {exc.strerror or exc}")]


def _failed(seal_path: Path, problem: Problem) -> VerifyStatus:
    return VerifyStatus(
        seal_path=seal_path,
        item_id=None,
        status=None,
        signer=None,
        signer_fingerprint=None,
        problems=(problem,),
    )
