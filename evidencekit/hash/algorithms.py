"""The algorithm table: names, constructors, digest sizes.

md5 and sha1 are kept because courts, EWF and peer tools expect them; sha256 is the default for
`hash`, and md5+sha1+sha256 the default for artifacts (docs/design.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, Literal, Protocol, get_args

from evidencekit.errors import UsageError

Algorithm = Literal["md5", "sha1", "sha256", "sha512", "blake3"]
"""A digest algorithm's name, as digests and options write it."""
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
DEFAULT_ARTIFACT_ALGORITHMS: tuple[Algorithm, ...] = ("md5", "sha1", "sha256")
DEFAULT_HASH_ALGORITHM: Algorithm = "sha256"

# blake3 splits large updates across threads itself; below this size the thread start-up costs
# more than it saves.
_BLAKE3_MT_THRESHOLD = 1 << 20


class Hasher(Protocol):
    """What every algorithm object offers (hashlib's and blake3's share it)."""

    def update(self, data: Any, /) -> None: ...

    def hexdigest(self) -> str: ...


class _Blake3:
    """blake3 with multithreading for large buffers (the `blake3` package releases the GIL)."""

    def __init__(self) -> None:
        import blake3

        self._h = blake3.blake3(max_threads=blake3.blake3.AUTO)

    def update(self, data: Any, /) -> None:
        self._h.update(data)

    def hexdigest(self) -> str:
        return str(self._h.hexdigest())


_CONSTRUCTORS: dict[str, Callable[[], Hasher]] = {
    "md5": lambda: hashlib.md5(usedforsecurity=False),
    "sha1": lambda: hashlib.sha1(usedforsecurity=False),
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
    "blake3": _Blake3,
}

DIGEST_HEX_LENGTH: dict[str, int] = {
    "md5": 32,
    "sha1": 40,
    "sha256": 64,
    "sha512": 128,
    "blake3": 64,
}


def new_hasher(name: str) -> Hasher:
    """A fresh hasher for `name` (one of ALGORITHMS).

    Raises:
        UsageError: unknown algorithm.
    """
    try:
        return _CONSTRUCTORS[name]()
    except KeyError:
        raise UsageError(
            f"unknown hash algorithm {name!r}", hint=f"choose from {', '.join(ALGORITHMS)}"
        ) from None


def parse_algorithms(text: str | Iterable[str]) -> tuple[Algorithm, ...]:
    """`"md5,SHA256"` (or an iterable of names, each possibly comma-separated) -> ("md5", "sha256").

    Order follows ALGORITHMS; duplicates are dropped; `sha-256` and `SHA256` are accepted.

    Raises:
        UsageError: an unknown or empty name.
    """
    parts = [text] if isinstance(text, str) else list(text)
    names: set[str] = set()
    for part in parts:
        for raw in part.split(","):
            name = raw.strip().lower().replace("-", "")
            if not name:
                continue
            if name not in _CONSTRUCTORS:
                raise UsageError(
                    f"unknown hash algorithm {raw.strip()!r}",
                    hint=f"choose from {', '.join(ALGORITHMS)}",
                )
            names.add(name)
    if not names:
        raise UsageError("no hash algorithm given", hint=f"choose from {', '.join(ALGORITHMS)}")
    return tuple(a for a in ALGORITHMS if a in names)


def format_digest(algorithm: str, hex_digest: str) -> str:
    """How digests are written in JSON: `sha256:ab12…`."""
    return f"{algorithm}:{hex_digest}"
