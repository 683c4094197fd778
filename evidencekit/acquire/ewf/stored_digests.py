"""The digests an input image stores about itself (an E01's MD5 and SHA-1), checked against what
was read.

An E01 carries the MD5 (and SHA-1) its maker computed in its digest and hash sections. A chunk
changed with its Adler-32 recomputed decodes cleanly: only these stored digests show it. So
every command that reads an E01's whole media compares them with what it read (docs/design.md: a
stored digest that disagrees is an integrity failure, never silently replaced by ours), and
records the outcome (`StoredDigestCheck.to_dict()`) in the seal, the log or the manifest.

libewf stores a stream whose length is not a multiple of the sector size with the sector count
rounded down but every byte in the last chunk and in its MD5; those bytes past the media (the
"tail", fewer than one sector) are hashed after the media so the stored values can be compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from evidencekit.errors import SourceError

# (algorithm, where it is stored, hex digest), e.g. ("md5", "digest section", "ab12…")
Stored = tuple[str, str, str]

_BLOCK = 4 << 20


class CheckedMedia(Protocol):
    """What :func:`check_source` reads: a source's media (`source.media.MediaSource`)."""

    @property
    def size(self) -> int: ...

    @property
    def stored_digests(self) -> tuple[Stored, ...]: ...

    def stored_tail(self) -> bytes: ...

    def read_at(self, offset: int, length: int) -> bytes: ...


@dataclass(frozen=True, slots=True)
class StoredDigestCheck:
    """The outcome of comparing an image's stored digests with the digests of what was read.

    `computed` covers `covered_bytes`: the media plus the tail bytes the image stores past it.
    `not_compared` says why nothing was compared (unreadable data was zero-filled, the check
    was skipped); `accepted` is the examiner's recorded reason for going on despite a mismatch.
    """

    stored: tuple[Stored, ...]
    computed: dict[str, str]
    covered_bytes: int
    tail_bytes: int = 0
    mismatches: tuple[tuple[str, str, str, str], ...] = ()  # (algo, where, stored, computed)
    not_compared: str | None = None
    accepted: str | None = None

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def message(self) -> str:
        """One line naming every mismatch with both values."""
        parts = [
            f"the {algo.upper()} {computed} of the {self.covered_bytes} bytes read differs from "
            f"the stored {algo.upper()} {stored} ({where})"
            for algo, where, stored, computed in self.mismatches
        ]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, object]:
        if self.not_compared:
            outcome = "not compared"
        elif not self.mismatches:
            outcome = "match"
        else:
            outcome = "MISMATCH accepted" if self.accepted else "MISMATCH"
        return {
            "outcome": outcome,
            "stored": [{"algorithm": a, "where": w, "value": v} for a, w, v in self.stored],
            "computed": dict(self.computed),
            "covered_bytes": self.covered_bytes,
            "tail_bytes": self.tail_bytes,
            "mismatches": [
                {"algorithm": a, "where": w, "stored": s, "computed": c}
                for a, w, s, c in self.mismatches
            ],
            "not_compared": self.not_compared,
            "accepted_reason": self.accepted,
        }


def stored_algorithms(stored: Sequence[Stored]) -> tuple[str, ...]:
    """The algorithms the image stores a digest for, md5 first."""
    return tuple(sorted({a for a, _w, _v in stored}, key=lambda a: (a != "md5", a)))


def compare(
    stored: Sequence[Stored],
    computed: Mapping[str, str],
    covered_bytes: int,
    *,
    tail_bytes: int = 0,
    accepted: str | None = None,
) -> StoredDigestCheck:
    """Compare every stored value with the digest of the same algorithm in `computed`."""
    mismatches = tuple(
        (algo, where, value, computed[algo])
        for algo, where, value in stored
        if algo in computed and computed[algo].lower() != value.lower()
    )
    return StoredDigestCheck(
        tuple(stored),
        {a: computed[a] for a in stored_algorithms(stored) if a in computed},
        covered_bytes,
        tail_bytes,
        mismatches,
        None,
        accepted if mismatches else None,
    )


def not_compared(stored: Sequence[Stored], why: str, covered_bytes: int) -> StoredDigestCheck:
    """A check that could not be made (the media read is not the media stored)."""
    return StoredDigestCheck(tuple(stored), {}, covered_bytes, not_compared=why)


class TailHasher:
    """A pump consumer: the stored algorithms over the media, then over the tail bytes."""

    def __init__(self, algorithms: Sequence[str], tail: bytes) -> None:
        self._hashes = {a: hashlib.new(a) for a in algorithms}
        self._tail = tail

    def consume(self, data: memoryview) -> None:
        for h in self._hashes.values():
            h.update(data)

    def close(self) -> None:
        for h in self._hashes.values():
            h.update(self._tail)

    def digests(self) -> dict[str, str]:
        return {a: h.hexdigest() for a, h in self._hashes.items()}


def digests_with_tail(
    read_at: Callable[[int, int], bytes],
    size: int,
    algorithms: Sequence[str],
    tail: bytes,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, str]:
    """The digests of the whole media (read with `read_at`) followed by `tail`.

    Raises:
        SourceError: the media cannot be read (a corrupt chunk): nothing to compare.
    """
    hasher = TailHasher(algorithms, tail)
    pos = 0
    while pos < size:
        try:
            data = read_at(pos, min(_BLOCK, size - pos))
        except OSError as exc:
            raise SourceError(
                f"media bytes from {pos} cannot be read: {exc.strerror or exc}"
            ) from exc
        if not data:
            raise SourceError(f"the media ends at byte {pos}, not {size}")
        hasher.consume(memoryview(data))
        pos += len(data)
        if on_progress is not None:
            on_progress(pos)
    hasher.close()
    return hasher.digests()


def check_source(
    src: CheckedMedia, on_progress: Callable[[int], None] | None = None
) -> StoredDigestCheck | None:
    """Read the whole media of `src` and compare it with the digests it stores; None when it
    stores none. A media that cannot be read whole gives a check that says why it was not made.
    """
    stored = src.stored_digests
    if not stored:
        return None
    try:
        tail = src.stored_tail()
        computed = digests_with_tail(
            src.read_at, src.size, stored_algorithms(stored), tail, on_progress
        )
    except SourceError as exc:
        return not_compared(stored, f"the media cannot be read whole: {exc.message}", src.size)
    return compare(stored, computed, src.size + len(tail), tail_bytes=len(tail))


def warning_text(source: str, doc: Mapping[str, object] | None) -> str | None:
    """The warning `ls` and `acquire files` show for a checked image, from its `to_dict()`
    (None when the stored digests match or there are none)."""
    if not doc or doc.get("outcome") == "match":
        return None
    if doc.get("outcome") == "not compared":
        return f"{source}: its stored digests were not compared: {doc.get('not_compared')}"
    found = doc.get("mismatches")
    parts = [
        f"the {str(m['algorithm']).upper()} {m['computed']} of what was read differs from the "
        f"stored {str(m['algorithm']).upper()} {m['stored']} ({m['where']})"
        for m in (found if isinstance(found, list) else [])
        if isinstance(m, dict)
    ]
    return (
        f"{source}: {'; '.join(parts)}: the image was changed or damaged after it was made "
        "(what is listed is what it holds now)"
    )
