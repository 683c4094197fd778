"""The seal verifier plug-ins of this program, registered with `hash.seal.plugins` explicitly
(the functions themselves, never modules imported by a string and skipped when they fail): a
plug-in that cannot be imported stops the program at once, and a seal whose format has no
verifier registered does not verify (`no-verifier`, `hash.seal.verify`).

- "e01" media (`combined.format`): `acquire.ewf.reader.verify_e01` decodes the segments, checks
  every section and chunk and compares the media window by window;
- "tar" items (`kind`): `acquire.tar_check.check_tar_item` re-reads every member against the
  sealed manifest.

Every module that verifies seals (`workflows.verify`, `workflows.recover`) calls
:func:`register_verifiers` when it is imported.
"""

from __future__ import annotations

from evidencekit.acquire.ewf.reader import verify_e01
from evidencekit.acquire.logical.tar_check import check_tar_item
from evidencekit.hash.seal.plugins import register_item_checker, register_media_verifier


def register_verifiers() -> None:
    """Register the E01 media verifier and the tar item checker (idempotent)."""
    register_media_verifier("e01", verify_e01)
    register_item_checker("tar", check_tar_item)
