"""dfvfs adapter: the only module that imports dfvfs.

Used where Sleuth Kit's Python binding cannot go: APFS containers, and encrypted volumes
(BitLocker, FileVault/Core Storage), which dfvfs detects and can unlock with a password
or a recovery key. dfvfs opens the image file itself (its own EWF/QCOW/VMDK/VHD readers), then a
data range for the partition Sleuth Kit found. dfvfs objects never leave this module.
"""

from __future__ import annotations

import errno
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from evidencekit.acquire.fs.model import Credentials, FileEntry
from evidencekit.acquire.fs.stream_entries import stream_entry
from evidencekit.errors import SourceError

log = logging.getLogger(__name__)

# LUKS is not here: `luks.py` reads LUKS1 and LUKS2 itself (libluksde reads LUKS1 only and
# derives no key from a non-ASCII passphrase), before dfvfs is asked.
_ENCRYPTED = {"BDE": "BitLocker", "CS": "FileVault (Core Storage)"}
_MAX_XATTR = 64 << 10  # larger extended attributes than this are not copied into PAX records
_KIND = {"file": "r", "directory": "d", "link": "l", "socket": "s", "pipe": "p", "device": "c"}
_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?")
_SPLIT_RAW = re.compile(r"\.(\d{3}|raw\.\d{3}|[a-z]{2})$", re.IGNORECASE)


def _modules() -> tuple[Any, Any, Any, Any]:
    from dfvfs.analyzer import analyzer
    from dfvfs.lib import definitions
    from dfvfs.path import factory
    from dfvfs.resolver import resolver

    return analyzer.Analyzer, definitions, factory.Factory, resolver.Resolver


def _context() -> Any:
    """A fresh resolver context: dfvfs caches opened volumes per context, and a volume opened
    while locked (no or a wrong key) must not be reused when the right key is given."""
    from dfvfs.resolver import context

    return context.Context()


def _base_spec(path: Path, offset: int, length: int, ctx: Any) -> Any:
    analyzer, d, factory, _resolver = _modules()
    spec = factory.NewPathSpec(d.TYPE_INDICATOR_OS, location=str(path))
    if _SPLIT_RAW.search(path.name) and not path.name.lower().endswith(".e01"):
        spec = factory.NewPathSpec(d.TYPE_INDICATOR_RAW, parent=spec)
    else:
        kinds = analyzer.GetStorageMediaImageTypeIndicators(spec, resolver_context=ctx)
        if len(kinds) == 1:
            spec = factory.NewPathSpec(kinds[0], parent=spec)
    if offset:
        spec = factory.NewPathSpec(
            d.TYPE_INDICATOR_DATA_RANGE, range_offset=offset, range_size=length, parent=spec
        )
    return spec


def probe(path: Path, offset: int, length: int) -> tuple[str | None, str | None]:
    """(file system, encryption) dfvfs finds at `offset`, for listings; (None, None) if nothing."""
    try:
        analyzer, _d, _factory, _resolver = _modules()
        ctx = _context()
        spec = _base_spec(path, offset, length, ctx)
        kinds = analyzer.GetVolumeSystemTypeIndicators(spec, resolver_context=ctx)
        for kind, name in _ENCRYPTED.items():
            if kind in kinds:
                return None, name
        if "LVM" in kinds:
            return "LVM physical volume", None
        if "APFS_CONTAINER" in kinds:
            _a, d, factory, resolver = _modules()
            container = factory.NewPathSpec(
                d.TYPE_INDICATOR_APFS_CONTAINER, location="/apfs1", parent=spec
            )
            locked = _apfs_locked(resolver, container, ctx)
            return "APFS", ("FileVault (APFS)" if locked else None)
        fs_kinds = analyzer.GetFileSystemTypeIndicators(spec, resolver_context=ctx)
        return (str(fs_kinds[0]) if fs_kinds else None), None
    except Exception as exc:  # dfvfs raises many kinds; a probe only informs a listing
        log.debug("dfvfs probe of %s at %d failed: %s", path, offset, exc)
        return None, None


