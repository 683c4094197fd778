"""Verifying a seal's artifacts: every sealed file is present with its size and (re-hashed) its
digests, the raw media they make up together is compared window by window, and a changed file
that now holds another artifact's sealed content is named as swapped.

Nothing here raises for a finding: each becomes a :class:`Problem` in the returned
:class:`ArtifactFindings`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

from evidencekit.errors import IntegrityError
from evidencekit.fsutil import UnsafeFileError
from evidencekit.hash.multihash import MultiHasher
from evidencekit.hash.pipeline import Consumer, pump
from evidencekit.hash.seal.document import Artifact, Seal, shown_name
from evidencekit.hash.seal.plugins import _pick, compare_media
from evidencekit.problems import Problem


@dataclass(frozen=True, slots=True)
class ArtifactFindings:
    """What checking a seal's artifacts found, in the order it was found."""

    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    checked: tuple[str, ...]
    bytes_hashed: int
    unsafe: bool = False
    """An artifact has an unsafe name or is not a regular file: plug-ins must not open them."""


def check_artifacts(
    seal: Seal, *, rehash: bool, on_progress: Callable[[int], None] | None
) -> ArtifactFindings:
    """Check every artifact's presence and size, and with `rehash` its digests and the combined
    raw media's digests and windows (other media formats are the plug-ins' job).

    Args:
        seal: the parsed seal.
        rehash: re-read and hash every file (else sizes only).
        on_progress: called with the bytes hashed so far.
    """
    checker = _ArtifactChecker(seal, rehash, on_progress)
    checker.run()
    return ArtifactFindings(
        problems=tuple(checker.problems),
        notes=tuple(checker.notes),
        checked=tuple(checker.checked),
        bytes_hashed=checker.hashed,
        unsafe=checker.unsafe,
    )


class _NoClose:
    """Feeds a long-lived consumer across several pumps (the combined media spans files)."""

    def __init__(self, inner: Consumer) -> None:
        self.inner = inner

    def consume(self, data: memoryview) -> None:
        self.inner.consume(data)

    def close(self) -> None:
        pass


def _size_problem(art: Artifact, found: int, *, ranged: bool) -> Problem:
    """`size-mismatch` for `art` holding `found` bytes; `ranged` names the byte range that was
    cut off or added (given for a regular file's size, not for the bytes read from another
    kind of file)."""
    expected = art.size
    if found < expected:
        message = f"truncated: {expected} bytes sealed, {found} found ({expected - found} missing)"
    else:
        message = (
            f"bytes appended: {expected} bytes sealed, {found} found ({found - expected} extra)"
        )
    return Problem.of_file(
        "size-mismatch",
        shown_name(art.name),
        message,
        byte_range=(min(expected, found), max(expected, found)) if ranged else None,
        expected=str(expected),
        found=str(found),
    )


