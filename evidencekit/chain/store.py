"""The ledger's storage interface: the rows a backend keeps and the two protocols it implements.

`LedgerStore` reads and opens a write transaction; `WriteTxn` is what one exclusive, durable
transaction does. The ledger (rules, signing, Merkle nodes, checkpoints) and the verifier talk
only to these, so a backend (`sqlite_store.SQLiteStore`, or a PostgreSQL one for a lab) is one
module that stores these rows and refuses to update or delete them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from evidencekit.chain.kinds import PHYSICAL_SEAL_KINDS, SESSION_KINDS
from evidencekit.errors import IntegrityError


@dataclass(frozen=True, slots=True)
class EventRow:
    """One stored event."""

    seq: int
    item: str | None
    kind: str
    time: str
    signer: str
    data: bytes
    signature: bytes
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    """One stored signed checkpoint."""

    id: int
    tree_size: int
    root: bytes
    signer: str
    created: str
    note: str

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "signer": self.signer,
            "created": self.created,
            "note": self.note,
        }


EVENT_COLUMNS = "seq, item, kind, time, signer, data, signature, leaf_hash"
"""The columns of an event row in `EventRow`'s field order: what `event_row` maps and
`event_values` gives."""
CHECKPOINT_COLUMNS = "id, tree_size, root, signer, created, note"
"""The columns of a checkpoint row in `CheckpointRow`'s field order (`checkpoint_row`)."""


def stored_bytes(value: object) -> bytes:
    """A BLOB/bytea column as bytes, whatever an edit of the file stored there instead (text, a
    number, NULL): the checks then report the row instead of the reader crashing on it."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return b"" if value is None else str(value).encode("ascii")


def event_row(r: Sequence[Any]) -> EventRow:
    """The `EventRow` of a database row selected as `EVENT_COLUMNS`."""
    return EventRow(
        int(r[0]),
        r[1],
        str(r[2]),
        str(r[3]),
        str(r[4]),
        stored_bytes(r[5]),
        stored_bytes(r[6]),
        stored_bytes(r[7]),
    )


def event_values(row: EventRow) -> tuple[int, str | None, str, str, str, bytes, bytes, bytes]:
    """The values to insert for `row`, in `EVENT_COLUMNS` order."""
    return (
        row.seq,
        row.item,
        row.kind,
        row.time,
        row.signer,
        row.data,
        row.signature,
        row.leaf_hash,
    )


def checkpoint_row(r: Sequence[Any]) -> CheckpointRow:
    """The `CheckpointRow` of a database row selected as `CHECKPOINT_COLUMNS`."""
    return CheckpointRow(int(r[0]), int(r[1]), stored_bytes(r[2]), str(r[3]), str(r[4]), str(r[5]))


def rows_filter(
    end: int | None, item: str | bool | None, mark: str
) -> tuple[list[str], list[object]]:
    """The conditions after `seq >= start`, and their arguments, of `LedgerStore.rows(start,
    end, item)`: `item=False` (or True) every event, `None` the case-level ones, else one
    item's. `mark` is the backend's placeholder (`?`, `%s`)."""
    where: list[str] = []
    args: list[object] = []
    if end is not None:
        where.append(f"seq < {mark}")
        args.append(end)
    if item is None:
        where.append("item IS NULL")
    elif item is not False and item is not True:
        where.append(f"item = {mark}")
        args.append(item)
    return where, args


def missing_node(level: int, index: int) -> IntegrityError:
    """The error for a Merkle subtree hash the ledger should hold and does not."""
    return IntegrityError(
        f"Merkle node (level {level}, index {index}) is missing from the ledger",
        hint="run: evidencekit custody verify",
    )


def _sql_kinds(kinds: frozenset[str]) -> str:
    """An SQL list of kinds (names from `chain.kinds`: letters and underscores only)."""
    return ", ".join(f"'{k}'" for k in sorted(kinds))


ITEM_KEY_QUERIES: tuple[tuple[str, str, str], ...] = (
    ("", "", " LIMIT 1"),
    (" AND kind IN ('transferred', 'received')", " DESC", " LIMIT 1"),
    (" AND kind IN ('acquired', 'collected', 'sealed')", "", " LIMIT 1"),
    # and the latest: a resume supersedes it, whatever came after it
    (" AND kind IN ('acquired', 'collected', 'sealed')", " DESC", " LIMIT 1"),
    ("", " DESC", " LIMIT 1"),
    (f" AND kind IN ({_sql_kinds(PHYSICAL_SEAL_KINDS | SESSION_KINDS)})", "", ""),
)
"""The selects of `WriteTxn.item_key_rows`, as (condition added to the item's, order of seq,
limit): the item's first event, its last transfer or receipt, its first and its latest
acquisition, its last event, and every physical-seal and session event. A backend joins one
select per entry with UNION and orders the result by seq, in one statement: an append reads
them for every item it touches."""


class WriteTxn(Protocol):
    """What one exclusive, durable write transaction offers."""

    def size(self) -> int: ...
    def item_key_rows(self, item: str | None) -> list[EventRow]:
        """The item's first event, its last transfer or receipt, its first and its latest
        acquisition (acquired/collected/sealed: a resume must supersede the latest, even when
        other events came after it) and its last event, and every event of a kind in
        `kinds.PHYSICAL_SEAL_KINDS` or `kinds.SESSION_KINDS` (in seq order, without repeats): all
        the custody rules need to know about its past."""
        ...

    def scan(self, start: int = 0) -> Iterator[tuple[int, str | None, str, bytes, bytes]]:
        """Every event from `start` on as (seq, item column, kind column, stored bytes, stored
        leaf hash), in seq order: what an append checks before it builds on the ledger."""
        ...

    def latest_checkpoint(self) -> CheckpointRow | None: ...
    def node(self, level: int, index: int) -> bytes: ...
    def add_event(self, row: EventRow) -> None: ...
    def add_node(self, level: int, index: int, value: bytes) -> None: ...
    def add_checkpoint(
        self, tree_size: int, root: bytes, signer: str, created: str, note: str
    ) -> None: ...


class LedgerStore(Protocol):
    """A ledger backend: reads, and an exclusive write transaction."""

    def write(self) -> AbstractContextManager[WriteTxn]: ...
    def size(self) -> int: ...
    def rows(
        self, start: int = 0, end: int | None = None, item: str | bool | None = False
    ) -> Iterator[EventRow]: ...
    def node(self, level: int, index: int) -> bytes: ...
    def all_nodes(self) -> Iterator[tuple[int, int, bytes]]: ...
    def checkpoints(self) -> list[CheckpointRow]: ...
    def latest_checkpoint(self) -> CheckpointRow | None: ...
    def close(self) -> None: ...
