"""The one home of the libyal image bindings (pyewf, pysmraw, pyqcow, pyvmdk, pyvhdi).

Each opens a container and exposes its *media* (the bytes of the emulated disk) as
`size`, `sector_size`, `read_at(offset, length)` and `close()`. Nothing of the bindings leaves
this module: their errors become `SourceError` (opening) or `OSError(EIO)` (reading, so the
resilient reader treats an unreadable chunk in an image like a bad sector on a disk).
"""

from __future__ import annotations

import errno
import importlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evidencekit.errors import SourceError

log = logging.getLogger(__name__)

EWF_SIGNATURES = (b"EVF\x09\x0d\x0a\xff\x00", b"EVF2\x0d\x0a\x81\x00")
LEF_SIGNATURES = (b"LVF\x09\x0d\x0a\xff\x00", b"LEF2\x0d\x0a\x81\x00")
QCOW_SIGNATURE = b"QFI\xfb"
VMDK_SIGNATURES = (b"KDMV", b"COWD")
VMDK_DESCRIPTOR = b"# Disk DescriptorFile"
VHD_FOOTER = b"conectix"
VHDX_SIGNATURE = b"vhdxfile"

_MODULES = {"ewf": "pyewf", "split-raw": "pysmraw", "qcow2": "pyqcow", "vmdk": "pyvmdk"}


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - installed with dfvfs
        raise SourceError(
            f"the {name} binding is not installed",
            hint="install the libyal python bindings (pip install dfvfs pulls them in)",
        ) from exc


def detect(path: Path, head: bytes, tail: bytes) -> str | None:
    """The container format from the first and last 512 bytes, or None for plain raw."""
    if head.startswith(EWF_SIGNATURES):
        return "ewf"
    if head.startswith(LEF_SIGNATURES):
        raise SourceError(
            f"{str(path)!r} is a logical evidence file (L01/Lx01), not a disk image",
            hint="collect from the original media, or export the files with the tool that made it",
        )
    if head.startswith(QCOW_SIGNATURE):
        return "qcow2"
    if head.startswith(VMDK_SIGNATURES) or head.lstrip().startswith(VMDK_DESCRIPTOR):
        return "vmdk"
    if (
        head.startswith(VHDX_SIGNATURE)
        or tail.startswith(VHD_FOOTER)
        or head.startswith(VHD_FOOTER)
    ):
        return "vhd"
    return None


def split_raw_segments(path: Path) -> list[Path]:
    """The segments of a split raw image (`x.000`/`x.001`, `x.aa`, …) starting at `path`."""
    try:
        found = _module("pysmraw").glob(str(path))
    except (OSError, RuntimeError, ValueError):
        return [path]
    return [Path(p) for p in found] or [path]


def ewf_segments(path: Path) -> list[Path]:
    try:
        found = _module("pyewf").glob(str(path))
    except (OSError, RuntimeError, ValueError) as exc:
        raise SourceError(f"cannot find the segments of E01 {str(path)!r}: {exc}") from exc
    return [Path(p) for p in found]


class LibyalMedia:
    """The media of one container, opened with its binding."""

    def __init__(self, fmt: str, path: Path, segments: Sequence[Path]) -> None:
        self.format = fmt
        self.path = path
        self.segments = tuple(segments)
        self.sector_size = 512
        self.facts: dict[str, str] = {}
        try:
            self._handle = self._open(fmt, path, segments)
            self.size = int(self._handle.get_media_size())
        except (OSError, RuntimeError, ValueError, TypeError) as exc:
            raise SourceError(
                f"cannot open {str(path)!r} as {fmt}: {exc}",
                hint="the image may be truncated or corrupt; check it with the tool that made it",
            ) from exc

    def _open(self, fmt: str, path: Path, segments: Sequence[Path]) -> Any:
        names = [str(p) for p in segments]
        if fmt == "ewf":
            mod = _module("pyewf")
            h = mod.handle()
            h.open(names)
            self.sector_size = int(h.get_bytes_per_sector() or 512)
            for key in ("case_number", "evidence_number", "description", "examiner_name"):
                try:
                    value = h.get_header_value(key)
                except (OSError, RuntimeError, ValueError, KeyError):
                    value = None
                if value:
                    self.facts[f"ewf_{key}"] = str(value)
            for key in ("MD5", "SHA1"):
                try:
                    value = h.get_hash_value(key)
                except (OSError, RuntimeError, ValueError, KeyError):
                    value = None
                if value:
                    self.facts[f"ewf_stored_{key.lower()}"] = str(value)
            return h
        if fmt == "split-raw":
            h = _module("pysmraw").handle()
            h.open(names)
            return h
        if fmt == "qcow2":
            h = _module("pyqcow").file()
            h.open(str(path))
            if h.get_backing_filename():
                raise SourceError(
                    f"QCOW2 {str(path)!r} has a backing file "
                    f"{h.get_backing_filename()!r}; differencing images are not supported",
                    hint="convert it to a standalone image first: qemu-img convert -O raw …",
                )
            return h
        if fmt == "vmdk":
            h = _module("pyvmdk").handle()
            h.open(str(path))
            h.open_extent_data_files()
            return h
        if fmt == "vhd":
            h = _module("pyvhdi").file()
            h.open(str(path))
            self.sector_size = int(h.get_bytes_per_sector() or 512)
            if h.get_parent_identifier():
                raise SourceError(
                    f"VHD {str(path)!r} is a differencing image; its parent is not supported",
                    hint="merge it with its parent first (qemu-img convert)",
                )
            return h
        raise SourceError(f"unknown image format {fmt!r}")  # pragma: no cover

    def read_at(self, offset: int, length: int) -> bytes:
        """Media bytes at `offset`; OSError(EIO) when the binding cannot read them."""
        try:
            return bytes(self._handle.read_buffer_at_offset(length, offset))
        except (OSError, RuntimeError, ValueError) as exc:
            raise OSError(
                errno.EIO, f"{self.format} read of {length} bytes at {offset} failed: {exc}"
            ) from exc

    def close(self) -> None:
        try:
            self._handle.close()
        except (OSError, RuntimeError):  # pragma: no cover - closing a read-only handle
            log.debug("closing %s failed", self.path, exc_info=True)
