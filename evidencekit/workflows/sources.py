"""What a SOURCE argument of `ls` and `acquire files` names — one rule, one function
(`resolve`) that both commands call (issue 16; each command's `--help` states it), first match
wins:

1. an item id of the case (an item `case show` lists, with its folder under `evidence/`): its
   disk image (`ITEM.E01`, `ITEM.Ex01`, `ITEM.raw`, `ITEM.001`); an item that holds no disk
   image (a file collection, sealed files) is a usage error, never a path of the same name;
2. a disk image recognised by its content (`acquire.fs.open.recognised_image`: E01, VMDK,
   QCOW2, VHD, split raw, or raw media holding a partition table, a volume or a file system),
   whatever its name;
3. a folder;
4. any other file (`acquire files` collects it as a file; `ls` opens it as an image, whose
   error names what was tried).

A name with a `/` (`./USB-01`, `/mnt/USB-01`) is always a path: that is how to name a folder
or image called like an item. When an item id also names a path here, the item is read and the
result says what it set aside (`ResolvedSource.shadowed`), so the command can say so. An
argument that is none of these is a usage error (exit 2) naming it.

`resolve_source` is the narrower older form a run plan's `item:ID` source uses: step 1 alone,
the name as given otherwise (its step reports what is missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evidencekit.case import Case
from evidencekit.errors import EvidenceKitError, UsageError
from evidencekit.ids import check_item_id

_IMAGE_FILES = ("{}.E01", "{}.Ex01", "{}.raw", "{}.001")

ITEM = "item"
IMAGE = "image"
FOLDER = "folder"
FILE = "file"


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    """How one SOURCE argument was read.

    Attributes:
        arg: the argument as given.
        kind: `item` (an item of the case: `path` is its disk image), `image` (a disk image
            recognised by its content), `folder` or `file`.
        path: what is read.
        item_id: the item, for `item`.
        shadowed: a file or folder of the same name that the rule set aside (an item id
            comes first), else None.
    """

    arg: str
    kind: str
    path: Path
    item_id: str | None = None
    shadowed: Path | None = None

    def to_dict(self) -> dict[str, object]:
        """The JSON form; a name that is not UTF-8 is shown with `\\xNN` (`fsutil.names_shown`)."""
        from evidencekit.fsutil import names_shown

        doc: dict[str, object] = names_shown(
            {
                "arg": self.arg,
                "kind": self.kind,
                "path": str(self.path),
                "item": self.item_id,
                "shadowed": str(self.shadowed) if self.shadowed is not None else None,
            }
        )
        return doc


def _case_item(case: Case | None, name: str) -> str | None:
    """`name` when it is an item id `case` has a folder for (a name with `/` never is)."""
    if case is None or "/" in name:
        return None
    try:
        check_item_id(name)
    except EvidenceKitError:
        return None
    return name if (Path(case.evidence_dir) / name).is_dir() else None


def _item_image(case: Case, item: str) -> Path | None:
    """The first file of item `item`'s disk image, if it holds one."""
    folder = Path(case.evidence_dir) / item
    for pattern in _IMAGE_FILES:
        candidate = folder / pattern.format(item)
        if candidate.is_file():
            return candidate
    return None


def resolve_source(case: Case | None, spec: Path) -> Path:
    """The disk image of item `spec` when it is an item id of `case` holding one, else `spec`
    as given (a run plan's `item:ID` source; its step reports what is missing)."""
    item = _case_item(case, str(spec))
    image = _item_image(case, item) if item is not None and case is not None else None
    return image if image is not None else spec


def resolve(
    case: Case | None, spec: Path | str, *, fs_type: str | None = None, as_image: bool = False
) -> ResolvedSource:
    """What `spec` names, by the rule of the module's docstring.

    `as_image`: a file is opened as a disk image whatever its content (`acquire files
    --partition/--path`), so it is reported as one.

    Raises:
        UsageError: `spec` is an item holding no disk image, or names nothing (exit 2).
        SourceError: a file that cannot be opened, or a disk image of a format we cannot
            open (`recognised_image`).
    """
    from evidencekit.acquire.fs.open import recognised_image

    name = str(spec)
    path = Path(spec)
    item = _case_item(case, name)
    if item is not None and case is not None:
        shadowed = path if _exists(path) else None
        image = _item_image(case, item)
        if image is not None:
            return ResolvedSource(name, ITEM, image, item, shadowed)
        raise UsageError(
            f"{name!r} is item {item} of the case, which holds no disk image (E01, raw or split "
            "raw: a file collection or sealed files are not read again)",
            hint=(
                f"to read the {'folder' if path.is_dir() else 'file'} {name!r} here, give ./{name}"
                if shadowed is not None
                else "evidencekit case show lists the items"
            ),
        )
    if not _exists(path):
        if case is not None and "/" not in name:
            raise UsageError(
                f"{name!r} is not an item of case {case.info.number} (evidencekit case show "
                "lists them) nor a disk image, folder or file"
            )
        if "/" in name:
            raise UsageError(f"{name!r} is not a disk image, folder or file (no such path)")
        raise UsageError(
            f"{name!r} is not a disk image, folder or file (no such path; an item id needs "
            "a case: --case DIR)"
        )
    if path.is_dir():
        return ResolvedSource(name, FOLDER, path)
    if as_image or recognised_image(path, fs_type=fs_type):
        return ResolvedSource(name, IMAGE, path)
    return ResolvedSource(name, FILE, path)


def _exists(path: Path) -> bool:
    """Whether `path` is there (a dangling symbolic link too: it is a file of the folder)."""
    try:
        path.lstat()
    except OSError:
        return False
    return True
