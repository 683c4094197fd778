"""A file's other data streams as entries of their own, the same way for every back-end.

An NTFS alternate data stream or an HFS+/APFS resource fork is collected as a regular member
`PATH:STREAM` (see `member_names`); it shares its file's identity, owner and times.
"""

from __future__ import annotations

from collections.abc import Hashable

from evidencekit.acquire.fs.model import FileEntry


def stream_entry(
    base: FileEntry, stream: bytes, size: int, ref: Hashable, error: str | None = None
) -> FileEntry:
    """The entry for data stream `stream` (`size` bytes) of the file `base` lists.

    `ref` is the back-end's token for opening the stream; `error` why its content is not copied.
    """
    return FileEntry(
        path=base.path,
        kind="r",
        size=size,
        inode=base.inode,
        mode=base.mode,
        uid=base.uid,
        gid=base.gid,
        mtime_ns=base.mtime_ns,
        atime_ns=base.atime_ns,
        ctime_ns=base.ctime_ns,
        crtime_ns=base.crtime_ns,
        allocated=base.allocated,
        stream=stream,
        error=error,
        ref=ref,
    )
