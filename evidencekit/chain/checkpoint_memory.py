"""Checkpoints remembered outside the case folder.

Whoever can write the case folder can truncate or rebuild its ledger, and every checkpoint in it
goes with it: a ledger can only prove that it extends a checkpoint somebody kept elsewhere. So
each examiner's home (`EVIDENCEKIT_HOME`, not in the case) keeps the newest signed checkpoint it
has seen of each ledger, and every command that opens the ledger checks that the ledger still
holds that tree: a ledger truncated by N events, or rewritten from any point, is caught by the
next command of anyone who saw the longer one. The check costs O(log n) stored Merkle nodes.

What it cannot catch: a rollback to before the first checkpoint this home saw, or one done by a
colleague who also controls every home and every other copy (docs/trust.md). `custody
consistency OLD_CHECKPOINT` checks a copy kept anywhere else (a prosecutor's).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import parse_checkpoint_body, parse_note
from evidencekit.errors import EvidenceKitError, IntegrityError
from evidencekit.fsutil import atomic_write
from evidencekit.identity import home_dir
from evidencekit.timeutil import isoformat, utcnow

log = logging.getLogger(__name__)

FOLDER = "checkpoints"


@dataclass(frozen=True, slots=True)
class Remembered:
    """The newest checkpoint this home has seen of one ledger."""

    origin: str
    size: int
    root: bytes
    note: str
    path: Path
    seen: str
    checked: bool = True
    """Whether every event under it had its bytes checked by this examiner (a full
    verification, or appends that each checked what they built on); False after this
    examiner's `custody verify` found the ledger does not verify: appends then check it all."""


class CheckpointMemory:
    """`HOME/checkpoints/`: one file per ledger origin, the newest signed note seen, 0600."""

    def __init__(self, home: Path) -> None:
        self.folder = home / FOLDER

    def _path(self, origin: str) -> Path:
        return self.folder / (hashlib.sha256(origin.encode("utf-8")).hexdigest()[:32] + ".txt")

    def recall(self, origin: str) -> Remembered | None:
        """The remembered checkpoint of `origin`, or None.

        Raises:
            IntegrityError: the remembered file is unreadable as a checkpoint of `origin`.
        """
        path = self._path(origin)
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise IntegrityError(
                f"cannot read the remembered checkpoint {str(path)!r}: {exc}"
            ) from exc
        first, _, note = text.partition("\n")
        seen, _, flag = first.removeprefix("seen ").partition(" ")
        try:
            body, _sigs = parse_note(note)
            cp = parse_checkpoint_body(body)
        except EvidenceKitError as exc:
            raise IntegrityError(
                f"the remembered checkpoint {str(path)!r} is damaged: {exc.message}",
                hint="it is this examiner's own record; restore it from a backup of the home",
            ) from exc
        if cp.origin != origin:
            raise IntegrityError(f"the remembered checkpoint {str(path)!r} is of {cp.origin!r}")
        return Remembered(origin, cp.size, cp.root, note, path, seen, flag != "unchecked")

    def mark_unchecked(self, origin: str) -> None:
        """Remember that this examiner found the ledger `origin` does not verify: its next
        append checks every event again. Best effort, like `remember`."""
        try:
            _mark(self, origin)
        except (OSError, EvidenceKitError) as exc:
            log.warning("could not mark the ledger's checkpoint in %s: %s", self.folder, exc)

    def remember(self, note: str, *, checked: bool = True) -> None:
        """Keep `note` (a signed checkpoint) when it is newer than what is remembered, or when
        `checked` differs from what is remembered of it.

        Best effort: a home that cannot be written is logged, never a reason to fail a command
        whose record is already committed.
        """
        try:
            body, _sigs = parse_note(note)
            cp = parse_checkpoint_body(body)
            old = self.recall(cp.origin)
            if old is not None:
                if old.size > cp.size:
                    if checked or not old.checked:
                        return
                    note = old.note  # never forget a longer ledger; only the flag changes
                elif old.size == cp.size and old.checked == checked:
                    return
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            flag = "" if checked else " unchecked"
            # when only the flag changes, the checkpoint was seen when it was first kept
            seen = old.seen if old is not None and old.note == note else isoformat(utcnow())
            data = f"seen {seen}{flag}\n{note}".encode()
            atomic_write(self._path(cp.origin), data, mode=0o600)
        except (OSError, EvidenceKitError) as exc:
            log.warning("could not remember the ledger's checkpoint in %s: %s", self.folder, exc)


def _mark(memory: CheckpointMemory, origin: str) -> None:
    old = memory.recall(origin)
    if old is not None and old.checked:
        memory.remember(old.note, checked=False)


def check_extends(
    remembered: Remembered, size: int, node: merkle.NodeSource, *, what: str | None = None
) -> None:
    """Check that a ledger of `size` leaves (nodes from `node`) still holds the remembered tree
    (a home's memory, or a kept copy described by `what`: `custody witness check`).

    Raises:
        IntegrityError: it holds fewer events (truncated) or other ones (rewritten).
    """
    what = what or (
        f"this examiner's home remembers a checkpoint of {remembered.size} events "
        f"(seen {remembered.seen}, kept in {str(remembered.path)!r})"
    )
    hint = (
        "the ledger was rolled back or replaced: keep this folder as it is and compare it "
        "with a backup; `evidencekit custody consistency` checks any older checkpoint"
    )
    if size < remembered.size:
        raise IntegrityError(
            f"the custody ledger holds {size} events, but {what}: "
            f"{remembered.size - size} event(s) were removed",
            hint=hint,
        )
    try:
        root = merkle.root(node, remembered.size)
    except (KeyError, ValueError, IntegrityError) as exc:
        raise IntegrityError(f"the custody ledger cannot show the tree {what}: {exc}") from exc
    if root != remembered.root:
        raise IntegrityError(
            f"the custody ledger's first {remembered.size} events are not the ones {what}: "
            f"root {base64.b64encode(root).decode()} instead of "
            f"{base64.b64encode(remembered.root).decode()} (rewritten)",
            hint=hint,
        )


def home_memory() -> CheckpointMemory:
    """The memory of the current examiner's home (`EVIDENCEKIT_HOME`)."""
    return CheckpointMemory(home_dir())


__all__ = ["CheckpointMemory", "Remembered", "check_extends", "home_memory"]
