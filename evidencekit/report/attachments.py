"""The files embedded in a report PDF, read without trusting the names they carry.

An attachment has three names: its key in the `/EmbeddedFiles` name tree, and the `/F` and `/UF`
file names of its file specification (PDF 32000-1, 7.11.3); viewers and `pdfdetach` save under
`/UF` or `/F`. A name written by someone else may be a path (`../../.bashrc`, `/etc/cron.d/x`),
hold control characters or bidirectional overrides that disguise it on a terminal, or start with
`-` and turn into an option on a command line. `name_problem` says what is wrong with a name;
report verification flags every such attachment and `report extract` refuses them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic

# A name tree deeper than this is not something we wrote; refuse rather than recurse on.
MAX_TREE_DEPTH = 16
MAX_NAME_BYTES = 255  # NAME_MAX of the common file systems
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def shown(name: str, *, quote: bool = True) -> str:
    """`name` for a message or a terminal: controls and bidi overrides as escapes, the rest
    (Vietnamese included) as is; in single quotes unless `quote` is False."""
    out = []
    for ch in name:
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        elif quote and ch in "'\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "'" + "".join(out) + "'" if quote else "".join(out)


def name_problem(name: str) -> str | None:
    """Why `name` is not a plain file name that is safe to create in a folder, or None."""
    if not name:
        return "is empty"
    if "\x00" in name:
        return "holds a NUL byte"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        return "holds a control character"
    if any(ch in _BIDI_CONTROLS for ch in name):
        return "holds a bidirectional-override character (it would display disguised)"
    if "/" in name or "\\" in name:
        return "holds a path separator (it names a path, not a file)"
    if ":" in name:
        return "holds ':' (a drive or stream separator on Windows)"
    if name in (".", ".."):
        return "is a folder reference"
    if name.startswith("."):
        return "starts with '.' (a hidden file, or '..')"
    if name.startswith("-"):
        return "starts with '-' (a command would read it as an option)"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


@dataclass(frozen=True, slots=True)
class EmbeddedEntry:
    """One entry of the embedded-files name tree."""

    key: str
    file_names: tuple[str, ...]  # the distinct /UF and /F names of its file specification
    data: bytes | None  # None when the entry has no embedded stream
    problem: str | None = None  # why it could not be read

    def problems(self) -> list[str]:
        """What is wrong with this entry's names (each names the attachment)."""
        out: list[str] = []
        for name in (self.key, *self.file_names):
            why = name_problem(name)
            if why is not None:
                out.append(f"attachment name {shown(name)} {why}")
        for name in self.file_names:
            if name != self.key:
                out.append(
                    f"attachment {shown(self.key)} is saved by PDF readers under another "
                    f"name, {shown(name)}"
                )
        if self.problem:
            out.append(f"attachment {shown(self.key)}: {self.problem}")
        return out


def deref(obj: Any) -> Any:
    """The object an indirect reference points to; anything else as is."""
    getter = getattr(obj, "get_object", None)
    return getter() if getter is not None else obj


def _text(obj: Any) -> str:
    if isinstance(obj, generic.TextStringObject):
        return str(obj)
    if isinstance(obj, (bytes, generic.ByteStringObject)):
        # not valid PDFDocEncoding/UTF-16: keep every byte visible (controls get flagged)
        return bytes(obj).decode("latin-1")
    return str(obj)


def _walk(node: Any, depth: int, out: list[tuple[str, Any]]) -> None:
    if depth > MAX_TREE_DEPTH:
        raise ValueError(f"the embedded-files name tree is deeper than {MAX_TREE_DEPTH}")
    node = deref(node)
    if not isinstance(node, generic.DictionaryObject):
        raise ValueError("a node of the embedded-files name tree is not a dictionary")
    if "/Names" in node:
        arr = node["/Names"]
        if not isinstance(arr, generic.ArrayObject) or len(arr) % 2:
            raise ValueError("the embedded-files name array is malformed")
        for i in range(0, len(arr), 2):
            out.append((_text(arr[i]), arr[i + 1]))
    if "/Kids" in node:
        for kid in node["/Kids"]:
            _walk(kid, depth + 1, out)


def embedded_entries(root: Any) -> list[EmbeddedEntry]:
    """Every entry of the catalog's embedded-files name tree, leaves and kids alike.

    Works on any revision's catalog (a `HistoricalResolver`'s root too).

    Raises:
        ValueError: the name tree itself is malformed.
    """
    names = root.get("/Names") if isinstance(root, generic.DictionaryObject) else None
    names = deref(names)
    if not isinstance(names, generic.DictionaryObject) or "/EmbeddedFiles" not in names:
        return []
    pairs: list[tuple[str, Any]] = []
    _walk(names["/EmbeddedFiles"], 0, pairs)
    entries = []
    for key, spec_obj in pairs:
        spec = deref(spec_obj)
        if not isinstance(spec, generic.DictionaryObject):
            entries.append(EmbeddedEntry(key, (), None, "its file specification is not a dict"))
            continue
        file_names = tuple(dict.fromkeys(_text(spec[k]) for k in ("/UF", "/F") if k in spec).keys())
        ef = spec.get("/EF")
        ef = deref(ef)
        streams = []
        if isinstance(ef, generic.DictionaryObject):
            streams = [ef[k] for k in ("/F", "/UF") if k in ef]
        if not streams or not all(isinstance(s, generic.StreamObject) for s in streams):
            entries.append(EmbeddedEntry(key, file_names, None, "it embeds no file stream"))
            continue
        datas = [s.data for s in streams]
        # A reader may open either stream: two different files under one name is a disguise.
        problem = "its /EF /F and /UF streams differ" if len(set(datas)) > 1 else None
        entries.append(EmbeddedEntry(key, file_names, datas[0], problem))
    return entries
