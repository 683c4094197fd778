"""Red team (issue 13 threat model, against issue 17's co-signing): a pinned colleague records a
`report_cosigned` event for a co-signature the PDF does not hold. The custody log and every
report built later would say the report was co-signed; `report verify --case` must name the
event (exit 3). Oracle: the PDF's own signatures (pdfsig counts them) against the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.conftest import need_peer
from tests.report.attacks import COLLEAGUE, add_page_text, cosign, make_colleague, record_cosign
from tests.report.conftest import make_disk_item, run
from tests.report.tsa import local_tsa


def _build(runner: CliRunner, case_dir: Path) -> Path:
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "build"])
    assert res.exit_code == 0, res.output
    return Path(json.loads(res.stdout)["path"])


def _verify(runner: CliRunner, pdf: Path, case_dir: Path) -> tuple[int, dict[str, object]]:
    res = runner.invoke(cli, ["--json", "report", "verify", str(pdf), "--case", str(case_dir)])
    return res.exit_code, json.loads(res.stdout)


def _signatures(pdf: Path) -> int:
    need_peer("pdfsig")
    out = run("pdfsig", str(pdf), check=False).stdout
    return out.count("Signature #")


def test_a_cosign_event_for_a_signature_the_report_lacks_is_named(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    assert _verify(runner, pdf, case_dir)[0] == 0
    colleague = make_colleague(runner, tmp_path, case_dir)
    # the colleague's event claims they co-signed the report as issued: no signature of theirs
    record_cosign(case_dir, colleague, pdf.read_bytes(), "EvidencekitCosign1-supervisor")
    assert _signatures(pdf) == 1
    assert runner.invoke(cli, ["--case", str(case_dir), "custody", "verify"]).exit_code == 0
    code, doc = _verify(runner, pdf, case_dir)
    assert code == 3, doc
    (p,) = doc["problems"]  # type: ignore[misc]
    assert "(report_cosigned)" in p and "holds no such signature" in p, p
    assert COLLEAGUE in p and "EvidencekitCosign1-supervisor" in p


def test_a_cosign_event_naming_another_signers_field_is_named(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    """The colleague signs, then records an event for a field they did not sign (besides their
    own): the report holds one co-signature, the ledger claims two."""
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    colleague = make_colleague(runner, tmp_path, case_dir)
    pdf.write_bytes(cosign(pdf.read_bytes(), colleague, "EvidencekitCosign1-supervisor"))
    record_cosign(case_dir, colleague, pdf.read_bytes(), "EvidencekitCosign1-supervisor")
    assert _verify(runner, pdf, case_dir)[0] == 0
    record_cosign(case_dir, colleague, pdf.read_bytes(), "EvidencekitCosign2-witness")
    assert _signatures(pdf) == 2
    code, doc = _verify(runner, pdf, case_dir)
    assert code == 3, doc
    (p,) = doc["problems"]  # type: ignore[misc]
    assert "EvidencekitCosign2-witness" in p and "holds no such signature" in p, p


@pytest.mark.parametrize("signed_by_colleague", [False, True])
def test_extend_refuses_a_report_altered_between_signatures(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path, signed_by_colleague: bool
) -> None:
    """The page's text is changed in a new revision (left unsigned, or signed by the pinned
    colleague as if co-signing): `report extend` must not wrap it in a fresh archive timestamp
    and a `report_extended` event, which would make the altered file look maintained."""
    need_peer("openssl")
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    colleague = make_colleague(runner, tmp_path, case_dir) if signed_by_colleague else None
    pdf.write_bytes(add_page_text(pdf.read_bytes(), b"(Khong co thiet bi nao)", colleague))
    altered = pdf.read_bytes()
    before = runner.invoke(cli, ["--json", "--case", str(case_dir), "custody", "log"]).stdout
    with local_tsa(tmp_path / "tsa") as url:
        res = runner.invoke(
            cli, ["--case", str(case_dir), "report", "extend", str(pdf), "--tsa", url]
        )
    assert res.exit_code == 3, res.output
    assert pdf.read_bytes() == altered
    after = runner.invoke(cli, ["--json", "--case", str(case_dir), "custody", "log"]).stdout
    assert after == before
    assert _verify(runner, pdf, case_dir)[0] == 3


def test_an_altered_custody_export_attached_to_a_report_is_named(
    runner: CliRunner,
    case_dir: Path,
    identity: Identity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A modified `report build` attaches a custody.jsonl whose witness has another CCCD than
    the ledger records (and could render the Biên bản from it): the report is signed by a
    pinned examiner and issued in the ledger, so only comparing the attached export with the
    case's ledger shows the lie. Oracle: the ledger's own event (custody log --json)."""
    from evidencekit.workflows import custody

    make_disk_item(case_dir, identity)
    res = runner.invoke(
        cli,
        ["--case", str(case_dir), "custody", "transfer", "USB01", "--purpose", "giám định",
         "--to", "Nguyễn Văn An", "--to-role", "witness", "--to-id", "cccd:001203004567",
         "--override-reason", "test"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    real = custody.export_jsonl_bytes
    monkeypatch.setattr(
        custody,
        "export_jsonl_bytes",
        lambda case: real(case).replace(b"001203004567", b"001203009999"),
    )
    pdf = _build(runner, case_dir)
    monkeypatch.undo()
    log = runner.invoke(cli, ["--json", "--case", str(case_dir), "custody", "log"]).stdout
    assert "001203004567" in log and "001203009999" not in log
    code, doc = _verify(runner, pdf, case_dir)
    assert code == 3, doc
    assert any("custody.jsonl" in p for p in doc["problems"]), doc  # type: ignore[union-attr]


def test_an_extend_event_for_a_report_never_extended_is_named(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    """A `report_extended` event ("archive timestamp added") binding the report as issued,
    which holds no document timestamp (pdfsig: one signature)."""
    import hashlib

    from evidencekit.case import Case
    from evidencekit.workflows.custody import record_event

    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    data = pdf.read_bytes()
    record_event(
        Case.open(case_dir),
        identity,
        "report_extended",
        None,
        description="archive timestamp added",
        digests={"sha256": hashlib.sha256(data).hexdigest()},
        details={"file": pdf.name, "size": len(data), "tsa_url": "http://tsa.invalid/"},
    )
    assert _signatures(pdf) == 1
    code, doc = _verify(runner, pdf, case_dir)
    assert code == 3, doc
    (p,) = doc["problems"]  # type: ignore[misc]
    assert "(report_extended)" in p and "no document timestamp" in p, p
