"""Issue 13, scenarios 1-3: trust comes from the ledger, fingerprints from certificates, and a
seal in the case must be the one its ledger recorded.

Attacks are played as an insider would: a key made with `keys init` in another home, case.toml
edited with a TOML writer, the ledger rebuilt with the chain's own append API, items copied
over from a scratch case made with the same examiner's key.
"""

from __future__ import annotations

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
from evidencekit.errors import CustodyError, IntegrityError
from evidencekit.identity import Identity, IdentityInfo, IdentityStore, cert_pem
from evidencekit.workflows.custody import list_events, record_event, start_ledger
from evidencekit.workflows.origin import ledger_origin
from tests.conftest import EXAMINER, PASSPHRASE
from tests.seals import resign

COLLEAGUE = "Trương Đình Bủng"


def _cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def _ok(res: Any) -> Any:
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return res


def _seal(case_dir: Path, src: Path, item: str, *extra: str) -> None:
    _ok(_cli("--case", str(case_dir), *extra, "seal", str(src), "--item", item))


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "hợp đồng.txt"
    path.write_bytes("Hợp đồng mua bán, bản gốc\n".encode())
    return path


@pytest.fixture
def attacker(tmp_path: Path) -> tuple[Identity, Path, dict[str, str]]:
    """An outsider's identity made with `keys init` in their own home, its certificate file,
    and the environment that selects it."""
    home = tmp_path / "attacker-home"
    env = {"EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_PASSPHRASE": "mật khẩu kẻ giả"}
    _ok(_cli("keys", "init", "--name", "Lê Văn Giả", env=env))
    store = IdentityStore(home)
    ident = store.load(None, lambda _: env["EVIDENCEKIT_PASSPHRASE"].encode())
    pem = tmp_path / "attacker.pem"
    _ok(_cli("keys", "export-cert", "--out", str(pem), env=env))
    return ident, pem, env


def _pin_in_toml(case_dir: Path, name: str, fingerprint: str, pem: str) -> None:
    """What the old `case add-examiner` did, or a hand edit: a case.toml entry, no event."""
    path = case_dir / "case.toml"
    doc = tomllib.loads(path.read_text("utf-8"))
    doc["examiners"].append(
        {
            "name": name,
            "fingerprint": fingerprint,
            "added": "2026-01-01T00:00:00Z",
            "certificate": pem,
        }
    )
    path.chmod(0o644)
    path.write_text(tomli_w.dumps(doc), "utf-8")


