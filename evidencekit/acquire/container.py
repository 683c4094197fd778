"""The logical container: a POSIX PAX tar (POSIX.1-2001) that keeps everything a file system said.

Each member's name keeps the bytes the file system stored (Vietnamese names byte for byte, no
NFC/NFD change; non-UTF-8 names through PAX `hdrcharset=BINARY`). PAX records carry what ustar
cannot: `mtime`, `atime`, `ctime` with nanoseconds, the birth time as
`LIBARCHIVE.creationtime`, long names and link targets, and extended attributes as
`SCHILY.xattr.NAME` (the names GNU tar and bsdtar read back).

Naming (see docs/logical.md):
- `ROOT/PATH` where ROOT is the source's folder in the container and PATH the stored path.
- An NTFS alternate data stream or an HFS+ resource fork is its own member `ROOT/PATH:STREAM`
  (`report.doc:Zone.Identifier`, `photo:rsrc`); NTFS forbids `:` in names, so this is unambiguous
  there, and the manifest says which member is a stream of which file.
- A hostile name component (empty, `.`, `..`, a `/` or NUL inside, control characters, more than
  255 bytes) is stored under a safe name: the offending bytes become `%XX`, an over-long component
  is cut and ends with `~` and 16 hex digits of its sha256; a name still clashing gets `~2`, `~3`…
  The manifest keeps the original bytes. Nothing can be extracted outside the target folder.

Each file is hashed in the same pass that copies it (`hash.pipeline.pump` for large files).
"""

from __future__ import annotations

import hashlib
import os
import queue
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evidencekit.acquire.filesystems import FileEntry, Reader
from evidencekit.errors import AcquisitionError
from evidencekit.fsutil import start_writeback
from evidencekit.hash.algorithms import new_hasher
from evidencekit.hash.multihash import HashResult, MultiHasher
from evidencekit.hash.pipeline import Consumer, pump

BLOCK = 512
RECORD = 10240
_SMALL = 1 << 20  # files up to this size are hashed inline (no threads per file)
_MAX_COMPONENT = 255
_MAX_NAME = 4000
_TAR_TYPES = {"r": b"0", "d": b"5", "l": b"2", "p": b"6", "c": b"3", "b": b"4"}
_MAX_OCTAL = {8: 8**7 - 1, 12: 8**11 - 1}


def _component_is_safe(comp: bytes) -> bool:
    if comp in (b"", b".", b"..") or len(comp) > _MAX_COMPONENT:
        return False
    return not any(b < 0x20 or b == 0x7F or b == 0x2F for b in comp)


def safe_component(comp: bytes) -> bytes:
    """`comp` if it is a safe member name component, else its safe stand-in."""
    if _component_is_safe(comp):
        return comp
    if comp == b"":
        return b"%"
    if comp in (b".", b".."):
        return b"%2E" * len(comp)
    out = bytearray()
    for b in comp:
        if b < 0x20 or b in (0x7F, 0x2F, 0x25):
            out += b"%%%02X" % b
        else:
            out.append(b)
    if len(out) > _MAX_COMPONENT:
        digest = hashlib.sha256(comp).hexdigest()[:16].encode()
        out = out[:200] + b"~" + digest
    return bytes(out)


