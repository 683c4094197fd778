"""The custody rules an insider tried to break (issue #13, scenario 7).

Each rule is checked twice: the ledger refuses the event before signing it, and `custody verify`
names it (exit 3) when a pinned colleague's own software signs it anyway (simulated by switching
the ledger's check off, as a modified copy of evidencekit would).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain import ledger as ledger_module
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.chain.parties import keyless
from evidencekit.chain.rules import CLOCK_SKEW
from evidencekit.errors import CustodyError, UsageError
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import add_examiner
from evidencekit.workflows.custody import record_event, resolve_party
from evidencekit.workflows.origin import ledger_origin
from tests.chain.helpers import SECOND, second_examiner
from tests.conftest import PASSPHRASE


@pytest.fixture
def two(case_dir: Path, identity: Identity, ek_home: Path) -> tuple[Case, Identity, Identity]:
    """The case, its creator (custodian of HDD01 after acquiring it) and a pinned colleague."""
    case = Case.open(case_dir)
    colleague = second_examiner(ek_home, case)
    record_event(case, identity, "acquired", "HDD01", digests={"sha256": "11" * 32})
    return case, identity, colleague


def _forge(case: Case, who: Identity, draft: Draft, monkeypatch: pytest.MonkeyPatch) -> None:
    """Append `draft` signed by `who` with the ledger's rule check switched off."""
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "check_event", lambda *a, **k: None)
        path, origin = case.path / "custody.sqlite", ledger_origin(case)
        with Ledger.open(path, origin, trusted=case.trusted()) as ledger:
            ledger.append(who, [draft])


def _violations(invoke: Any, case: Case) -> list[dict[str, Any]]:
    res = invoke("--case", str(case.path), "--json", "custody", "verify")
    assert res.exit_code == 3, res.output
    problems = json.loads(res.stdout)["problems"]
    found = [p for p in problems if p["kind"] == "rule-violation"]
    assert found, problems
    return found


@pytest.mark.parametrize("kind", ["destroyed", "released", "returned"])
def test_only_the_custodian_ends_custody(
    two: tuple[Case, Identity, Identity], kind: str, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, _owner, colleague = two
    with pytest.raises(CustodyError, match="not the current custodian"):
        record_event(case, colleague, kind, "HDD01", reason="tự ý")
    # the CLI says the same, and takes an override that the event then carries
    verb = {"destroyed": "destroy", "released": "release", "returned": "return"}[kind]
    args = ("--case", str(case.path), "--identity", SECOND, "custody", verb, "HDD01")
    res = invoke(*args, "--reason", "lệnh tiêu huỷ")
    assert res.exit_code == 1 and "not the current custodian" in res.stderr
    res = invoke(*args, "--reason", "lệnh tiêu huỷ", "--override-reason", "quyết định số 12/QĐ")
    assert res.exit_code == 0, res.output
    (ev,) = [e for e in _events(invoke, case) if e["kind"] == kind]
    assert ev["override"] == "quyết định số 12/QĐ" and ev["actor"]["name"] == SECOND
    assert invoke("--case", str(case.path), "custody", "verify").exit_code == 0


def _events(invoke: Any, case: Case) -> list[dict[str, Any]]:
    res = invoke("--case", str(case.path), "--json", "custody", "log")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["events"]  # type: ignore[no-any-return]


def test_destroy_by_a_colleague_without_override_is_caught_on_replay(
    two: tuple[Case, Identity, Identity], invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, _owner, colleague = two
    _forge(case, colleague, Draft(kind="destroyed", item_id="HDD01", reason="x"), monkeypatch)
    (v,) = _violations(invoke, case)
    assert v["item"] == "HDD01" and "not the current custodian" in v["message"]


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("acquired", "registered", "registered only once"),
        ("acquired", "acquired", "already acquired"),
        ("collected", "sealed", "already collected"),
        ("registered", "registered", "registered only once"),
    ],
)
def test_exactly_one_first_event(
    case_dir: Path,
    identity: Identity,
    invoke: Any,
    monkeypatch: pytest.MonkeyPatch,
    first: str,
    second: str,
    message: str,
) -> None:
    case = Case.open(case_dir)
    record_event(case, identity, first, "X1", description="ổ cứng")
    with pytest.raises(CustodyError, match=message):
        record_event(case, identity, second, "X1", description="ổ cứng khác")
    _forge(case, identity, Draft(kind=second, item_id="X1"), monkeypatch)
    (v,) = _violations(invoke, case)
    assert v["item"] == "X1" and message in v["message"]


