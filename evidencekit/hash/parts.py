"""Digests of bytes as a writer emits them, file by file, without reading the files back.

A writer that builds its output in pieces (the E01 writer: descriptors, chunk runs, tables) hands
each piece here right after writing it; one thread per algorithm hashes the pieces in order, so
the seal's per-file digests cost no second read of the output (on a USB disk, a second read of a
whole image) and overlap with the acquisition instead of following it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Sequence

from evidencekit.hash.algorithms import Hasher, new_hasher, parse_algorithms

_END = object()  # the current part (file) ends here
_STOP = object()  # no more input

Piece = bytes | bytearray | memoryview


class PartHasher:
    """Hashes a sequence of parts (files), each fed as pieces, with every algorithm at once.

    Not thread-safe on the feeding side: one writer thread calls `update`, `end_part`, `close`.
    Pieces must not change until they are hashed: `update(..., release=f)` calls `f()` (in a
    hashing thread) once every algorithm is done with them, so a writer can recycle its buffers.
    Memory is bounded: `update` blocks while more than `max_pending` bytes wait to be hashed.
    """

    def __init__(self, algorithms: Iterable[str], *, max_pending: int = 64 << 20) -> None:
        self.algorithms = parse_algorithms(list(algorithms))
        self._max_pending = max_pending
        self._pending = 0
        self._cond = threading.Condition()
        self._queues: list[queue.SimpleQueue[object]] = [
            queue.SimpleQueue() for _ in self.algorithms
        ]
        self._digests: list[list[str]] = [[] for _ in self.algorithms]
        self._threads = [
            threading.Thread(target=self._work, args=(i,), name=f"part-hash-{name}", daemon=True)
            for i, name in enumerate(self.algorithms)
        ]
        self._closed = False
        self._aborted = False
        for t in self._threads:
            t.start()

    def update(self, *pieces: Piece, release: Callable[[], None] | None = None) -> None:
        """Queue the next bytes of the current part; `release()` once they are hashed."""
        if self._closed:
            raise ValueError("PartHasher is closed")
        size = sum(len(p) for p in pieces) * len(self._queues)
        if not size:
            if release is not None:
                release()
            return
        with self._cond:
            while self._pending and self._pending + size > self._max_pending:
                self._cond.wait()
            self._pending += size
        item = _Item(pieces, len(self._queues), release)
        for q in self._queues:
            q.put(item)

    def end_part(self) -> None:
        """The current part is complete; the next `update` starts a new one."""
        for q in self._queues:
            q.put(_END)

    def close(self) -> list[dict[str, str]]:
        """Wait for the hashing to finish; return each ended part's digests, in order."""
        self._stop()
        parts = len(self._digests[0]) if self._digests else 0
        return [
            {name: self._digests[i][p] for i, name in enumerate(self.algorithms)}
            for p in range(parts)
        ]

    def abort(self) -> None:
        """Stop and drop whatever is queued."""
        self._aborted = True
        self._stop()

    def _stop(self) -> None:
        if not self._closed:
            self._closed = True
            for q in self._queues:
                q.put(_STOP)
        for t in self._threads:
            t.join()

    def _work(self, index: int) -> None:
        inbox = self._queues[index]
        name = self.algorithms[index]
        hasher: Hasher = new_hasher(name)
        while True:
            item = inbox.get()
            if item is _STOP:
                return
            if item is _END:
                self._digests[index].append(hasher.hexdigest())
                hasher = new_hasher(name)
                continue
            assert isinstance(item, _Item)
            size = 0
            for piece in item.pieces:
                if not self._aborted:
                    hasher.update(piece)
                size += len(piece)
            with self._cond:
                self._pending -= size
                item.left -= 1
                done = item.left == 0
                self._cond.notify()
            if done and item.release is not None:
                item.release()


class _Item:
    """Pieces queued to every algorithm's thread; `release` runs after the last one."""

    __slots__ = ("left", "pieces", "release")

    def __init__(
        self, pieces: Sequence[Piece], left: int, release: Callable[[], None] | None
    ) -> None:
        self.pieces = pieces
        self.left = left
        self.release = release
