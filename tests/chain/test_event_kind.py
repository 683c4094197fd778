"""`EventKind` is the one list of kinds: `KINDS` is made from it, and every set the byte format
and the rules use names only kinds from it (a kind added to a set but not to the list, or
misspelt there, would be a rule about events that can never be written)."""

from __future__ import annotations

from typing import get_args

from evidencekit.chain import kinds


def test_kinds_come_from_the_literal_without_repeats() -> None:
    assert get_args(kinds.EventKind) == kinds.KINDS
    assert len(set(kinds.KINDS)) == len(kinds.KINDS)


def test_every_kind_set_names_known_kinds() -> None:
    sets = {
        n: v for n, v in vars(kinds).items() if isinstance(v, frozenset) and n.endswith("_KINDS")
    }
    assert len(sets) >= 6
    for name, members in sets.items():
        unknown = sorted(set(members) - set(kinds.KINDS))
        assert not unknown, f"{name} names kinds that are not in EventKind: {unknown}"
