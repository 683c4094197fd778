"""Verifying a seal: signature and signer (:mod:`.signature`), every artifact's size and digests
and the combined media window by window (:mod:`.artifacts`), the sums files (:mod:`.sums`), then
the registered format plug-ins (:mod:`.plugins`).

Nothing here raises for a mismatch: every finding becomes a :class:`Problem` in the returned
:class:`VerifyStatus` (:func:`verify_seal`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography import x509

from evidencekit.errors import EvidenceKitError, IntegrityError
from evidencekit.fsutil import UnsafeFileError, read_regular
from evidencekit.hash.seal.artifacts import check_artifacts
from evidencekit.hash.seal.document import (
    SEAL_SUFFIX,
    Combined,
    Seal,
    artifact_location,
    shown_name,
)
from evidencekit.hash.seal.plugins import item_checker, media_verifier
from evidencekit.hash.seal.read import MAX_SEAL_BYTES, parse_seal
from evidencekit.hash.seal.signature import check_signature
from evidencekit.hash.seal.status import VerifyStatus
from evidencekit.hash.seal.sums import check_sums
from evidencekit.problems import Problem

UNTRUSTED = frozenset({"bad-signature", "missing-signature", "unknown-signer"})
"""Problem kinds that make a seal untrusted: none of the files it names is then opened."""


def verify_seal(
    seal_path: Path,
    *,
    trusted: Mapping[str, x509.Certificate],
    rehash: bool = True,
    on_progress: Callable[[int], None] | None = None,
    case_identity: str | None = None,
    item_id: str | None = None,
) -> VerifyStatus:
    """Check a seal's signature, its signer, its case and item (seal/2), and every sealed file;
    never raises for a mismatch.

    Checks, each reported as a :class:`Problem`: the file is canonical and well-formed; the
    signature matches; the signer's certificate fingerprint is in `trusted`; a seal/2 names
    `case_identity` (`wrong-case`) and `item_id` (`wrong-item`) when they are given; every
    artifact is present with its size and (with `rehash`) its digests; the combined media
    digests and each window (naming the byte range and the file holding it); the sums files;
    then the registered media verifier for non-raw content (E01) and the item checker for the
    seal's kind.

    Args:
        seal_path: `ITEM.seal.json`.
        trusted: fingerprint -> certificate of the accepted signers (`Case.trusted()` and any
            `--trust` certificate).
        rehash: re-read and hash every file (else sizes only).
        on_progress: called with the bytes hashed so far.
        case_identity: the identity of the case the seal is verified in (None: no case, the
            seal's own is only noted). A seal/1 names no case: a note, not a failure.
        item_id: the item id of the folder the seal is in (None: not compared).
    """
    name = seal_path.name
    try:
        data = read_regular(seal_path, limit=MAX_SEAL_BYTES)
    except UnsafeFileError as exc:
        return _failed(seal_path, Problem.of_file("unsafe-file", name, f"{exc.message}; not read"))
    except FileNotFoundError:
        return _failed(seal_path, Problem.of_file("missing-file", name, "the seal file is missing"))
    except OSError as exc:
        why = exc.strerror or str(exc)
        return _failed(seal_path, Problem.of_file("unreadable-file", name, f"cannot read: {why}"))
    try:
        seal = parse_seal(seal_path, data)
    except IntegrityError as exc:
        return _failed(seal_path, Problem.of_file("malformed-seal", name, exc.message))
    digest = hashlib.sha256(data).hexdigest()
    problems, signer, fp = check_signature(seal, data, trusted)
    item = seal.item_id
    if name != f"{item}{SEAL_SUFFIX}":
        problems.append(
            Problem.of_file(
                "item-mismatch", name, f"the seal is for item {item!r} but is named {name!r}"
            )
        )
    bound, bound_notes = _binding(seal, case_identity, item_id)
    problems += bound
    if any(p.kind in UNTRUSTED for p in problems):
        # What an untrusted document names is never opened: its names could point at
        # /etc/shadow (whose digest we would print), /dev/zero (read forever) or a FIFO.
        return VerifyStatus(
            seal_path=seal_path,
            item_id=item,
            status=seal.status,
            signer=signer,
            signer_fingerprint=fp,
            problems=tuple(problems + _name_problems(seal)),
            notes=(
                "the seal's files were not read: its signature or signer is not trusted",
                *bound_notes,
            ),
            seal_sha256=digest,
        )
    arts = check_artifacts(seal, rehash=rehash, on_progress=on_progress)
    problems += arts.problems
    notes = [*bound_notes, *arts.notes]
    sums_problems, sums_checked = check_sums(seal)
    problems += sums_problems
    unsealed = _unsealed_note(seal)
    if unsealed is not None:
        notes.append(unsealed)
    comb = seal.combined
    if arts.unsafe:
        # the plug-ins open the artifacts by name themselves: not when one is out of place
        notes.append("format checks skipped: an artifact is not a regular file in its place")
    elif comb is not None and comb.format != "raw":
        verifier = media_verifier(comb.format)
        if verifier is None:
            if rehash:  # --sizes-only re-computes no media digest with or without one
                problems.append(_no_verifier(comb))
        elif rehash:
            problems += _guarded(lambda: verifier(seal, comb), item)
    item_check = item_checker(seal.kind)
    if item_check is not None and rehash and not arts.unsafe:
        problems += _guarded(lambda: item_check(seal), item)
    if seal.status != "complete":
        notes.append(
            f"the item was sealed as {seal.status}"
            + (": the acquisition did not finish" if seal.status == "incomplete" else "")
        )
    return VerifyStatus(
        seal_path=seal_path,
        item_id=item,
        status=seal.status,
        signer=signer,
        signer_fingerprint=fp,
        problems=tuple(problems),
        notes=tuple(notes),
        checked_files=arts.checked + tuple(sums_checked),
        bytes_hashed=arts.bytes_hashed,
        seal_sha256=digest,
    )


NO_VERIFIER = "no-verifier"
"""The problem kind of a seal whose `combined.format` has no media verifier registered
(`hash.seal.plugins`): its media digests, which the signature covers, could not be checked."""


def _no_verifier(comb: Combined) -> Problem:
    return Problem.of_file(
        NO_VERIFIER,
        comb.parts[0] if comb.parts else "combined",
        f"the {comb.format} media digests were not re-computed: no verifier for the format "
        f"{comb.format!r} is registered in this program (the artifact files' digests were "
        "checked)",
    )


def _binding(
    seal: Seal, case_identity: str | None, item_id: str | None
) -> tuple[list[Problem], list[str]]:
    """A seal/2 belongs to one case and one item: the ones it is verified in. An item imaged in
    another case (even by the same examiner, pinned in both) and copied in is `wrong-case`; a
    seal moved to another item's folder and renamed is `wrong-item`."""
    name = seal.path.name
    if not seal.names_case:
        if case_identity is not None:
            return [], ["seal/1: does not name its case (made before seals did)"]
        return [], []
    problems: list[Problem] = []
    notes: list[str] = []
    named = seal.case_identity
    if case_identity is not None and named != case_identity:
        problems.append(
            Problem.of_file(
                "wrong-case",
                name,
                (
                    f"the seal belongs to case {named}, not to this case ({case_identity}): "
                    "the item was made in another case and copied here"
                    if named is not None
                    else f"the seal was made outside any case, not in this case ({case_identity})"
                ),
                expected=case_identity,
                found=named or "null",
            )
        )
    elif case_identity is None:
        notes.append(
            f"the seal names case {named} (not compared: no case given)"
            if named is not None
            else "the seal was made outside any case"
        )
    if item_id is not None and seal.item_id != item_id:
        problems.append(
            Problem.of_file(
                "wrong-item",
                name,
                f"the seal is of item {seal.item_id!r} but lies in the folder of item {item_id!r}",
                expected=item_id,
                found=seal.item_id,
            )
        )
    return problems, notes


def _name_problems(seal: Seal) -> list[Problem]:
    """The artifact names that would be refused, found without touching the file system."""
    out: list[Problem] = []
    for art in seal.artifacts:
        try:
            artifact_location(seal.item_dir, art.name, absolute_ok=seal.in_place)
        except IntegrityError as exc:
            out.append(Problem.of_file("unsafe-name", shown_name(art.name), exc.message))
    return out


def _unsealed_note(seal: Seal) -> str | None:
    """Files in the item folder that the seal does not cover (a note, not a failure: other
    steps may add files later, but a reader should know they are not sealed)."""
    folder = seal.item_dir
    covered = {a.name for a in seal.artifacts}
    sums = seal.document.get("sums")
    if isinstance(sums, dict):
        covered.update(str(v) for v in sums.values())
    covered.add(seal.path.name)
    try:
        names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    except OSError:
        return None
    extra = [n for n in names if n not in covered and not n.startswith(".")]
    if not extra:
        return None
    shown = ", ".join(shown_name(n) for n in extra[:10])
    shown += f" and {len(extra) - 10} more" if len(extra) > 10 else ""
    return f"not covered by the seal: {shown}"


def _guarded(func: Callable[[], list[Problem]], item: str) -> list[Problem]:
    try:
        return list(func())
    except EvidenceKitError as exc:
        return [Problem.of_file("unreadable-file", item, exc.message)]
    except OSError as exc:  # a plug-in's raw I/O error still becomes a reported problem
        where = f" {exc.filename}" if exc.filename else ""
        return [
            Problem.of_file("unreadable-file", item, f"read error{where}: {exc.strerror or exc}")
        ]


def _failed(seal_path: Path, problem: Problem) -> VerifyStatus:
    return VerifyStatus(
        seal_path=seal_path,
        item_id=None,
        status=None,
        signer=None,
        signer_fingerprint=None,
        problems=(problem,),
    )
