"""An E01 source's stored MD5/SHA-1, compared with what `acquire disk` read.

A chunk changed with its Adler-32 recomputed reads cleanly; only the digests its maker stored show
it. A mismatch makes the seal `complete-with-errors` and is raised as an integrity failure once the
item is sealed and recorded, unless the examiner accepted it with a reason (recorded in the seal,
the log and the custody event).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from evidencekit.acquire.ewf.stored_digests import (
    compare,
    digests_with_tail,
    not_compared,
    stored_algorithms,
)
from evidencekit.acquire.imaging.acqlog import AcquisitionLog
from evidencekit.acquire.source.adapter import MediaSource
from evidencekit.errors import SourceError
from evidencekit.workflows.acquire_disk.facts import Job, Outcome


def check_stored_digests(
    src: MediaSource,
    job: Job,
    outcome: Outcome,
    lg: AcquisitionLog,
    warnings: list[str],
    on_progress: Callable[[int, int], None] | None,
    on_phase: Callable[[str, int], None] | None,
) -> Outcome:
    """`outcome` with its stored-digest check, and its status lowered on a mismatch."""
    stored = src.stored_digests
    result = outcome.result
    if not stored or result is None or outcome.failure is not None:
        return outcome
    size = src.info.size
    if outcome.extents:
        check = not_compared(
            stored, "unreadable chunks were zero-filled: the media read is not the one stored", size
        )
        lg.event(f"stored digests not compared: {check.not_compared}")
        return replace(outcome, stored=check)
    computed = dict(result.hashes.digests)
    try:
        tail = src.stored_tail()
        if tail:
            # libewf keeps a stream's last partial sector in the last chunk and in its MD5
            lg.event(
                f"the source stores {len(tail)} bytes past its media size of {size} (a partial "
                "last sector); its stored digests cover them: hashing media and those bytes"
            )
            if on_phase:
                on_phase("checking the stored digests", size)
            computed = digests_with_tail(
                src.read_at,
                size,
                stored_algorithms(stored),
                tail,
                (lambda done: on_progress(done, 0)) if on_progress else None,
            )
    except SourceError as exc:
        check = not_compared(stored, exc.message, size)
        lg.event(f"stored digests not compared: {check.not_compared}")
        warnings.append(f"the source's stored digests could not be compared: {exc.message}")
        return replace(outcome, stored=check)
    check = compare(
        stored,
        computed,
        size + len(tail),
        tail_bytes=len(tail),
        accepted=job.options.accept_stored_digest_mismatch,
    )
    for algo, where, value in stored:
        lg.event(f"stored {algo.upper()} ({where}) {value}")
    if check.ok:
        lg.event("stored digests: match what was read")
        return replace(outcome, stored=check)
    lg.event(f"STORED DIGEST MISMATCH: {check.message()}")
    if check.accepted:
        lg.event(f"mismatch accepted by the examiner: {check.accepted}")
        warnings.append(f"{check.message()} (accepted: {check.accepted})")
    status = "complete-with-errors" if outcome.status == "complete" else outcome.status
    return replace(outcome, stored=check, status=status)
