"""Writing a seal: :func:`seal_item` checks the artifacts' sizes, signs the document and writes
the sums files and `ITEM.seal.json` atomically; :func:`artifact_from_file` hashes a file for it.

What the document holds is :mod:`evidencekit.hash.seal.document`; reading it back is
:mod:`evidencekit.hash.seal.read`, checking it :mod:`evidencekit.hash.seal.verify`; the bytes the
signature covers are :func:`evidencekit.hash.seal.signature.signed_bytes`, the sums files' lines
:func:`evidencekit.hash.seal.sums.sums_file_bytes`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import socket
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evidencekit import __version__
from evidencekit.errors import EvidenceKitError, IntegrityError, UsageError
from evidencekit.fsutil import atomic_write as _atomic_write
from evidencekit.fsutil import names_shown
from evidencekit.hash.algorithms import ALGORITHMS
from evidencekit.hash.canonical import canonical_json
from evidencekit.hash.multihash import HashResult, hash_file
from evidencekit.hash.seal.document import (
    SCHEMA,
    SCHEMA_V1,
    SCHEMAS,
    SEAL_SUFFIX,
    STATUSES,
    Artifact,
    Combined,
    SealResult,
    SealStatus,
    is_text_name,
    resolve_artifact,
    shown_name,
)
from evidencekit.hash.seal.signature import signed_bytes
from evidencekit.hash.seal.sums import sums_file_bytes
from evidencekit.hash.sums import SUMS_EXTENSIONS
from evidencekit.identity import Identity, cert_pem
from evidencekit.ids import check_item_id
from evidencekit.timeutil import isoformat, utcnow

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# writing


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


def seal_item(
    item_dir: Path,
    item_id: str,
    identity: Identity,
    *,
    kind: str,
    artifacts: Sequence[Artifact],
    status: SealStatus = "complete",
    combined: HashResult | Combined | None = None,
    combined_format: str = "raw",
    combined_parts: Sequence[str] | None = None,
    facts: Mapping[str, Any] | None = None,
    description: str | None = None,
    started: dt.datetime | None = None,
    finished: dt.datetime | None = None,
    algorithms: Sequence[str] | None = None,
    case_identity: str | None = None,
    schema: str = SCHEMA,
) -> SealResult:
    """Sign and write `item_dir/ITEM.seal.json` and the sums files `ITEM.sha256`, `ITEM.md5`, ….

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
            sealed in place), any bytes but NUL (non-UTF-8 bytes as lone surrogates, as
            `os.fsdecode` gives them), digests as computed while writing. Every artifact
            carries SHA-256; the media's files carry the chosen `algorithms`, a derived file
            (log, E01 segment, tar, manifest …) needs no more (:data:`DERIVED_ALGORITHMS`).
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
        algorithms: the media's algorithms (`-a`): one sums file each, listing the artifacts
            that carry it, besides `ITEM.sha256` (default: those common to all artifacts).
        case_identity: the identity of the case the item belongs to (`sha256:…`, see
            `evidencekit.workflows.trust.case_identity`); None writes `"case": null`, saying
            the seal was made outside any case.
        schema: :data:`SCHEMA` (seal/2); :data:`SCHEMA_V1` writes the former format exactly
            (every artifact carries every algorithm, UTF-8 names, no case): kept so that the
            compatibility of seal/1 is tested against the real writer.

    Raises:
        UsageError: an invalid item id, status, name, algorithm list or schema.
        IntegrityError: an artifact is missing or its size differs from the one given.
        EvidenceKitError: the facts cannot be encoded as canonical JSON; the seal cannot be
            written.
    """
    check_item_id(item_id)
    if schema not in SCHEMAS:
        raise UsageError(f"unknown seal schema {schema!r}", hint=f"use {SCHEMA}")
    if status not in STATUSES:
        raise UsageError(f"invalid seal status {status!r}", hint=f"use {', '.join(STATUSES)}")
    if not artifacts:
        raise UsageError(f"item {item_id!r} has no artifact to seal")
    names = [a.name for a in artifacts]
    if len(set(names)) != len(names):
        raise UsageError(f"item {item_id!r}: an artifact is listed twice")
    common = [a for a in ALGORITHMS if all(a in art.digests for art in artifacts)]
    algos = [a for a in ALGORITHMS if a in (algorithms or common)]
    if schema == SCHEMA_V1:
        if not algos or any(a not in common for a in algos):
            raise UsageError(
                f"item {item_id!r}: artifacts do not all carry the algorithms {algos}",
                hint=f"they share {common}",
            )
        sums_algos = algos
    else:
        lacking = [shown_name(a.name) for a in artifacts if "sha256" not in a.digests]
        if lacking:
            raise UsageError(f"item {item_id!r}: artifacts without a sha256 digest: {lacking[:3]}")
        if not algos:
            raise UsageError(f"item {item_id!r}: no digest algorithm given")
        if case_identity is not None and not _is_case_identity(case_identity):
            raise UsageError(f"invalid case identity {case_identity!r}", hint="sha256:<64 hex>")
        # a sums file per algorithm some artifact carries: never an empty one
        wanted = {*algos, "sha256"}
        sums_algos = [
            a for a in ALGORITHMS if a in wanted and any(a in art.digests for art in artifacts)
        ]
    for art in artifacts:
        if schema == SCHEMA_V1 and not is_text_name(art.name):
            raise UsageError(f"seal/1 cannot hold the name {shown_name(art.name)!r}")
        try:
            path = resolve_artifact(item_dir, art.name)
        except IntegrityError as exc:
            raise UsageError(exc.message) from None
        try:
            st = path.stat()
        except OSError as exc:
            raise IntegrityError(
                f"cannot seal {shown_name(str(path))!r}: {exc.strerror}",
                hint="was it moved or deleted?",
            ) from exc
        if stat.S_ISREG(st.st_mode) and st.st_size != art.size:
            raise IntegrityError(
                f"cannot seal {shown_name(str(path))!r}: it has {st.st_size} bytes, the digests "
                f"cover {art.size}",
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
        if any(not is_text_name(p) for p in comb.parts):
            # parts are image files named after the item id: always text
            raise UsageError(f"item {item_id!r}: a combined part is not named in UTF-8")
        if comb.format == "raw":
            part_size = sum(a.size for a in artifacts if a.name in comb.parts)
            if part_size != comb.size:
                raise IntegrityError(
                    f"item {item_id!r}: combined size {comb.size} differs from its parts' "
                    f"{part_size} bytes"
                )
    now = utcnow()
    sums = {a: f"{item_id}.{SUMS_EXTENSIONS[a]}" for a in sums_algos}
    doc: dict[str, Any] = {"schema": schema}
    if schema != SCHEMA_V1:
        doc["case"] = {"identity": case_identity} if case_identity is not None else None
    doc.update(
        {
            "item": item_id,
            "kind": kind,
            "status": status,
            "algorithms": algos,
            "artifacts": [a.to_dict(schema) for a in artifacts],
            "combined": comb.to_dict() if comb else None,
            "facts": names_shown(dict(facts or {})),
            "sums": sums,
            "tool": {"name": "evidencekit", "version": __version__},
            "host": socket.gethostname(),
            "started": isoformat(started or now),
            "finished": isoformat(finished or now),
            "sealed": isoformat(now),
            "examiner": _examiner(identity, schema),
        }
    )
    if description:
        doc["description"] = description
    signature = identity.sign(signed_bytes(doc))
    doc["signature"] = {
        "algorithm": identity.algorithm,
        "value": base64.b64encode(signature).decode("ascii"),
    }
    data = canonical_json(doc)
    sums_paths: list[Path] = []
    carrying = schema != SCHEMA_V1
    try:
        for algo, fname in sums.items():
            path = item_dir / fname
            atomic_write(path, sums_file_bytes(algo, artifacts, carrying=carrying))
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


def _is_case_identity(value: str) -> bool:
    algo, _, hexd = value.partition(":")
    return algo == "sha256" and len(hexd) == 64 and all(c in "0123456789abcdef" for c in hexd)


def _examiner(identity: Identity, schema: str) -> dict[str, Any]:
    """Who signs: name, fingerprint (of the leaf certificate), and the certificate (seal/1) or
    the chain, leaf first (seal/2: the identity's certificate and the CA certificates kept with
    it, `Identity.chain`; one self-signed certificate for a `keys init` identity)."""
    doc: dict[str, Any] = {"name": identity.name, "fingerprint": identity.fingerprint}
    if schema == SCHEMA_V1:
        doc["certificate"] = identity.cert_pem()
    else:
        doc["certificates"] = [identity.cert_pem(), *(cert_pem(c) for c in identity.chain)]
    return doc
