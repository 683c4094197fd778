"""Seal verification plug-ins: formats whose logical content is not the plain concatenation of
files (E01) register a media verifier, kinds that need extra checks (a tar against its DFXML) an
item checker; :func:`compare_media` is what a media verifier uses to report differing windows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from evidencekit.hash.multihash import HashResult
from evidencekit.hash.seal.document import Combined, Seal
from evidencekit.problems import Problem

MediaVerifier = Callable[[Seal, Combined], list[Problem]]
"""Re-reads an item's logical content from its artifacts (e.g. decodes E01 segments), compares
it with `combined` (use :func:`compare_media`) and adds format checks (E01 chunk CRCs)."""

ItemChecker = Callable[[Seal], list[Problem]]
"""Extra checks for one kind of item (e.g. a tar's members against its DFXML manifest)."""

_MEDIA_VERIFIERS: dict[str, MediaVerifier] = {}
_ITEM_CHECKERS: dict[str, ItemChecker] = {}


def register_media_verifier(fmt: str, verifier: MediaVerifier) -> None:
    """Check `combined` digests of seals whose `combined.format` is `fmt` (e.g. "e01")."""
    _MEDIA_VERIFIERS[fmt] = verifier


def register_item_checker(kind: str, checker: ItemChecker) -> None:
    """Run `checker` on every verified seal of `kind` (e.g. "tar"), after the digest checks."""
    _ITEM_CHECKERS[kind] = checker


def media_verifier(fmt: str) -> MediaVerifier | None:
    """The verifier registered for `combined.format` `fmt`, if any."""
    return _MEDIA_VERIFIERS.get(fmt)


def item_checker(kind: str) -> ItemChecker | None:
    """The checker registered for seals of `kind`, if any."""
    return _ITEM_CHECKERS.get(kind)


# ---------------------------------------------------------------------------------------------
# comparing media (also used by media verifier plug-ins)


def _pick(digests: Mapping[str, str]) -> str:
    for algo in ("sha256", "sha512", "blake3", "sha1", "md5"):
        if algo in digests:
            return algo
    return next(iter(digests))


def _locate(parts: Sequence[tuple[str, int]], begin: int, end: int) -> str:
    """'ITEM.001 bytes 0-65535' for the media range [begin, end) (may span several files)."""
    found: list[str] = []
    start = 0
    for name, size in parts:
        lo, hi = max(begin, start), min(end, start + size)
        if lo < hi:
            found.append(f"{name} bytes {lo - start}-{hi - start - 1}")
        start += size
    return ", ".join(found) or "past the end of the files"


def compare_media(
    expected: Combined,
    found: HashResult,
    *,
    name: str,
    parts: Sequence[tuple[str, int]] = (),
) -> list[Problem]:
    """Compare re-computed media digests with the sealed ones; one problem per differing window.

    Args:
        expected: the sealed combined digests.
        found: a fresh hash of the content (same window size and algorithm).
        name: how to call the content in messages (e.g. "ITEM media").
        parts: (file name, size) in order, to say which file holds a changed range.
    """
    problems: list[Problem] = []
    if found.size != expected.size:
        problems.append(
            Problem.of_file(
                "media-mismatch",
                name,
                f"{'shorter' if found.size < expected.size else 'longer'} than sealed: "
                f"{expected.size} bytes sealed, {found.size} found",
                byte_range=(min(found.size, expected.size), max(found.size, expected.size)),
                expected=str(expected.size),
                found=str(found.size),
            )
        )
    bad = {a: h for a, h in expected.digests.items() if found.digests.get(a, h) != h}
    if bad:
        algo = _pick(bad)
        problems.append(
            Problem.of_file(
                "media-mismatch",
                name,
                f"the digests of the whole content differ ({', '.join(bad)})",
                expected=f"{algo}:{bad[algo]}",
                found=f"{algo}:{found.digests[algo]}",
            )
        )
    if expected.window_size and found.window_algorithm == expected.window_algorithm:
        walgo = expected.window_algorithm or ""
        wsize = expected.window_size
        for w in found.windows:
            if w.index >= len(expected.windows):
                break
            want = expected.windows[w.index]
            want_len = min(wsize, expected.size - w.index * wsize)
            if w.digests.get(walgo) != want or w.length != want_len:
                start, end = w.offset, w.offset + max(w.length, want_len)
                where = f" = {_locate(parts, start, end)}" if parts else ""
                problems.append(
                    Problem.of_file(
                        "window-mismatch",
                        name,
                        f"media bytes {start}-{end - 1} (window {w.index} of {wsize} bytes"
                        f"{where}) differ",
                        byte_range=(start, end),
                        expected=f"{walgo}:{want}",
                        found=f"{walgo}:{w.digests.get(walgo)}",
                    )
                )
    return problems
