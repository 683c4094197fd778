"""The item commit protocol: one guard called first, an atomic id reservation, a staging folder,
and publication by rename (docs/commit-protocol.md).

Every command that writes an evidence item (`seal`, `acquire disk`, `acquire files`, `convert`)
calls :func:`guard` before any work: the item id is valid and free, the command's own checks of
its arguments and sources pass, the examiner is pinned in the case (known from the identity's
certificate before its key is unlocked), the key unlocks, and then the id is reserved by
``mkdir evidence/.staging/ITEM`` — one atomic step on a local file system and on NFS alike, so
of two commands racing for one id exactly one gets it and the other fails without touching
anything. The work is written into that staging folder, sealed and recorded there, and then
:meth:`Reservation.publish` renames the folder to ``evidence/ITEM``. A crash before the rename
leaves the attempt in ``evidence/.staging/`` (with ``ITEM.attempt.json`` saying who made it), where
:func:`unfinished` finds it and `case show` lists it; it never looks like a finished item.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.errors import (
    CaseError,
    CustodyError,
    EvidenceKitError,
    InterruptedAfterRecording,
)
from evidencekit.fsutil import UnsafeFileError, atomic_write, fsync_dir, make_dirs_inside
from evidencekit.fsutil import command_line as fs_command_line
from evidencekit.hash.seal.document import SealResult
from evidencekit.identity import Identity, IdentityStore
from evidencekit.ids import check_item_id
from evidencekit.timeutil import isoformat, utcnow

log = logging.getLogger(__name__)

STAGING = ".staging"  # item ids never start with "."
ATTEMPT_SUFFIX = ".attempt.json"
ATTEMPT_SCHEMA = "evidencekit/attempt/1"


@dataclass(frozen=True, slots=True)
class Signer:
    """An examiner identity whose key is unlocked only when needed: `name` and `fingerprint`
    come from the stored identity's metadata, so pinning is checked before a passphrase is
    asked for; `unlock()` returns the :class:`Identity` (and is re-checked once unlocked)."""

    name: str
    fingerprint: str
    unlock: Callable[[], Identity]


def lazy_identity(
    store: IdentityStore, selector: str | None, unlock: Callable[[], Identity]
) -> Signer:
    """A :class:`Signer` for the identity `selector` of `store` (an IdentityStore).

    Raises:
        IdentityError: no identity, or several, match.
    """
    info = store.find(selector)
    return Signer(info.name, info.fingerprint, unlock)


@dataclass(frozen=True, slots=True)
class Attempt:
    """An unfinished attempt at writing an item: its staging folder and who started it."""

    item_id: str
    folder: Path
    command: str | None
    pid: int | None
    host: str | None
    started: str | None
    examiner: str | None
    machine: str | None = None  # /etc/machine-id of the host that started it
    boot: str | None = None  # that host's boot id when it started

    @property
    def running(self) -> bool | None:
        """Whether its process still runs (None: started on another host, or unknown).

        The host name alone does not tell two workstations apart (cloned machines, a default
        name): an attempt whose record names another machine id is another host's, whatever its
        host name, and its pid says nothing here. One of this machine from before its last boot
        has no process left."""
        if self.pid is None or self.host != socket.gethostname():
            return None
        here = machine_ids()
        if self.machine is not None and self.machine != here[0]:
            return None
        if self.boot is not None and here[1] is not None and self.boot != here[1]:
            return False
        return _alive(self.pid)

    def describe(self) -> str:
        who = f"pid {self.pid} on {self.host}" if self.pid is not None else "an unknown process"
        when = f" since {self.started}" if self.started else ""
        cmd = f"`{self.command}`" if self.command else "a command"
        state = {True: "still running", False: "no longer running", None: "state unknown"}[
            self.running
        ]
        return f"{cmd} by {who}{when} ({state})"

    def to_dict(self) -> dict[str, object]:
        return {
            "item": self.item_id,
            "folder": str(self.folder),
            "command": self.command,
            "pid": self.pid,
            "host": self.host,
            "started": self.started,
            "examiner": self.examiner,
            "running": self.running,
        }


def staging_root(case: Case) -> Path:
    return Path(case.evidence_dir) / STAGING


def _read_attempt(root: Path, item_id: str) -> Attempt:
    doc: dict[str, Any] = {}
    try:
        loaded = json.loads((root / f"{item_id}{ATTEMPT_SUFFIX}").read_text("utf-8"))
        if isinstance(loaded, dict):
            doc = loaded
    except (OSError, ValueError):
        pass  # killed before the record was written: the folder alone says enough
    pid = doc.get("pid")
    return Attempt(
        item_id=item_id,
        folder=root / item_id,
        command=str(doc["command"]) if doc.get("command") else None,
        pid=pid if isinstance(pid, int) else None,
        host=str(doc["host"]) if doc.get("host") else None,
        started=str(doc["started"]) if doc.get("started") else None,
        examiner=str(doc["examiner"]) if doc.get("examiner") else None,
        machine=str(doc["machine"]) if doc.get("machine") else None,
        boot=str(doc["boot"]) if doc.get("boot") else None,
    )


def machine_ids() -> tuple[str | None, str | None]:
    """This host's machine id (systemd's /etc/machine-id, else D-Bus's) and boot id (Linux), or
    None where there is none: recorded in an attempt so that another workstation that happens
    to have the same host name never judges its process by a pid of its own."""
    found: list[str | None] = []
    for paths in (
        ("/etc/machine-id", "/var/lib/dbus/machine-id"),
        ("/proc/sys/kernel/random/boot_id",),
    ):
        value = None
        for path in paths:
            try:
                value = Path(path).read_text("ascii").strip() or None
            except (OSError, ValueError):
                continue
            if value:
                break
        found.append(value)
    return found[0], found[1]


def unfinished(case: Case) -> list[Attempt]:
    """Every unfinished attempt in the case (a staging folder not yet published), by id.

    What a finished or killed attempt left behind without a folder is cleared first
    (`clear_stale`)."""
    root = staging_root(case)
    if not root.is_dir():
        return []
    clear_stale(case)
    try:
        entries = sorted(root.iterdir())
    except FileNotFoundError:  # nothing was left in it, and it went
        return []
    found = []
    for entry in entries:
        if entry.is_dir() and not entry.name.startswith("."):
            found.append(_read_attempt(root, entry.name))
    return found


def clear_stale(case: Case) -> list[str]:
    """Remove what an attempt that is over left in `evidence/.staging` besides a folder, and
    return the names removed:

    - a record whose folder is gone, when its item is published (killed between the rename
      and the record's removal; not a resume's record of the published item while its process
      may run: it is taking the item back) or its process is gone (killed after the record was
      linked and before its folder was made, or while its attempt was being removed or set
      aside): nothing of that attempt remains in staging;
    - a record's temporary copy (`.ITEM.attempt.json.PID@HOST.….tmp`) whose process, of this
      host, is gone;
    - a resume's claim (`.ITEM.claimed.PID@HOST`, the earlier record) whose process, of this
      host, is gone: put back as the record when the resume was killed before writing its
      own, removed otherwise.

    A record of a process that may still run, or of another host, is left alone, and so is
    anything that cannot be read. Never touches a folder.
    """
    root = staging_root(case)
    removed: list[str] = []
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return removed
    host = socket.gethostname()
    for entry in entries:
        name = entry.name
        if name.endswith(ATTEMPT_SUFFIX) and not name.startswith("."):
            item_id = name[: -len(ATTEMPT_SUFFIX)]
            if os.path.lexists(root / item_id):
                continue
            attempt = _read_attempt(root, item_id)
            published = (Path(case.evidence_dir) / item_id).is_dir()
            if not (published or attempt.running is False):
                continue
            if (
                published
                and attempt.running is not False
                and record_doc(entry).get("resumes") == "published"
            ):
                # a resume of the published item that linked its record and has not renamed
                # the item back yet (or has published it and not yet removed the record): the
                # record is its reservation while its process may run, here or on another host
                continue
        elif name.startswith(".") and ".claimed." in name:
            item_id, _, owner = name[1:].partition(".claimed.")
            pid, _, where = owner.partition("@")
            if where != host or not pid.isdigit() or _alive(int(pid)):
                continue
            record = root / f"{item_id}{ATTEMPT_SUFFIX}"
            if (root / item_id).is_dir() and not os.path.lexists(record):
                # a resume killed after claiming the attempt and before writing its own
                # record: the earlier record goes back, as if it had never been claimed
                try:
                    if entry.stat().st_size:
                        os.replace(entry, record)
                        log.info("put back the record %s of a claim that was killed", record)
                        removed.append(name)
                        continue
                except OSError:
                    continue
        elif name.startswith(".") and name.endswith(".tmp") and ATTEMPT_SUFFIX + "." in name:
            owner = name.rsplit(ATTEMPT_SUFFIX + ".", 1)[1].split(".", 1)[0]
            pid, _, where = owner.partition("@")
            if where != host or not pid.isdigit() or _alive(int(pid)):
                continue
            item_id = name[1:].rsplit(ATTEMPT_SUFFIX + ".", 1)[0]
            record = root / f"{item_id}{ATTEMPT_SUFFIX}"
            if (root / item_id).is_dir() and not os.path.lexists(record):
                # without hard links the folder is made first: killed before the record was
                # renamed in, the reservation is finished so that its attempt names its process
                try:
                    os.replace(entry, record)
                except OSError:
                    continue
                log.info("finished the record %s of an attempt killed while reserving", record)
                removed.append(name)
                continue
        else:
            continue
        try:
            entry.unlink()
        except OSError:
            continue  # read-only media, or another command cleared it first
        log.info("removed %s, left by an attempt that is over", entry)
        removed.append(name)
    if removed:
        fsync_dir(root)
        drop_if_empty(root)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _refuse_taken(case: Case, item_id: str) -> None:
    """Raise if `item_id` is already an item or being written.

    Raises:
        CaseError: it is.
    """
    final = Path(case.evidence_dir) / item_id
    for planted in (Path(case.evidence_dir), final):
        if planted.is_symlink():
            raise UnsafeFileError(
                f"{str(planted)!r} is a symbolic link: evidencekit writes only into real "
                "folders of the case",
                hint="remove the link (an item folder is never a link); nothing was written",
            )
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise CaseError(
            f"item {item_id!r} already exists in {str(case.evidence_dir)!r}",
            hint="choose another --item id",
        )
    root = staging_root(case)
    clear_stale(case)
    if (root / item_id).exists() or (root / f"{item_id}{ATTEMPT_SUFFIX}").exists():
        attempt = _read_attempt(root, item_id)
        raise CaseError(
            f"item {item_id!r} is reserved by another attempt: {attempt.describe()}; its "
            f"files are in {str(attempt.folder)!r}",
            hint="choose another --item id"
            + (
                "; `evidencekit case show` lists unfinished attempts"
                if attempt.running is not True
                else ""
            ),
        )


class Reservation:
    """An item id held by this process: write into `folder`, then :meth:`publish`."""

    def __init__(self, case: Case, item_id: str, folder: Path, record: Path) -> None:
        self.case = case
        self.item_id = item_id
        self.folder = folder  # evidence/.staging/ITEM: everything in it is this attempt's
        self.record = record  # evidence/.staging/ITEM.attempt.json
        self.final = Path(case.evidence_dir) / item_id
        self.published = False
        # set once the attempt holds something not to be thrown away on failure (part of an
        # image): it then stays in staging, listed as unfinished, instead of being removed
        self.keep = False

    def publish(self) -> Path:
        """Rename the staging folder to `evidence/ITEM` (durably) and drop the attempt record.

        Raises:
            CaseError: the rename failed (the attempt stays in staging, listed as unfinished).
        """
        try:
            os.rename(self.folder, self.final)
        except OSError as exc:
            raise CaseError(
                f"item {self.item_id!r} is sealed in {str(self.folder)!r} but could not be "
                f"moved to {str(self.final)!r}: {exc.strerror}",
                hint="`evidencekit case show` lists it as unfinished; move it there by hand",
            ) from exc
        self.published = True
        self._settle()
        return self.final

    def _settle(self) -> None:
        """After the rename: make it durable and drop the attempt record (a record left by a
        kill here is cleared by the next command, `clear_stale`)."""
        fsync_dir(self.final.parent)
        self.record.unlink(missing_ok=True)
        drop_if_empty(self.record.parent)

    def interrupted_after_recording(self) -> InterruptedAfterRecording:
        """The interruption of a command whose item is recorded (call only then): where the
        item is, and how to finish publishing it when the rename has not happened."""
        if self.published:
            return InterruptedAfterRecording(
                f"interrupted after item {self.item_id!r} was sealed, recorded and published in "
                f"{str(self.final)!r}: it is complete"
            )
        return InterruptedAfterRecording(
            f"interrupted after item {self.item_id!r} was sealed and recorded, before it was "
            f"published: `evidencekit case recover {self.item_id}` publishes it"
        )

    def note(self, **fields: object) -> None:
        """Add `fields` to the attempt record (atomically): what a later resume must know, such
        as the source an acquisition reads and its options."""
        doc = record_doc(self.record)
        doc.update(fields)
        atomic_write(self.record, record_bytes(doc))

    def recorded(self) -> dict[str, Any]:
        """The attempt record as written (empty when it cannot be read)."""
        return record_doc(self.record)

    def final_seal(self, seal: SealResult) -> SealResult:
        """`seal` with its paths where they are once published."""
        return replace(
            seal,
            path=self.final / seal.path.name,
            sums_files=tuple(self.final / p.name for p in seal.sums_files),
        )

    def abandon(self) -> None:
        """Remove this attempt: its staging folder (made by this process, so nothing in it is
        anyone else's) and its record. Never touches `evidence/ITEM`."""
        if self.published or self.keep:
            return
        shutil.rmtree(self.folder, ignore_errors=True)
        self.record.unlink(missing_ok=True)
        drop_if_empty(self.record.parent)


def hint_if_full(exc: BaseException, then: str) -> None:
    """Give an error caused by a full disk that says nothing of what to do (the seal's own
    writer, for one) the hint every full-disk error gives; `then`: what was left."""
    cause = exc.__cause__ if not isinstance(exc, OSError) else exc
    if (
        isinstance(exc, EvidenceKitError)
        and not exc.hint
        and isinstance(cause, OSError)
        and cause.errno in (errno.ENOSPC, errno.EDQUOT)
    ):
        exc.hint = f"free space on the disk that holds the case, then run the command again; {then}"


def drop_if_empty(root: Path) -> None:
    """Remove `evidence/.staging` once it holds nothing, so that `evidence/` lists only items
    when no attempt is under way (a concurrent reserve retries if it loses this race)."""
    try:
        os.rmdir(root)
    except OSError:
        return  # not empty: another attempt is under way or unfinished
    fsync_dir(root.parent)


def reserve(
    case: Case, item_id: str, *, command: str | None = None, examiner: str = ""
) -> Reservation:
    """Reserve `item_id` atomically: the attempt record ``evidence/.staging/ITEM.attempt.json``
    is created by ``link`` (which, like ``mkdir``, either creates the name or fails with
    ``EEXIST``, on a local file system and on NFS), already holding who made it; then the
    staging folder is made. So an attempt is never without its record: a kill at any instant
    leaves either nothing, a record alone (nothing written yet; cleared by the next command once
    its process is gone), or a folder with its record.

    Raises:
        CaseError: the id is an item already, or another attempt holds it (that attempt's
            files are left alone), or the staging folder cannot be made.
    """
    check_item_id(item_id)
    _refuse_taken(case, item_id)
    root = staging_root(case)
    folder = root / item_id
    record = root / f"{item_id}{ATTEMPT_SUFFIX}"
    data = record_bytes(_attempt_doc(item_id, command, examiner))
    linked = True
    for tries_left in range(8, -1, -1):
        try:
            # never through a link planted at evidence/ or evidence/.staging: the attempt
            # would be written outside the case
            make_dirs_inside(case.path, ["evidence", STAGING])
            linked = _link_record(root, record, data)
            break
        except FileExistsError:
            _refuse_taken(case, item_id)
            raise CaseError(f"item {item_id!r} is reserved by another attempt") from None
        except FileNotFoundError as exc:
            # another attempt removed the empty staging root between our two steps
            if not tries_left:
                raise CaseError(f"cannot reserve item {item_id!r}: {exc.strerror}") from exc
        except UnsafeFileError:
            raise
        except OSError as exc:
            raise CaseError(
                f"cannot reserve item {item_id!r} in {str(root)!r}: {exc.strerror}",
                hint=_no_room_hint(exc),
            ) from exc
    res = Reservation(case, item_id, folder, record)
    if linked:
        _make_folder(res)
    try:
        # the final name may have appeared between the check and the reservation (published by
        # an attempt that held the reservation until then): the staging folder is ours to remove
        final = res.final
        if os.path.lexists(final) and (
            final.is_symlink() or not final.is_dir() or any(final.iterdir())
        ):
            raise CaseError(
                f"item {item_id!r} already exists in {str(case.evidence_dir)!r}",
                hint="choose another --item id",
            )
    except BaseException:
        res.abandon()
        raise
    return res


def _rename_noreplace(src: Path, dst: Path) -> None:
    """rename(2) that fails with EEXIST instead of replacing an (empty) folder at `dst`: a plain
    rename would silently take over a reservation another command just made there.

    Raises:
        OSError: as renameat2 (or, where it is not available, rename after a check).
    """
    import ctypes
    import errno

    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is not None:
        at_fdcwd, rename_noreplace = -100, 1
        if fn(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), rename_noreplace) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS):  # not supported here (some NFS): fall back
            raise OSError(err, os.strerror(err), str(src))
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


