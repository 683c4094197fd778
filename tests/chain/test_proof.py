"""Inclusion and consistency proof documents: every way of breaking one is refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain.proof import (
    load_proof,
    verify_consistency_document,
    verify_inclusion_document,
)
from evidencekit.errors import CustodyError, IntegrityError
from evidencekit.identity import Identity
from evidencekit.workflows.custody import (
    consistency_from,
    latest_checkpoint,
    prove_item,
    record_event,
)


@pytest.fixture
def proved(case_dir: Path, identity: Identity) -> tuple[Case, dict[str, Any], str]:
    case = Case.open(case_dir)
    for n in range(6):
        record_event(case, identity, "registered", f"I{n}", description=f"vật {n}")
    record_event(case, identity, "note", "I3", note="một")
    doc = prove_item(case, "I3")
    return case, doc, latest_checkpoint(case) or ""


def test_good_proof(proved: tuple[Case, dict[str, Any], str]) -> None:
    case, doc, cp = proved
    res = verify_inclusion_document(doc, cp, case.trusted())
    assert [e.leaf_index for e in res.events] == [4, 7]
    assert res.to_dict()["ok"] is True


@pytest.mark.parametrize(
    "breaker",
    [
        lambda d: d["entries"][0]["path"].pop(),
        lambda d: d["entries"][0]["path"].append("00" * 32),
        lambda d: d["entries"][0]["path"].reverse(),
        lambda d: d["entries"][0].__setitem__("leaf_index", 5),
        lambda d: d["entries"][0]["event"].__setitem__("seq", 5),
        lambda d: d["entries"][0]["event"].__setitem__("description", "vật 9"),
        lambda d: d["entries"][0]["event"].__setitem__("origin", "evidencekit.case/khác/1"),
        lambda d: d["entries"][0]["signature"].__setitem__("value", "AAAA"),
        lambda d: d["entries"][0]["signature"].__setitem__("value", "!!"),
        lambda d: d["entries"][0]["path"].__setitem__(0, "zz"),
        lambda d: d.__setitem__("tree_size", 7),
        lambda d: d.__setitem__("entries", []),
        lambda d: d.pop("entries"),
        lambda d: d["entries"][0].pop("event"),
        lambda d: d["entries"][1].__setitem__("event", d["entries"][0]["event"]),
    ],
)
def test_broken_inclusion_proofs(proved: tuple[Case, dict[str, Any], str], breaker: Any) -> None:
    case, doc, cp = proved
    bad = copy.deepcopy(doc)
    breaker(bad)
    with pytest.raises(IntegrityError):
        verify_inclusion_document(bad, cp, case.trusted())


def test_load_proof_rejects_junk() -> None:
    for junk in (b"", b"not json", b"[]", b'{"schema": "other"}', b"\xff\xfe"):
        with pytest.raises(IntegrityError):
            load_proof(junk)


def test_prove_unknown_item_or_event(proved: tuple[Case, dict[str, Any], str]) -> None:
    case, _doc, _cp = proved
    with pytest.raises(CustodyError):
        prove_item(case, "NOPE")
    with pytest.raises(CustodyError):
        prove_item(case, "I3", event=2)


def test_consistency(proved: tuple[Case, dict[str, Any], str], identity: Identity) -> None:
    case, _doc, old = proved
    record_event(case, identity, "note", "I1", note="hai")
    res = consistency_from(case, old)
    assert (res.old.checkpoint.size, res.new.checkpoint.size) == (8, 9)
    doc = json.loads(json.dumps(res.proof))
    verify_consistency_document(doc, case.trusted())
    for mutate in (
        lambda d: d["path"].append("00" * 32),
        lambda d: d["path"].pop(),
        lambda d: d["old"].__setitem__("checkpoint", d["new"]["checkpoint"]),
        lambda d: d["new"].__setitem__("checkpoint", d["old"]["checkpoint"]),
        lambda d: d.pop("path"),
    ):
        bad = copy.deepcopy(doc)
        mutate(bad)
        with pytest.raises(IntegrityError):
            verify_consistency_document(bad, case.trusted())
    # nobody trusted: the signers are unknown
    with pytest.raises(IntegrityError):
        verify_consistency_document(doc, {})
