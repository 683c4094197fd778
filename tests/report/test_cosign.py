"""`report cosign`: a receiver (supervisor, witness) adds a signature in a new field; each
co-signature is its own custody event. Oracles: pdfsig (every signature valid), pyhanko-cli
(every signature intact and trusted with the signers' certificates as the only roots),
pyhanko's own difference analysis, and `custody verify`."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.workflows.custody import record_event
from tests.conftest import PASSPHRASE, need_peer
from tests.report.attacks import COLLEAGUE, add_page_text, cosign, make_colleague, record_cosign
from tests.report.conftest import make_disk_item
from tests.report.test_long_term import assert_pdfsig_all_valid, pyhanko_validate
from tests.report.tsa import local_tsa


@pytest.fixture
def tsa(tmp_path: Path):  # type: ignore[no-untyped-def]
    need_peer("openssl")
    with local_tsa(tmp_path / "tsa") as url:
        yield url


def _build(runner: CliRunner, case_dir: Path, *args: str) -> Path:
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "build", *args])
    assert res.exit_code == 0, res.output
    return Path(json.loads(res.stdout)["path"])


def _colleague_env(tmp_path: Path) -> dict[str, str]:
    return {
        "EVIDENCEKIT_HOME": str(tmp_path / "colleague-home"),
        "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
    }


def _verify(runner: CliRunner, pdf: Path, case_dir: Path) -> tuple[int, str, dict[str, object]]:
    text = runner.invoke(cli, ["report", "verify", str(pdf), "--case", str(case_dir)])
    res = runner.invoke(cli, ["--json", "report", "verify", str(pdf), "--case", str(case_dir)])
    return text.exit_code, text.output, json.loads(res.stdout)


def _pem(identity: Identity, path: Path) -> Path:
    path.write_bytes(identity.cert_pem().encode())
    return path


def test_receiver_cosigns_then_the_report_is_extended(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path, tsa: str
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir, "--tsa", tsa)
    issued = pdf.read_bytes()
    colleague = make_colleague(runner, tmp_path, case_dir)
    res = runner.invoke(
        cli,
        ["--case", str(case_dir), "report", "cosign", str(pdf), "--identity", COLLEAGUE,
         "--role", "receiver", "--tsa", tsa],
        env=_colleague_env(tmp_path),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "cosigned" in res.output and "recorded in the case's ledger" in res.output
    cosigned = pdf.read_bytes()
    assert cosigned.startswith(issued) and len(cosigned) > len(issued)
    res = runner.invoke(cli, ["--case", str(case_dir), "report", "extend", str(pdf), "--tsa", tsa])
    assert res.exit_code == 0, res.output
    assert pdf.read_bytes().startswith(cosigned)

    code, text, doc = _verify(runner, pdf, case_dir)
    assert code == 0, text
    sig = doc["signature"]
    assert isinstance(sig, dict)
    assert [(s["name"], s["role"], s["kind"], s["level"]) for s in sig["signers"]] == [
        ("Nguyễn Bá Tùng", "examiner", "certification", "B-LTA"),
        (COLLEAGUE, "receiver", "signature", "B-LTA"),
        ("Test TSA evidencekit", None, "document timestamp", None),
    ], sig["signers"]
    assert all(s["ok"] for s in sig["signers"])
    assert f"{COLLEAGUE} (sha256:{colleague.fingerprint}) as receiver: valid" in text, text
    assert "recorded by ledger event" in text and "(report_cosigned)" in text, text
    assert "the ledger records the first" in text  # report_issued still binds the issued bytes
    res = runner.invoke(cli, ["--case", str(case_dir), "custody", "verify"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "custody", "log"])
    events = json.loads(res.stdout)["events"]
    cos = [e for e in events if e["kind"] == "report_cosigned"]
    assert len(cos) == 1 and cos[0]["actor"]["fingerprint"] == colleague.fingerprint
    assert cos[0]["details"]["role"] == "receiver"
    assert cos[0]["details"]["field"] == "EvidencekitCosign1-receiver"
    assert [e["kind"] for e in events].count("report_extended") == 1

    # oracles: poppler sees two valid signatures; pyhanko trusts both with their certificates
    assert_pdfsig_all_valid(pdf, 2)
    oracle = pyhanko_validate(
        pdf,
        _pem(identity, tmp_path / "examiner.pem"),
        _pem(colleague, tmp_path / "colleague.pem"),
        tmp_path / "tsa" / "tsa.crt",
    )
    assert oracle.count("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>") == 2, oracle
    assert "exit" not in oracle, oracle
    # the examiner's signature certifies the report for signing only
    reader = PdfFileReader(io.BytesIO(pdf.read_bytes()), strict=False)
    assert reader.embedded_signatures[0].docmdp_level == MDPPerm.FILL_FORMS


def test_an_edit_between_the_signatures_exits_3(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    """A content change appended between the examiner's signature and a co-signature, the
    co-signature recorded like a real one: pdfsig still calls both signatures valid."""
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    colleague = make_colleague(runner, tmp_path, case_dir)
    edited = add_page_text(pdf.read_bytes(), b"(Ket luan da sua) Tj")
    # `report cosign` refuses to sign over it
    target = tmp_path / "edited.pdf"
    target.write_bytes(edited)
    res = runner.invoke(
        cli,
        ["--case", str(case_dir), "report", "cosign", str(target), "--role", "witness"],
        env=_colleague_env(tmp_path),
    )
    assert res.exit_code == 3 and "does not verify, so it is not amended" in res.output, res.output
    assert target.read_bytes() == edited
    # signed over it by hand and recorded: still caught
    attacked = cosign(edited, colleague, field="EvidencekitCosign1-witness")
    target.write_bytes(attacked)
    record_cosign(case_dir, colleague, attacked, "EvidencekitCosign1-witness")
    assert_pdfsig_all_valid(target, 2)
    code, text, _doc = _verify(runner, target, case_dir)
    assert code == 3, text
    assert "revision 3 of 4 (not signed) changes the content of page(s) 1" in text, text
    assert "as examiner: problem (see below)" in text, text


def test_a_cosignature_not_recorded_in_the_ledger_exits_3(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    colleague = make_colleague(runner, tmp_path, case_dir)
    # co-signed outside the case (no --case, the current folder is no case): signed, not recorded
    res = runner.invoke(
        cli,
        ["report", "cosign", str(pdf), "--role", "supervisor"],
        env={**_colleague_env(tmp_path), "EVIDENCEKIT_CASE": ""},
    )
    assert res.exit_code == 0, res.output
    assert "not recorded in a custody ledger" in res.output
    code, text, doc = _verify(runner, pdf, case_dir)
    assert code == 3, text
    assert (
        f"signature 2 (supervisor, {COLLEAGUE}, field 'EvidencekitCosign1-supervisor') is not "
        "recorded in the case's ledger" in text
    ), text
    assert_pdfsig_all_valid(pdf, 2)
    # an event for another co-signer's field does not cover it
    record_cosign(case_dir, colleague, pdf.read_bytes(), "EvidencekitCosign1-witness")
    assert _verify(runner, pdf, case_dir)[0] == 3
    # nor does one for this field that names another role than the field declares
    record_event(
        Case.open(case_dir),
        colleague,
        "report_cosigned",
        None,
        description="report co-signed",
        digests={"sha256": hashlib.sha256(pdf.read_bytes()).hexdigest()},
        details={
            "field": "EvidencekitCosign1-supervisor",
            "size": pdf.stat().st_size,
            "role": "witness",
        },
    )
    assert _verify(runner, pdf, case_dir)[0] == 3
    record_cosign(case_dir, colleague, pdf.read_bytes(), "EvidencekitCosign1-supervisor")
    code, text, doc = _verify(runner, pdf, case_dir)
    assert colleague.fingerprint in json.dumps(doc)
    assert "signature 2 (supervisor, Trần Văn Đồng): recorded by ledger event" in text
    # the two events above stay in the ledger and describe co-signatures this report does not
    # hold (a witness's, a supervisor field as witness): each is named for good (red team)
    assert code == 3, text
    assert text.count("but the report holds no such signature") == 2, text


def test_an_unpinned_cosigner_is_refused_before_signing(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    make_colleague(runner, tmp_path, None)  # not pinned
    before = pdf.read_bytes()
    res = runner.invoke(
        cli,
        ["--case", str(case_dir), "report", "cosign", str(pdf), "--role", "receiver"],
        env=_colleague_env(tmp_path),
    )
    assert res.exit_code == 1 and "is not pinned in case" in res.output, res.output
    assert pdf.read_bytes() == before
    assert [p.name for p in pdf.parent.iterdir()] == [pdf.name]


def test_the_examiner_cannot_cosign_their_own_report(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    res = runner.invoke(
        cli, ["--case", str(case_dir), "report", "cosign", str(pdf), "--role", "witness"]
    )
    assert res.exit_code == 1 and "has already signed this report" in res.output, res.output
