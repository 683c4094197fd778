"""Finishing or setting aside an unfinished attempt (docs/commit-protocol.md): `case recover`.

An attempt stopped by a crash, a kill or a full disk stays in `evidence/.staging/ITEM`, and its
id stays reserved. It is in one of two states, and each has one way out:

- **recorded** (the ledger holds the item's seal event, and the staged seal is that seal): the
  crash came between recording and publishing. `publish` finishes the protocol's last step —
  after checking the staged seal verifies and is exactly the one the ledger recorded.
- **not recorded**: nothing about the attempt is in the record. `discard` moves its folder, as it
  is, to `evidence/.discarded/ITEM.<UTC time>` (evidence is never deleted) and records a signed
  case-level `attempt_discarded` event naming the item, the reason and every file with its size;
  the id is then free for a new attempt.

An attempt whose process still runs, or that was started on another host (its process cannot
be seen from here), is left alone.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.errors import CaseError, IntegrityError, UsageError
from evidencekit.fsutil import fsync_dir, make_dirs_inside
from evidencekit.hash.seal.verify import verify_seal
from evidencekit.identity import Identity
from evidencekit.timeutil import compact, utcnow
from evidencekit.workflows.commit import (
    ATTEMPT_SUFFIX,
    STAGING,
    Attempt,
    Reservation,
    drop_if_empty,
    staging_root,
    unfinished,
)
from evidencekit.workflows.custody import list_events, record_event, trusted_with
from evidencekit.workflows.photos import publish_photos, staged_match, staged_photos
from evidencekit.workflows.verifiers import register_verifiers
from evidencekit.workflows.wording import described

register_verifiers()  # a staged item is published only when it verifies with its format checks

DISCARDED = ".discarded"
SEAL_EVENTS = ("acquired", "collected", "sealed", "converted")


@dataclass(frozen=True, slots=True)
class Recovered:
    """What `case recover` did with one attempt."""

    item_id: str
    action: str  # "published" or "discarded"
    folder: Path
    event_seq: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "item": self.item_id,
            "action": self.action,
            "folder": str(self.folder),
            "event": self.event_seq,
        }


def recover(
    case: Case, item_id: str, *, identity: Identity | None = None, discard: str | None = None
) -> Recovered:
    """Publish the recorded attempt at `item_id`, or (with `discard`, the reason) set an
    unrecorded one aside with a signed event by `identity`.

    Raises:
        UsageError: no unfinished attempt for the id, or an empty reason.
        CaseError: its process may still run, or the wrong way out was asked for.
        IntegrityError: the staged seal does not verify or is not the one the ledger recorded.
    """
    attempt = _attempt(case, item_id)
    recorded = _recorded_seal(case, item_id)
    if staged_photos(case, item_id) is not None:  # a `custody register --photo` (photos.py)
        registered = _registered_photos(case, item_id)
        if discard is None:
            return _publish_photos(case, attempt, registered)
        if registered is not None:
            raise CaseError(
                f"the ledger records the photos of {item_id!r} (event {registered[0]}): its "
                "attempt cannot be discarded",
                hint=f"publish them: evidencekit case recover {item_id}",
            )
    elif discard is None:
        return _publish(case, attempt, recorded)
    if not discard.strip():
        raise UsageError("--discard needs a reason", hint='e.g. --discard "power cut at 40 %"')
    if recorded is not None:
        raise CaseError(
            f"the ledger records item {item_id!r} (event {recorded[0]}): its attempt cannot be "
            "discarded",
            hint=f"publish it: evidencekit case recover {item_id}",
        )
    if identity is None:
        raise UsageError("discarding an attempt is recorded: an examiner identity is needed")
    return _discard(case, identity, attempt, discard.strip())


def _attempt(case: Case, item_id: str) -> Attempt:
    for attempt in unfinished(case):
        if attempt.item_id == item_id:
            if attempt.running is not False:
                state = "still running" if attempt.running else "of a process this host cannot see"
                raise CaseError(
                    f"the attempt at {item_id!r} is {state}: {attempt.describe()}",
                    hint="wait for it to end (or stop it) and run this again on its host",
                )
            return attempt
    raise UsageError(
        f"no unfinished attempt for item {item_id!r}",
        hint="`evidencekit case show` lists unfinished attempts",
    )


def _recorded_seal(case: Case, item_id: str) -> tuple[int, str] | None:
    """(seq, seal sha256) of the last event that recorded the item's seal, if any."""
    found = None
    for ev in list_events(case, item_id):
        sha = (ev.get("details") or {}).get("seal_sha256")
        if ev.get("kind") in SEAL_EVENTS and isinstance(sha, str):
            found = (int(ev["seq"]), sha)
    return found


