"""How `ls` and `acquire files` say which reading of a SOURCE argument they used
(`workflows.sources.resolve`, the one rule both follow), in the interface language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidencekit.cli.i18n import _

if TYPE_CHECKING:
    from evidencekit.cli.runtime import App
    from evidencekit.workflows.sources import ResolvedSource


def described(src: ResolvedSource) -> str:
    """`ARG: what it was read as`, e.g. "USB-01: item USB-01 of the case, its disk image …"."""
    from evidencekit.fsutil import names_shown
    from evidencekit.workflows import sources

    arg = names_shown(src.arg)  # a name that is not UTF-8: \xNN, as the records show it
    if src.kind == sources.ITEM:
        return _("{arg}: item {item} of the case, its disk image {path}").format(
            arg=arg, item=src.item_id, path=names_shown(str(src.path))
        )
    if src.kind == sources.IMAGE:
        return _("{arg}: a disk image").format(arg=arg)
    if src.kind == sources.FOLDER:
        return _("{arg}: a folder").format(arg=arg)
    return _("{arg}: a file (not a disk image)").format(arg=arg)


def warn_shadowed(app: App, src: ResolvedSource) -> None:
    """The warning when an item id also names a file or folder here (the item was read)."""
    if src.shadowed is None:
        return
    app.warn(
        _(
            "{arg!r} is both item {item} of the case and {what} here: the item was read (an "
            "item id comes first); give ./{arg} to read {what}"
        ).format(
            arg=src.arg,
            item=src.item_id,
            what=_("the folder") if src.shadowed.is_dir() else _("the file"),
        )
    )