def _refuse_lvm(label: str) -> SourceError:
    return SourceError(
        f"{label} is an LVM physical volume whose metadata evidencekit cannot read",
        hint="image it with acquire disk; to collect files, activate its volume group read-only "
        "on a Linux machine (vgchange -ay --readonly VG) and collect from /dev/VG/LV",
    )


def _apfs_volume(resolver: Any, container: Any, ctx: Any) -> Any:
    entry = resolver.OpenFileEntry(container, resolver_context=ctx)
    return entry.GetAPFSVolume() if entry is not None else None


def _apfs_locked(resolver: Any, container: Any, ctx: Any) -> bool:
    try:
        volume = _apfs_volume(resolver, container, ctx)
        return bool(volume is not None and volume.is_locked())
    except Exception as exc:  # an unreadable volume is reported when it is opened
        log.debug("cannot tell whether the APFS volume is locked: %s", exc)
        return False


def _apfs_unlock(resolver: Any, container: Any, ctx: Any) -> bool:
    from dfvfs.lib import apfs_helper

    volume = _apfs_volume(resolver, container, ctx)
    return bool(apfs_helper.APFSUnlockVolume(volume, container, resolver.key_chain))


def _set_credentials(resolver: Any, spec: Any, creds: Credentials, *, fresh: bool) -> None:
    if fresh:
        # dfvfs's key chain is process-wide: a key given for an earlier open of the same
        # volume must not unlock it now (a wrong password would then seem right)
        resolver.key_chain.Empty()
    if creds.password is not None:
        resolver.key_chain.SetCredential(spec, "password", creds.password)
    if creds.recovery_key is not None:
        resolver.key_chain.SetCredential(spec, "recovery_password", creds.recovery_key)
    if creds.key_file is not None and spec.type_indicator == "BDE":
        resolver.key_chain.SetCredential(spec, "startup_key", str(creds.key_file))


def _require_key(creds: Credentials, label: str, encryption: str) -> None:
    """Refuse to go on with an encrypted volume when no key was given.

    Raises:
        SourceError: neither a password nor a recovery key was given (the hint says how).
    """
    if creds.password is None and creds.recovery_key is None and creds.key_file is None:
        raise SourceError(
            f"{label} is encrypted ({encryption}) and no key was given",
            hint="pass --password-env VAR or --recovery-key-env VAR naming an "
            "environment variable that holds the password or recovery key, or --key-file "
            "with a BitLocker startup key (.BEK)",
        )


class DecryptedMedia:
    """The decrypted bytes of an unlocked BitLocker / Core Storage volume (dfvfs's file object
    over it), as media another back-end (Sleuth Kit) can read a file system from."""

    def __init__(self, fileobj: Any, what: str) -> None:
        self._f = fileobj
        self._what = what
        self._lock = threading.Lock()
        self.size = int(fileobj.get_size())

    def read_at(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self.size - offset))
        if not length:
            return b""
        with self._lock:
            try:
                self._f.seek(offset)
                return bytes(self._f.read(length))
            except Exception as exc:  # dfvfs/pybde raise their own errors
                raise OSError(
                    errno.EIO, f"cannot decrypt {self._what} at offset {offset}: {exc}"
                ) from exc

    def close(self) -> None:
        pass


def _probe(path: Path, offset: int, length: int, label: str) -> tuple[Any, Any, Any]:
    """(resolver context, spec of the range, the volume-system kinds dfvfs sees in it).

    Raises:
        SourceError: dfvfs cannot read the range.
    """
    try:
        analyzer, _d, _factory, _resolver = _modules()
        ctx = _context()
        spec = _base_spec(path, offset, length, ctx)
        return ctx, spec, analyzer.GetVolumeSystemTypeIndicators(spec, resolver_context=ctx)
    except Exception as exc:
        raise SourceError(f"dfvfs cannot read {label}: {exc}") from exc