class MemberNames:
    """Hands out unique, safe member names; says when one differs from the original.

    A folder renamed to keep names unique (a corrupt file system can hold a link and a folder
    of the same name) takes its contents with it, and nothing is ever named below a member that
    is not a folder, so no extraction can go through a symbolic link.
    """

    def __init__(self) -> None:
        self._used: set[bytes] = set()
        self._dirs: dict[tuple[bytes, bytes], bytes] = {}  # (root, path) -> folder member
        self._others: set[bytes] = set()  # members that are not folders

    def assign(
        self, root: bytes, path: bytes, stream: bytes | None = None, kind: str = "r"
    ) -> tuple[bytes, bool]:
        parts = path.split(b"/") if path else []
        safe = [safe_component(p) for p in parts]
        renamed = safe != parts
        if stream is not None:
            safe_stream = safe_component(stream)
            renamed = renamed or safe_stream != stream
            last = (safe[-1] if safe else b"") + b":" + safe_stream
            safe = [*safe[:-1], last] if safe else [last]
        parent = self._dirs.get((root, b"/".join(parts[:-1]))) if len(parts) > 1 else None
        if parent is not None:
            name = parent + b"/" + safe[-1]
            renamed = renamed or parent != b"/".join([root, *safe[:-1]])
        else:
            name = b"/".join([root, *safe]) if safe else root
        prefixes = [name[:i] for i in range(len(name)) if name[i : i + 1] == b"/"]
        if len(name) > _MAX_NAME or any(p in self._others for p in prefixes):
            digest = hashlib.sha256(path + b":" + (stream or b"")).hexdigest().encode()
            name = root + b"/_long/" + digest
            renamed = True
        candidate, n = name, 1
        while candidate in self._used:
            n += 1
            candidate = name + b"~%d" % n
            renamed = True
        self._used.add(candidate)
        if kind == "d" and stream is None:
            self._dirs[(root, path)] = candidate
        else:
            self._others.add(candidate)
        return candidate, renamed


def _pax_time(ns: int) -> bytes:
    sign = "-" if ns < 0 else ""
    secs, frac = divmod(abs(ns), 1_000_000_000)
    return f"{sign}{secs}.{frac:09d}".encode()


def _record(key: bytes, value: bytes) -> bytes:
    """One PAX record, `LEN KEY=VALUE\n`, LEN counting itself."""
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n += 1
    return str(n).encode() + body


_USTAR = struct.Struct("100s8s8s8s12s12s8sc100s8s64s8s8s167s")


def _ustar(
    name: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    typeflag: bytes,
    linkname: bytes = b"",
    devmajor: int = 0,
    devminor: int = 0,
) -> bytes:
    header = _USTAR.pack(
        name,
        b"%07o" % (mode & 0o7777),
        b"%07o" % uid,
        b"%07o" % gid,
        b"%011o" % size,
        b"%011o" % mtime,
        b"        ",
        typeflag,
        linkname,
        b"ustar\x0000",
        b"",
        b"%07o" % devmajor,
        b"%07o" % devminor,
        b"",
    )
    return header[:148] + b"%06o\0 " % sum(header) + header[156:]


def _ascii_stand_in(raw: bytes) -> bytes:
    return bytes(b if 0x20 <= b < 0x7F else 0x5F for b in raw[:100])


