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

No wait is unbounded: a consumer that takes no data for `stall_timeout` seconds (a destination
that stopped answering, a thread stuck in a lock) ends the pump with `StalledError`, whether the
reader is waiting for a buffer it holds or the pump is waiting for it to finish. The stuck thread
is left behind (a thread cannot be stopped from outside); the caller must then treat what that
consumer wrote as unfinished, and not close or fsync its files (that could block as well).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from evidencekit.errors import StalledError, UsageError

log = logging.getLogger(__name__)

# 1 MiB x 8: measured on the 1 GiB page-cache benchmark (bench/bench_hash.py), 1 MiB buffers
# beat 4 MiB by 5-10 % for md5+sha1+sha256 and by 2x for blake3: a buffer still sits in the
# core's L2 cache when every consumer thread reads it, instead of being fetched from RAM again
# per algorithm. Eight of them keep the reader ahead of the slowest consumer.
DEFAULT_CHUNK_SIZE = 1 << 20
DEFAULT_BUFFERS = 8

# No progress at all for ten minutes: long past a USB disk spinning up, a NAS failing over or
# the final fsync of a slow stick (writers start writeback every 32 MiB, so little is left for
# it). EVIDENCEKIT_STALL_TIMEOUT (seconds) changes it, for a share known to pause longer.
DEFAULT_STALL_TIMEOUT = 600.0
_POLL = 0.2  # how often a waiting pump looks at the stall clocks (and at a failed consumer)


def stall_timeout() -> float:
    """The stall limit in seconds: EVIDENCEKIT_STALL_TIMEOUT, else DEFAULT_STALL_TIMEOUT.

    Raises:
        UsageError: the variable is not a positive number.
    """
    raw = os.environ.get("EVIDENCEKIT_STALL_TIMEOUT")
    if raw is None or not raw.strip():
        return DEFAULT_STALL_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise UsageError(
            f"invalid EVIDENCEKIT_STALL_TIMEOUT {raw!r}: must be a positive number of seconds"
        )
    return value


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
    stall: float | None = None,
) -> int:
    """Read until EOF (or `limit` bytes) and feed every consumer; return the byte count.

    `stall`: seconds a consumer may take no data before the pump gives up (default:
    :func:`stall_timeout`).

    Raises:
        StalledError: a consumer took no data for `stall` seconds (it is left running; what
            it writes must be treated as unfinished). Also raised from the final wait when
            another error, KeyboardInterrupt included, was on its way out: a stuck consumer
            must not turn Ctrl-C into a hang.
        Whatever `readinto` or a consumer raised (the first consumer error wins); on any error,
        KeyboardInterrupt included, the other consumers stop without `close()` being called.
    """
    if chunk_size <= 0 or buffers <= 0:
        raise ValueError("chunk_size and buffers must be positive")
    limit_s = stall_timeout() if stall is None else stall
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
    # per consumer: since when (time.monotonic) it has been inside one call of ours, or None
    # while it waits for data: the stall clocks (a plain list: one writer per slot)
    busy: list[float | None] = [None] * len(consumers)

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

    def work(slot: int, consumer: Consumer, inbox: queue.SimpleQueue[tuple[int, int]]) -> None:
        failed = False
        hold = getattr(consumer, "hold", None)
        clock = time.monotonic
        while True:
            idx, n = inbox.get()
            if idx == _ABORT:
                return
            busy[slot] = clock()
            if idx == _DONE:
                if not failed:
                    try:
                        consumer.close()
                    except BaseException as exc:
                        errors.append(exc)
                        stop.set()
                busy[slot] = None
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
                busy[slot] = None
                continue
            try:
                if not failed:
                    consumer.consume(memoryview(pool[idx])[:n].toreadonly())
            except BaseException as exc:
                failed = True
                errors.append(exc)
                stop.set()
            finally:
                busy[slot] = None
                release(idx)

    threads = [
        threading.Thread(target=work, args=(i, c, q), name=f"pump-{type(c).__name__}", daemon=True)
        for i, (c, q) in enumerate(zip(consumers, inboxes, strict=True))
    ]
    watch = _Watch(consumers, inboxes, busy, limit_s)
    for t in threads:
        t.start()
    total = 0
    ending = _ABORT
    stuck = False
    try:
        while not stop.is_set():
            want = chunk_size if limit is None else min(chunk_size, limit - total)
            if want <= 0:
                break
            idx = _take(free, stop, watch)
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
    except StalledError:
        stuck = True  # no waiting for the consumers: one of them does not come back
        raise
    finally:
        for inbox in inboxes:
            inbox.put((ending, 0))
        if not stuck:
            watch.join(threads)
    if errors:
        raise errors[0]
    return total


