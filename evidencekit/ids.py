"""Item ids: they become file names, so they are a small safe ASCII alphabet."""

from __future__ import annotations

import re

from evidencekit.errors import UsageError

_ITEM_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")


def check_item_id(item_id: str) -> str:
    """Return `item_id` if it is 1–64 ASCII letters, digits, `.`, `_`, `-`, not starting with `.`.

    Raises:
        UsageError: the id is not valid.
    """
    if not _ITEM_ID.match(item_id):
        raise UsageError(
            f"invalid item id {item_id!r}",
            hint="use 1-64 ASCII letters, digits, '.', '_' or '-', not starting with '.'; "
            "put Vietnamese text in --description",
        )
    return item_id
