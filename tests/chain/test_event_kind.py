"""`EventKind` (the Literal type of the kinds we write) and `KINDS` (the tuple the byte format and
the rules check stored events against) name the same kinds in the same order."""

from __future__ import annotations

from typing import get_args

from evidencekit.chain.kinds import KINDS, EventKind


def test_event_kind_literal_is_kinds() -> None:
    assert get_args(EventKind) == KINDS
