"""A LUKS volume's decrypted payload as a media source, for `acquire disk --decrypt`.

The volume is the source itself (a LUKS partition dumped to a file, a /dev/sdX1, an image of
one) or a partition of it (`--partition N`, numbered as `evidencekit ls` shows them). It is
unlocked by our own reader (`luks.py`) and its payload — what /dev/mapper/NAME would show after
`cryptsetup open --readonly` — is read through the same `MediaSource` interface as any disk, so
the resilient reader, the writers and the digests treat it alike. The source's identity keeps
what identifies the outer source and adds the volume's (`luks_*` facts: version, UUID, cipher,
key size, sector size, where the payload starts, the key slot that opened); the key and the
password never leave this process.
"""

from __future__ import annotations

from pathlib import Path

from evidencekit.acquire.fs import luks
from evidencekit.acquire.source.info import SourceInfo
from evidencekit.acquire.source.media import MediaSource
from evidencekit.errors import SourceError, UsageError


class _Decrypted:
    """`Media` over an unlocked volume inside `outer` (which it closes)."""

    def __init__(self, outer: MediaSource, volume: luks.LuksMedia, facts: dict[str, str]):
        self._outer = outer
        self._volume = volume
        self.size = volume.size
        self.sector_size = volume.sector_size
        self.segments = tuple(Path(s) for s in outer.info.segments or (outer.info.path,))
        self.facts = facts

    def read_at(self, offset: int, length: int) -> bytes:
        return self._volume.read_at(offset, length)

    def close(self) -> None:
        self._outer.close()


def open_decrypted(outer: MediaSource, password: str, partition: int | None) -> MediaSource:
    """The decrypted payload of the LUKS volume that is `outer` or its partition `partition`.

    The returned source owns `outer`: closing it closes both.

    Raises:
        UsageError: no partition `partition` in `outer`.
        SourceError: no LUKS volume there, a damaged or unsupported header, or the password
            opens no key slot (the message names the volume).
    """
    name = Path(outer.info.path).name
    start, length, label = 0, outer.size, repr(name)
    if partition is not None:
        start, length = _partition(outer, partition)
        label = f"partition {partition} of {name!r}"

    def read_at(offset: int, size: int) -> bytes:
        return outer.read_at(start + offset, max(0, min(size, length - offset)))

    try:
        found = luks.version(read_at)
    except OSError as exc:
        raise SourceError(f"cannot read the start of {label}: {exc.strerror or exc}") from exc
    if found is None:
        raise SourceError(
            f"{label} holds no LUKS volume, so there is nothing to decrypt",
            hint="see the partitions and what they hold with: evidencekit ls SOURCE",
        )

    def readinto(view: memoryview, offset: int) -> int:
        want, done = max(0, min(len(view), length - offset)), 0
        try:
            while done < want:
                n = outer.readinto_at(view[done:want], start + offset + done)
                if n == 0:
                    break
                done += n
        except OSError:
            # buffered reads of a failing disk fail whole read-ahead windows: read exactly these
            # sectors around the page cache, as the resilient reader's sector retries do (they
            # reach us as small reads of the decrypted volume)
            data = outer.read_direct(start + offset, want)
            view[: len(data)] = data
            return len(data)
        return done

    try:
        volume = luks.unlock(read_at, length, password, label)
    except OSError as exc:  # the header or a key slot lies on an unreadable sector
        raise SourceError(
            f"cannot read the LUKS header or key slots of {label}: {exc.strerror or exc}",
            hint="without them the volume key cannot be recovered; image the encrypted "
            "bytes without --decrypt and keep the image",
        ) from exc
    volume.read_into_from(readinto)
    facts = dict(outer.info.identity)
    facts["decrypted"] = f"the decrypted payload of the {volume.facts['version']} volume {label}"
    facts.update({f"luks_{k}": v for k, v in volume.facts.items()})
    facts["luks_volume_offset"] = str(start)
    facts["luks_volume_length"] = str(length)
    facts["outer_format"] = outer.info.format
    facts["outer_size"] = str(outer.size)
    media = _Decrypted(outer, volume, facts)
    info = SourceInfo(
        path=outer.info.path,
        kind=outer.info.kind,
        format=volume.facts["version"].lower(),
        size=volume.size,
        logical_sector_size=volume.sector_size,
        physical_sector_size=volume.sector_size,
        segments=outer.info.segments,
        read_only_flag=outer.info.read_only_flag,
        identity=facts,
    )
    return MediaSource(info, media=media)


def _partition(outer: MediaSource, number: int) -> tuple[int, int]:
    """(start, length) in bytes of partition `number` of `outer`, numbered as `ls` shows them."""
    from evidencekit.acquire.fs._tsk import partition_rows

    name = Path(outer.info.path).name
    rows = partition_rows(outer, repr(name))
    for row in rows:
        if row.number == number:
            if row.start + row.length > outer.size:
                raise SourceError(
                    f"partition {number} of {name!r} ends past the end of the media "
                    f"({row.start + row.length} > {outer.size} bytes)"
                )
            return row.start, row.length
    have = ", ".join(str(r.number) for r in rows) or "none"
    raise UsageError(
        f"{name!r} has no partition {number} (partitions: {have})",
        hint=f"see them with: evidencekit ls {outer.info.path}",
    )