def pax_header(name: bytes, entry: FileEntry, kind: str, size: int) -> bytes:
    """The PAX extended header (when needed) and ustar header of one member.

    Written by hand rather than through `tarfile`: it is several times faster on trees of small
    files, and the records are exactly these (hdrcharset=BINARY first when a value is not UTF-8).
    """
    records: list[tuple[bytes, bytes]] = []
    ustar_name = name
    if len(name) > 100 or not name.isascii():
        records.append((b"path", name))
        ustar_name = _ascii_stand_in(name)
    link = entry.link_target or b"" if kind == "l" else b""
    ustar_link = link
    if len(link) > 100 or not link.isascii():
        records.append((b"linkpath", link))
        ustar_link = _ascii_stand_in(link)
    uid = entry.uid if entry.uid is not None and entry.uid >= 0 else 0
    gid = entry.gid if entry.gid is not None and entry.gid >= 0 else 0
    if uid > _MAX_OCTAL[8]:
        records.append((b"uid", str(uid).encode()))
        uid = 0
    if gid > _MAX_OCTAL[8]:
        records.append((b"gid", str(gid).encode()))
        gid = 0
    ustar_size = size
    if size > _MAX_OCTAL[12]:
        records.append((b"size", str(size).encode()))
        ustar_size = 0
    mtime_ns = entry.mtime_ns
    mtime = min(max((mtime_ns or 0) // 1_000_000_000, 0), _MAX_OCTAL[12])
    if mtime_ns is not None:
        records.append((b"mtime", _pax_time(mtime_ns)))
    if entry.atime_ns is not None:
        records.append((b"atime", _pax_time(entry.atime_ns)))
    if entry.ctime_ns is not None:
        records.append((b"ctime", _pax_time(entry.ctime_ns)))
    if entry.crtime_ns is not None:
        records.append((b"LIBARCHIVE.creationtime", _pax_time(entry.crtime_ns)))
    for key, value in entry.xattrs:
        records.append((b"SCHILY.xattr." + key, value))
    default_mode = 0o755 if kind == "d" else 0o644
    mode = entry.mode if entry.mode is not None else default_mode
    major, minor = entry.device or (0, 0)
    main = _ustar(
        ustar_name, mode, uid, gid, ustar_size, mtime, _TAR_TYPES[kind], ustar_link, major, minor
    )
    if not records:
        return main
    if any(not _is_utf8(v) or not _is_utf8(k) for k, v in records):
        records.insert(0, (b"hdrcharset", b"BINARY"))
    data = b"".join(_record(k, v) for k, v in records)
    ext = _ustar(b"././@PaxHeader", 0o644, 0, 0, len(data), mtime, b"x")
    return ext + data + bytes(-len(data) % BLOCK) + main


def _is_utf8(raw: bytes) -> bool:
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Stored:
    """What was written for one member."""

    size: int
    digests: dict[str, str]
    error: str | None = None


class _Writer:
    def __init__(self, write: Callable[[memoryview], object]) -> None:
        self._write = write

    def consume(self, data: memoryview) -> None:
        self._write(data)

    def close(self) -> None:
        pass


_WRITEBACK_STEP = 32 << 20


class _BackgroundHasher:
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
        """Return once every byte given so far is hashed."""
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


class _NoClose:
    def __init__(self, inner: Consumer) -> None:
        self._inner = inner

    def consume(self, data: memoryview) -> None:
        self._inner.consume(data)

    def close(self) -> None:
        pass


class _Filler:
    """Reads exactly `size` bytes from a reader; after a read error or an early end, fills the
    rest with zeros (so the tar stays valid and aligned) and remembers why."""

    def __init__(self, reader: Reader | None, size: int, open_error: str | None) -> None:
        self._reader = reader
        self._left = size
        self._pos = 0
        self.error = open_error
        self._filling = False

    def readinto(self, buf: memoryview) -> int:
        want = min(len(buf), self._left)
        if want <= 0:
            return 0
        view = buf[:want]
        n = 0
        if self.error is None and self._reader is not None:
            try:
                n = self._reader.readinto(view)
            except OSError as exc:
                self.error = f"read error at offset {self._pos}: {exc.strerror or exc}"
                n = 0
            if n == 0 and self.error is None:
                self.error = f"data ended at offset {self._pos} of {self._pos + self._left}"
        if n == 0:
            view[:] = bytes(want)
            n = want
            if self.error and not self._filling:
                self.error += "; the rest is stored as zeros"
                self._filling = True
        self._pos += n
        self._left -= n
        return n


class PaxTarWriter:
    """Writes a PAX tar to `path` (which must not exist). Use as a context manager."""

    def __init__(
        self, path: Path, algorithms: tuple[str, ...] = ("sha256",), window: int | None = None
    ) -> None:
        self._hasher = MultiHasher(algorithms, window=window)  # the tar itself, as written
        self._background = _BackgroundHasher(self._hasher)
        self.result: HashResult | None = None
        try:
            self._fh = open(path, "xb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
        except FileExistsError as exc:
            raise AcquisitionError(
                f"container {str(path)!r} already exists", hint="choose another --item id"
            ) from exc
        except OSError as exc:
            raise AcquisitionError(
                f"cannot create container {str(path)!r}: {exc.strerror}"
            ) from exc
        self.path = path
        self._offset = 0
        self._flushed = 0
        self._member_end = 0  # where the member being written ends (header, data, padding)
        self._closed = False
        self._buf = bytearray(_SMALL + BLOCK)

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        self._background.add(data)
        self._raw_write(data)

    def _raw_write(self, data: bytes | bytearray | memoryview) -> None:
        try:
            self._fh.write(data)
        except OSError as exc:
            raise AcquisitionError(
                f"cannot write container {str(self.path)!r}: {exc.strerror}",
                hint="check free space on the destination",
            ) from exc
        self._offset += len(data)
        if self._offset - self._flushed >= _WRITEBACK_STEP:
            self._start_writeback()

    def _start_writeback(self) -> None:
        """Ask the kernel to start writing what we wrote so far, without waiting for it, so
        the final fsync finds little left to do (the disk works while we hash)."""
        try:
            self._fh.flush()
            start_writeback(self._fh.fileno(), self._flushed, self._offset - self._flushed)
        except OSError:
            pass  # only an optimisation; close() still fsyncs everything
        self._flushed = self._offset

    def _header(self, name: bytes, entry: FileEntry, kind: str, size: int) -> bytes:
        return pax_header(name, entry, kind, size)

    def add_entry(self, name: bytes, entry: FileEntry) -> None:
        """A member without data: directory, symlink, FIFO or device."""
        kind = entry.kind if entry.kind in _TAR_TYPES and entry.kind != "r" else "r"
        header = self._header(name, entry, kind, 0)
        self._member_end = self._offset + len(header)
        self._write(header)

    def add_file(
        self,
        name: bytes,
        entry: FileEntry,
        reader: Reader | None,
        size: int,
        algorithms: tuple[str, ...],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> Stored:
        """A regular member of `size` bytes from `reader` (None: empty), hashed as it is copied.

        A read error or an early end still leaves a member of `size` bytes (zero-filled from
        where reading stopped) and the reason in `Stored.error`; the container stays valid.
        The reader is closed.
        """
        header = self._header(name, entry, "r", size)
        self._member_end = self._offset + len(header) + size + -size % BLOCK
        filler = _Filler(reader, size, None)
        digests: dict[str, str]
        try:
            if size <= _SMALL:
                # small files: one read, hashed inline (a thread per algorithm costs more here)
                view = memoryview(self._buf)[: size + -size % BLOCK]
                got = 0
                while got < size:
                    n = filler.readinto(view[got:size])
                    if n == 0:
                        break
                    got += n
                view[size:] = bytes(len(view) - size)  # the member's padding
                hashers = [(a, new_hasher(a)) for a in algorithms]
                data = view[:size]
                for _a, h in hashers:
                    h.update(data)
                self._write(header + bytes(view))
                digests = {a: h.hexdigest() for a, h in hashers}
                if on_progress:
                    on_progress(size)
            else:
                self._write(header)
                hasher = MultiHasher(algorithms)
                self._background.sync()  # the tar's hashers take the pump's data next, in order
                # the tar's own hashers see this file's data too, but must not be closed
                # (that would end the tar's current window digest)
                pump(
                    filler.readinto,
                    [
                        *hasher.consumers(),
                        *map(_NoClose, self._hasher.consumers()),
                        _Writer(self._raw_write),
                    ],
                    chunk_size=4 << 20,
                    buffers=6,
                    on_progress=on_progress,
                )
                digests = hasher.result().digests
                pad = -size % BLOCK
                if pad:
                    self._write(bytes(pad))
            changed = getattr(reader, "changed", None)
            if callable(changed) and filler.error is None:
                filler.error = changed()
        finally:
            if reader is not None:
                try:
                    reader.close()
                except OSError:
                    pass
        return Stored(size=size, digests=digests, error=filler.error)

    def in_member(self) -> bool:
        """True when a member was cut short (an interruption while it was being written)."""
        return self._offset < self._member_end

    def close(self) -> HashResult:
        """Two zero blocks, padding to a full 10 KiB record, then fsync; the tar's digests.

        A member cut short by an interruption is first completed with zeros, so the tar stays
        readable (its digests must then be computed again from the file: see `logical`).
        """
        if self.result is not None:
            return self.result
        if self.in_member():
            self._background.sync()
            self._raw_write(bytes(self._member_end - self._offset))
        self._write(bytes(2 * BLOCK))
        self._write(bytes(-self._offset % RECORD))
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            raise AcquisitionError(f"cannot write container {str(self.path)!r}: {exc}") from exc
        finally:
            self._fh.close()
            self._closed = True
        self._background.close()
        self.result = self._hasher.result()
        return self.result

    def abort(self) -> None:
        self._background.stop()
        if not self._closed:
            self._fh.close()
            self._closed = True

    def __enter__(self) -> PaxTarWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
