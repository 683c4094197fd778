"""The free-space check before an image is written."""

from __future__ import annotations

import shutil
from pathlib import Path

from evidencekit.errors import AcquisitionError
from evidencekit.sizes import human


def check_space(where: Path, need: int, force: bool) -> dict[str, int]:
    """Free and needed bytes at `where` (or its nearest existing parent).

    Raises:
        AcquisitionError: less than `need` bytes free, without `force`.
    """
    probe = where
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < need and not force:
        raise AcquisitionError(
            f"not enough free space in {str(probe)!r}: {human(free)} free, the image needs "
            f"{human(need)}",
            hint="choose another destination, or pass --force (the image may then stop half-way)",
        )
    return {"free": free, "needed": need}
