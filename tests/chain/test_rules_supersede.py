"""The one custody rule for a resumed or redone acquisition (chain/rules.py): an acquisition
recorded `incomplete` may be superseded by one later event of the same kind naming its seal; a
complete one never; the ledger refuses anything else before signing, and `custody verify`'s replay
(the same `check_event`) names it."""

from __future__ import annotations

import pytest

from evidencekit.chain.events import Party
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