def _encrypted(
    path: Path,
    offset: int,
    length: int,
    creds: Credentials,
    label: str,
    probed: tuple[Any, Any, Any] | None = None,
) -> tuple[Any, Any, str, Any] | None:
    """(spec of the decrypted volume, resolver context, encryption name, its file object) when
    `label` is a BitLocker or Core Storage volume that the key unlocks; None when it is not
    encrypted. `probed`: what `_probe` already found for the range (not read again).

    Raises:
        SourceError: encrypted and no key was given, or the key does not unlock it.
    """
    ctx, spec, kinds = probed if probed is not None else _probe(path, offset, length, label)
    _analyzer, _d, factory, resolver = _modules()
    for kind, name in _ENCRYPTED.items():
        if kind not in kinds:
            continue
        _require_key(creds, label, name)
        extra = {"location": "/cs1"} if kind == "CS" else {}
        inner = factory.NewPathSpec(kind, parent=spec, **extra)
        _set_credentials(resolver, inner, creds, fresh=True)
        try:
            fileobj = resolver.OpenFileObject(inner, resolver_context=ctx)
            if fileobj is not None:
                fileobj.get_size()  # pybde opens a locked volume; only its size says so
        except Exception as exc:
            log.debug("dfvfs could not unlock %s: %s", label, exc)
            raise SourceError(
                f"cannot unlock {label} ({name}): the password or recovery key is wrong",
                hint="check the value of the --password-env / --recovery-key-env variable "
                "or --key-file (run with --debug for the back-end's message)",
            ) from exc
        if fileobj is None:
            raise SourceError(f"cannot unlock {label} ({name}): dfvfs gave no decrypted volume")
        return inner, ctx, name, fileobj
    return None


def unlock(
    path: Path, offset: int, length: int, creds: Credentials, label: str
) -> tuple[DecryptedMedia, str] | None:
    """The decrypted media of a BitLocker / Core Storage volume and the encryption's name, or
    None when `label` is not such a volume.

    Raises:
        SourceError: encrypted and no key was given, or the key does not unlock it (the message
            says which; a volume that unlocks is never reported as a wrong key).
    """
    found = _encrypted(path, offset, length, creds, label)
    if found is None:
        return None
    _spec, _ctx, name, fileobj = found
    return DecryptedMedia(fileobj, f"{label} ({name})"), name


def open_filesystem(
    path: Path, offset: int, length: int, creds: Credentials, label: str
) -> DfvfsFileSystem:
    """The file system dfvfs finds in `label` (unlocking it with `creds` if encrypted).

    Raises:
        SourceError: nothing found, or the volume is encrypted and stays locked (with a hint).
    """
    ctx, spec, kinds = _probe(path, offset, length, label)
    analyzer, d, factory, resolver = _modules()
    encryption = None
    if any(kind in kinds for kind in _ENCRYPTED):
        # unlock first, on its own, so that a file system that cannot be read inside a volume
        # the key did unlock is never reported as a wrong key
        found = _encrypted(path, offset, length, creds, label, (ctx, spec, kinds))
        if found is not None:
            spec, ctx, encryption, _fileobj = found
            kinds = analyzer.GetVolumeSystemTypeIndicators(spec, resolver_context=ctx)
    try:
        if "LVM" in kinds:
            raise _refuse_lvm(label)
        if "APFS_CONTAINER" in kinds:
            container = factory.NewPathSpec(
                d.TYPE_INDICATOR_APFS_CONTAINER, location="/apfs1", parent=spec
            )
            _set_credentials(resolver, container, creds, fresh=encryption is None)
            if _apfs_locked(resolver, container, ctx):
                encryption = "FileVault (APFS)"
                _require_key(creds, label, encryption)
                if not _apfs_unlock(resolver, container, ctx):
                    raise RuntimeError("the APFS volume stays locked")
            fs_spec = factory.NewPathSpec(d.TYPE_INDICATOR_APFS, location="/", parent=container)
            name = "APFS"
        else:
            fs_kinds = analyzer.GetFileSystemTypeIndicators(spec, resolver_context=ctx)
            if not fs_kinds:
                raise SourceError(f"dfvfs found no file system in {label}")
            name = str(fs_kinds[0])
            fs_spec = factory.NewPathSpec(fs_kinds[0], location="/", parent=spec)
        fs = resolver.OpenFileSystem(fs_spec, resolver_context=ctx)
    except SourceError:
        raise
    except Exception as exc:
        if encryption and "APFS_CONTAINER" not in kinds:
            raise SourceError(
                f"{label} ({encryption}) was unlocked with the key given, but dfvfs cannot open "
                f"the file system inside it: {exc}"
            ) from exc
        if encryption:
            log.debug("dfvfs could not unlock %s: %s", label, exc)
            raise SourceError(
                f"cannot unlock {label} ({encryption}): the password or recovery key is wrong",
                hint="check the value of the --password-env / --recovery-key-env variable "
                "(run with --debug for the back-end's message)",
            ) from exc
        raise SourceError(f"dfvfs cannot open the file system in {label}: {exc}") from exc
    desc = f"{name} (dfvfs)" + (f", {encryption} unlocked" if encryption else "")
    return DfvfsFileSystem(fs, fs_spec, desc)


