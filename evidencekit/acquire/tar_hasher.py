"""The container's own digests, computed on a second thread while the tar is written."""

from __future__ import annotations

import queue
import threading

from evidencekit.hash.multihash import MultiHasher


class BackgroundHasher:
    """Feeds the tar's own hasher from a second thread, in order, in batches of about 1 MiB,
    so that on trees of small files hashing the container overlaps reading and writing."""

    def __init__(self, hasher: MultiHasher) -> None:
        self._hasher = hasher
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._pending: list[bytes] = []
        self._size = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="tar-hasher", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is None:
                    self._hasher.update(item)
            except BaseException as exc:  # re-raised in the writer's thread by sync()
                self._error = exc
            finally:
                self._queue.task_done()

    def add(self, data: bytes | bytearray | memoryview) -> None:
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= 1 << 20:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._queue.put(b"".join(self._pending))
            self._pending = []
            self._size = 0

    def sync(self) -> None:
        """Return once every byte given so far is hashed.

        Raises:
            BaseException: whatever the hasher raised on the second thread.
        """
        self._flush()
        self._queue.join()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self.sync()
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
