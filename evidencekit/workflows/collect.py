"""Collect, seal, record: the `acquire files` use case.

Collects the sources into `evidence/ITEM/ITEM.tar` with `ITEM.dfxml` and `ITEM.manifest.json`,
seals the three (the tar's digests, computed while it was written, are the item's `combined`
digests), and records a signed `collected` custody event. When some files could not be read the
seal's status is `complete-with-errors`, the event says so, and :class:`PartialReadError`
(exit 4) is raised after everything is sealed and recorded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evidencekit.acquire.fs.names import name_fields
from evidencekit.acquire.logical.collect import CollectOutputs, collect
from evidencekit.acquire.logical.manifest import Collection
from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.case import Case
from evidencekit.errors import CaseError, InterruptedError_, PartialReadError, SourceError
from evidencekit.hash.seal.document import DERIVED_ALGORITHMS, Artifact, SealResult, SealStatus
from evidencekit.hash.seal.write import artifact_from_file, seal_item
from evidencekit.identity import Identity
from evidencekit.timeutil import isoformat, utcnow
from evidencekit.workflows.acquire_disk.resume import last_acquisition, set_aside
from evidencekit.workflows.commit import Reservation, Signer, guard, reclaim
from evidencekit.workflows.progress import Accumulated, Progress
from evidencekit.workflows.trust import identity_of

log = logging.getLogger(__name__)

KIND = "tar"
MAX_ERRORS_IN_SEAL = 1000  # the manifest lists every error; the seal lists the first ones


@dataclass(frozen=True, slots=True)
class CollectResult:
    """What `acquire files` reports."""

    item_id: str
    item_dir: Path
    collection: Collection
    outputs: CollectOutputs
    seal: SealResult
    status: SealStatus

    @property
    def errors(self) -> list[dict[str, object]]:
        """Every file that could not be read: its path (and stream), source and error."""
        return _error_list(self.collection)

    @property
    def not_collected(self) -> list[str]:
        """The partitions passed over when collecting every one, each with why."""
        return [r for src in self.collection.sources for r in src.skipped]

    def to_dict(self) -> dict[str, object]:
        return {
            "item": self.item_id,
            "item_dir": str(self.item_dir),
            "status": self.status,
            "container": self.outputs.container.name,
            "dfxml": self.outputs.dfxml.name,
            "manifest": self.outputs.manifest.name,
            "seal": self.seal.path.name,
            "digests": dict(self.outputs.container_hash.digests),
            "summary": self.collection.summary(),
            "errors": self.errors,
            "not_collected": self.not_collected,
            # each image's stored MD5/SHA-1 compared with its media (E01), by source path
            "stored_digests": {
                src.path: src.stored_digests
                for src in self.collection.sources
                if src.stored_digests is not None
            },
        }


def _error_list(collection: Collection, limit: int | None = None) -> list[dict[str, object]]:
    found = []
    for f in collection.errors[:limit]:
        doc: dict[str, object] = dict(name_fields("path", f.entry.path))
        if f.entry.stream is not None:
            doc.update(name_fields("stream", f.entry.stream))
        doc["source"] = f.source
        doc["error"] = f.error or f.entry.error
        found.append(doc)
    return found


def _check_sources(sources: list[Path]) -> None:
    """Every source exists (what it holds is read when it is collected).

    Raises:
        SourceError: one does not.
    """
    for src in sources:
        try:
            os.stat(src)
        except OSError as exc:
            raise SourceError(f"cannot open source {str(src)!r}: {exc.strerror}") from exc


def _redoable(case: Case, item_id: str) -> str | None:
    """The seal sha256 of the incomplete collection `item_id` a redo supersedes (None: it has
    no event yet, an unfinished attempt).

    Raises:
        CaseError: the item is recorded complete, or is not a collection.
    """
    last = last_acquisition(case, item_id)
    if last is None:
        return None
    seq, kind, status, sha = last
    if kind != "collected":
        raise CaseError(
            f"item {item_id!r} was {kind}, not collected: `acquire files --resume` redoes "
            "collections only"
        )
    if status != "incomplete":
        raise CaseError(
            f"item {item_id!r} is recorded {status} (event {seq}): there is nothing to resume",
            hint="a complete collection is never superseded; collect under a new --item id",
        )
    return sha


@dataclass(frozen=True, slots=True)
class CollectRequest:
    """What `acquire files` is asked to do: collect `sources` (folders, files, disk images) as
    item `item_id` (with `resume`: redo that interrupted collection).

    Attributes:
        command_line: recorded in the manifest and the attempt's record (None: not recorded).
        progress: told the bytes copied so far (the total is not known before the walk).
        participants: participant SPECs of those present, recorded in the event's
            `details.participants` (`chain.parties.parse_spec`).
        session: the seizure session it belongs to (must be open; `details.session`).
    """

    item_id: str
    sources: tuple[Path, ...]
    options: CollectOptions = field(default_factory=CollectOptions)
    description: str | None = None
    resume: bool = False
    command_line: str | None = None
    progress: Progress | None = None
    participants: tuple[str, ...] = ()
    session: str | None = None


def collect_item(case: Case, identity: Identity | Signer, request: CollectRequest) -> CollectResult:
    """Collect `request.sources` as item `request.item_id` of `case`, seal it and record custody.

    With `request.resume`, the item is an interrupted collection (sealed incomplete, or
    unfinished in staging): it is redone from the start, the earlier files set aside in
    `evidence/.discarded/`, and its `collected` event supersedes the incomplete one
    (chain/rules.py).

    Raises:
        UsageError: bad id or options.
        SourceError: a source cannot be opened (corrupt or unrecognised image).
        CaseError: the item exists already, or another attempt is writing it.
        CustodyError: the examiner is not pinned in the case (checked before any work).
        AcquisitionError: the output cannot be written.
        PartialReadError: finished and sealed, but some files could not be read (exit 4);
            its `result` is the :class:`CollectResult`.
        InterruptedError_: Ctrl-C; what was collected is sealed and recorded as incomplete.
    """
    from evidencekit.workflows.custody import record_event
    from evidencekit.workflows.wording import described

    item_id, sources, options = request.item_id, list(request.sources), request.options
    description, command_line, resume = request.description, request.command_line, request.resume
    on_progress: Callable[[int], None] | None = None
    if request.progress is not None:
        on_progress = Accumulated(request.progress, f"collecting {item_id}")
    take, supersedes = None, None
    if resume:
        supersedes = _redoable(case, item_id)

        def take(examiner: str) -> Reservation:
            return reclaim(case, item_id, command=command_line, examiner=examiner)[0]

    present: list[dict[str, Any]] = []

    def checks() -> None:
        from evidencekit.workflows.seizure import presence

        present.append(presence(case, request.participants, request.session))
        _check_sources(sources)

    identity, res = guard(
        case,
        identity,
        item_id,
        checks=checks,
        command=command_line,
        take=take,
    )
    item_dir = res.folder  # staging: published as evidence/ITEM once sealed and recorded
    redo: dict[str, Any] | None = None
    if resume:
        where = str(res.recorded().get("resumes") or "unfinished")
        aside = set_aside(case, item_id, item_dir)
        redo = {
            "mode": "redo",
            "resumed": isoformat(utcnow()),
            "earlier": {
                "state": "sealed incomplete" if where == "published" else "unfinished",
                "seal_sha256": supersedes,
            },
            "earlier_files_set_aside": aside,
        }
    try:
        collection, outputs = collect(
            sources,
            item_dir,
            item_id,
            options,
            on_progress=on_progress,
            command_line=command_line,
        )
    except BaseException:
        res.abandon()  # only this attempt's staging folder
        raise
    algorithms = tuple(options.algorithms)
    tar_hash = outputs.container_hash
    # the tar, the DFXML and the manifest are derived artifacts: SHA-256 only; the tar's
    # content carries the chosen digests as the item's `combined`
    tar_digests = {a: h for a, h in tar_hash.digests.items() if a in DERIVED_ALGORITHMS}
    if len(tar_digests) == len(DERIVED_ALGORITHMS):
        artifacts = [Artifact(outputs.container.name, tar_hash.size, tar_digests)]
    else:  # -a without sha256: the tar is read once more for it
        artifacts = [artifact_from_file(item_dir, outputs.container.name, DERIVED_ALGORITHMS)[0]]
    for path in (outputs.dfxml, outputs.manifest):
        artifact, _res = artifact_from_file(item_dir, path.name, DERIVED_ALGORITHMS)
        artifacts.append(artifact)
    errors = collection.errors
    status: SealStatus = "complete-with-errors" if errors else "complete"
    if collection.interrupted:
        status = "incomplete"
    facts = {
        "sources": [s.to_dict() for s in collection.sources],
        "options": collection.options,
        "summary": collection.summary(),
        "read_errors": _error_list(collection, MAX_ERRORS_IN_SEAL),
    }
    if redo is not None:
        facts["resumed"] = redo
    seal = seal_item(
        item_dir,
        item_id,
        identity,
        kind=KIND,
        artifacts=artifacts,
        status=status,
        combined=tar_hash,
        combined_format="raw",
        combined_parts=[outputs.container.name],
        facts=facts,
        description=description,
        started=collection.started,
        finished=collection.finished,
        algorithms=algorithms,
        case_identity=identity_of(case),
    )
    summary = collection.summary()
    record_event(
        case,
        identity,
        "collected",
        item_id,
        description=description
        or described(
            case,
            "collection",
            sources=len(collection.sources),
            files=summary["files"],
            errors=summary["errors"],
        ),
        digests=dict(tar_hash.digests),
        details={
            "kind": KIND,
            "status": status,
            "container": outputs.container.name,
            "seal": seal.path.name,
            "seal_sha256": seal.seal_sha256,
            "sources": [name_fields("path", os.fsencode(s.path)) for s in collection.sources],
            "summary": summary,
            **({"resumed": "redo"} if redo is not None else {}),
            **({"supersedes": supersedes} if supersedes is not None else {}),
            **(present[0] if present else {}),
        },
    )
    res.publish()
    seal = res.final_seal(seal)
    outputs = replace(
        outputs,
        container=res.final / outputs.container.name,
        dfxml=res.final / outputs.dfxml.name,
        manifest=res.final / outputs.manifest.name,
    )
    result = CollectResult(item_id, res.final, collection, outputs, seal, status)
    if collection.interrupted:
        raise InterruptedError_(
            f"interrupted: item {item_id!r} holds what was collected until then, sealed and "
            "recorded as incomplete",
            hint="collect again under a new --item id for a complete collection",
        )
    if errors:
        raise PartialReadError(
            f"collected and sealed item {item_id!r}, but {len(errors)} file(s) could not be read",
            result=result,
            hint=f"see the errors in {outputs.manifest.name}",
        )
    return result
