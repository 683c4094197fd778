"""Containers evidencekit cannot open, recognised by their own bytes and refused by name.

Read as raw, a compressed Apple disk image (UDIF .dmg), a VirtualBox VDI or an AFF file is not the
disk inside it: `acquire disk` would seal the container's bytes as if they were the media, and
`ls` would fail with "no file system recognised" without saying why. Each signature here is long
or structured enough that ordinary disk contents do not match it by chance; the refusal names
the format and what to do (convert it, or image the file's own bytes with `--image-bytes`).
"""

from __future__ import annotations

import struct
from pathlib import Path

from evidencekit.errors import SourceError

_BYTES_HINT = "or image the file's own bytes as they are with `acquire disk --image-bytes`"

# (signature at offset 0, format name, how to get at the disk inside)
_HEAD = (
    (
        b"encrcdsa",
        "an encrypted Apple disk image (DMG, encrcdsa v2)",
        "unlock and convert it on macOS (hdiutil convert -format UDTO)",
    ),
    (
        b"AFF10\r\n\x00",
        "an Advanced Forensic Format image (AFF)",
        "convert it to raw with affconvert or affcat (afflib-tools)",
    ),
    (
        b"ADSEGMENTEDFILE\x00",
        "an AccessData logical image (AD1)",
        "export its files with FTK Imager",
    ),
    (
        b"\xfd7zXZ\x00",
        "an xz-compressed file",
        "decompress it first (xz -dk FILE)",
    ),
    (
        b"7z\xbc\xaf\x27\x1c",
        "a 7-Zip archive",
        "extract the disk image from it first (7z x FILE)",
    ),
    (
        b"\x28\xb5\x2f\xfd",
        "a zstd-compressed file",
        "decompress it first (zstd -dk FILE)",
    ),
)


def identify(head: bytes, tail: bytes) -> tuple[str, str] | None:
    """(what the file is, what to do) for a container we cannot open, from its first and last
    512 bytes; None for anything else."""
    # UDIF: a 512-byte "koly" trailer, version 4, header size 512 (Apple TN1150 / libdmg-hfsplus)
    if len(tail) >= 512 and tail[-512:-508] == b"koly":
        version, size = struct.unpack(">II", tail[-508:-500])
        if version == 4 and size == 512:
            return (
                "an Apple disk image (UDIF .dmg, 'koly' trailer; its blocks are compressed)",
                "convert it to raw first (dmg2img FILE.dmg FILE.img, or on macOS hdiutil "
                "convert FILE.dmg -format UDTO -o FILE)",
            )
    if len(tail) >= 8 and tail[-8:] == b"cdsaencr":
        return (
            "an encrypted Apple disk image (DMG, cdsaencr v1)",
            "unlock and convert it on macOS (hdiutil convert -format UDTO)",
        )
    for magic, name, todo in _HEAD:
        if head.startswith(magic):
            return name, todo
    if len(head) >= 0x48 and head[0x40:0x44] == b"\x7f\x10\xda\xbe":
        return (
            "a VirtualBox disk image (VDI)",
            "convert it to raw first (qemu-img convert -O raw FILE.vdi FILE.img)",
        )
    if head.startswith(b"\x1f\x8b\x08") and len(head) >= 10 and head[3] & 0xE0 == 0:
        return "a gzip-compressed file", "decompress it first (gunzip -k FILE)"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
        return "a bzip2-compressed file", "decompress it first (bunzip2 -k FILE)"
    return None


def refuse_unsupported(path: Path, head: bytes, tail: bytes) -> None:
    """Raise for a container we cannot open (see `identify`).

    Raises:
        SourceError: the file is such a container.
    """
    found = identify(head, tail)
    if found is not None:
        name, todo = found
        raise SourceError(
            f"{str(path)!r} is {name}, which evidencekit cannot open: its bytes are not the "
            "disk inside it",
            hint=f"{todo}, {_BYTES_HINT}",
        )
