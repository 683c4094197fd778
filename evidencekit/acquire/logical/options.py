"""What a logical collection takes: the `acquire files` flags as one value."""

from __future__ import annotations

from dataclasses import dataclass, field

from evidencekit.acquire.fs.model import Credentials
from evidencekit.hash.algorithms import DEFAULT_ARTIFACT_ALGORITHMS


@dataclass(frozen=True, slots=True)
class CollectOptions:
    """What to collect and how (the `acquire files` flags)."""

    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    ignore_case: bool = False
    max_size: int | None = None
    include_deleted: bool = False
    follow_symlinks: bool = False
    partition: int | None = None
    inside_path: str | None = None
    source_timezone: str = "UTC"
    algorithms: tuple[str, ...] = tuple(DEFAULT_ARTIFACT_ALGORITHMS)
    credentials: Credentials = field(default_factory=Credentials)
    # read an image's whole media to compare it with its stored MD5/SHA-1 (E01)
    check_stored_digests: bool = True
    fs_type: str | None = None  # `--fs-type`: where a volume holds several file systems' signatures

    def to_dict(self) -> dict[str, object]:
        return {
            "include": list(self.includes),
            "exclude": list(self.excludes),
            "ignore_case": self.ignore_case,
            "max_size": self.max_size,
            "include_deleted": self.include_deleted,
            "follow_symlinks": self.follow_symlinks,
            "partition": self.partition,
            "path": self.inside_path,
            "source_timezone": self.source_timezone,
            "algorithms": list(self.algorithms),
            "check_stored_digests": self.check_stored_digests,
            "fs_type": self.fs_type,
        }
