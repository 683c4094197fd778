"""Copy a ledger's rows to another backend and prove the copy is the same ledger.

A migration copies bytes, never re-signs: every event row, every stored Merkle node and every
signed checkpoint goes across as stored, so the copy has the same tree root at every size and
the same checkpoint notes byte for byte, and every signature, proof and remembered checkpoint
made against the original still holds against the copy.

The copy goes in one write transaction of the target. A target that already holds rows is
accepted only when they are exactly the first rows of the source (a migration that stopped after
its copy committed, or a ledger migrated back and forth): then only what follows is copied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from evidencekit.chain import merkle
from evidencekit.chain.store import CheckpointRow, EventRow, LedgerStore
from evidencekit.errors import IntegrityError


@dataclass(frozen=True, slots=True)
class Copied:
    """What a migration copied and proved."""

    size: int
    root: bytes
    checkpoints: int
    already: int
    """Events the target held before (0 for a new target)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "tree_size": self.size,
            "root": self.root.hex(),
            "checkpoints": self.checkpoints,
            "already": self.already,
        }


def _within(level: int, idx: int, size: int) -> bool:
    """Whether the subtree (level, idx) is complete in a tree of `size` leaves."""
    return (idx + 1) << level <= size


def _cp_key(c: CheckpointRow) -> tuple[object, ...]:
    return (c.id, c.tree_size, c.root, c.signer, c.created, c.note)


def _ev_key(r: EventRow) -> tuple[object, ...]:
    return (r.seq, r.item, r.kind, r.time, r.signer, r.data, r.signature, r.leaf_hash)


def _differ(what: str, src: str, dst: str) -> IntegrityError:
    return IntegrityError(
        f"the ledger at {dst!r} is not a copy of {src!r}: {what}",
        hint="nothing was switched; the case keeps its ledger. Use an empty database or "
        "another location for the migration",
    )


def _compare(
    src_rows: Iterable[tuple[object, ...]],
    dst_rows: Iterable[tuple[object, ...]],
    what: str,
    src: str,
    dst: str,
) -> int:
    """Check that `dst_rows` are exactly `src_rows` (same order); their number."""
    n = 0
    a, b = iter(src_rows), iter(dst_rows)
    while True:
        x, y = next(a, None), next(b, None)
        if x is None and y is None:
            return n
        if x != y:
            where = f"{what} {n + 1}" if x is None or y is None else f"{what} {x[0]!r}"
            raise _differ(f"{where} differs", src, dst)
        n += 1


def _checkpoints_upto(store: LedgerStore, size: int) -> list[CheckpointRow]:
    # appends store checkpoints of growing size in id order: those of a prefix are a prefix
    return [c for c in store.checkpoints() if c.tree_size <= size]


def copy_ledger(src: LedgerStore, dst: LedgerStore, size: int, names: tuple[str, str]) -> Copied:
    """Copy the first `size` events of `src` (with their nodes and checkpoints) into `dst`,
    then prove it (:func:`prove_copy`). `names` are (source, target) for messages.

    Raises:
        IntegrityError: `dst` holds rows that are not the start of `src`, or the copy differs.
    """
    have = dst.size()
    if have > size:
        raise _differ(f"it holds {have} events, the ledger only {size}", *names)
    old = 0
    if have:
        old = prove_copy(src, dst, have, names)[1]
    with dst.write() as tx:
        if tx.size() != have:
            raise _differ("another command appended to it during the migration", *names)
        for row in src.rows(have, size):
            tx.add_event(row)
        for level, idx, value in src.all_nodes():
            if _within(level, idx, size) and not _within(level, idx, have):
                tx.add_node(level, idx, value)
        for c in _checkpoints_upto(src, size)[old:]:
            tx.add_checkpoint(c.tree_size, c.root, c.signer, c.created, c.note)
    root, count = prove_copy(src, dst, size, names)
    return Copied(size, root, count, have)


def prove_copy(
    src: LedgerStore, dst: LedgerStore, size: int, names: tuple[str, str]
) -> tuple[bytes, int]:
    """Prove that `dst` holds exactly the first `size` events of `src`: every event row, every
    Merkle node of that tree, every checkpoint up to that size (id, size, root, signer, time,
    note bytes), and the same root recomputed from each side's nodes.

    Returns:
        (the root at `size`, the number of checkpoints compared).

    Raises:
        IntegrityError: naming the first difference.
    """
    if dst.size() != size:
        raise _differ(f"it holds {dst.size()} events, not {size}", *names)
    _compare(
        (_ev_key(r) for r in src.rows(0, size)),
        (_ev_key(r) for r in dst.rows(0, size)),
        "event",
        *names,
    )
    # the target's side unfiltered: a node or checkpoint it holds beyond `size` (a checkpoint
    # a colleague signed for a size not reached, with a root of their choosing, numbered where
    # the copy never writes) is not the source's and would be carried into the case's ledger
    _compare(
        ((lv, i, h) for lv, i, h in src.all_nodes() if _within(lv, i, size)),
        dst.all_nodes(),
        "Merkle node",
        *names,
    )
    count = _compare(
        (_cp_key(c) for c in _checkpoints_upto(src, size)),
        (_cp_key(c) for c in dst.checkpoints()),
        "checkpoint",
        *names,
    )
    root = merkle.root(src.node, size)
    if merkle.root(dst.node, size) != root:
        raise _differ(f"its tree root at size {size} differs", *names)
    return root, count