def _publish(case: Case, attempt: Attempt, recorded: tuple[int, str] | None) -> Recovered:
    item = attempt.item_id
    if recorded is None:
        raise CaseError(
            f"the ledger records no seal for the attempt at {item!r}: there is nothing to publish",
            hint=f'set it aside: evidencekit case recover {item} --discard "REASON", then run '
            "the command again",
        )
    seq, want = recorded
    seal = attempt.folder / f"{item}.seal.json"
    try:
        got = hashlib.sha256(seal.read_bytes()).hexdigest()
    except OSError as exc:
        raise IntegrityError(f"cannot read the staged seal {str(seal)!r}: {exc.strerror}") from exc
    if got != want:
        raise IntegrityError(
            f"the staged seal of {item!r} is not the one the ledger recorded (event {seq}): "
            f"sha256 {got}, expected {want}",
            hint="keep the folder as it is and compare it with a backup",
        )
    status = verify_seal(seal, trusted=trusted_with(case))
    if not status.ok:
        first = status.problems[0]
        hint = "keep the folder as it is; `evidencekit verify` on it lists every problem"
        if _is_resume(case, item):
            # `acquire disk --resume` stopped after adding to the sealed image: the seal
            # covers the earlier part only, and the resume itself knows how to go on
            hint = (
                "it is an interrupted `--resume` of the recorded item: continue it with "
                f"`evidencekit acquire disk SOURCE --resume {item}` (or acquire files --resume)"
            )
        raise IntegrityError(
            f"the staged item {item!r} does not verify ({len(status.problems)} problem(s)), "
            f"e.g. {first.text()}",
            hint=hint,
        )
    root = staging_root(case)
    res = Reservation(case, item, attempt.folder, root / f"{item}{ATTEMPT_SUFFIX}")
    return Recovered(item, "published", res.publish(), seq)


def _registered_photos(case: Case, item: str) -> tuple[int, list[dict[str, Any]]] | None:
    """(seq, photos) of the item's `registered` event when it records photos, else None."""
    for ev in list_events(case, item):
        photos = (ev.get("details") or {}).get("photos")
        if ev.get("kind") == "registered" and isinstance(photos, list):
            return int(ev["seq"]), [p for p in photos if isinstance(p, dict)]
    return None


def _publish_photos(
    case: Case, attempt: Attempt, registered: tuple[int, list[dict[str, Any]]] | None
) -> Recovered:
    """Publish the staged photos of a `register` whose event recorded them (after checking
    each staged copy is the recorded one)."""
    item = attempt.item_id
    if registered is None:
        raise CaseError(
            f"the ledger records no registration of {item!r} with photos: there is nothing to "
            "publish",
            hint=f'set it aside: evidencekit case recover {item} --discard "REASON", then run '
            "the command again",
        )
    seq, photos = registered
    wrong = staged_match(attempt.folder, photos)
    if wrong is not None:
        raise IntegrityError(
            f"the staged photos of {item!r} are not the ones the ledger recorded (event {seq}): "
            f"{wrong}",
            hint="keep the folder as it is and compare it with the original photos",
        )
    root = staging_root(case)
    res = Reservation(case, item, attempt.folder, root / f"{item}{ATTEMPT_SUFFIX}")
    return Recovered(item, "published", publish_photos(case, res), seq)


def settle_register(case: Case, item: str, identity: Identity) -> list[str]:
    """Finish an earlier `custody register ITEM --photo` stopped mid-way (its process gone),
    before the item is registered again: publish the photos its recorded event names, or set
    an unrecorded attempt aside (a signed `attempt_discarded` event; the examiner still has
    the photos). Returns what was done, one line each.

    Raises:
        IntegrityError: a recorded attempt's staged photos are not the recorded ones.
        CaseError: it cannot be moved.
    """
    staged = staged_photos(case, item)
    if staged is None or staged[0].running is not False:
        return []  # none, or still running: reserving the id says so
    attempt = staged[0]
    if _registered_photos(case, item) is not None:
        done = recover(case, item)
        return [f"published the photos of {item!r} recorded by event {done.event_seq}"]
    done = recover(
        case,
        item,
        identity=identity,
        discard=f"photos staged by an interrupted `custody register` ({attempt.describe()}), "
        "never recorded",
    )
    return [
        f"set aside the unrecorded photos of an interrupted register of {item!r} in "
        f"{str(done.folder.relative_to(case.path))!r} (event {done.event_seq})"
    ]


