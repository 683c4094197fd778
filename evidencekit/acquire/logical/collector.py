"""One file system's entries into the container: filter, name, copy and record each one.

What cannot be stored (a socket, a file over `--max-size`, unusable metadata, a file that
cannot be opened) is still recorded, with the reason; the collection goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from evidencekit.acquire.fs.model import FileEntry, FileSystem, Reader
from evidencekit.acquire.logical.manifest import CollectedFile
from evidencekit.acquire.logical.member_names import MemberNames
from evidencekit.acquire.logical.name_filter import NameFilter
from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.acquire.logical.tar_writer import PaxTarWriter


class Collector:
    """Writes the entries of each file system it is given into one tar, and lists them all."""

    def __init__(
        self,
        writer: PaxTarWriter,
        opts: CollectOptions,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.writer = writer
        self.opts = opts
        self.names = MemberNames()
        self.files: list[CollectedFile] = []
        self.on_progress = on_progress
        self._current: tuple[int, int | None, FileEntry, bytes, bool] | None = None

    def interrupted(self) -> None:
        """Record the file in flight when Ctrl-C came, as the tar will hold it: not at all (the
        interruption came before its header was written), cut short (the writer pads it with
        zeros) or whole (only its digests were not recorded)."""
        cur = self._current
        if cur is None:
            return  # nothing was in flight
        source, partition, e, member, renamed = cur
        if self.files and self.files[-1].member == member:
            return  # recorded already: the interruption came just after
        state = self.writer.member_state(member)
        if state == "absent":
            error = "interrupted before it was copied: not in the container"
            self.files.append(CollectedFile(source, partition, e, None, renamed, error=error))
            return
        if state == "partial":
            error = "interrupted while copying; the rest is stored as zeros"
        else:
            error = "interrupted just after copying; its digests were not recorded"
        self.files.append(CollectedFile(source, partition, e, member, renamed, error=error))

    def run(
        self, source: int, partition: int | None, root: bytes, fs: FileSystem, start: bytes
    ) -> None:
        filt = NameFilter(self.opts)
        entries: Iterator[FileEntry] = fs.walk(start, include_deleted=self.opts.include_deleted)
        for entry in entries:
            if not filt.keep(entry):
                continue
            self.files.append(self._store(source, partition, root, fs, entry))
            self._current = None

    def _store(
        self, source: int, partition: int | None, root: bytes, fs: FileSystem, e: FileEntry
    ) -> CollectedFile:
        if e.kind == "s":
            note = "socket: recorded, not stored (a tar cannot hold one)"
            return CollectedFile(source, partition, _with_note(e, note), None)
        if e.kind in ("v", "V", "h", "w") or (e.kind == "-" and e.error):
            return CollectedFile(source, partition, e, None)
        max_size = self.opts.max_size
        if e.kind == "r" and max_size is not None and e.size > max_size:
            note = f"not stored: larger than --max-size ({max_size} bytes)"
            return CollectedFile(source, partition, _with_note(e, note), None)
        if e.kind == "r" and e.error and e.ref is None:
            return CollectedFile(source, partition, e, None)  # metadata unusable: no content
        member, renamed = self.names.assign(root, e.path, e.stream, e.kind)
        self._current = (source, partition, e, member, renamed)
        if e.kind in ("d", "l", "p", "c", "b"):
            self.writer.add_entry(member, e)
            return CollectedFile(source, partition, e, member, renamed)
        reader: Reader | None = None
        if e.kind == "r" and e.inode is not None and e.size:
            try:
                reader = fs.open(e)
            except OSError as exc:
                error = f"cannot open: {exc.strerror or exc}"
                return CollectedFile(source, partition, e, None, renamed, error=error)
        # a deleted name without metadata, or an empty file, is stored as an empty member
        size = e.size if reader is not None else 0
        stored = self.writer.add_file(
            member, e, reader, size, self.opts.algorithms, on_progress=self.on_progress
        )
        return CollectedFile(
            source,
            partition,
            e,
            member,
            renamed,
            stored_size=stored.size,
            digests=stored.digests,
            error=stored.error,
        )


def _with_note(e: FileEntry, note: str) -> FileEntry:
    return replace(e, note=note if not e.note else f"{e.note}; {note}")
