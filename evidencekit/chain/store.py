"""The ledger's storage interface: the rows a backend keeps and the two protocols it implements.

`LedgerStore` reads and opens a write transaction; `WriteTxn` is what one exclusive, durable
transaction does. The ledger (rules, signing, Merkle nodes, checkpoints) and the verifier talk
only to these, so a backend (`sqlite_store.SQLiteStore`, or a PostgreSQL one for a lab) is one
module that stores these rows and refuses to update or delete them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


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
