"""The bytes of the photos a report shows (thumbnails), read from the case only when the file
still has the SHA-256 its `registered` event recorded.

`custody verify` (run before any report is built) re-hashes every recorded photo, so a changed
photo stops the build; this second check is against a file changed in between: such a photo is
listed with its recorded digest and no thumbnail, never shown as what was registered.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path

from evidencekit.case import Case
from evidencekit.report.model import Photo

MAX_PHOTO = 64 << 20
"""A larger file gets no thumbnail (it is listed with its digest all the same)."""


def _inside(case: Case, name: str) -> Path | None:
    """The case file a photo's recorded name gives, when it lies inside the case folder."""
    root = case.path.resolve()
    path = (root / name).resolve()
    return path if path.is_relative_to(root) and path != root else None


def with_data(case: Case, photos: Sequence[Photo]) -> tuple[Photo, ...]:
    """`photos` with the bytes of each whose file in the case has its recorded SHA-256."""
    out = []
    for photo in photos:
        data = None
        path = _inside(case, photo.name)
        try:
            if path is not None and path.is_file() and path.stat().st_size <= MAX_PHOTO:
                raw = path.read_bytes()
                if hashlib.sha256(raw).hexdigest() == photo.sha256:
                    data = raw
        except OSError:
            data = None
        out.append(dataclasses.replace(photo, data=data))
    return tuple(out)
