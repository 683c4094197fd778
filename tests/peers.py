"""The peer/root/test-data guards: skip with the reason on a laptop, fail in CI.

CI sets EVIDENCEKIT_REQUIRE_PEERS=1 (`.ci/run`), where a missing peer tool, root, or the shared
test data beside the checkout is a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# ../shared/testdata beside the checkout (as CI lays it out), or EVIDENCEKIT_TESTDATA.
TESTDATA = Path(
    os.environ.get("EVIDENCEKIT_TESTDATA")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"
)

REQUIRE_PEERS = os.environ.get("EVIDENCEKIT_REQUIRE_PEERS") == "1"


def need_peer(*commands: str) -> None:
    """Skip (or, in CI, fail) unless every command is on PATH."""
    missing = [c for c in commands if shutil.which(c) is None]
    if missing:
        msg = f"peer tool(s) not installed: {', '.join(missing)} (run `make peers` as root)"
        if REQUIRE_PEERS:
            pytest.fail(msg)
        pytest.skip(msg)


def need_root() -> None:
    """Skip (or, in CI, fail) unless running as root."""
    if os.geteuid() != 0:
        msg = "needs root (loop devices, FUSE)"
        if REQUIRE_PEERS:
            pytest.fail(msg)
        pytest.skip(msg)
