"""The JSON contract (docs/json.md): every `--json` document has a JSON Schema in
evidencekit/schemas/, the schemas are valid draft 2020-12, every document the suite sees is
checked against its schema (the autouse `json_contract` fixture in tests/conftest.py), and a
document that breaks its schema — or names a schema that does not exist — fails.

This module also runs, with `--json`, the commands no other test runs with `--json`, so that
each schema is exercised by a real document; and the usage errors (exit 2, click's own and
ours) print the error document."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from evidencekit.chain.proof import CONSISTENCY_SCHEMA, INCLUSION_SCHEMA
from evidencekit.cli.main import cli
from evidencekit.identity import Identity, IdentityStore, cert_pem
from evidencekit.schemas import schema_file, schema_files
from tests.conftest import PASSPHRASE, TEST_KDF
from tests.json_contract import check_document, check_stdout, problems

CLI_DIR = Path(__file__).parent.parent.parent / "evidencekit" / "cli"
_ID = re.compile(r'"(evidencekit/[a-z0-9-]+/[0-9]+)"')


def _emitted_ids() -> set[str]:
    # the proof files `custody prove` prints and `custody consistency --out` writes
    found: set[str] = {INCLUSION_SCHEMA, CONSISTENCY_SCHEMA}
    for path in CLI_DIR.rglob("*.py"):
        found.update(_ID.findall(path.read_text(encoding="utf-8")))
    return found


# --- the schema files ---------------------------------------------------------------------


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_each_schema_is_a_valid_draft_2020_12_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    if path.name != "common.schema.json":
        sid = schema["properties"]["schema"]["const"]
        assert schema_file(sid) == path
        assert "schema" in schema["required"]
        if "-proof/" not in sid:  # the proof files are a file format, without the version
            assert "evidencekit_version" in schema["required"]


def test_every_document_the_cli_emits_has_a_schema_and_every_schema_is_emitted() -> None:
    emitted = _emitted_ids()
    assert "evidencekit/error/1" in emitted and len(emitted) > 30
    files = {
        json.loads(p.read_text(encoding="utf-8"))["properties"]["schema"]["const"]
        for p in schema_files()
        if p.name != "common.schema.json"
    }
    assert emitted - files == set(), "documents without a schema"
    assert files - emitted == set(), "schemas no command emits"


def test_every_schema_is_in_docs_json_md() -> None:
    text = (Path(__file__).parent.parent.parent / "docs" / "json.md").read_text(encoding="utf-8")
    for sid in _emitted_ids():
        assert f"`{sid}`" in text, sid


# --- negative: what must fail ---------------------------------------------------------------

GOOD_REPORT: dict[str, Any] = {
    "schema": "evidencekit/report-build/1",
    "evidencekit_version": "0.1.0",
    "path": "/cases/VKS/reports/r.pdf",
    "sha256": "55c473cc9837d55b1cffab0675d0d9fa08be7ef1590d1eac8f133190b482fa00",
    "report_id": "R-20261205T174235Z-4d583052",
    "lang": "vi",
    "signed": True,
    "timestamped": False,
    "items": ["USB01"],
    "size": 123456,
    "event_recorded": True,
    "level": "B-B",
}


def test_a_good_document_validates() -> None:
    check_document(GOOD_REPORT)


def test_an_unknown_schema_id_fails() -> None:
    doc = {**GOOD_REPORT, "schema": "evidencekit/report-build/9"}
    assert any("no JSON Schema" in p for p in problems(doc))
    assert problems({**GOOD_REPORT, "schema": "something/else"})
    assert problems({"no": "schema"})
    with pytest.raises(AssertionError, match="report-build/9"):
        check_document(doc)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("sha256"), "sha256"),  # a required key missing
        (lambda d: d.update(size="123456"), "size"),  # a size as a string
        (lambda d: d.update(size=-1), "size"),  # a negative size
        (lambda d: d.update(sha256=GOOD_REPORT["sha256"].upper()), "sha256"),  # uppercase hex
        (lambda d: d.update(sha256="sha256:" + GOOD_REPORT["sha256"]), "sha256"),
        (lambda d: d.update(signed="yes"), "signed"),
        (lambda d: d.update(evidencekit_version=1), "evidencekit_version"),
    ],
)
def test_a_broken_document_fails(change: Any, where: str) -> None:
    doc = copy.deepcopy(GOOD_REPORT)
    change(doc)
    found = problems(doc)
    assert found and any(where in p for p in found), found


def test_a_wrong_digest_in_a_prefixed_map_fails() -> None:
    base = json.loads(schema_file("evidencekit/acquire-disk/2").read_text(encoding="utf-8"))
    assert "digests" in base["properties"]
    doc = {"schema": "evidencekit/hash/1", "evidencekit_version": "0.1.0", "algorithms": ["md5"]}
    doc["files"] = [{"name": "a", "size": 3, "digests": {"md5": "0" * 31}}]
    doc["errors"] = []
    assert problems(doc)  # 31 hex digits is no MD5
    doc["files"][0]["digests"] = {"md5": "0" * 32}
    assert not problems(doc)
    doc["files"][0]["digests"] = {"md4": "0" * 32}
    assert problems(doc)  # no such algorithm


def test_check_stdout_checks_only_json_runs() -> None:
    check_stdout(["verify", "X"], "not json at all")
    with pytest.raises(AssertionError):
        check_stdout(["--json", "verify"], json.dumps({**GOOD_REPORT, "size": "1"}))


def test_the_fixture_catches_a_broken_document_printed_in_process(
    json_contract: list[str], runner: CliRunner
) -> None:
    from evidencekit.cli import runtime

    runtime.json_text({"schema": "evidencekit/nosuch/1", "evidencekit_version": "0.1.0"})
    assert any("nosuch" in p for p in json_contract)
    json_contract.clear()  # this test made the problem on purpose


# --- usage errors print the error document ------------------------------------------------


def _error(result: Any, code: str, exit_code: int = 2) -> dict[str, Any]:
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    doc = json.loads(result.stdout)
    assert doc["schema"] == "evidencekit/error/1"
    assert doc["exit_code"] == exit_code
    assert doc["error"]["code"] == code, doc
    assert doc["error"]["message"]
    check_document(doc)
    return doc


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--json", "seal"], "missing_argument"),  # click: missing argument
        (["--json", "report", "verify"], "missing_argument"),
        (["--json", "convert", "X", "--item", "Y"], "missing_option"),
        (["--json", "acquire", "disk", "/dev/null", "--format", "zip"], "bad_parameter"),
        (["--json", "hash", "--nosuch-option", "x"], "no_such_option"),
        (["--json", "nosuch-command"], "no_such_command"),
        (["--json", "--case-identity", "sha256:zz", "case", "show"], "bad_parameter"),
        (["--json", "--nosuch-global"], "no_such_option"),
    ],
)
def test_click_usage_errors_print_the_error_document(
    args: list[str], code: str, ek_home: Path
) -> None:
    result = CliRunner().invoke(cli, args)
    doc = _error(result, code)
    assert doc["error"]["hint"] is None
    assert "Error:" in result.stderr  # click's own message stays on stderr


def test_without_json_a_usage_error_prints_nothing_on_stdout(ek_home: Path) -> None:
    result = CliRunner().invoke(cli, ["seal"])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_our_usage_errors_print_the_error_document(case_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--json", "--case", str(case_dir), "seal", "--item", "../x", "/etc/hostname"]
    )
    _error(result, "usage")


def test_custody_log_of_an_unknown_item_is_a_usage_error(case_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--case", str(case_dir), "custody", "log", "NOSUCH"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("evidencekit: error: no item 'NOSUCH'"), lines
    assert len(lines) <= 2  # the error and its hint
    doc = _error(
        runner.invoke(cli, ["--json", "--case", str(case_dir), "custody", "log", "NOSUCH"]), "usage"
    )
    assert "NOSUCH" in doc["error"]["message"]
    # the command's own --json flag too
    _error(
        runner.invoke(cli, ["--case", str(case_dir), "custody", "log", "NOSUCH", "--json"]), "usage"
    )
    # a known item with events, and the whole case, still list
    ok = runner.invoke(cli, ["--json", "--case", str(case_dir), "custody", "log"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["events"]


# --- the commands no other test runs with --json --------------------------------------------


def _ok(runner: CliRunner, case_dir: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(cli, ["--json", "--case", str(case_dir), *args])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    doc = json.loads(result.stdout)
    check_document(doc)
    return doc


def _colleague(tmp_path: Path) -> tuple[Identity, Path]:
    other = IdentityStore(tmp_path / "other-home").create(
        "Trần Thị Hoa", PASSPHRASE.encode(), org="Công an tỉnh", kdf=TEST_KDF
    )
    pem = tmp_path / "hoa.pem"
    pem.write_text(cert_pem(other.certificate), encoding="utf-8")
    return other, pem


def test_case_and_custody_documents(tmp_path: Path, identity: Identity) -> None:
    runner = CliRunner()
    case_dir = tmp_path / "vụ án"
    doc = runner.invoke(
        cli,
        ["--json", "case", "init", str(case_dir), "--case-number", "VKS-1", "--title", "Vụ án"],
    )
    assert doc.exit_code == 0, doc.stderr
    created = json.loads(doc.stdout)
    assert created["schema"] == "evidencekit/case-init/1"
    assert created["case"]["title"] == "Vụ án"

    _other, pem = _colleague(tmp_path)
    added = _ok(runner, case_dir, "case", "add-examiner", str(pem))
    assert added["name"] == "Trần Thị Hoa" and isinstance(added["event"], int)
    revoked = _ok(runner, case_dir, "case", "revoke-examiner", "Trần Thị Hoa", "--reason", "nghỉ")
    assert revoked["recorded"] is True

    src = tmp_path / "ảnh.jpg"
    src.write_bytes(b"\xff\xd8 bytes")
    _ok(runner, case_dir, "seal", "--item", "P1", str(src))

    cp = _ok(runner, case_dir, "custody", "checkpoint")["checkpoint"]
    old = tmp_path / "old.checkpoint"
    old.write_text(cp, encoding="utf-8")
    _ok(runner, case_dir, "custody", "note", "P1", "ghi chú")
    cons = _ok(runner, case_dir, "custody", "consistency", str(old))
    assert cons["schema"] == "evidencekit/custody-consistency/1"

    proof = tmp_path / "proof.json"
    result = runner.invoke(
        cli, ["--case", str(case_dir), "custody", "prove", "P1", "--out", str(proof)]
    )
    assert result.exit_code == 0, result.stderr
    check_document(json.loads(proof.read_text(encoding="utf-8")))  # the proof file's schema
    latest = tmp_path / "latest.checkpoint"
    latest.write_text(
        _ok(runner, case_dir, "custody", "checkpoint")["checkpoint"], encoding="utf-8"
    )
    checked = _ok(
        runner, case_dir, "custody", "verify-proof", str(proof), "--checkpoint", str(latest)
    )
    assert checked["ok"] is True
    cproof = tmp_path / "consistency.json"
    args = ["--case", str(case_dir), "custody", "consistency", str(old), "--out", str(cproof)]
    assert runner.invoke(cli, args).exit_code == 0
    check_document(json.loads(cproof.read_text(encoding="utf-8")))
    assert _ok(runner, case_dir, "custody", "verify-proof", str(cproof))["ok"] is True

    witness = tmp_path / "witness.json"
    exported = _ok(runner, case_dir, "custody", "witness", "--out", str(witness))
    assert exported["path"] == str(witness)
    checked = _ok(runner, case_dir, "custody", "witness", "check", str(witness))
    assert checked["schema"] == "evidencekit/custody-witness-check/1"


def test_report_extract_document(case_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    src = tmp_path / "tệp.txt"
    src.write_text("nội dung", encoding="utf-8")
    _ok(runner, case_dir, "seal", "--item", "T1", str(src))
    pdf = tmp_path / "report.pdf"
    _ok(runner, case_dir, "report", "build", "--out", str(pdf))
    extracted = _ok(runner, case_dir, "report", "extract", str(pdf), "--out", str(tmp_path / "x"))
    assert extracted["files"]
    verified = _ok(runner, case_dir, "report", "verify", str(pdf))
    assert verified["ok"] is True


def test_convert_document(case_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    raw = tmp_path / "disk.raw"
    raw.write_bytes(bytes(range(256)) * 4096)
    acquired = _ok(runner, case_dir, "acquire", "disk", str(raw), "--item", "D1", "--format", "raw")
    # a regular file's stat numbers are numbers in the document (text in the signed seal)
    assert isinstance(acquired["source"]["identity"]["file_size"], int)
    assert acquired["source"]["identity"]["file_size"] == 256 * 4096
    converted = _ok(runner, case_dir, "convert", "D1", "--to", "e01", "--item", "D1-E01")
    assert converted["schema"] == "evidencekit/convert/1"


def test_a_proof_file_with_a_base64_root_fails(case_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    src = tmp_path / "a.txt"
    src.write_text("a", encoding="utf-8")
    _ok(runner, case_dir, "seal", "--item", "A1", str(src))
    result = runner.invoke(cli, ["--json", "--case", str(case_dir), "custody", "prove", "A1"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)  # `custody prove` prints the proof file itself
    check_document(doc)
    doc["root"] = "+d5obtnbAI2Fgasme/SLMjbYTGBam5W457pbpdIfWAQ="
    assert any("/root" in p for p in problems(doc))
