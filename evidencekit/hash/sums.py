"""`*sum`-format lines, as GNU coreutils 9.1 `md5sum` … `sha512sum` and `b3sum` 1.2 write them.

Both peers write `HEX  NAME\\n` and, when the name holds a backslash or a newline, prefix the line
with a backslash and escape those characters (`\\\\`, `\\n`). They differ on the rest, and each
peer's own algorithms must match it byte for byte:

- coreutils 9.1 also escapes a carriage return (`\\r`) and writes non-UTF-8 names as raw bytes;
- b3sum 1.2 leaves a carriage return raw and writes non-UTF-8 names with U+FFFD replacements
  (Rust's lossy conversion), so its lines for such names cannot be checked back.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from evidencekit.errors import UsageError

# File extension of the sums file written beside a sealed artifact, per algorithm.
SUMS_EXTENSIONS: dict[str, str] = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "blake3": "b3",
}
# Which peer tool an algorithm's sums lines must be byte-identical to.
PEER_TOOLS: dict[str, str] = {
    "md5": "md5sum",
    "sha1": "sha1sum",
    "sha256": "sha256sum",
    "sha512": "sha512sum",
    "blake3": "b3sum",
}
_HEX_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_TAGS = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512", "BLAKE3": "blake3"}


def _name_bytes(name: str | bytes | os.PathLike[str]) -> bytes:
    return name if isinstance(name, bytes) else os.fsencode(name)


def escape_name(algorithm: str, name: str | bytes | os.PathLike[str]) -> tuple[bool, bytes]:
    """(escaped?, the name as the peer for `algorithm` writes it)."""
    raw = _name_bytes(name)
    if algorithm == "blake3":
        # b3sum: Rust's to_string_lossy(), then only `\\` and `\n` escaped.
        raw = raw.decode("utf-8", "replace").encode("utf-8")
        specials: tuple[bytes, ...] = (b"\\", b"\n")
    else:
        specials = (b"\\", b"\n", b"\r")
    if not any(s in raw for s in specials):
        return False, raw
    out = raw.replace(b"\\", b"\\\\").replace(b"\n", b"\\n")
    if b"\r" in specials:
        out = out.replace(b"\r", b"\\r")
    return True, out


def format_line(algorithm: str, hex_digest: str, name: str | bytes | os.PathLike[str]) -> bytes:
    """One line exactly as the peer tool for `algorithm` prints it, newline included."""
    escaped, shown = escape_name(algorithm, name)
    prefix = b"\\" if escaped else b""
    return prefix + hex_digest.encode("ascii") + b"  " + shown + b"\n"


def display_name(name: str | bytes | os.PathLike[str]) -> str:
    """A file name as text for messages and JSON: UTF-8, with any other byte shown as `\\xff`
    (a lone surrogate from os.fsdecode cannot be printed or encoded)."""
    return _name_bytes(name).decode("utf-8", "backslashreplace")


def format_error_line(algorithm: str, name: str | bytes | os.PathLike[str], reason: str) -> str:
    """The stderr line the peer prints for an unreadable file (for humans; not compared)."""
    tool = PEER_TOOLS.get(algorithm, "evidencekit")
    return f"{tool}: {display_name(name)}: {reason}"


@dataclass(frozen=True, slots=True)
class SumsEntry:
    """One parsed line of a sums file."""

    line_number: int
    algorithm: str
    hex_digest: str
    name: bytes

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line_number,
            "algorithm": self.algorithm,
            "digest": self.hex_digest,
            "name": display_name(self.name),
        }


def unescape_name(text: bytes) -> bytes | None:
    """Undo `\\\\`, `\\n` and `\\r`; None for any other escape (coreutils rejects those lines)."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == b"\\":
            out += b"\\"
        elif nxt == b"n":
            out += b"\n"
        elif nxt == b"r":
            out += b"\r"
        else:
            return None
        i += 2
    return bytes(out)


_PLAIN = re.compile(rb"^(\\?)([0-9a-fA-F]+) [ *](.*)$", re.S)
_TAGGED = re.compile(rb"^(\\?)([A-Z0-9]+) \((.*)\) = ([0-9a-fA-F]+)$", re.S)


def parse_sums(data: bytes, *, algorithm: str | None = None) -> tuple[list[SumsEntry], list[int]]:
    """Parse a sums file (plain `HEX  NAME` lines or BSD-tagged `SHA256 (NAME) = HEX` lines).

    Without `algorithm`, a plain line's algorithm follows from its digest length (64 hex digits
    mean sha256; pass `algorithm="blake3"` for b3sum lists).

    Returns:
        (the entries, the 1-based numbers of lines that could not be parsed).

    Raises:
        UsageError: `algorithm` is given and a digest has the wrong length for it.
    """
    from evidencekit.hash.algorithms import DIGEST_HEX_LENGTH

    entries: list[SumsEntry] = []
    bad: list[int] = []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith(b"#"):
            continue
        m = _TAGGED.match(line)
        if m:
            escaped, tag, name, hexd = m.groups()
            algo = _TAGS.get(tag.decode("ascii"))
            if algo is None or (algorithm is not None and algo != algorithm):
                bad.append(number)
                continue
        else:
            m = _PLAIN.match(line)
            if not m:
                bad.append(number)
                continue
            escaped, hexd, name = m.groups()
            found = algorithm or _HEX_LENGTHS.get(len(hexd))
            if found is None:
                bad.append(number)
                continue
            algo = found
        if len(hexd) != DIGEST_HEX_LENGTH[algo]:
            bad.append(number)
            continue
        if escaped:
            unescaped = unescape_name(name)
            if unescaped is None:
                bad.append(number)
                continue
            name = unescaped
        entries.append(SumsEntry(number, algo, hexd.decode("ascii").lower(), name))
    if algorithm is not None and algorithm not in DIGEST_HEX_LENGTH:
        raise UsageError(f"unknown hash algorithm {algorithm!r}")
    return entries, bad
