"""Which entries a collection keeps: `--include`/`--exclude` shell patterns on stored names."""

from __future__ import annotations

import fnmatch
import unicodedata

from evidencekit.acquire.fs.model import FileEntry
from evidencekit.acquire.logical.options import CollectOptions


class NameFilter:
    """Keeps an entry unless an exclude pattern matches it or a folder above it; with include
    patterns, keeps only the root and the non-folder entries they match.

    A pattern with a `/` inside matches the whole stored path, any other only the last name.
    """

    def __init__(self, opts: CollectOptions) -> None:
        self._fold = opts.ignore_case
        self._inc = [self._norm(p) for p in opts.includes]
        self._exc = [self._norm(p) for p in opts.excludes]
        self._pruned: list[bytes] = []

    def _norm(self, text: str | bytes) -> str:
        # Matching only (names are stored as they are): a typed "Báo*" (NFC) must match a name
        # a Mac stored decomposed (NFD).
        s = text if isinstance(text, str) else text.decode("utf-8", "surrogateescape")
        s = unicodedata.normalize("NFC", s)
        return s.casefold() if self._fold else s

    def _matches(self, patterns: list[str], path: bytes) -> bool:
        full = self._norm(path)
        base = full.rsplit("/", 1)[-1]
        for pat in patterns:
            target = full if "/" in pat.strip("/") else base
            if fnmatch.fnmatchcase(target, pat.strip("/")):
                return True
        return False

    def keep(self, entry: FileEntry) -> bool:
        path = entry.path
        if any(path == p or path.startswith(p + b"/") for p in self._pruned):
            return False
        if path and self._exc and self._matches(self._exc, path):
            if entry.kind == "d":
                self._pruned.append(path)
            return False
        if not self._inc or not path:
            return True
        if entry.kind == "d":
            return False  # tar -x recreates the parents of included files
        return self._matches(self._inc, path)
