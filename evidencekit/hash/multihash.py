"""Every requested digest in one pass, one thread per algorithm, plus optional window digests.

Window digests (a digest per `window` bytes, default algorithm sha256) let a later verification
say which byte ranges changed, not just that something did.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from evidencekit.errors import HashError, UsageError
from evidencekit.hash.algorithms import Hasher, new_hasher, parse_algorithms
from evidencekit.hash.pipeline import DEFAULT_BUFFERS, DEFAULT_CHUNK_SIZE, Consumer, pump

DEFAULT_WINDOW_ALGORITHM = "sha256"


@dataclass(frozen=True, slots=True)
class WindowDigest:
    """The digest of bytes [offset, offset + length)."""

    index: int
    offset: int
    length: int
    digests: dict[str, str]

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "offset": self.offset,
            "length": self.length,
            "digests": dict(self.digests),
        }


@dataclass(frozen=True, slots=True)
class HashResult:
    """Size and digests of one byte stream."""

    size: int
    digests: dict[str, str]
    window_size: int | None = None
    window_algorithm: str | None = None
    windows: tuple[WindowDigest, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {"size": self.size, "digests": dict(self.digests)}
        if self.window_size:
            doc["window_size"] = self.window_size
            doc["window_algorithm"] = self.window_algorithm
            doc["windows"] = [w.to_dict() for w in self.windows]
        return doc


class _AlgorithmConsumer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.hasher: Hasher = new_hasher(name)
        self.size = 0

    def consume(self, data: memoryview) -> None:
        self.hasher.update(data)
        self.size += len(data)

    def close(self) -> None:
        pass


class _WindowConsumer:
    def __init__(self, name: str, window: int) -> None:
        self.name = name
        self.window = window
        self.windows: list[WindowDigest] = []
        self._current: Hasher = new_hasher(name)
        self._filled = 0
        self._offset = 0
        self.closed = False

    def consume(self, data: memoryview) -> None:
        while len(data):
            take = min(len(data), self.window - self._filled)
            self._current.update(data[:take])
            self._filled += take
            data = data[take:]
            if self._filled == self.window:
                self._flush()

    def _flush(self) -> None:
        self.windows.append(
            WindowDigest(
                index=len(self.windows),
                offset=self._offset,
                length=self._filled,
                digests={self.name: self._current.hexdigest()},
            )
        )
        self._offset += self._filled
        self._filled = 0
        self._current = new_hasher(self.name)

    def close(self) -> None:
        if self.closed:
            return
        if self._filled:
            self._flush()
        self.closed = True


class MultiHasher:
    """Hashes one stream with several algorithms at once.

    Use `consumers()` with :func:`evidencekit.hash.pipeline.pump` for the parallel path, or
    `update()` for small in-memory inputs; then `result()`.
    """

    def __init__(
        self,
        algorithms: Iterable[str],
        *,
        window: int | None = None,
        window_algorithm: str = DEFAULT_WINDOW_ALGORITHM,
    ) -> None:
        self.algorithms = parse_algorithms(list(algorithms))
        if window is not None and window <= 0:
            raise UsageError(f"invalid window size {window}: must be positive")
        self._algos = [_AlgorithmConsumer(a) for a in self.algorithms]
        self._window = (
            _WindowConsumer(parse_algorithms(window_algorithm)[0], window) if window else None
        )

    def consumers(self) -> list[Consumer]:
        found: list[Consumer] = list(self._algos)
        if self._window is not None:
            found.append(self._window)
        return found

    def update(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        for c in self.consumers():
            c.consume(view)

    def result(self) -> HashResult:
        """Final digests. Call once, after the pump (or the last `update`)."""
        if self._window is not None:
            self._window.close()  # pump() closed it already; update() users have not
        sizes = {c.size for c in self._algos}
        if len(sizes) > 1:
            raise HashError(f"internal error: algorithms saw different sizes {sorted(sizes)}")
        size = sizes.pop() if sizes else 0
        return HashResult(
            size=size,
            digests={c.name: c.hasher.hexdigest() for c in self._algos},
            window_size=self._window.window if self._window else None,
            window_algorithm=self._window.name if self._window else None,
            windows=tuple(self._window.windows) if self._window else (),
        )


def open_readonly(path: Path) -> int:
    """Open for reading without touching the access time where allowed (O_NOATIME needs the
    file's owner or root; fall back silently otherwise), so hashing evidence changes nothing.

    Raises:
        HashError: the path cannot be opened.
    """
    noatime = getattr(os, "O_NOATIME", 0)
    try:
        try:
            return os.open(path, os.O_RDONLY | noatime)
        except PermissionError:
            if not noatime:
                raise
            return os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise HashError(f"cannot open {os.fsdecode(path)!r}: {exc.strerror}") from exc


def hash_file(
    path: Path,
    algorithms: Iterable[str],
    *,
    window: int | None = None,
    window_algorithm: str = DEFAULT_WINDOW_ALGORITHM,
    on_progress: Callable[[int], None] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    buffers: int = DEFAULT_BUFFERS,
) -> HashResult:
    """Hash a regular file, block device or FIFO until EOF.

    Raises:
        HashError: the path cannot be opened or read (a directory, a vanished file, EIO …).
    """
    hasher = MultiHasher(algorithms, window=window, window_algorithm=window_algorithm)
    fd = open_readonly(path)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise HashError(f"{os.fsdecode(path)!r} is a directory", hint="use -r to recurse")
        if stat.S_ISREG(mode):
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            except OSError:
                pass
        with open(fd, "rb", buffering=0, closefd=False) as fh:
            try:
                pump(
                    fh.readinto,
                    hasher.consumers(),
                    chunk_size=chunk_size,
                    buffers=buffers,
                    on_progress=on_progress,
                )
            except OSError as exc:
                raise HashError(f"cannot read {os.fsdecode(path)!r}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    return hasher.result()
