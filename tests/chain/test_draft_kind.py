"""A draft event's kind is one of the kinds this version writes (`chain.kinds.EventKind`), in
the type the custody use cases take, so mypy --strict refuses a misspelt kind; the ledger
refuses one that slips past the type (a kind computed at run time) before anything is written."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from evidencekit.case import Case
from evidencekit.chain.kinds import KINDS, EventKind
from evidencekit.chain.ledger import Draft
from evidencekit.errors import CustodyError, IntegrityError
from evidencekit.identity import Identity
from evidencekit.workflows import custody


def test_the_kind_of_a_draft_is_an_event_kind() -> None:
    assert typing.get_type_hints(Draft)["kind"] == EventKind
    for use_case in (custody.make_draft, custody.record, custody.record_event):
        assert typing.get_type_hints(use_case)["kind"] == EventKind, use_case.__name__
    assert set(typing.get_args(EventKind)) == set(KINDS)


def test_a_kind_outside_the_literal_is_refused_and_nothing_is_written(
    case_dir: Path, identity: Identity
) -> None:
    case = Case.open(case_dir)
    before = custody.list_events(case)
    bogus: typing.Any = "teleported"
    with pytest.raises((CustodyError, IntegrityError), match="teleported"):
        custody.record_event(case, identity, bogus, "HDD01", description="Ổ cứng")
    assert custody.list_events(case) == before
