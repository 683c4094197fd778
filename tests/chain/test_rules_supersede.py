"""The one custody rule for a resumed or redone acquisition (chain/rules.py): an acquisition
recorded `incomplete` may be superseded by one later event of the same kind naming its seal; a
complete one never; the ledger refuses anything else before signing, and `custody verify`'s replay
(the same `check_event`) names it."""

from __future__ import annotations

import pytest

from evidencekit.chain.parties import Party
from evidencekit.chain.rules import ItemState, check_event
from evidencekit.errors import CustodyError

A = Party("Nguyễn Bá Tùng", "aa" * 32)


def _state(*events: tuple[str, dict[str, object]]) -> ItemState:
    state = ItemState("D1")
    for n, (kind, details) in enumerate(events):
        check_event(state, "D1", kind, n + 1, A, None, None, details=details)
        state.apply(kind, A, None, bytes([n]) * 32, details=details)
    return state


INCOMPLETE = ("acquired", {"status": "incomplete", "seal_sha256": "11" * 32})


def test_an_incomplete_acquisition_is_superseded_by_one_naming_its_seal() -> None:
    state = _state(INCOMPLETE)
    done = {"status": "complete", "seal_sha256": "22" * 32, "supersedes": "11" * 32}
    check_event(state, "D1", "acquired", 9, A, None, None, details=done)
    state.apply("acquired", A, None, b"x" * 32, details=done)
    # now complete: nothing supersedes it, whatever it names
    again = {"status": "complete", "seal_sha256": "33" * 32, "supersedes": "22" * 32}
    with pytest.raises(CustodyError, match="already acquired \\(complete\\)"):
        check_event(state, "D1", "acquired", 10, A, None, None, details=again)


def test_a_chain_of_interrupted_resumes_supersedes_each_in_turn() -> None:
    state = _state(
        INCOMPLETE,
        ("acquired", {"status": "incomplete", "seal_sha256": "22" * 32, "supersedes": "11" * 32}),
    )
    with pytest.raises(CustodyError, match="must name that seal"):  # the older one: no
        check_event(state, "D1", "acquired", 3, A, None, None, details={"supersedes": "11" * 32})
    check_event(
        state,
        "D1",
        "acquired",
        3,
        A,
        None,
        None,
        details={"status": "complete", "supersedes": "22" * 32},
    )


@pytest.mark.parametrize(
    ("kind", "details", "message"),
    [
        ("acquired", {"status": "complete"}, "must name that seal"),
        ("acquired", {"status": "complete", "supersedes": "99" * 32}, "must name that seal"),
        ("collected", {"status": "complete", "supersedes": "11" * 32}, "only another acquired"),
        ("sealed", {}, "only another acquired"),
    ],
)
def test_anything_else_after_an_incomplete_acquisition_is_refused(
    kind: str, details: dict[str, object], message: str
) -> None:
    with pytest.raises(CustodyError, match=message):
        check_event(_state(INCOMPLETE), "D1", kind, 2, A, None, None, details=details)


@pytest.mark.parametrize("status", ["complete", "complete-with-errors", None])
def test_a_finished_acquisition_is_never_superseded(status: str | None) -> None:
    first = {"seal_sha256": "11" * 32, **({"status": status} if status else {})}
    with pytest.raises(CustodyError, match="already acquired"):
        check_event(
            _state(("acquired", first)),
            "D1",
            "acquired",
            2,
            A,
            None,
            None,
            details={"status": "complete", "supersedes": "11" * 32},
        )


def test_supersedes_without_an_earlier_acquisition_is_refused() -> None:
    state = _state(("registered", {}))
    with pytest.raises(CustodyError, match="has none"):
        check_event(state, "D1", "acquired", 2, A, None, None, details={"supersedes": "11" * 32})
    check_event(state, "D1", "acquired", 2, A, None, None, details={"status": "complete"})


# -- end to end: the ledger refuses before signing, `custody verify` names a forged one --------

from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from evidencekit.case import Case  # noqa: E402
from evidencekit.chain.ledger import Draft  # noqa: E402
from evidencekit.identity import Identity  # noqa: E402
from evidencekit.workflows.custody import record_event  # noqa: E402
from tests.chain.test_custody_rules import _forge, _violations  # noqa: E402


def test_custody_verify_accepts_a_superseding_resume(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    case = Case.open(case_dir)
    record_event(
        case, identity, "acquired", "D1", details={"status": "incomplete", "seal_sha256": "11" * 32}
    )
    record_event(
        case,
        identity,
        "acquired",
        "D1",
        details={"status": "complete", "seal_sha256": "22" * 32, "supersedes": "11" * 32},
    )
    assert invoke("--case", str(case.path), "custody", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ({"status": "complete", "seal_sha256": "11" * 32}, {"supersedes": "11" * 32}, "already"),
        ({"status": "incomplete", "seal_sha256": "11" * 32}, {"status": "complete"}, "must name"),
    ],
)
def test_custody_verify_names_a_forged_second_acquisition(
    case_dir: Path,
    identity: Identity,
    invoke: Any,
    monkeypatch: pytest.MonkeyPatch,
    first: dict[str, object],
    second: dict[str, object],
    message: str,
) -> None:
    case = Case.open(case_dir)
    record_event(case, identity, "acquired", "D1", details=first)
    with pytest.raises(CustodyError, match=message):
        record_event(case, identity, "acquired", "D1", details=second)
    _forge(case, identity, Draft(kind="acquired", item_id="D1", details=second), monkeypatch)
    (v,) = _violations(invoke, case)
    assert v["item"] == "D1" and message in v["message"]