def _json(res: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


# -- scenario 1: pinning needs a pinned examiner's key and a ledger event ---------------------


def test_add_examiner_is_a_signed_ledger_event(
    case_dir: Path, identity: Identity, ek_home: Path, src: Path, tmp_path: Path
) -> None:
    colleague = IdentityStore(ek_home).create(COLLEAGUE, PASSPHRASE.encode())
    pem = tmp_path / "bung.pem"
    pem.write_text(colleague.cert_pem())
    res = _ok(
        _cli("--case", str(case_dir), "--identity", EXAMINER, "case", "add-examiner", str(pem))
    )
    assert f"Pinned examiner {COLLEAGUE} (sha256:{colleague.fingerprint}; ledger event 1)" in (
        res.stdout
    )
    added = list_events(Case.open(case_dir))[1]
    assert added["kind"] == "examiner_added" and added["item"] is None
    assert added["actor"]["fingerprint"] == identity.fingerprint
    assert added["details"]["certificate"] == colleague.cert_pem()
    assert added["details"]["fingerprint"] == colleague.fingerprint
    # the colleague's seals and events now verify
    _seal(case_dir, src, "B1", "--identity", COLLEAGUE)
    _ok(_cli("--case", str(case_dir), "verify", "B1"))
    _ok(_cli("--case", str(case_dir), "custody", "verify"))


def test_add_examiner_refused_without_a_pinned_key(
    case_dir: Path, attacker: tuple[Identity, Path, dict[str, str]]
) -> None:
    ident, pem, env = attacker
    res = _cli("--case", str(case_dir), "case", "add-examiner", str(pem), env=env)
    assert res.exit_code == 1
    assert "is not pinned by the ledger of case 'VKS-2024-06'" in res.stderr
    assert "only a pinned examiner adds another" in res.stderr
    assert ident.fingerprint not in (case_dir / "case.toml").read_text("utf-8")
    assert [e["kind"] for e in list_events(Case.open(case_dir))] == ["case_opened"]


def test_pin_by_editing_case_toml_is_not_trusted(
    case_dir: Path, src: Path, attacker: tuple[Identity, Path, dict[str, str]]
) -> None:
    # the attack of the issue: pin one's own certificate without signing anything, re-sign
    # an edited seal, and expect `verify` and `custody verify` to say OK
    ident, _pem, _env = attacker
    _seal(case_dir, src, "IT")
    _pin_in_toml(case_dir, ident.name, ident.fingerprint, ident.cert_pem())
    seal = case_dir / "evidence" / "IT" / "IT.seal.json"
    resign(seal, ident, {"description": "đã sửa"})
    res = _cli("--case", str(case_dir), "verify", "IT")
    assert res.exit_code == 3
    assert (
        "unknown-signer: IT.seal.json: signed by an examiner the case does not trust: case.toml "
        f"pins 'Lê Văn Giả' ({ident.fingerprint[:16]}) but the ledger never added them"
    ) in res.stdout
    res = _cli("--case", str(case_dir), "--json", "custody", "verify")
    assert res.exit_code == 3
    problems = _json(res)["problems"]
    assert [p["kind"] for p in problems] == ["untrusted-examiner"]
    assert "the ledger never added them" in problems[0]["message"]
    shown = _ok(_cli("--case", str(case_dir), "case", "show")).stdout
    assert f"  {EXAMINER}  sha256:" in shown and "(event 0)" in shown
    assert "  PROBLEM: case.toml pins 'Lê Văn Giả'" in shown


def test_examiner_added_signed_by_an_unpinned_key_is_not_trusted(
    case_dir: Path, src: Path, attacker: tuple[Identity, Path, dict[str, str]]
) -> None:
    # a cleverer outsider appends their own `examiner_added` with the ledger's code
    ident, _pem, _env = attacker
    case = Case.open(case_dir)
    with Ledger.open(case.ledger_path, ledger_origin(case), trusted=case.trusted()) as ledger:
        ledger.append(
            ident,
            [
                Draft(
                    kind="examiner_added",
                    item_id=None,
                    details={
                        "name": ident.name,
                        "fingerprint": ident.fingerprint,
                        "certificate": ident.cert_pem(),
                    },
                )
            ],
        )
    _pin_in_toml(case_dir, ident.name, ident.fingerprint, ident.cert_pem())
    res = _cli("--case", str(case_dir), "--json", "custody", "verify")
    assert res.exit_code == 3
    messages = [p["message"] for p in _json(res)["problems"]]
    assert any(
        f"signed by {ident.fingerprint[:16]}, who was not pinned then" in m for m in messages
    )
    assert any("the ledger never added them" in m for m in messages)


def test_examiner_added_needs_no_item(case_dir: Path, identity: Identity) -> None:
    from evidencekit.errors import CustodyError

    with pytest.raises(CustodyError, match="examiner_added is about the case, not an item"):
        record_event(Case.open(case_dir), identity, "examiner_added", "X1")


def test_case_init_pin_puts_certificates_in_the_first_event(
    identity: Identity, ek_home: Path, tmp_path: Path, src: Path
) -> None:
    colleague = IdentityStore(ek_home).create(COLLEAGUE, PASSPHRASE.encode())
    pem = tmp_path / "bung.pem"
    pem.write_text(colleague.cert_pem())
    case_dir = tmp_path / "pinned-case"
    common = ["--identity", EXAMINER, "case", "init", str(case_dir)]
    _ok(_cli(*common, "--case-number", "C-2", "--title", "Vụ hai", "--pin", str(pem)))
    opened = list_events(Case.open(case_dir))[0]
    assert opened["details"]["certificates"] == [identity.cert_pem(), colleague.cert_pem()]
    _seal(case_dir, src, "B1", "--identity", COLLEAGUE)
    _ok(_cli("--case", str(case_dir), "verify", "B1"))
    _ok(_cli("--case", str(case_dir), "custody", "verify"))


# -- existing cases ------------------------------------------------------------------------------


def _old_style_case(path: Path, creator: Identity) -> Case:
    """A case as `case init` made it before trust lived in the ledger: case_opened without
    certificates."""
    case = Case.create(
        path, number="CŨ-2025", title="Vụ án cũ", creator_cert=creator.certificate, timezone="UTC"
    )
    start_ledger(
        case,
        creator,
        description=case.info.title,
        details={"case_number": case.info.number, "agency": "", "examiner": creator.name},
    )
    return case


def test_case_made_before_keeps_verifying(
    identity: Identity, ek_home: Path, tmp_path: Path, src: Path
) -> None:
    case_dir = tmp_path / "old"
    _old_style_case(case_dir, identity)
    _seal(case_dir, src, "IT")
    _ok(_cli("--case", str(case_dir), "verify", "IT"))
    _ok(_cli("--case", str(case_dir), "custody", "verify"))


def test_colleague_pinned_the_old_way_is_adopted_by_add_examiner(
    identity: Identity, ek_home: Path, tmp_path: Path, src: Path
) -> None:
    case_dir = tmp_path / "old"
    case = _old_style_case(case_dir, identity)
    colleague = IdentityStore(ek_home).create(COLLEAGUE, PASSPHRASE.encode())
    case.add_examiner(colleague.certificate)  # the old command: case.toml only
    res = _cli("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3 and "the ledger never added them" in res.stdout
    pem = tmp_path / "bung.pem"
    pem.write_text(colleague.cert_pem())
    res = _ok(
        _cli("--case", str(case_dir), "--identity", EXAMINER, "case", "add-examiner", str(pem))
    )
    assert "ledger event 1" in res.stdout
    _seal(case_dir, src, "B1", "--identity", COLLEAGUE)
    _ok(_cli("--case", str(case_dir), "verify", "B1"))
    _ok(_cli("--case", str(case_dir), "custody", "verify"))


# -- scenario 2: fingerprints are recomputed from certificates --------------------------------


def test_substituted_certificate_under_a_pinned_fingerprint(
    case_dir: Path,
    identity: Identity,
    src: Path,
    attacker: tuple[Identity, Path, dict[str, str]],
    ek_home: Path,
) -> None:
    ident, _pem, _env = attacker
    _seal(case_dir, src, "IT")
    # case.toml keeps Tùng's name and fingerprint, with the attacker's certificate
    path = case_dir / "case.toml"
    doc = tomllib.loads(path.read_text("utf-8"))
    doc["examiners"][0]["certificate"] = ident.cert_pem()
    path.chmod(0o644)
    path.write_text(tomli_w.dumps(doc), "utf-8")
    # the ledger rebuilt "as" Tùng: his name and fingerprint, the attacker's key
    fake = Identity(
        info=IdentityInfo(EXAMINER, identity.fingerprint, None, None, ident.info.path),
        certificate=ident.certificate,
        signer=ident.signer,
    )
    case = Case.open(case_dir)
    case.ledger_path.unlink()
    forged_trust = {fake.fingerprint: fake.certificate}
    with Ledger.create(case.ledger_path, ledger_origin(case), trusted=forged_trust) as ledger:
        ledger.append(fake, [Draft(kind="case_opened", item_id=None, description="Vụ án")])
    # judged by a reader whose home never saw the real ledger (what the home's memory adds is
    # tested in tests/chain/test_witness.py)
    shutil.rmtree(ek_home / "checkpoints", ignore_errors=True)
    seal = case_dir / "evidence" / "IT" / "IT.seal.json"
    resign(seal, fake, {"description": "đã sửa"})
    import hashlib

    with Ledger.open(case.ledger_path, ledger_origin(case), trusted=forged_trust) as ledger:
        ledger.append(
            fake,
            [
                Draft(
                    kind="sealed",
                    item_id="IT",
                    details={"seal_sha256": hashlib.sha256(seal.read_bytes()).hexdigest()},
                )
            ],
        )
    for args in (["custody", "verify"], ["verify", "IT"]):
        res = _cli("--case", str(case_dir), *args)
        assert res.exit_code == 3, (args, res.stdout, res.stderr)
        text = res.stdout + res.stderr
        assert (
            f"case.toml lists examiner '{EXAMINER}' with fingerprint {identity.fingerprint} but "
            "the certificate beside it has fingerprint"
        ) in text
        assert "the certificate was substituted" in text
    # a command that would sign refuses too
    res = _cli("--case", str(case_dir), "custody", "note", "IT", "ghi chú")
    assert res.exit_code == 3 and "the certificate was substituted" in res.stderr


# -- scenario 3: the seal on disk is the one the ledger recorded ----------------------------------


@pytest.mark.parametrize(("command", "kind"), [("seal", "sealed"), ("acquire disk", "acquired")])
def test_item_swapped_from_a_scratch_case(
    case_dir: Path, tmp_path: Path, src: Path, identity: Identity, command: str, kind: str
) -> None:
    def make(case: Path, source: Path) -> None:
        _ok(_cli("--case", str(case), *command.split(), str(source), "--item", "IT"))

    make(case_dir, src)
    recorded = list_events(Case.open(case_dir), "IT")[0]["details"]["seal_sha256"]
    scratch = tmp_path / "scratch"
    _ok(_cli("case", "init", str(scratch), "--case-number", "NHÁP", "--title", "nháp"))
    other = tmp_path / "other.txt"
    other.write_bytes("Hợp đồng mua bán, bản đã sửa\n".encode())
    make(scratch, other)
    target = case_dir / "evidence" / "IT"
    target.chmod(0o755)
    shutil.rmtree(target)
    shutil.copytree(scratch / "evidence" / "IT", target)
    import hashlib

    on_disk = hashlib.sha256((target / "IT.seal.json").read_bytes()).hexdigest()
    res = _cli("--case", str(case_dir), "verify", "IT")
    assert res.exit_code == 3
    assert (
        "ledger-mismatch: IT.seal.json: the seal is not the one the ledger recorded last for "
        f"item 'IT' (event 1, {kind}): it was replaced, or copied from elsewhere "
        f"(expected sha256:{recorded}, found sha256:{on_disk})"
    ) in res.stdout
    # nor is the swapped item converted into a new, freshly sealed one
    res = _cli("--case", str(case_dir), "convert", "IT", "--to", "raw", "--item", "IT2")
    # (the seal/2 names the scratch case: the first problem named is now `wrong-case`)
    assert res.exit_code == 3 and "refusing to convert it: wrong-case" in res.stderr
    assert not (case_dir / "evidence" / "IT2").exists()
    # the same folder, outside any case, still verifies against the examiner's certificate
    cert = tmp_path / "tung.pem"
    cert.write_text(cert_pem(identity.certificate))
    _ok(_cli("verify", str(target), "--trust", str(cert)))


def test_item_planted_without_any_ledger_record(case_dir: Path, tmp_path: Path, src: Path) -> None:
    scratch = tmp_path / "scratch"
    _ok(_cli("case", "init", str(scratch), "--case-number", "NHÁP", "--title", "nháp"))
    _seal(scratch, src, "NEW")
    shutil.copytree(scratch / "evidence" / "NEW", case_dir / "evidence" / "NEW")
    res = _cli("--case", str(case_dir), "verify", "NEW")
    assert res.exit_code == 3
    assert "ledger-mismatch: NEW.seal.json: the ledger records no seal for item 'NEW'" in (
        res.stdout
    )


def test_a_resigned_seal_cannot_be_bound_again(
    case_dir: Path, src: Path, identity: Identity
) -> None:
    # a later sealing event for the item (e.g. after a re-seal) is the one that binds
    _seal(case_dir, src, "IT")
    seal = case_dir / "evidence" / "IT" / "IT.seal.json"
    import hashlib

    before = hashlib.sha256(seal.read_bytes()).hexdigest()
    resign(seal, identity, {"description": "niêm phong lại"})
    after = hashlib.sha256(seal.read_bytes()).hexdigest()
    res = _cli("--case", str(case_dir), "verify", "IT")
    assert res.exit_code == 3 and f"expected sha256:{before}, found sha256:{after}" in res.stdout
    # nor can the re-signed seal be bound by recording it again: an item's content is recorded
    # once (chain/rules.py), so a second `sealed` event is refused and verify keeps failing
    with pytest.raises(CustodyError, match="already sealed"):
        record_event(Case.open(case_dir), identity, "sealed", "IT", details={"seal_sha256": after})
    assert _cli("--case", str(case_dir), "verify", "IT").exit_code == 3


def test_event_signed_before_its_signer_was_pinned(
    case_dir: Path, identity: Identity, ek_home: Path
) -> None:
    # the colleague's key signs an event the ledger's own code appends (it does not ask who is
    # pinned), and only then is the colleague pinned: the earlier event is not covered
    from evidencekit.workflows.casework import add_examiner

    colleague = IdentityStore(ek_home).create(COLLEAGUE, PASSPHRASE.encode())
    case = Case.open(case_dir)
    # the colleague's own copy of the tool trusts their key, and appends
    own = {**case.trusted(), colleague.fingerprint: colleague.certificate}
    with Ledger.open(case.ledger_path, ledger_origin(case), trusted=own) as ledger:
        ledger.append(colleague, [Draft(kind="note", item_id=None, note="trước khi được thêm")])
    # evidencekit itself no longer builds on a checkpoint an unpinned key signed ...
    with pytest.raises(IntegrityError, match="signed by unknown key"):
        add_examiner(case, identity, colleague.certificate)
    # ... so the examiner is pinned by a copy that does (an older version, say)
    with Ledger.open(case.ledger_path, ledger_origin(case), trusted=own) as ledger:
        details = {
            "name": colleague.name,
            "fingerprint": colleague.fingerprint,
            "certificate": colleague.cert_pem(),
        }
        ledger.append(identity, [Draft(kind="examiner_added", item_id=None, details=details)])
    case.add_examiner(colleague.certificate)
    shutil.rmtree(ek_home / "checkpoints", ignore_errors=True)  # a home that saw none of it
    record_event(Case.open(case_dir), colleague, "note", None, note="sau khi được thêm")
    res = _cli("--case", str(case_dir), "--json", "custody", "verify")
    assert res.exit_code == 3
    doc = _json(res)
    assert doc["first_bad_event"] == 1
    assert [(p["kind"], p["seq"]) for p in doc["problems"]] == [("signed-before-pinned", 1)]
    assert "who was pinned only by event 2" in doc["problems"][0]["message"]
    # a reader who trusts the colleague's certificate themselves accepts it
    pem = case_dir.parent / "bung.pem"
    pem.write_text(colleague.cert_pem())
    _ok(_cli("--case", str(case_dir), "custody", "verify", "--trust", str(pem)))


def test_report_by_an_examiner_pinned_only_in_case_toml(
    case_dir: Path, src: Path, attacker: tuple[Identity, Path, dict[str, str]], tmp_path: Path
) -> None:
    ident, _pem, env = attacker
    _seal(case_dir, src, "IT")
    _pin_in_toml(case_dir, ident.name, ident.fingerprint, ident.cert_pem())
    pdf = tmp_path / "report.pdf"
    # report build verifies the whole ledger first (issue 14): the case's trust problem stops it
    res = _cli("--case", str(case_dir), "report", "build", "--out", str(pdf), env=env)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    text = res.stdout + res.stderr
    assert "case.toml pins 'Lê Văn Giả'" in text and "no report was built" in text
    assert not pdf.exists()


def test_an_examiner_only_case_toml_pins_signs_nothing(
    case_dir: Path, src: Path, attacker: tuple[Identity, Path, dict[str, str]]
) -> None:
    """Writers ask the ledger who is pinned, before any work: a hand-edited case.toml entry
    neither seals an item nor appends a custody event."""
    ident, _pem, env = attacker
    _pin_in_toml(case_dir, ident.name, ident.fingerprint, ident.cert_pem())
    before = len(list_events(Case.open(case_dir)))
    res = _cli("--case", str(case_dir), "seal", str(src), "--item", "GIA", env=env)
    assert res.exit_code == 1 and "not pinned" in res.stderr, (res.stdout, res.stderr)
    assert not (case_dir / "evidence" / "GIA").exists()
    assert not list((case_dir / "evidence").glob(".staging/*"))
    res = _cli("--case", str(case_dir), "custody", "note", "-", "ghi chú giả", env=env)
    assert res.exit_code == 1 and "not pinned by the ledger" in res.stderr, res.stderr
    assert len(list_events(Case.open(case_dir))) == before


def test_two_pinned_examiners_may_not_share_a_name(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    """A colleague whose certificate carries the case examiner's own name would sign "as" them
    to every reader of names: refused (the pinned examiner's fingerprint is named)."""
    env = {
        "EVIDENCEKIT_HOME": str(tmp_path / "twin"),
        "EVIDENCEKIT_PASSPHRASE": "mật khẩu sinh đôi",
    }
    _ok(_cli("keys", "init", "--name", EXAMINER, env=env))
    pem = tmp_path / "twin.pem"
    _ok(_cli("keys", "export-cert", "--out", str(pem), env=env))
    before = len(list_events(Case.open(case_dir)))
    res = _cli("--case", str(case_dir), "case", "add-examiner", str(pem))
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert f"examiner '{EXAMINER}' ({identity.fingerprint[:16]}) is already pinned" in res.stderr
    assert len(list_events(Case.open(case_dir))) == before
    # at creation too
    res = _cli("case", "init", str(tmp_path / "c2"), "--case-number", "X-1", "--title", "t",
               "--pin", str(pem))  # fmt: skip
    assert res.exit_code == 2 and "already pinned under that name" in res.stderr
    assert not (tmp_path / "c2" / "case.toml").exists()  # refused before anything was written