class _ArtifactChecker:
    def __init__(self, seal: Seal, rehash: bool, on_progress: Callable[[int], None] | None):
        self.seal = seal
        self.rehash = rehash
        self.on_progress = on_progress
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.checked: list[str] = []
        self.hashed = 0
        self.found: dict[str, dict[str, str]] = {}
        self.unsafe = False

    def run(self) -> None:
        seal = self.seal
        comb = seal.combined
        raw_parts = comb.parts if comb is not None and comb.format == "raw" else ()
        media: MultiHasher | None = None
        if raw_parts and self.rehash:
            media = MultiHasher(
                list(comb.digests) if comb else [],
                window=comb.window_size if comb else None,
                window_algorithm=(comb.window_algorithm or "sha256") if comb else "sha256",
            )
        by_name = {a.name: a for a in seal.artifacts}
        media_ok = True
        # the media's parts first and in their order: one pass feeds both their own digests
        # and the combined media's
        ordered = [by_name[p] for p in raw_parts if p in by_name]
        ordered += [a for a in seal.artifacts if a.name not in raw_parts]
        for art in ordered:
            in_media = art.name in raw_parts
            if not self._check_one(art, media if in_media else None):
                media_ok = media_ok and not in_media
        if media is not None and comb is not None:
            if media_ok:
                parts = [(p, by_name[p].size) for p in raw_parts if p in by_name]
                self.problems += compare_media(
                    comb, media.result(), name=f"{seal.item_id} media", parts=parts
                )
            else:
                self.notes.append("media digests not compared: a part is missing or unreadable")
        self._find_swaps()

    def _check_one(self, art: Artifact, media: MultiHasher | None) -> bool:
        """False when the file is missing, unreadable or not a regular file in its place."""
        shown = shown_name(art.name)
        try:
            fd = self.seal.open_artifact(art.name)
        except UnsafeFileError as exc:
            self.checked.append(shown)
            self.problems.append(Problem.of_file("unsafe-file", shown, f"{exc.message}; not read"))
            self.unsafe = True
            return False
        except IntegrityError as exc:
            self.problems.append(Problem.of_file("unsafe-name", shown, exc.message))
            self.unsafe = True
            return False
        except FileNotFoundError:
            self.checked.append(shown)
            where = shown_name(str(self.seal.artifact_path(art.name)))
            self.problems.append(
                Problem.of_file("missing-file", shown, f"sealed file is missing ({where})")
            )
            return False
        except OSError as exc:
            self.checked.append(shown)
            self.problems.append(
                Problem.of_file("unreadable-file", shown, f"cannot open: {exc.strerror or exc}")
            )
            return False
        self.checked.append(shown)
        try:
            size = os.fstat(fd).st_size
            if size != art.size:
                self.problems.append(_size_problem(art, size, ranged=True))
            if not self.rehash:
                return True
            return self._rehash(art, fd, media)
        finally:
            os.close(fd)

    def _rehash(self, art: Artifact, fd: int, media: MultiHasher | None) -> bool:
        """Hash `art` from `fd` (and feed `media`); False when the file cannot be read."""
        hasher = MultiHasher(list(art.digests))
        consumers: list[Consumer] = list(hasher.consumers())
        if media is not None:
            consumers += [_NoClose(c) for c in media.consumers()]
        base = self.hashed
        progress = None
        if self.on_progress is not None:
            cb = self.on_progress

            def progress(n: int) -> None:
                cb(base + n)

        try:
            with open(fd, "rb", buffering=0, closefd=False) as fh:
                n = pump(fh.readinto, consumers, on_progress=progress)
        except OSError as exc:
            self.problems.append(
                Problem.of_file(
                    "unreadable-file", shown_name(art.name), f"read error: {exc.strerror}"
                )
            )
            return False
        self.hashed += n
        result = hasher.result()
        self.found[shown_name(art.name)] = dict(result.digests)
        bad = [a for a in art.digests if result.digests.get(a) != art.digests[a]]
        if bad:
            algo = _pick({a: art.digests[a] for a in bad})
            self.problems.append(
                Problem.of_file(
                    "digest-mismatch",
                    shown_name(art.name),
                    f"content differs from the seal ({', '.join(bad)} differ)",
                    expected=f"{algo}:{art.digests[algo]}",
                    found=f"{algo}:{result.digests[algo]}",
                )
            )
        return True

    def _find_swaps(self) -> None:
        """Name the artifact whose sealed content a changed file now holds (swapped files)."""
        expected = {shown_name(a.name): a.digests for a in self.seal.artifacts}
        for i, p in enumerate(self.problems):
            if p.kind not in ("digest-mismatch", "size-mismatch") or p.file not in self.found:
                continue
            got = self.found[p.file]
            for other, digests in expected.items():
                if other != p.file and digests and all(got.get(a) == h for a, h in digests.items()):
                    self.problems[i] = dataclasses.replace(
                        p,
                        message=f"{p.message}; it holds the sealed content of {other!r} "
                        "(files swapped or renamed?)",
                    )
                    break
