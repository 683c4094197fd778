"""`evidencekit verify`: exit 0 when all holds, 3 with a precise message for each tamper case."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.hash.canonical import canonical_json
from evidencekit.identity import IdentityStore, cert_pem


@pytest.fixture
def item(case_dir: Path, tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(bytes(range(256)) * 40)
    (src / "b.bin").write_bytes(b"second file")
    result = CliRunner().invoke(
        cli,
        ["--case", str(case_dir), "seal", str(src / "a.bin"), str(src / "b.bin"), "--item", "IT"],
    )
    assert result.exit_code == 0, result.stderr
    return case_dir / "evidence" / "IT"


def _verify(case_dir: Path | None, *args: str) -> tuple[int, str, str]:
    pre = ["--case", str(case_dir)] if case_dir else []
    result = CliRunner().invoke(cli, [*pre, "verify", *args])
    return result.exit_code, result.stdout, result.stderr


def _w(path: Path) -> Path:
    path.chmod(0o644)
    return path


def test_verify_ok_by_id_folder_and_file(case_dir: Path, item: Path) -> None:
    for target in ("IT", str(item), str(item / "IT.seal.json")):
        code, out, err = _verify(case_dir, target)
        assert code == 0, out + err
        assert out.startswith("IT: OK: 5 file(s)")
        assert "signed by Nguyễn Bá Tùng" in out


def test_flip_one_byte(case_dir: Path, item: Path) -> None:
    data = bytearray((item / "a.bin").read_bytes())
    data[5000] ^= 0xFF
    _w(item / "a.bin").write_bytes(bytes(data))
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
    assert "digest-mismatch: a.bin: content differs from the seal (md5, sha1, sha256 differ)" in out
    assert "expected sha256:" in out and "found sha256:" in out


def test_truncate(case_dir: Path, item: Path) -> None:
    with _w(item / "a.bin").open("r+b") as fh:
        fh.truncate(100)
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
    assert "size-mismatch: a.bin: truncated: 10240 bytes sealed, 100 found" in out


def test_append(case_dir: Path, item: Path) -> None:
    with _w(item / "b.bin").open("ab") as fh:
        fh.write(b"!")
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
    assert "size-mismatch: b.bin: bytes appended: 11 bytes sealed, 12 found (1 extra)" in out


def test_swap(case_dir: Path, item: Path) -> None:
    (item / "a.bin").rename(item / "tmp")
    (item / "b.bin").rename(item / "a.bin")
    (item / "tmp").rename(item / "b.bin")
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
    assert "a.bin: content differs" in out and "sealed content of 'b.bin'" in out
    assert "b.bin: content differs" in out and "sealed content of 'a.bin'" in out


def test_missing_file(case_dir: Path, item: Path) -> None:
    (item / "b.bin").unlink()
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
    assert "missing-file: b.bin: sealed file is missing" in out


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("item", "OTHER"),
        ("status", "incomplete"),
        ("host", "forged-host"),
        ("sealed", "2020-01-01T00:00:00Z"),
        ("facts", {}),
        ("description", "thêm vào"),
    ],
)
def test_edit_seal_field(case_dir: Path, item: Path, field: str, value: object) -> None:
    seal = item / "IT.seal.json"
    doc = json.loads(seal.read_bytes())
    doc[field] = value
    _w(seal).write_bytes(canonical_json(doc))
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
    assert "bad-signature: IT.seal.json: the signature of Nguyễn Bá Tùng" in out
    assert "the seal was changed after signing" in out


def test_edit_digest_in_seal(case_dir: Path, item: Path) -> None:
    seal = item / "IT.seal.json"
    doc = json.loads(seal.read_bytes())
    doc["artifacts"][1]["digests"][0] = "md5:" + "0" * 32
    _w(seal).write_bytes(canonical_json(doc))
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
    # an edited seal is untrusted: nothing it names is read (its sums files included)
    assert "bad-signature" in out and "sums-mismatch" not in out
    assert "the seal's files were not read" in out


def test_remove_signature(case_dir: Path, item: Path) -> None:
    seal = item / "IT.seal.json"
    doc = json.loads(seal.read_bytes())
    del doc["signature"]
    _w(seal).write_bytes(canonical_json(doc))
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
    assert "missing-signature: IT.seal.json: the seal carries no signature" in out


def test_resign_with_another_key_and_trust(case_dir: Path, item: Path, tmp_path: Path) -> None:
    other = IdentityStore(tmp_path / "other").create(
        "Lê Văn Giả", "mật khẩu của người khác".encode()
    )
    seal = item / "IT.seal.json"
    doc = json.loads(seal.read_bytes())
    del doc["signature"]
    doc["examiner"] = {
        "name": other.name,
        "fingerprint": other.fingerprint,
        "certificates": [other.cert_pem()],  # seal/2: the chain, leaf first
    }
    sig = other.sign(canonical_json(doc))
    doc["signature"] = {"algorithm": "ecdsa-p256-sha256", "value": base64.b64encode(sig).decode()}
    _w(seal).write_bytes(canonical_json(doc))
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
    assert "unknown-signer: IT.seal.json: signed by Lê Văn Giả" in out
    assert "not pinned in the case nor given with --trust" in out
    cert = tmp_path / "other.pem"
    cert.write_text(cert_pem(other.certificate))
    # trusted by the reader, but in the case it is not the seal the ledger recorded
    code, out, err = _verify(case_dir, "IT", "--trust", str(cert))
    assert code == 3 and "unknown-signer" not in out
    assert "ledger-mismatch: IT.seal.json: the seal is not the one the ledger recorded" in out
    # a copy outside the case is checked against what the reader trusts only
    import shutil

    copy = tmp_path / "copy" / "IT"
    shutil.copytree(item, copy)
    code, out, err = _verify(None, str(copy), "--trust", str(cert))
    assert code == 0, out + err


def test_outside_the_case_needs_trust(case_dir: Path, item: Path, tmp_path: Path) -> None:
    code, out, _ = _verify(None, str(item))
    assert code == 3 and "unknown-signer" in out
    pinned = Case.open(case_dir).info.examiners[0]
    cert = tmp_path / "examiner.pem"
    cert.write_text(pinned.certificate_pem)
    code, out, err = _verify(None, str(item), "--trust", str(cert))
    assert code == 0, out + err


def test_unknown_item_id(case_dir: Path) -> None:
    code, out, _ = _verify(case_dir, "NOPE")
    assert code == 3 and "missing-file: NOPE.seal.json" in out


def test_json_and_record(case_dir: Path, item: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--case", str(case_dir), "--json", "verify", "IT", "--record"]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] and doc["recorded"] and doc["items"][0]["item"] == "IT"
    from evidencekit.workflows.custody import list_events

    kinds = [e["kind"] for e in list_events(Case.open(case_dir), "IT")]
    assert kinds == ["sealed", "verified"]
    (item / "b.bin").unlink()
    result = CliRunner().invoke(
        cli, ["--case", str(case_dir), "--json", "verify", "IT", "--record"]
    )
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc["items"][0]["problems"][0]["kind"] == "missing-file"
    kinds = [e["kind"] for e in list_events(Case.open(case_dir), "IT")]
    assert kinds == ["sealed", "verified", "verified"]


def test_sizes_only_skips_rehash(case_dir: Path, item: Path) -> None:
    data = bytearray((item / "a.bin").read_bytes())
    data[0] ^= 1
    _w(item / "a.bin").write_bytes(bytes(data))
    code, out, _ = _verify(case_dir, "IT", "--sizes-only")
    assert code == 0 and "0 B re-hashed" in out
    code, out, _ = _verify(case_dir, "IT")
    assert code == 3