def test_registered_then_acquired_once_is_the_normal_flow(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    case = Case.open(case_dir)
    record_event(case, identity, "registered", "HDD9", description="Ổ cứng Seagate")
    record_event(case, identity, "acquired", "HDD9", digests={"sha256": "11" * 32})
    with pytest.raises(CustodyError, match="already acquired"):
        record_event(case, identity, "collected", "HDD9")
    assert invoke("--case", str(case.path), "custody", "verify").exit_code == 0


def test_a_transfer_to_an_unpinned_name_is_not_received_by_whoever_later_takes_that_name(
    case_dir: Path, identity: Identity, ek_home: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = Case.open(case_dir)
    record_event(case, identity, "acquired", "HDD01")
    # the recipient is not pinned yet: a bare name is refused (never bound by name) ...
    with pytest.raises(UsageError, match="no examiner pinned"):
        resolve_party(case, SECOND)
    # ... so the transfer records them as a party who holds no key, with their document
    to = keyless(SECOND, "receiver", "cccd:001203004567")
    record_event(case, identity, "transferred", "HDD01", counterpart=to, purpose="giám định")
    # someone is pinned later under exactly that name: the name alone does not make them the
    # recipient
    late = IdentityStore(ek_home).create(SECOND, PASSPHRASE.encode())
    add_examiner(Case.open(case_dir), identity, late.certificate)
    with pytest.raises(CustodyError, match="holds no key in this case"):
        record_event(Case.open(case_dir), late, "received", "HDD01")
    _forge(Case.open(case_dir), late, Draft(kind="received", item_id="HDD01"), monkeypatch)
    (v,) = _violations(invoke, case)
    assert "holds no key" in v["message"]


def test_a_transfer_to_a_pinned_examiner_binds_the_certificate(
    two: tuple[Case, Identity, Identity], ek_home: Path
) -> None:
    case, owner, colleague = two
    record_event(case, owner, "transferred", "HDD01", counterpart=SECOND, purpose="giám định")
    # the event names the colleague by fingerprint, so only that key receives
    with pytest.raises(CustodyError, match="not to"):
        record_event(case, owner, "received", "HDD01")
    se = record_event(case, colleague, "received", "HDD01")
    assert se.event.actor.fingerprint == colleague.fingerprint


def test_an_event_dated_before_the_case_was_opened_is_refused_and_caught(
    case_dir: Path, identity: Identity, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = Case.open(case_dir)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "utcnow", lambda: past)
        with pytest.raises(CustodyError, match="earlier than the case's opening"):
            record_event(case, identity, "registered", "OLD1", description="ghi lùi ngày")
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "utcnow", lambda: past)
        _forge(case, identity, Draft(kind="registered", item_id="OLD1"), monkeypatch)
    (v,) = _violations(invoke, case)
    assert v["item"] == "OLD1" and "earlier than the case's opening" in v["message"]


def test_an_event_dated_before_the_items_previous_event(
    case_dir: Path, identity: Identity, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = Case.open(case_dir)
    now = dt.datetime.now(dt.UTC)
    record_event(case, identity, "registered", "T1", description="x")
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "utcnow", lambda: now + dt.timedelta(hours=2))
        record_event(case, identity, "acquired", "T1")
    # within the tolerated clock skew of the previous event: accepted
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "utcnow", lambda: now + dt.timedelta(hours=2) - CLOCK_SKEW / 2)
        record_event(case, identity, "note", "T1", note="đồng hồ lệch một chút")
    with pytest.raises(CustodyError, match="earlier than the item's previous event"):
        record_event(case, identity, "note", "T1", note="ghi lùi")
    _forge(case, identity, Draft(kind="note", item_id="T1", note="ghi lùi"), monkeypatch)
    (v,) = _violations(invoke, case)
    assert v["item"] == "T1" and "earlier than the item's previous event" in v["message"]
