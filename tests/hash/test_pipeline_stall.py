"""hash/pipeline.pump never waits for ever on a consumer (issue 14: "no thread join can hang").

A consumer stuck inside a call (a write to a share that stopped answering) or holding buffers it
never gives back must end the pump with StalledError naming it, whether the reader is waiting for
a buffer or the pump is waiting for the consumer to finish, and also when Ctrl-C is on its way
out. The stuck consumers here wait on an Event that nothing sets until the test ends, so the stall
is certain, whatever the machine's speed; each pump runs in a thread joined with a generous bound
only so that the old behaviour (waiting for ever) fails the test instead of hanging the suite.
"""

from __future__ import annotations

import hashlib
import os
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from evidencekit.errors import StalledError, UsageError
from evidencekit.hash.multihash import MultiHasher
from evidencekit.hash.pipeline import pump, stall_timeout

HANG_GUARD = 120.0  # the pump must give up long before: its limit here is 0.5 s
STALL = 0.5


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """What the stuck consumers wait on; set at the end so their threads end with the test."""
    ev = threading.Event()
    yield ev
    ev.set()


def _source(total: int) -> Callable[[memoryview], int]:
    data = bytes(range(256)) * (total // 256)
    pos = [0]

    def readinto(buf: memoryview) -> int:
        n = min(len(buf), len(data) - pos[0])
        buf[:n] = data[pos[0] : pos[0] + n]
        pos[0] += n
        return n

    return readinto


@dataclass
class _Outcome:
    result: object = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _run(fn: Callable[[], object]) -> _Outcome:
    out = _Outcome()

    def body() -> None:
        try:
            out.result = fn()
        except BaseException as exc:
            out.error = exc
        finally:
            out.done.set()

    threading.Thread(target=body, daemon=True).start()
    assert out.done.wait(HANG_GUARD), "pump() is still waiting on a stuck consumer"
    return out


class StuckWriter:
    """Takes `good` buffers, then blocks inside `consume` until the gate opens."""

    def __init__(self, gate: threading.Event, good: int, path: str = "/evidence/D1.raw") -> None:
        self.gate = gate
        self.good = good
        self.paths = [path]
        self.seen = 0

    def consume(self, data: memoryview) -> None:
        if self.seen >= self.good:
            self.gate.wait()
        self.seen += 1

    def close(self) -> None:
        pass


class StuckClose:
    """Takes every buffer, then never returns from `close` (an fsync that hangs)."""

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate
        self.name = "sha256"

    def consume(self, data: memoryview) -> None:
        pass

    def close(self) -> None:
        self.gate.wait()


class NeverReleases:
    """A holding consumer (like the E01 writer) whose workers died: buffers never come back."""

    max_held = 2

    def __init__(self) -> None:
        self.held = 0

    def hold(self, buffer: bytearray, length: int, release: Callable[[], None]) -> None:
        self.held += 1

    def consume(self, data: memoryview) -> None:  # pragma: no cover - hold() is used
        raise AssertionError("hold() is called instead")

    def close(self) -> None:
        pass


def test_a_consumer_stuck_in_a_write_ends_the_pump(gate: threading.Event) -> None:
    hasher = MultiHasher(["sha256"])
    writer = StuckWriter(gate, good=2)
    out = _run(
        lambda: pump(_source(64 << 10), [*hasher.consumers(), writer], chunk_size=1024, stall=STALL)
    )
    assert isinstance(out.error, StalledError), out.error
    assert "the writer of '/evidence/D1.raw'" in str(out.error)
    assert "gave no buffer back" in str(out.error)
    assert out.error.hint and "EVIDENCEKIT_STALL_TIMEOUT" in out.error.hint
    assert writer.seen == 2  # nothing after the stuck buffer reached it


def test_a_consumer_stuck_in_close_ends_the_pump(gate: threading.Event) -> None:
    out = _run(lambda: pump(_source(8 << 10), [StuckClose(gate)], chunk_size=1024, stall=STALL))
    assert isinstance(out.error, StalledError), out.error
    assert "the sha256 digest" in str(out.error) and "did not finish" in str(out.error)


def test_buffers_never_given_back_end_the_pump() -> None:
    out = _run(
        lambda: pump(_source(64 << 10), [NeverReleases()], chunk_size=1024, buffers=2, stall=STALL)
    )
    assert isinstance(out.error, StalledError), out.error
    assert "NeverReleases consumer" in str(out.error)


def test_ctrl_c_with_a_stuck_consumer_does_not_hang(gate: threading.Event) -> None:
    """Ctrl-C lands in the reader while a consumer is stuck: the pump's final wait gives up on
    the stuck one (StalledError, the interruption as its context) instead of waiting for it."""
    calls = [0]
    inner = _source(64 << 10)

    def readinto(buf: memoryview) -> int:
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        return inner(buf)

    out = _run(lambda: pump(readinto, [StuckWriter(gate, good=1)], chunk_size=1024, stall=STALL))
    assert isinstance(out.error, StalledError), out.error
    assert isinstance(out.error.__context__, KeyboardInterrupt)


def test_a_failed_consumer_is_still_reported_first() -> None:
    """The watch changes nothing for consumers that end: an error of theirs wins."""

    class Broken:
        def consume(self, data: memoryview) -> None:
            raise OSError(5, "Input/output error")

        def close(self) -> None:
            pass

    out = _run(lambda: pump(_source(8 << 10), [Broken()], chunk_size=1024, stall=STALL))
    assert isinstance(out.error, OSError) and out.error.errno == 5


def test_slow_but_moving_consumers_are_not_stalled() -> None:
    """Consumers that keep taking data are never given up on, and the digests are right (the
    oracle: hashlib over the same bytes)."""
    hasher = MultiHasher(["md5", "sha256"])
    data = bytes(range(256)) * 1024
    n = pump(_source(len(data)), hasher.consumers(), chunk_size=4096, buffers=2, stall=STALL)
    assert n == len(data)
    assert hasher.result().digests["sha256"] == hashlib.sha256(data).hexdigest()


def test_stall_timeout_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCEKIT_STALL_TIMEOUT", "2.5")
    assert stall_timeout() == 2.5
    monkeypatch.delenv("EVIDENCEKIT_STALL_TIMEOUT")
    assert stall_timeout() == 600.0
    for bad in ("0", "-3", "soon", "nan"):
        monkeypatch.setenv("EVIDENCEKIT_STALL_TIMEOUT", bad)
        with pytest.raises(UsageError, match="EVIDENCEKIT_STALL_TIMEOUT"):
            stall_timeout()
    assert os.environ["EVIDENCEKIT_STALL_TIMEOUT"] == "nan"


def test_a_stopped_process_does_not_see_a_stall(
    gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process is stopped (Ctrl-Z) for hours while a consumer is inside a call: once it
    runs again, the clock's jump is not counted as the consumer taking no data (the consumer
    then goes on and the pump ends normally). The jump is simulated on the clock the pump reads
    (`time.monotonic` as the pipeline module sees it)."""
    import evidencekit.hash.pipeline as pipeline

    real = pipeline.time.monotonic
    offset = [0.0]
    monkeypatch.setattr(
        pipeline, "time", types.SimpleNamespace(monotonic=lambda: real() + offset[0])
    )
    seen = threading.Event()

    class Sleeper:
        def __init__(self) -> None:
            self.calls = 0

        def consume(self, data: memoryview) -> None:
            self.calls += 1
            if self.calls == 2:
                seen.set()
                gate.wait()

        def close(self) -> None:
            pass

    def wake() -> None:
        seen.wait()
        offset[0] += 6 * 3600.0  # six hours "pass" while it is inside the call
        threading.Event().wait(4 * 0.2)  # a few of the pump's polls see the jump
        gate.set()

    threading.Thread(target=wake, daemon=True).start()
    out = _run(lambda: pump(_source(64 << 10), [Sleeper()], chunk_size=1024, buffers=2, stall=60))
    assert out.error is None, out.error
    assert out.result == 64 << 10
