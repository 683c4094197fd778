"""Issue 16: physical seals (niêm phong, mở niêm phong, niêm phong lại) and their rules: a seal is
opened only where applied, an open seal is re-sealed before the item leaves, a number is used
once; `custody verify` replays them and names an event signed past them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.errors import CustodyError
from evidencekit.identity import IdentityStore
from evidencekit.workflows.custody import trusted_with, verify_custody
from evidencekit.workflows.origin import ledger_origin
from tests.chain.helpers import raw_db
from tests.conftest import PASSPHRASE

WITNESS = "role=witness,name=Nguyễn Văn An,cccd=001203004567"
RECEIVER = "Lê Văn Nhận"


def _cli(invoke: Any, case_dir: Path, *args: str) -> Any:
    return invoke("--json", "--case", str(case_dir), "custody", *args)


def _ok(res: Any) -> dict[str, Any]:
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)["event"]
    return out


def _registered(invoke: Any, case_dir: Path) -> None:
    _ok(_cli(invoke, case_dir, "register", "HDD01", "--description", "Ổ cứng Seagate 1TB"))
    _ok(
        _cli(
            invoke,
            case_dir,
            "seal-apply",
            "HDD01",
            "--seal-number",
            "NP-0001",
            "--seal-number",
            "NP-0002",
            "--method",
            "túi niêm phong, chữ ký người chứng kiến",
            "--participant",
            WITNESS,
        )
    )


def _transfer(invoke: Any, case_dir: Path) -> Any:
    return _cli(
        invoke, case_dir, "transfer", "HDD01", "--to", RECEIVER, "--to-role", "receiver",
        "--to-id", "cccd:001203009999", "--purpose", "giám định",
    )  # fmt: skip


def test_open_and_reseal_before_transfer(case_dir: Path, invoke: Any) -> None:
    _registered(invoke, case_dir)
    opened = _ok(
        _cli(
            invoke,
            case_dir,
            "seal-open",
            "HDD01",
            "--seal-number",
            "NP-0001",
            "--state",
            "intact",
            "--state-note",
            "dấu niêm phong còn nguyên",
            "--reason",
            "sao chép dữ liệu",
            "--participant",
            WITNESS,
        )
    )
    assert opened["kind"] == "seal_opened"
    assert opened["details"]["seal_state"] == "intact"
    assert opened["details"]["participants"][0]["name"] == "Nguyễn Văn An"
    # another event in between: the rules read the seal events, not only the last event
    _ok(_cli(invoke, case_dir, "note", "HDD01", "đã sao chép"))
    # open: the item cannot leave
    res = _transfer(invoke, case_dir)
    assert res.exit_code == 1
    assert "must be re-sealed" in res.stderr and "NP-0001" in res.stderr
    for cmd in ("release", "return"):
        res = _cli(invoke, case_dir, cmd, "HDD01", "--reason", "trả lại")
        assert res.exit_code == 1 and "must be re-sealed" in res.stderr, res.output
    resealed = _ok(
        _cli(
            invoke,
            case_dir,
            "reseal",
            "HDD01",
            "--seal-number",
            "NP-0003",
            "--replaces",
            "NP-0001",
            "--method",
            "túi niêm phong mới",
        )
    )
    assert resealed["details"] == {
        "seal_numbers": ["NP-0003"], "replaces": ["NP-0001"], "method": "túi niêm phong mới",
        "participants": [],
    }  # fmt: skip
    _ok(_transfer(invoke, case_dir))
    status = verify_custody(Case.open(case_dir))
    assert status.ok, status.problems


@pytest.mark.parametrize(
    ("number", "why"),
    [("NP-9999", "never applied"), ("NP-0001", "already open")],
)
def test_seal_open_of_a_seal_not_applied_is_refused(
    case_dir: Path, invoke: Any, number: str, why: str
) -> None:
    _registered(invoke, case_dir)
    _ok(
        _cli(
            invoke,
            case_dir,
            "seal-open",
            "HDD01",
            "--seal-number",
            "NP-0001",
            "--state",
            "damaged",
            "--reason",
            "kiểm tra",
        )
    )
    res = _cli(
        invoke, case_dir, "seal-open", "HDD01", "--seal-number", number, "--state", "intact",
        "--reason", "kiểm tra",
    )  # fmt: skip
    assert res.exit_code == 1 and why in res.stderr, res.output


def test_reseal_rules(case_dir: Path, invoke: Any) -> None:
    _registered(invoke, case_dir)
    # nothing is open: nothing to replace
    res = _cli(
        invoke, case_dir, "reseal", "HDD01", "--seal-number", "NP-0003", "--replaces",
        "NP-0001", "--method", "túi",
    )  # fmt: skip
    assert res.exit_code == 1 and "is not open" in res.stderr
    _ok(
        _cli(
            invoke,
            case_dir,
            "seal-open",
            "HDD01",
            "--seal-number",
            "NP-0001",
            "--state",
            "intact",
            "--reason",
            "sao chép",
        )
    )
    # a number used before is not used again
    res = _cli(
        invoke, case_dir, "reseal", "HDD01", "--seal-number", "NP-0002", "--replaces",
        "NP-0001", "--method", "túi",
    )  # fmt: skip
    assert res.exit_code == 1 and "already applied" in res.stderr
    # a new seal while one is open is a re-seal
    res = _cli(invoke, case_dir, "seal-apply", "HDD01", "--seal-number", "NP-7", "--method", "x")
    assert res.exit_code == 1 and "reseal" in res.stderr
    # the replaced seal cannot be opened again
    _ok(
        _cli(
            invoke,
            case_dir,
            "reseal",
            "HDD01",
            "--seal-number",
            "NP-0003",
            "--replaces",
            "NP-0001",
            "--method",
            "túi",
        )
    )
    res = _cli(
        invoke, case_dir, "seal-open", "HDD01", "--seal-number", "NP-0001", "--state", "intact",
        "--reason", "x",
    )  # fmt: skip
    assert res.exit_code == 1 and "replaced" in res.stderr


def test_seal_state_and_numbers_are_checked(case_dir: Path, invoke: Any) -> None:
    _registered(invoke, case_dir)
    res = _cli(
        invoke, case_dir, "seal-open", "HDD01", "--seal-number", "NP-0001", "--state", "broken",
        "--reason", "x",
    )  # fmt: skip
    assert res.exit_code == 2
    res = _cli(invoke, case_dir, "seal-apply", "HDD01", "--seal-number", " ", "--method", "x")
    assert res.exit_code == 2


def test_verify_names_a_transfer_signed_past_an_open_seal(
    case_dir: Path, invoke: Any, ek_home: Path
) -> None:
    """A transfer forced into the ledger while the seal is open (the append rule bypassed, as
    an insider with their own key and the file can) is a rule violation on replay."""
    _registered(invoke, case_dir)
    _ok(
        _cli(
            invoke,
            case_dir,
            "seal-open",
            "HDD01",
            "--seal-number",
            "NP-0001",
            "--state",
            "intact",
            "--reason",
            "sao chép",
        )
    )
    case = Case.open(case_dir)
    ident = IdentityStore(ek_home).load(None, lambda _: PASSPHRASE.encode())
    from evidencekit.chain import rules

    with Ledger.open(case.ledger_path, ledger_origin(case), trusted=trusted_with(case)) as ledger:
        with pytest.raises(CustodyError, match="must be re-sealed"):
            ledger.append(ident, [Draft(kind="transferred", item_id="HDD01", override="x")])
        # bypass the append rule once: what a forged ledger holds
        real = rules.ItemState._check_physical_seal
        rules.ItemState._check_physical_seal = lambda *a, **k: None  # type: ignore[method-assign]
        try:
            from evidencekit.chain.parties import keyless

            to = keyless(RECEIVER, "receiver", "cccd:001203009999")
            ledger.append(ident, [Draft(kind="transferred", item_id="HDD01", counterpart=to)])
        finally:
            rules.ItemState._check_physical_seal = real  # type: ignore[method-assign]
    status = verify_custody(case)
    assert not status.ok
    (p,) = [p for p in status.problems if p.kind == "rule-violation"]
    assert p.seq == 4 and "must be re-sealed" in p.message


def test_malformed_seal_details_are_malformed_events(case_dir: Path, invoke: Any) -> None:
    """Details edited in the stored bytes (re-signed or not) are named by verify."""
    _registered(invoke, case_dir)
    with raw_db(case_dir) as conn:
        (data,) = conn.execute("SELECT data FROM events WHERE kind = 'seal_applied'").fetchone()
        forged = data.replace(b'"seal_numbers":["NP-0001","NP-0002"]', b'"seal_numbers":[]')
        assert forged != data
        conn.execute("UPDATE events SET data = ? WHERE kind = 'seal_applied'", (forged,))
    status = verify_custody(Case.open(case_dir))
    kinds = {p.kind for p in status.problems if p.seq == 2}
    assert "malformed-event" in kinds and "bad-signature" in kinds
