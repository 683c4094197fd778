"""A seal's sums files (`ITEM.md5`, `ITEM.sha256`, …): the bytes :func:`sums_file_bytes` gives
from the seal's artifacts (written beside the seal by :mod:`.write`), and verifying them: each
must hold exactly those lines, so `sha256sum -c` beside the seal checks what the seal says.

Nothing here raises for a finding: each becomes a :class:`Problem`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from evidencekit.errors import IntegrityError
from evidencekit.fsutil import UnsafeFileError, open_regular
from evidencekit.hash.seal.document import SCHEMA_V1, Artifact, Seal, artifact_location
from evidencekit.hash.sums import SUMS_EXTENSIONS, format_line
from evidencekit.problems import Problem


def sums_file_bytes(
    algorithm: str, artifacts: Sequence[Artifact], *, carrying: bool = False
) -> bytes:
    """The `ITEM.<ext>` sums file: one coreutils/b3sum line per artifact (with `carrying`,
    per artifact that carries `algorithm`: seal/2; else every artifact must carry it).

    Names are written as the peer writes them (:func:`evidencekit.hash.sums.format_line`), from
    their exact bytes.

    Raises:
        KeyError: without `carrying`, an artifact has no `algorithm` digest.
    """
    return b"".join(
        format_line(algorithm, a.digests[algorithm], a.name)
        for a in artifacts
        if not carrying or algorithm in a.digests
    )


def check_sums(seal: Seal) -> tuple[list[Problem], list[str]]:
    """Compare every sums file the seal lists with the bytes its digests give.

    Returns:
        The problems found and the names of the sums files that were read.
    """
    problems: list[Problem] = []
    checked: list[str] = []
    sums = seal.document.get("sums") or {}
    if not isinstance(sums, dict):
        return [
            Problem.of_file("malformed-seal", seal.path.name, "'sums' is not an object")
        ], checked
    for algo, fname in sums.items():
        if algo not in SUMS_EXTENSIONS or not isinstance(fname, str):
            problems.append(
                Problem.of_file("malformed-seal", seal.path.name, f"bad sums entry {algo}")
            )
            continue
        if seal.schema != SCHEMA_V1 and not any(algo in a.digests for a in seal.artifacts):
            problems.append(
                Problem.of_file(
                    "malformed-seal", fname, f"no artifact carries {algo}: an empty sums file"
                )
            )
            continue
        try:
            folder, parts = artifact_location(seal.item_dir, fname, absolute_ok=False)
        except IntegrityError as exc:
            problems.append(Problem.of_file("unsafe-name", fname, exc.message))
            continue
        try:
            # seal/2: the artifacts that carry the digest (a derived file has SHA-256 only)
            want = sums_file_bytes(algo, seal.artifacts, carrying=seal.schema != SCHEMA_V1)
        except KeyError:
            problems.append(
                Problem.of_file("malformed-seal", fname, f"an artifact has no {algo} digest")
            )
            continue
        try:
            data = _read(folder, parts, len(want))
        except UnsafeFileError as exc:
            problems.append(Problem.of_file("unsafe-file", fname, f"{exc.message}; not read"))
            continue
        except FileNotFoundError:
            path = folder.joinpath(*parts)
            problems.append(
                Problem.of_file("missing-file", fname, f"sums file is missing ({path})")
            )
            continue
        except OSError as exc:
            problems.append(
                Problem.of_file("unreadable-file", fname, f"cannot read: {exc.strerror}")
            )
            continue
        checked.append(fname)
        if data != want:
            problems.append(
                Problem.of_file(
                    "sums-mismatch",
                    fname,
                    "the sums file does not match the seal's digests (edited?)",
                )
            )
    return problems, checked


def _read(folder: Path, parts: list[str], want: int) -> bytes:
    """A sums file's bytes: a regular file, not followed through a link, read up to one byte
    past the expected length (enough to tell it differs)."""
    fd = open_regular(folder, parts)
    try:
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(want + 1)
    finally:
        os.close(fd)