def _ns(value: Any) -> int | None:
    if value is None:
        return None
    try:
        text = value.CopyToDateTimeStringISO8601()
    except Exception:
        return None
    if not text:
        return None
    m = _ISO.match(text)
    if not m:
        return None
    import calendar

    secs = calendar.timegm((*tuple(int(m.group(i)) for i in range(1, 7)), 0, 0, 0))
    frac = (m.group(7) or "").ljust(9, "0")[:9]
    offset = getattr(value, "time_zone_offset", None) or 0  # minutes east of UTC
    return (secs - int(offset) * 60) * 1_000_000_000 + int(frac)


class _DfvfsReader:
    def __init__(self, fileobj: Any, what: str) -> None:
        self._f = fileobj
        self._what = what

    def readinto(self, buf: memoryview) -> int:
        try:
            data = self._f.read(len(buf))
        except Exception as exc:
            raise OSError(errno.EIO, f"dfvfs cannot read {self._what}: {exc}") from exc
        buf[: len(data)] = data
        return len(data)

    def close(self) -> None:
        close = getattr(self._f, "close", None)
        if close is not None:
            close()


class DfvfsFileSystem:
    """A file system opened through dfvfs (allocated entries only: dfvfs lists no deleted ones)."""

    def __init__(self, fs: Any, fs_spec: Any, description: str) -> None:
        self._fs = fs
        self._spec = fs_spec
        self.description = description
        # dfvfs locations use the file system's own separator ("\\" for NTFS): a location
        # joined with "/" names nothing there, and every file read "dfvfs has no data"
        self._sep = str(getattr(fs, "PATH_SEPARATOR", "/") or "/")

    def _entry_at(self, location: str) -> Any:
        _a, _d, factory, _r = _modules()
        spec = factory.NewPathSpec(
            self._spec.type_indicator, location=location, parent=self._spec.parent
        )
        return self._fs.GetFileEntryByPathSpec(spec)

    @staticmethod
    def _xattrs(entry: Any) -> tuple[list[tuple[bytes, bytes]], list[tuple[str, int]]]:
        """Small extended attributes as values; resource forks as streams (name, size)."""
        values: list[tuple[bytes, bytes]] = []
        forks: list[tuple[str, int]] = []
        for attr in getattr(entry, "attributes", ()):
            name = getattr(attr, "name", None)
            if not name or not hasattr(attr, "read"):
                continue
            size = int(attr.get_size())
            if name == "com.apple.ResourceFork":
                forks.append((name, size))
            elif size <= _MAX_XATTR:
                attr.seek(0)
                values.append((name.encode("utf-8", "surrogateescape"), attr.read(size)))
        return values, forks

    def _convert(self, entry: Any, path: bytes) -> Iterator[FileEntry]:
        st = entry.GetStatAttribute()
        kind = _KIND.get(str(entry.entry_type), "-")
        link = entry.link if entry.IsLink() else None
        base = FileEntry(
            path=path,
            kind=kind,
            size=int(st.size or 0) if kind == "r" else 0,
            inode=int(st.inode_number) if st.inode_number is not None else None,
            mode=(int(st.mode) & 0o7777) if st.mode is not None else None,
            uid=st.owner_identifier,
            gid=st.group_identifier,
            nlink=st.number_of_links,
            mtime_ns=_ns(entry.modification_time),
            atime_ns=_ns(entry.access_time),
            ctime_ns=_ns(entry.change_time),
            crtime_ns=_ns(entry.creation_time),
            link_target=link.encode("utf-8", "surrogateescape") if link else None,
            ref=(entry.path_spec.location, ""),
        )
        try:
            xattrs, forks = self._xattrs(entry)
        except Exception as exc:  # dfvfs raises its own errors for damaged attributes
            xattrs, forks = [], []
            base = replace(base, error=f"cannot read extended attributes: {exc}")
        if xattrs:
            base = replace(base, xattrs=tuple(xattrs))
        yield base
        for name, size in forks:  # an APFS resource fork, like HFS+'s, is its own member
            yield replace(
                base,
                size=size,
                stream=b"rsrc",
                xattrs=(),
                ref=(entry.path_spec.location, "@" + name),
            )
        if kind != "r":
            return
        for stream in entry.data_streams:
            if not stream.name:
                continue
            fo = entry.GetFileObject(data_stream_name=stream.name)
            size = fo.get_size() if fo is not None else 0
            raw = stream.name.encode("utf-8", "surrogateescape")
            yield stream_entry(base, raw, int(size), (entry.path_spec.location, stream.name))

    def walk(
        self, start: bytes = b"/", *, include_deleted: bool = False, recursive: bool = True
    ) -> Iterator[FileEntry]:
        parts = [p for p in start.decode("utf-8", "surrogateescape").split("/") if p]
        location = self._sep + self._sep.join(parts)
        top = self._entry_at(location)
        if top is None:
            raise SourceError(f"no path {'/' + '/'.join(parts)!r} in {self.description}")
        rel = "/".join(parts).encode("utf-8", "surrogateescape")
        if rel:
            yield from self._convert(top, rel)
        if top.IsDirectory():
            yield from self._walk_dir(top, rel, recursive)

    def _walk_dir(self, directory: Any, prefix: bytes, recursive: bool) -> Iterator[FileEntry]:
        subdirs = []
        for child in directory.sub_file_entries:
            name = child.name.encode("utf-8", "surrogateescape")
            path = prefix + b"/" + name if prefix else name
            yield from self._convert(child, path)
            if child.IsDirectory() and not child.IsLink():
                subdirs.append((child, path))
        if not recursive:
            return
        for child, path in subdirs:
            yield from self._walk_dir(child, path, recursive)

    def open(self, entry: FileEntry) -> _DfvfsReader:
        if not isinstance(entry.ref, tuple):
            raise OSError(errno.ENOENT, "entry has no dfvfs location")
        location, stream = entry.ref
        try:
            fe = self._entry_at(location)
            if fe is not None and stream.startswith("@"):  # an extended attribute's value
                for attr in fe.attributes:
                    if getattr(attr, "name", None) == stream[1:]:
                        attr.seek(0)
                        return _DfvfsReader(attr, f"{location!r} attribute {stream[1:]!r}")
                raise OSError(errno.ENOENT, f"attribute {stream[1:]!r} is gone")
            fo = fe.GetFileObject(data_stream_name=stream) if fe is not None else None
        except Exception as exc:
            raise OSError(errno.EIO, f"dfvfs cannot open {location!r}: {exc}") from exc
        if fo is None:
            raise OSError(errno.EIO, f"dfvfs has no data for {location!r}")
        try:
            fo.seek(0)  # dfvfs may hand back a cached file object left where the last read ended
        except Exception as exc:
            raise OSError(errno.EIO, f"dfvfs cannot read {location!r}: {exc}") from exc
        return _DfvfsReader(fo, repr(location))

    def close(self) -> None:
        pass