def _take(free: queue.SimpleQueue[int], stop: threading.Event, watch: _Watch) -> int | None:
    """A free buffer, or None once a consumer has failed (so a stuck pool cannot hang us).

    Raises:
        StalledError: no buffer came back for the stall limit.
    """
    waited, last = 0.0, time.monotonic()
    while True:
        try:
            return free.get(timeout=_POLL)
        except queue.Empty:
            if stop.is_set():
                return None
            waited, last = _waited(waited, last)
            if waited > watch.limit:
                # every buffer is out and none came back: the slowest consumer took nothing
                raise watch.stalled(waited_for_buffer=True) from None


def _waited(waited: float, last: float) -> tuple[float, float]:
    """`waited` plus the time since `last`, but never more than two polls at once: a process
    stopped (Ctrl-Z, SIGSTOP) for an hour and continued has not watched its consumers stall for
    an hour, and must not give up on them the moment it runs again."""
    now = time.monotonic()
    return waited + min(now - last, 2 * _POLL), now


class _Watch:
    """The stall clocks of one pump and what to say when one runs out."""

    def __init__(
        self,
        consumers: Sequence[Consumer],
        inboxes: Sequence[queue.SimpleQueue[tuple[int, int]]],
        busy: list[float | None],
        limit: float,
    ) -> None:
        self.consumers = consumers
        self.inboxes = inboxes
        self.busy = busy
        self.limit = limit

    def join(self, threads: Sequence[threading.Thread]) -> None:
        """Wait for every consumer thread to end; a thread inside one call of ours (a write, a
        close) while we waited longer than the limit is given up on.

        Raises:
            StalledError: as said.
        """
        for slot, t in enumerate(threads):
            seen, waited, last = self.busy[slot], 0.0, time.monotonic()
            while True:
                t.join(_POLL)
                if not t.is_alive():
                    break
                call = self.busy[slot]
                if call is None or call != seen:  # it moved on (or waits for data)
                    seen, waited, last = call, 0.0, time.monotonic()
                    continue
                waited, last = _waited(waited, last)
                if waited > self.limit:
                    raise self.stalled(waited_for_buffer=False)

    def stalled(self, *, waited_for_buffer: bool) -> StalledError:
        """The error naming the consumer that has been stuck longest (or, when none is inside
        a call, the ones holding buffers or still having data queued)."""
        now = time.monotonic()
        stuck = [(now - b, i) for i, b in enumerate(self.busy) if b is not None]
        if stuck:
            slots = [max(stuck)[1]]
        else:  # a holding consumer that never gave its buffers back
            slots = [i for i, c in enumerate(self.consumers) if hasattr(c, "hold")]
            slots = slots or [i for i, q in enumerate(self.inboxes) if not q.empty()]
        who = ", ".join(_describe(self.consumers[i]) for i in slots) or "a consumer"
        what = "gave no buffer back" if waited_for_buffer else "did not finish"
        log.debug("pump stalled: %s %s in %g s", who, what, self.limit)
        return StalledError(
            f"{who} took no data for {self.limit:g} s ({what}): stopped waiting for it",
            hint="a destination disk or share that stopped answering? check it; what was being "
            "written is left unfinished (EVIDENCEKIT_STALL_TIMEOUT sets the limit in seconds)",
        )


def _describe(consumer: object) -> str:
    """A consumer as a person reads it: the file a writer writes, the digest a hasher makes."""
    inner = getattr(consumer, "writer", consumer)
    paths = getattr(inner, "paths", None)
    if isinstance(paths, list) and paths:
        return f"the writer of {os.fsdecode(paths[-1])!r}"
    path = getattr(inner, "path", None)
    if isinstance(path, (str, os.PathLike)):
        return f"the writer of {os.fsdecode(path)!r}"
    name = getattr(inner, "name", None)
    if isinstance(name, str):
        return f"the {name} digest"
    return f"the {type(inner).__name__.lstrip('_')} consumer"