def _is_resume(case: Case, item: str) -> bool:
    """Whether the attempt record says the attempt resumes an earlier one (commit.reclaim)."""
    from evidencekit.workflows.commit import record_doc

    return bool(record_doc(staging_root(case) / f"{item}{ATTEMPT_SUFFIX}").get("resumes"))


def _discard(case: Case, identity: Identity, attempt: Attempt, reason: str) -> Recovered:
    item = attempt.item_id
    files = _listing(attempt.folder)
    try:
        make_dirs_inside(case.path, ["evidence", DISCARDED])
    except OSError as exc:
        raise CaseError(
            f"cannot set the attempt at {item!r} aside: cannot make "
            f"{str(Path(case.evidence_dir) / DISCARDED)!r}: {exc.strerror}",
            hint=_room_hint(exc, "nothing was recorded or moved"),
        ) from exc
    pending = _pending_discard(case, item)
    if pending is not None:  # recorded before, not moved yet (a crash between the two)
        seq, target = pending
        _move(case, attempt, target)
        return Recovered(item, "discarded", target, seq)
    target = Path(case.evidence_dir) / DISCARDED / f"{item}.{compact(utcnow())}"
    # recorded first, moved second: a crash between them leaves the attempt in staging under
    # an event that says where it was to go, and the next `--discard` only moves it there
    se = record_event(
        case,
        identity,
        "attempt_discarded",
        None,
        description=described(case, "attempt_set_aside", item=item),
        reason=reason,
        details={
            "item": item,
            "command": attempt.command,
            "started": attempt.started,
            "moved_to": str(target.relative_to(case.path)),
            "files": files,
        },
    )
    _move(case, attempt, target)
    return Recovered(item, "discarded", target, se.seq)


def _room_hint(exc: OSError, then: str) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"free space on the disk that holds the case, then run it again; {then}"
    return f"check that the case folder is writable; {then}"


def _move(case: Case, attempt: Attempt, target: Path) -> None:
    try:
        os.rename(attempt.folder, target)
    except OSError as exc:
        # the discard is recorded (its event names `target`): running it again only moves it
        raise CaseError(
            f"the attempt at {attempt.item_id!r} is recorded as set aside but could not be "
            f"moved to {str(target)!r}: {exc.strerror}",
            hint=_room_hint(exc, "that only moves it: it is recorded once"),
        ) from exc
    fsync_dir(target.parent)
    (staging_root(case) / f"{attempt.item_id}{ATTEMPT_SUFFIX}").unlink(missing_ok=True)
    fsync_dir(staging_root(case))
    drop_if_empty(staging_root(case))


def pending_discard(case: Case, item: str) -> tuple[int, Path] | None:
    """(seq, destination) of the `attempt_discarded` event of the unfinished attempt at `item`
    whose folder was never moved where it says (a crash between the two), else None.

    Raises:
        IntegrityError: the ledger is missing or damaged.
    """
    return _pending_discard(case, item)


def _pending_discard(case: Case, item: str) -> tuple[int, Path] | None:
    """An `attempt_discarded` event for `item` whose folder was never moved where it says."""
    for ev in reversed(list_events(case)):
        details = ev.get("details") or {}
        if ev.get("kind") != "attempt_discarded" or details.get("item") != item:
            continue
        moved_to = details.get("moved_to")
        if not isinstance(moved_to, str) or "/" + DISCARDED + "/" not in "/" + moved_to:
            return None
        target = case.path / moved_to
        if target.parent != Path(case.evidence_dir) / DISCARDED or target.exists():
            return None  # a later attempt, or already moved: this one gets its own event
        return int(ev["seq"]), target
    return None


def _listing(folder: Path) -> list[dict[str, Any]]:
    """Every file of the attempt (relative name, size), without following links."""
    out: list[dict[str, Any]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            st = path.lstat()
            out.append({"name": os.fsdecode(path.relative_to(folder)), "size": st.st_size})
    return out


__all__ = ["DISCARDED", "STAGING", "Recovered", "pending_discard", "recover"]
