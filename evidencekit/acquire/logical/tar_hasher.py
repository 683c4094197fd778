"""The container's own digests, computed on a second thread while the tar is written.

No wait here can hang (issue 14: Ctrl-C once hung in the queue join of the writer's close). A
signal handler may raise KeyboardInterrupt between any two steps of `queue.Queue.put` — after the
task is counted but before the worker is woken — and a signal the kernel delivers to another
thread does not interrupt a blocking wait of the main thread. So every wait is a short timed
slice in a loop that also checks the worker is alive and whether the hasher was cancelled: a
lost wake-up costs one slice, a dead worker ends the wait with an error, and the main thread
returns to Python (where signal handlers run) at least every `_SLICE` seconds. The worker is a
daemon thread and `stop()` cancels it: it drops what is queued and ends after the update it is
in. After an interruption the writer calls `cancel()`: nothing waits for the worker any more
(the interrupted tar is hashed again from its file), `stop()` gives it `_STOP_WAIT` seconds and
leaves it behind (a daemon: it cannot keep the process alive), so a stuck hash cannot hang the
sealing of what was collected.
"""

from __future__ import annotations

import queue
import threading

from evidencekit.errors import AcquisitionError
from evidencekit.hash.multihash import MultiHasher

_SLICE = 0.05  # seconds: the longest a wait here goes without checking signals and the worker
_STOP_WAIT = 2.0  # seconds a cancelled worker is given to end before it is left behind


class BackgroundHasher:
    """Feeds the tar's own hasher from a second thread, in order, in batches of about 1 MiB,
    so that on trees of small files hashing the container overlaps reading and writing."""

    def __init__(self, hasher: MultiHasher) -> None:
        self._hasher = hasher
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._pending: list[bytes] = []
        self._size = 0
        self._error: BaseException | None = None
        self._cancel = threading.Event()
        self.cancelled = False  # the digests are abandoned: nothing waits for them
        self._lock = threading.Lock()
        self._given = 0  # batches handed to the worker (main thread only)
        self._hashed = 0  # batches the worker is done with (under _lock)
        self._thread = threading.Thread(target=self._work, name="tar-hasher", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while not self._cancel.is_set():
            try:
                item = self._queue.get(timeout=_SLICE)  # a lost wake-up costs one slice
            except queue.Empty:
                continue
            if item is None:
                return
            try:
                if self._error is None and not self._cancel.is_set():
                    self._hasher.update(item)
            except BaseException as exc:  # re-raised in the writer's thread by sync()
                self._error = exc
            finally:
                with self._lock:
                    self._hashed += 1

    def add(self, data: bytes | bytearray | memoryview) -> None:
        if self.cancelled:
            return
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= 1 << 20:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            batch = b"".join(self._pending)
            self._pending = []
            self._size = 0
            self._put(batch)
            self._given += 1

    def _put(self, item: bytes | None) -> None:
        while True:
            self._check_worker()
            try:
                self._queue.put(item, timeout=_SLICE)
                return
            except queue.Full:
                continue

    def _check_worker(self) -> None:
        """Raises AcquisitionError when the worker is gone (cancelled, or died)."""
        if self._cancel.is_set() or not self._thread.is_alive():
            raise AcquisitionError(
                "the container's hashing thread has stopped; its digests are incomplete",
                hint="the container is hashed again from the file",
            )

    def sync(self) -> None:
        """Return once every byte given so far is hashed.

        Raises:
            BaseException: whatever the hasher raised on the second thread.
            AcquisitionError: the hashing thread stopped first.
        """
        if self.cancelled:
            return
        self._flush()
        while True:
            with self._lock:
                done = self._hashed >= self._given
            if done:
                break
            self._check_worker()
            self._cancel.wait(_SLICE)  # a timed wait: signal handlers run between slices
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self.sync()
        self.stop()

    def cancel(self) -> None:
        """Abandon the digests (after an interruption): `sync()` returns at once from now on,
        `stop()` does not wait past `_STOP_WAIT`."""
        self.cancelled = True
        self._cancel.set()

    def stop(self) -> None:
        """Cancel the worker and wait for it: it ends after the update it is in (once
        cancelled, at most `_STOP_WAIT` seconds, then it is left behind)."""
        self._cancel.set()
        slices = int(_STOP_WAIT / _SLICE)
        while self._thread.is_alive():
            self._thread.join(_SLICE)
            if self.cancelled:
                slices -= 1
                if slices <= 0:
                    return
