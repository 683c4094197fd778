"""One reader, many consumers, bounded memory: the pump every acquisition and hash runs on.

The reader fills buffers from a fixed pool (`readinto` into a reusable `bytearray`, no copies)
and hands each filled buffer, as a read-only memoryview, to every consumer. Each consumer runs in
its own thread; hashlib, blake3, zlib/isal and file writes release the GIL on large buffers, so
md5, sha1, sha256 and the writer proceed in parallel and the wall time approaches that of the
slowest consumer rather than the sum. A buffer returns to the pool when every consumer is done
with it, so memory is `buffers × chunk_size` whatever the input size, and a slow consumer simply
makes the reader wait.

A consumer that must keep a buffer past the call (the E01 writer hands whole buffers to its
compression threads instead of copying them) implements `HoldingConsumer`: it gets the buffer
itself and a `release` to call once it is done with it, and the pool grows by the number of
buffers it may hold at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)

# 1 MiB x 8: measured on the 1 GiB page-cache benchmark (bench/bench_hash.py), 1 MiB buffers
# beat 4 MiB by 5-10 % for md5+sha1+sha256 and by 2x for blake3: a buffer still sits in the
# core's L2 cache when every consumer thread reads it, instead of being fetched from RAM again
# per algorithm. Eight of them keep the reader ahead of the slowest consumer.
DEFAULT_CHUNK_SIZE = 1 << 20
DEFAULT_BUFFERS = 8

ReadInto = Callable[[memoryview], int]
"""Fills the memoryview from the start; returns the byte count, 0 at the end of the input."""


class Consumer(Protocol):
    """Something that takes every buffer in order: a hasher, a writer."""

    def consume(self, data: memoryview) -> None:
        """Process the next piece. `data` is only valid during the call: copy what you keep."""

    def close(self) -> None:
        """Called once, in the consumer's thread, after the last piece (not after an abort)."""


class HoldingConsumer(Consumer, Protocol):
    """A consumer that may keep buffers after the call, up to `max_held` of them at once."""

    max_held: int

    def hold(self, buffer: bytearray, length: int, release: Callable[[], None]) -> None:
        """Take buffer[:length]; call `release()` once (from any thread) when done with it.

        The buffer must not be changed: the other consumers read it at the same time. Holding
        more than `max_held` buffers at once makes the reader wait for ever.
        """


_DONE = -1
_ABORT = -2


def pump(
    readinto: ReadInto,
    consumers: Sequence[Consumer],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    buffers: int = DEFAULT_BUFFERS,
    limit: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Read until EOF (or `limit` bytes) and feed every consumer; return the byte count.

    Raises:
        Whatever `readinto` or a consumer raised (the first consumer error wins); on any error,
        KeyboardInterrupt included, the other consumers stop without `close()` being called.
    """
    if chunk_size <= 0 or buffers <= 0:
        raise ValueError("chunk_size and buffers must be positive")
    buffers += sum(getattr(c, "max_held", 0) for c in consumers)
    pool = [bytearray(chunk_size) for _ in range(buffers)]
    free: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(buffers):
        free.put(i)
    refs = [0] * buffers
    refs_lock = threading.Lock()
    errors: list[BaseException] = []
    stop = threading.Event()
    inboxes: list[queue.SimpleQueue[tuple[int, int]]] = [queue.SimpleQueue() for _ in consumers]

    def release(idx: int) -> None:
        with refs_lock:
            refs[idx] -= 1
            last = refs[idx] == 0
        if last:
            free.put(idx)

    def releaser(idx: int) -> Callable[[], None]:
        done = threading.Lock()  # release once, whoever calls it how often

        def once() -> None:
            if done.acquire(blocking=False):
                release(idx)

        return once

    def work(consumer: Consumer, inbox: queue.SimpleQueue[tuple[int, int]]) -> None:
        failed = False
        hold = getattr(consumer, "hold", None)
        while True:
            idx, n = inbox.get()
            if idx == _ABORT:
                return
            if idx == _DONE:
                if not failed:
                    try:
                        consumer.close()
                    except BaseException as exc:
                        errors.append(exc)
                        stop.set()
                return
            if hold is not None:
                give_back = releaser(idx)
                try:
                    if failed:
                        give_back()
                    else:
                        hold(pool[idx], n, give_back)
                except BaseException as exc:
                    failed = True
                    errors.append(exc)
                    stop.set()
                    give_back()
                continue
            try:
                if not failed:
                    consumer.consume(memoryview(pool[idx])[:n].toreadonly())
            except BaseException as exc:
                failed = True
                errors.append(exc)
                stop.set()
            finally:
                release(idx)

    threads = [
        threading.Thread(target=work, args=(c, q), name=f"pump-{type(c).__name__}", daemon=True)
        for c, q in zip(consumers, inboxes, strict=True)
    ]
    for t in threads:
        t.start()
    total = 0
    ending = _ABORT
    try:
        while not stop.is_set():
            want = chunk_size if limit is None else min(chunk_size, limit - total)
            if want <= 0:
                break
            idx = _take(free, stop)
            if idx is None:
                break
            n = readinto(memoryview(pool[idx])[:want])
            if not n:
                free.put(idx)
                break
            total += n
            if consumers:
                refs[idx] = len(consumers)
                for inbox in inboxes:
                    inbox.put((idx, n))
            else:
                free.put(idx)
            if on_progress is not None:
                on_progress(total)
        if not stop.is_set():
            ending = _DONE
    finally:
        for inbox in inboxes:
            inbox.put((ending, 0))
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return total


def _take(free: queue.SimpleQueue[int], stop: threading.Event) -> int | None:
    """A free buffer, or None once a consumer has failed (so a stuck pool cannot hang us)."""
    while True:
        try:
            return free.get(timeout=0.2)
        except queue.Empty:
            if stop.is_set():
                return None
