"""What a SOURCE argument of `ls` and `acquire files` names, by one rule (issue 19 item 10):
an item id of the case (its image), else a path — a disk image recognised by its content
(`acquire.fs.open.recognised_image`), a folder, or a plain file."""

from __future__ import annotations

from pathlib import Path

from evidencekit.case import Case
from evidencekit.errors import EvidenceKitError
from evidencekit.ids import check_item_id

_IMAGE_FILES = ("{}.E01", "{}.Ex01", "{}.raw", "{}.001")


def resolve_source(case: Case | None, spec: Path) -> Path:
    """The item `spec`'s image (its first file) when `spec` is an item id of `case` holding a
    disk image; otherwise `spec` as given."""
    name = str(spec)
    if case is None or "/" in name:
        return spec
    try:
        check_item_id(name)
    except EvidenceKitError:
        return spec
    folder = Path(case.evidence_dir) / name
    for pattern in _IMAGE_FILES:
        candidate = folder / pattern.format(name)
        if candidate.is_file():
            return candidate
    return spec
