"""Issue 13: `examiner_revoked` ends a pinned examiner's trust from that point of the ledger on.

The attacker is the revoked colleague: they keep their key and write access to the case folder,
so what they sign after the revocation is appended with the chain's own API (as an insider
would, past the CLI's refusal), and their seals are made in a scratch case and copied in.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.workflows.custody import list_events, trusted_with
from evidencekit.workflows.origin import ledger_origin
from evidencekit.workflows.trust import case_trust
from tests.chain.helpers import SECOND, second_examiner
from tests.conftest import EXAMINER


def _cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def _ok(res: Any) -> Any:
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return res


def _in_case(case_dir: Path, *args: str) -> Any:
    return _cli("--case", str(case_dir), *args)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "biên bản.txt"
    path.write_bytes("Biên bản thu giữ, bản gốc\n".encode())
    return path


@pytest.fixture
def colleague(case_dir: Path, identity: Identity, ek_home: Path, tmp_path: Path) -> Identity:
    """A colleague pinned by `case add-examiner` (event 1), who seals item B1 (events 2)."""
    other = second_examiner(ek_home)
    pem = tmp_path / "bung.pem"
    pem.write_text(other.cert_pem())
    _ok(_in_case(case_dir, "--identity", EXAMINER, "case", "add-examiner", str(pem)))
    return other


def _revoke(case_dir: Path, who: str, reason: str = "chuyển công tác") -> Any:
    return _in_case(
        case_dir, "--identity", EXAMINER, "case", "revoke-examiner", who, "--reason", reason
    )


def _forge(case_dir: Path, signer: Identity, drafts: list[Draft]) -> None:
    """Append past every refusal of the workflows: the ledger's own API with the signer's key."""
    case = Case.open(case_dir)
    with Ledger.open(
        case.ledger_path, ledger_origin(case), trusted=trusted_with(case), writable=True
    ) as ledger:
        ledger.append(signer, drafts)


def _problems(res: Any) -> list[dict[str, Any]]:
    doc = json.loads(res.stdout)
    return list(doc.get("problems", []))


def test_revocation_is_a_signed_event_and_earlier_work_stays_valid(
    case_dir: Path, colleague: Identity, src: Path
) -> None:
    _ok(_in_case(case_dir, "--identity", SECOND, "seal", str(src), "--item", "B1"))
    res = _ok(_revoke(case_dir, colleague.fingerprint[:12]))
    assert f"Revoked examiner {SECOND} (sha256:{colleague.fingerprint}; ledger event 3)" in (
        res.stdout
    )
    case = Case.open(case_dir)
    ev = list_events(case)[3]
    assert ev["kind"] == "examiner_revoked" and ev["item"] is None
    assert ev["details"]["fingerprint"] == colleague.fingerprint
    assert ev["reason"] == "chuyển công tác"
    trust = case_trust(case)
    assert not trust.problems and not trust.notes
    assert colleague.fingerprint in trust.certificates
    assert colleague.fingerprint not in trust.signers
    listed = next(e for e in case.info.examiners if e.fingerprint == colleague.fingerprint)
    assert listed.revoked_event == 3
    shown = _ok(_in_case(case_dir, "case", "show")).stdout
    assert "REVOKED by event 3: chuyển công tác" in shown
    # what they signed before the revocation verifies
    _ok(_in_case(case_dir, "verify", "B1"))
    _ok(_in_case(case_dir, "custody", "verify"))


def test_a_revoked_examiner_cannot_append_or_seal(
    case_dir: Path, colleague: Identity, src: Path
) -> None:
    _ok(_revoke(case_dir, SECOND))
    res = _in_case(
        case_dir, "--identity", SECOND, "custody", "register", "B9", "--description", "USB"
    )
    assert res.exit_code == 1, res.stdout
    assert "was revoked by ledger event 2" in res.stderr
    res = _in_case(case_dir, "--identity", SECOND, "seal", str(src), "--item", "B2")
    assert res.exit_code == 1, res.stdout
    assert not (case_dir / "evidence" / "B2").exists()
    # a revoked examiner cannot revoke, nor pin, anyone
    res = _in_case(
        case_dir, "--identity", SECOND, "case", "revoke-examiner", EXAMINER, "--reason", "x"
    )
    assert res.exit_code == 1
    assert len(list_events(Case.open(case_dir))) == 3


def test_events_signed_after_the_revocation_fail_custody_verify(
    case_dir: Path, colleague: Identity
) -> None:
    _ok(_revoke(case_dir, SECOND))
    _forge(case_dir, colleague, [Draft(kind="registered", item_id="B5", description="USB")])
    res = _in_case(case_dir, "--json", "custody", "verify")
    assert res.exit_code == 3, res.stdout
    kinds = {(p["kind"], p["seq"]) for p in _problems(res)}
    assert ("revoked-signer", 3) in kinds
    text = (
        _in_case(case_dir, "custody", "verify").stderr
        + _in_case(case_dir, "custody", "verify").stdout
    )
    assert f"signed by {SECOND}" in text and "revoked by event 2" in text
    # the checkpoint the forger signed with the event is named too
    assert any("checkpoint of 4 events" in p["message"] for p in _problems(res))
    # and nobody builds on it: the next append is refused, nothing recorded
    res = _in_case(case_dir, "--identity", EXAMINER, "custody", "note", "-", "ghi chú")
    assert res.exit_code == 3, res.output
    assert "latest checkpoint (4 events) is signed by" in res.stderr
    assert len(list_events(Case.open(case_dir))) == 4


def test_a_trust_change_signed_by_a_revoked_examiner_counts_for_nothing(
    case_dir: Path, identity: Identity, colleague: Identity, tmp_path: Path
) -> None:
    _ok(_revoke(case_dir, SECOND))
    _forge(
        case_dir,
        colleague,
        [
            Draft(
                kind="examiner_revoked",
                item_id=None,
                reason="trả đũa",
                details={"name": EXAMINER, "fingerprint": identity.fingerprint},
            )
        ],
    )
    trust = case_trust(Case.open(case_dir))
    assert identity.fingerprint in trust.signers
    assert any("revoked by event 2: ignored" in p for p in trust.problems)
    assert _in_case(case_dir, "custody", "verify").exit_code == 3


def test_a_seal_recorded_after_the_revocation_is_refused_even_back_dated(
    case_dir: Path,
    identity: Identity,
    colleague: Identity,
    src: Path,
    tmp_path: Path,
    ek_home: Path,
) -> None:
    """The colleague seals B3 in a scratch copy of the case *before* the revocation (its
    `sealed` time is then earlier), from a home of their own, and after it copies the item in
    and records it."""
    scratch = tmp_path / "scratch"
    shutil.copytree(case_dir, scratch)
    home = tmp_path / "other-home"
    shutil.copytree(ek_home, home)
    res = _cli(
        "--case",
        str(scratch),
        "--identity",
        SECOND,
        "seal",
        str(src),
        "--item",
        "B3",
        env={"EVIDENCEKIT_HOME": str(home)},
    )
    _ok(res)
    _ok(_revoke(case_dir, SECOND))
    shutil.copytree(scratch / "evidence" / "B3", case_dir / "evidence" / "B3")
    seal = case_dir / "evidence" / "B3" / "B3.seal.json"
    sha = hashlib.sha256(seal.read_bytes()).hexdigest()
    _forge(
        case_dir,
        colleague,
        [
            Draft(
                kind="sealed",
                item_id="B3",
                digests={"sha256": "00" * 32},
                details={"seal_sha256": sha},
            )
        ],
    )
    res = _in_case(case_dir, "--json", "verify", "B3")
    assert res.exit_code == 3, res.stdout
    problems = [p for s in json.loads(res.stdout)["items"] for p in s["problems"]]
    revoked = [p for p in problems if p["kind"] == "revoked-signer"]
    assert revoked and "the ledger recorded this seal at event 3, after" in revoked[0]["message"]


def test_a_seal_sealed_after_the_revocation_is_refused(
    case_dir: Path, colleague: Identity, src: Path
) -> None:
    from tests.seals import resign

    _ok(_in_case(case_dir, "--identity", SECOND, "seal", str(src), "--item", "B1"))
    _ok(_revoke(case_dir, SECOND))
    seal = case_dir / "evidence" / "B1" / "B1.seal.json"
    resign(seal, colleague, {"sealed": "2099-01-01T00:00:00Z"})
    res = _in_case(case_dir, "--json", "verify", "B1")
    assert res.exit_code == 3
    kinds = {p["kind"] for s in json.loads(res.stdout)["items"] for p in s["problems"]}
    assert "revoked-signer" in kinds


def test_the_last_examiner_is_never_revoked(case_dir: Path, identity: Identity) -> None:
    res = _revoke(case_dir, EXAMINER)
    assert res.exit_code == 2
    assert "the last examiner who may sign" in res.stderr
    assert len(list_events(Case.open(case_dir))) == 1


def test_self_revocation_while_a_colleague_remains(
    case_dir: Path, identity: Identity, colleague: Identity
) -> None:
    _ok(_revoke(case_dir, EXAMINER, "lộ khoá"))
    trust = case_trust(Case.open(case_dir))
    assert set(trust.signers) == {colleague.fingerprint}
    # and the colleague, now the last, cannot be revoked by anyone
    res = _in_case(
        case_dir, "--identity", SECOND, "case", "revoke-examiner", SECOND, "--reason", "x"
    )
    assert res.exit_code == 2


def test_unknown_or_ambiguous_names_and_empty_reasons(case_dir: Path, colleague: Identity) -> None:
    assert _revoke(case_dir, "Người Lạ").exit_code == 2
    assert _revoke(case_dir, SECOND, "  ").exit_code == 2
    # NFD spelling of the name finds the same examiner
    import unicodedata

    _ok(_revoke(case_dir, unicodedata.normalize("NFD", SECOND)))
    res = _revoke(case_dir, SECOND)
    assert res.exit_code == 1 and "already revoked by event 2" in res.stderr


def _edit_toml(case_dir: Path, fp: str, value: int | None) -> None:
    path = case_dir / "case.toml"
    doc = tomllib.loads(path.read_text("utf-8"))
    for e in doc["examiners"]:
        if e["fingerprint"] == fp:
            if value is None:
                e.pop("revoked_event", None)
                e.pop("revoked", None)
            else:
                e["revoked_event"] = value
                e["revoked"] = "2026-01-01T00:00:00Z"
    path.chmod(0o644)
    path.write_text(tomli_w.dumps(doc), "utf-8")


def test_case_toml_copy_is_checked_against_the_ledger(
    case_dir: Path, identity: Identity, colleague: Identity
) -> None:
    # a revocation case.toml claims but the ledger does not hold: integrity failure
    _edit_toml(case_dir, colleague.fingerprint, 1)
    trust = case_trust(Case.open(case_dir))
    assert any("no such revocation" in p for p in trust.problems)
    assert _in_case(case_dir, "custody", "verify").exit_code == 3
    _edit_toml(case_dir, colleague.fingerprint, None)
    _ok(_revoke(case_dir, SECOND))
    # the copy lost (a crash between the two writes, or an edit): a note, and the ledger still
    # decides; revoking again writes the copy back
    _edit_toml(case_dir, colleague.fingerprint, None)
    trust = case_trust(Case.open(case_dir))
    assert colleague.fingerprint not in trust.signers
    assert any("does not say so" in n for n in trust.notes)
    res = _ok(_revoke(case_dir, SECOND))
    assert "case.toml copy written" in res.stdout
    assert not case_trust(Case.open(case_dir)).notes
