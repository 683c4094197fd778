"""The `acquire disk` options, and the formats and seal kinds they choose between."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from evidencekit.acquire.ewf.format import Compression
from evidencekit.acquire.imaging.reader import DEFAULT_RETRIES

ImageFormat = Literal["raw", "split", "e01"]
"""What `acquire disk` writes: ITEM.raw, ITEM.001 … (split raw), or ITEM.E01 …."""
FORMATS: tuple[ImageFormat, ...] = get_args(ImageFormat)
KINDS = {"raw": "raw", "split": "split-raw", "e01": "e01"}
DEFAULT_WINDOW = 64 << 20


@dataclass(frozen=True, slots=True)
class AcquireOptions:
    """The `acquire disk` options (see the CLI for their meaning)."""

    format: ImageFormat = "raw"
    segment_size: int | None = None
    algorithms: tuple[str, ...] = ("md5", "sha1", "sha256")
    verify: bool = True
    verify_source: bool = False
    retries: int = DEFAULT_RETRIES
    max_errors: int | None = None
    evidence_number: str | None = None
    description: str | None = None
    notes: str | None = None
    set_readonly: bool = False
    allow_mounted: bool = False
    window: int | None = DEFAULT_WINDOW
    # BLAKE3 for the window digests: they only localise a change (the whole-media md5, sha1,
    # sha256 prove integrity); a second SHA-256 stream would cost ~3x the CPU of BLAKE3 here
    window_algorithm: str = "blake3"
    copy_to: Path | None = None
    force: bool = False
    compression: Compression = "fast"
    source_format: str | None = None  # "raw": image a container file's own bytes
    # the examiner's reason for sealing an image whose stored MD5/SHA-1 (an E01 source's)
    # differs from what was read; None: such a mismatch is an integrity failure
    accept_stored_digest_mismatch: str | None = None
    # image the decrypted payload of the LUKS volume that is the source (or its partition)
    decrypt: bool = False
    partition: int | None = None  # with decrypt: the partition holding the volume

    def to_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "segment_size": self.segment_size,
            "algorithms": list(self.algorithms),
            "verify": self.verify,
            "verify_source": self.verify_source,
            "retries": self.retries,
            "max_errors": self.max_errors,
            "evidence_number": self.evidence_number,
            "notes": self.notes,
            "set_readonly": self.set_readonly,
            "allow_mounted": self.allow_mounted,
            "window": self.window,
            "window_algorithm": self.window_algorithm if self.window else None,
            "copy_to": str(self.copy_to) if self.copy_to else None,
            "force": self.force,
            "compression": self.compression if self.format == "e01" else None,
            "accept_stored_digest_mismatch": self.accept_stored_digest_mismatch,
            "decrypt": self.decrypt,
            "partition": self.partition,
        }
