"""Reading back what `acquire disk` wrote (and with --verify-source the source): digests match?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evidencekit.acquire.imaging.acqlog import AcquisitionLog
from evidencekit.acquire.imaging.imager import hash_image, hash_source
from evidencekit.acquire.source.adapter import MediaSource
from evidencekit.errors import EvidenceKitError
from evidencekit.workflows.acquire_disk.facts import Job, Outcome
from evidencekit.workflows.acquire_disk.options import KINDS


@dataclass(frozen=True, slots=True)
class Readback:
    """What reading back found: the seal's `verification` facts, and what to raise once sealed."""

    verification: dict[str, Any]
    integrity_problem: str | None  # the image(s) read back with other digests, or not at all
    interrupted: bool  # Ctrl-C during the read-back (the image itself is complete)


def verify_readback(
    src: MediaSource,
    job: Job,
    outcome: Outcome,
    lg: AcquisitionLog,
    warnings: list[str],
    on_progress: Callable[[int, int], None] | None,
    on_phase: Callable[[str, int], None] | None,
) -> Readback:
    """Re-read the image(s) (and with --verify-source the source) and compare digests."""

    def step(done: int) -> None:
        if on_progress is not None:
            on_progress(done, 0)

    verification: dict[str, Any] = {}
    integrity_problem: str | None = None
    verify_interrupted = False
    options, algorithms = job.options, job.algorithms
    result, extents = outcome.result, outcome.extents
    try:
        if result is not None:
            kind = KINDS[options.format]
            for label, paths in zip(("image", "copy"), result.paths, strict=False):
                if not options.verify:
                    verification[label] = "skipped (--no-verify)"
                    continue
                if on_phase:
                    on_phase(f"verifying {label}", result.size)
                lg.event(f"verifying the {label}: re-reading {', '.join(p.name for p in paths)}")
                try:
                    again = hash_image(
                        paths, "e01" if kind == "e01" else "raw", algorithms, on_progress=step
                    )
                except (OSError, EvidenceKitError) as exc:
                    verification[label] = f"unreadable: {exc}"
                    integrity_problem = f"the {label} cannot be read back: {exc}"
                    continue
                same = all(again.digests[a] == result.hashes.digests[a] for a in algorithms)
                same = same and again.size == result.size
                verification[label] = "match" if same else "MISMATCH"
                lg.event(f"{label} verification: {verification[label]}")
                if not same:
                    integrity_problem = (
                        f"the {label} written to {str(paths[0].parent)!r} reads back with other "
                        "digests than the source gave"
                    )
            if options.verify_source:
                if on_phase:
                    on_phase("re-reading the source", result.size)
                lg.event("verifying the source: reading it again")
                try:
                    again, again_bad = hash_source(src, algorithms, on_progress=step)
                    same = all(again.digests[a] == result.hashes.digests[a] for a in algorithms)
                    verification["source"] = "match" if same else "DIFFERENT"
                    if not same:
                        msg = "the source delivered different data on the second read"
                        if extents or again_bad:
                            msg += " (it has unreadable sectors)"
                        warnings.append(msg)
                        lg.event(msg)
                        for alg, hexd in again.digests.items():
                            lg.add(f"  second read {alg:8} {hexd}")
                except (OSError, EvidenceKitError) as exc:
                    verification["source"] = f"unreadable: {exc}"
                    warnings.append(f"the source could not be read again: {exc}")
                lg.event(f"source verification: {verification['source']}")
    except KeyboardInterrupt:
        verify_interrupted = True
        verification["interrupted"] = True
        lg.event("verification INTERRUPTED (Ctrl-C); the image itself is complete")
    return Readback(verification, integrity_problem, verify_interrupted)