def reclaim(
    case: Case, item_id: str, *, command: str | None = None, examiner: str = ""
) -> tuple[Reservation, str]:
    """Take an interrupted item back into staging to resume or redo it (`acquire disk
    --resume`): a published item (sealed incomplete) is renamed from `evidence/ITEM` to
    `evidence/.staging/ITEM`; an unfinished attempt whose process is gone is claimed by
    renaming its attempt record (of two resuming commands exactly one succeeds). What the item
    holds is judged by the caller, which puts a published item back with `publish()` when it
    must not be resumed.

    Returns:
        The reservation (its folder holds the earlier attempt's files; `keep` is set) and where
        they were: "published" or "unfinished".

    Raises:
        UsageError: no item or attempt of that id.
        CaseError: the attempt still runs (or ran on another host), or another command took it.
    """
    from evidencekit.errors import UsageError

    check_item_id(item_id)
    root = staging_root(case)
    folder = root / item_id
    record = root / f"{item_id}{ATTEMPT_SUFFIX}"
    final = Path(case.evidence_dir) / item_id
    doc = _attempt_doc(item_id, command, examiner)
    claimed: Path | None = None
    if folder.is_dir() and not folder.is_symlink():
        clear_stale(case)  # a claim killed half way is undone first (its process is gone)
        attempt = _read_attempt(root, item_id)
        if attempt.running is not False and attempt.pid is not None:
            state = "still running" if attempt.running else "of another host"
            raise CaseError(
                f"the attempt at {item_id!r} is {state}: {attempt.describe()}",
                hint="wait for it to end (or stop it) and resume it on its host",
            )
        claimed = root / f"{CLAIM_PREFIX.format(item=item_id)}{os.getpid()}@{socket.gethostname()}"
        try:
            if attempt.pid is not None:
                os.rename(record, claimed)  # the loser of two resumes gets ENOENT here
            else:
                os.close(os.open(claimed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except OSError as exc:
            raise CaseError(
                f"item {item_id!r} was taken by another command while this one resumed it",
                hint="`evidencekit case show` lists unfinished attempts",
            ) from exc
        where = "unfinished"
        doc["resumes"] = where
        old = record_doc(claimed)
        if old.get("acquisition") is not None:
            doc["acquisition"] = old["acquisition"]  # what the earlier attempt read, and how
        if old.get("discarded_segments") is not None:
            # segments an earlier resume of it set aside: named again by the one that finishes
            doc["discarded_segments"] = old["discarded_segments"]
        if old:
            doc["earlier"] = {k: old.get(k) for k in ("command", "pid", "host", "started")}
        # killed from the rename above to the removal of the claim: `clear_stale` puts the
        # earlier record back (no new one yet) or drops the claim (the new one is written)
        _write_claim(record, doc)
        _drop_claim(claimed)
    elif final.is_dir() and not final.is_symlink():
        make_dirs_inside(case.path, ["evidence", STAGING])
        doc["resumes"] = where = "published"
        # the record first, linked as a reservation is (one of two resumes gets it): killed
        # before the rename below, the item is still published and the record, of a process
        # that is gone, is cleared by the next command
        _reclaim_published(root, record, record_bytes(doc), final, folder)
    else:
        raise UsageError(
            f"there is no item or unfinished attempt {item_id!r} to resume",
            hint="`evidencekit case show` lists items and unfinished attempts",
        )
    res = Reservation(case, item_id, folder, record)
    res.keep = True
    fsync_dir(root)
    return res, where


CLAIM_PREFIX = ".{item}.claimed."
"""A resume claims an unfinished attempt by renaming its record to `.ITEM.claimed.PID@HOST`."""


def _write_claim(record: Path, doc: dict[str, Any]) -> None:
    """The resuming command's own attempt record, once it holds the claim."""
    atomic_write(record, record_bytes(doc))


def _drop_claim(claimed: Path) -> None:
    """The claim is done: its file (the earlier record) goes."""
    claimed.unlink(missing_ok=True)


def _reclaim_published(root: Path, record: Path, data: bytes, final: Path, folder: Path) -> None:
    """Write the resume's record, then rename the published item back into staging. Without
    hard links (FAT, exFAT, some SMB) the record is renamed in after the item: a kill between
    the two leaves the folder and the temporary record, which `clear_stale` renames in once the
    process is gone (as for a reservation).

    Raises:
        CaseError: another command holds the id, or the record or the rename failed.
    """
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(record.name), suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, record)
            linked = True
        except FileExistsError:
            raise CaseError(
                f"item {final.name!r} was taken by another command while this one resumed it",
                hint="`evidencekit case show` lists unfinished attempts",
            ) from None
        except OSError as exc:
            if exc.errno not in NO_LINKS:
                raise
            linked = False
        fsync_dir(root)
        _take_back(final, folder, root, record if linked else None)
        if not linked:
            _rename_record(tmp, record)
    except OSError as exc:
        raise CaseError(
            f"cannot take item {final.name!r} back into {str(root)!r} to resume it: {exc.strerror}",
            hint=_no_room_hint(exc),
        ) from exc
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _take_back(final: Path, folder: Path, root: Path, record: Path | None) -> None:
    """Rename the published item back into staging (never over anything).

    Raises:
        CaseError: the rename failed (the record linked for it is removed).
    """
    try:
        _rename_noreplace(final, folder)
    except OSError as exc:
        if record is not None:
            record.unlink(missing_ok=True)
        raise CaseError(
            f"cannot take item {final.name!r} back into {str(root)!r} to resume it: {exc.strerror}",
            hint="another command may hold it; `evidencekit case show` lists attempts",
        ) from exc
    fsync_dir(final.parent)


def _attempt_doc(item_id: str, command: str | None, examiner: str) -> dict[str, Any]:
    """What an attempt record says of the attempt: who runs it, where, since when, and how."""
    return {
        "schema": ATTEMPT_SCHEMA,
        "item": item_id,
        "command": fs_command_line([os.path.basename(sys.argv[0]), *sys.argv[1:]])
        if command is None
        else fs_command_line([command]),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": isoformat(utcnow()),
        "examiner": examiner,
        **{k: v for k, v in zip(("machine", "boot"), machine_ids(), strict=True) if v},
    }


def record_bytes(doc: dict[str, Any]) -> bytes:
    """An attempt record's bytes: UTF-8 JSON, readable as it is; a value holding a name that is
    not UTF-8 (a source path in Latin-1, carried as surrogate escapes) makes the whole record
    ASCII JSON with `\\udcNN` escapes instead, which reads back to exactly the same value."""
    try:
        return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(doc, ensure_ascii=True, indent=2).encode("ascii")


def record_doc(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


NO_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS)
"""What `link` fails with on a file system without hard links (FAT, exFAT, some SMB shares)."""


def link_into_place(partial: Path, final: Path, drop: Callable[[Path], None] = os.unlink) -> None:
    """Give the finished file `partial` the name `final`, never over another file: linked to it
    (FileExistsError when the name is taken), then its temporary name dropped (`drop`); on a file
    system without hard links, renamed while the name is still free. The folder is fsync'ed.

    Raises:
        OSError: the name is taken (FileExistsError), or the link, rename or fsync failed.
    """
    try:
        os.link(partial, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in NO_LINKS or os.path.lexists(final):
            raise
        os.rename(partial, final)  # no hard links here: renamed while the name is free
    else:
        drop(partial)
    fsync_dir(final.parent)


def _link_record(root: Path, record: Path, data: bytes) -> bool:
    """Create `record` holding `data`, atomically and exclusively: written and fsync'ed under a
    name of its own, then linked to `record` (EEXIST if another attempt holds it).

    Returns:
        True when linked (the caller then makes the folder); False on a file system without
        hard links, where the folder's `mkdir` reserved the id and the record was renamed in
        after it (a kill between the two leaves the folder and the temporary record, which
        `clear_stale` renames in once the process is gone).

    Raises:
        FileExistsError: another attempt holds the id.
        OSError: the record cannot be written.
    """
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(record.name), suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, record)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in NO_LINKS:
                raise
            folder = record.with_name(record.name[: -len(ATTEMPT_SUFFIX)])
            os.mkdir(folder)  # EEXIST: taken
            try:
                _rename_record(tmp, record)
            except BaseException:
                os.rmdir(folder)  # ours and empty: nothing is left without its record
                raise
            fsync_dir(root)
            return False
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    fsync_dir(root)
    return True


def _no_room_hint(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free space on the disk that holds the case, then run the command again; " + (
            "nothing was written"
        )
    return "check that the case folder is writable; nothing was written"


def _tmp_prefix(record_name: str, pid: int | None = None, host: str | None = None) -> str:
    """The name a record is written under before it is linked: whose it is, so that one left
    by a killed process is recognised (`clear_stale`)."""
    return f".{record_name}.{pid or os.getpid()}@{host or socket.gethostname()}."


def _rename_record(tmp: str, record: Path) -> None:
    """Without hard links: put the record in place once the folder holds the id (a kill
    before this leaves the temporary record, which `clear_stale` renames in)."""
    os.replace(tmp, record)


def _make_folder(res: Reservation) -> None:
    """Make the reservation's staging folder (its record exists: the id is ours).

    Raises:
        CaseError: a folder is there already (an attempt without a record, made by an older
            version): it is left alone.
    """
    try:
        os.mkdir(res.folder)
    except FileExistsError:
        res.record.unlink(missing_ok=True)
        raise CaseError(
            f"item {res.item_id!r} is reserved by another attempt: its files are in "
            f"{str(res.folder)!r}",
            hint="`evidencekit case show` lists unfinished attempts",
        ) from None
    except OSError as exc:
        res.record.unlink(missing_ok=True)
        raise CaseError(
            f"cannot reserve item {res.item_id!r}: cannot make {str(res.folder)!r}: {exc.strerror}",
            hint=_no_room_hint(exc),
        ) from exc
    fsync_dir(res.folder.parent)


def _check_pinned(case: Case, name: str, fp: str) -> None:
    """Pinned by the case's ledger (`workflows.trust`), not only listed in `case.toml`: what an
    examiner the ledger does not pin signs fails every verification, so no work is started."""
    from evidencekit.workflows.trust import case_trust

    trust = case_trust(case)
    # a case with CA anchors: an examiner it does not pin may be trusted through them, which
    # the append checks (workflows.custody.present_chain) before anything is recorded
    if not case.is_pinned(fp) and trust.through_ca(fp):
        return
    if not case.is_pinned(fp) or fp not in trust.signers:
        raise CustodyError(
            f"examiner {name!r} ({fp[:16]}) is not pinned in case "
            f"{case.info.number!r}: the item could not "
            "be recorded in its custody ledger (or the ledger revoked them)",
            hint="a pinned examiner adds them: evidencekit case add-examiner CERT.pem",
        )


def guard(
    case: Case,
    identity: Identity | Signer,
    item_id: str,
    *,
    checks: Callable[[], object] | None = None,
    command: str | None = None,
    take: Callable[[str], Reservation] | None = None,
) -> tuple[Identity, Reservation]:
    """Everything an item-writing command must know before any work, in this order: the id is
    valid and free; `checks()` (the command's arguments and sources) passes; the examiner is
    pinned; the key unlocks (a :class:`Signer` is unlocked only now); the id is reserved.

    Returns:
        The unlocked identity and the reservation (write into `reservation.folder`).

    Raises:
        UsageError: an invalid id (or what `checks` raises).
        CaseError: the id is taken or being written by another attempt.
        CustodyError: the examiner is not pinned in the case.
        IdentityError: the key does not unlock.
    """
    check_item_id(item_id)
    if take is None:
        _refuse_taken(case, item_id)
    if checks is not None:
        checks()
    _check_pinned(case, identity.name, identity.fingerprint)
    if isinstance(identity, Signer):
        identity = identity.unlock()
        _check_pinned(case, identity.name, identity.fingerprint)
    if take is not None:  # a resume: the id is the earlier attempt's, taken back (`reclaim`)
        return identity, take(str(identity.name))
    res = reserve(case, item_id, command=command, examiner=str(identity.name))
    return identity, res
