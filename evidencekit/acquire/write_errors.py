"""The one error for a failed write of an image or a side file, shared by every writer (raw,
split, E01): a full destination says so."""

from __future__ import annotations

import errno
from pathlib import Path

from evidencekit.errors import AcquisitionError


def write_error(path: Path, exc: OSError) -> AcquisitionError:
    """Our error for a failed write: ENOSPC and EDQUOT say the destination is full."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return AcquisitionError(
            f"destination full while writing {str(path)!r}: {exc.strerror}",
            hint="free space or choose another destination; the partial image is marked incomplete",
        )
    return AcquisitionError(
        f"cannot write {str(path)!r}: {exc.strerror or exc}",
        hint="check the destination device; the partial image is marked incomplete",
    )
