"""`evidencekit seal`: copy or in place, sums files checkable with coreutils, custody event."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.hash.seal.read import load_seal
from tests.conftest import need_peer

HELLO_SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "thư mục").mkdir(parents=True)
    (src / "hello.txt").write_bytes(b"hello")
    (src / "thư mục" / "Nguyễn Bá Tùng.txt").write_bytes("xin chào".encode())
    (src / "with space").write_bytes(b"")
    return src


def _seal(case_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--case", str(case_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def test_seal_copies_into_item_folder(case_dir: Path, sources: Path) -> None:
    code, out, err = _seal(
        case_dir,
        "seal",
        str(sources / "hello.txt"),
        str(sources / "thư mục"),
        "--item",
        "USB-01",
        "--description",
        "USB của Trương Đình Bủng",
    )
    assert code == 0, err
    item = case_dir / "evidence" / "USB-01"
    assert (item / "hello.txt").read_bytes() == b"hello"
    assert (item / "thư mục" / "Nguyễn Bá Tùng.txt").exists()
    seal = load_seal(item / "USB-01.seal.json")
    assert [a.name for a in seal.artifacts] == ["hello.txt", "thư mục/Nguyễn Bá Tùng.txt"]
    assert seal.artifacts[0].digests["sha256"] == HELLO_SHA256
    assert set(seal.artifacts[0].digests) == {"md5", "sha1", "sha256"}
    assert seal.document["description"] == "USB của Trương Đình Bủng"
    assert seal.facts["mode"] == "copy"
    assert seal.facts["sources"][0]["path"] == str(sources / "hello.txt")
    assert "USB-01" in out and HELLO_SHA256 in out
    # the custody ledger got a `sealed` event
    from evidencekit.workflows.custody import list_events

    events = [e for e in list_events(Case.open(case_dir), "USB-01")]
    assert [e["kind"] for e in events] == ["sealed"]


def test_sums_files_check_with_coreutils_inside_item(case_dir: Path, sources: Path) -> None:
    need_peer("md5sum", "sha1sum", "sha256sum")
    code, _, err = _seal(case_dir, "seal", str(sources), "--item", "D1")
    assert code == 0, err
    item = case_dir / "evidence" / "D1"
    for tool, ext in (("md5sum", "md5"), ("sha1sum", "sha1"), ("sha256sum", "sha256")):
        check = subprocess.run([tool, "-c", f"D1.{ext}"], cwd=item, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.count(": OK") == 3


def test_seal_in_place_records_absolute_paths(case_dir: Path, sources: Path) -> None:
    code, _, err = _seal(
        case_dir, "--json", "seal", str(sources / "hello.txt"), "--item", "P1", "--in-place",
        "-a", "sha256,blake3",
    )  # fmt: skip
    assert code == 0, err
    seal = load_seal(case_dir / "evidence" / "P1" / "P1.seal.json")
    assert seal.artifacts[0].name == str(sources / "hello.txt")
    assert seal.document["algorithms"] == ["sha256", "blake3"]
    assert (case_dir / "evidence" / "P1" / "P1.b3").exists()
    assert not (case_dir / "evidence" / "P1" / "hello.txt").exists()


def test_seal_refuses_existing_item_and_bad_ids(case_dir: Path, sources: Path) -> None:
    assert _seal(case_dir, "seal", str(sources / "hello.txt"), "--item", "A")[0] == 0
    code, _, err = _seal(case_dir, "seal", str(sources / "hello.txt"), "--item", "A")
    assert code == 1 and "already exists" in err
    code, _, err = _seal(case_dir, "seal", str(sources / "hello.txt"), "--item", "Ổ-cứng")
    assert code == 2 and "invalid item id" in err
    code, _, err = _seal(case_dir, "seal", str(sources / "gone"), "--item", "B")
    assert code == 1 and "gone" in err


def test_seal_json_output(case_dir: Path, sources: Path) -> None:
    code, out, err = _seal(case_dir, "--json", "seal", str(sources / "hello.txt"), "--item", "J")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "evidencekit/seal/2"
    assert doc["item"] == "J" and doc["status"] == "complete" and doc["custody_recorded"]


def test_seal_by_unpinned_examiner_is_refused_before_copying(
    case_dir: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidencekit.identity import IdentityStore
    from tests.conftest import PASSPHRASE

    other = IdentityStore().create("Lê Văn Khác", PASSPHRASE.encode())
    monkeypatch.setenv("EVIDENCEKIT_IDENTITY", other.fingerprint)
    code, _, err = _seal(case_dir, "seal", str(sources / "hello.txt"), "--item", "X")
    assert code == 1 and "is not pinned" in err
    assert not (case_dir / "evidence" / "X").exists()


def test_interrupted_seal_is_incomplete(
    case_dir: Path, sources: Path, identity: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidencekit.workflows.seal as wf
    from evidencekit.errors import InterruptedError_

    real = wf._copy_and_hash
    calls = []

    def flaky(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(wf, "_copy_and_hash", flaky)
    with pytest.raises(InterruptedError_, match="sealed as incomplete"):
        wf.seal_files(
            Case.open(case_dir),
            identity,  # type: ignore[arg-type]
            wf.SealRequest("INT", (sources / "hello.txt", sources / "with space")),
        )
    seal = load_seal(case_dir / "evidence" / "INT" / "INT.seal.json")
    assert seal.status == "incomplete"
    assert [a.name for a in seal.artifacts] == ["hello.txt"]
    assert seal.facts["not_sealed"] == [str(sources / "with space")]
    code, out, _ = (lambda r: (r.exit_code, r.stdout, r.stderr))(
        CliRunner().invoke(cli, ["--case", str(case_dir), "verify", "INT"])
    )
    # verifies, but incomplete: exit 4 (docs/design.md; issue 14)
    assert code == 4 and "status incomplete" in out and "did not finish" in out


def test_non_utf8_name_is_sealed_exactly(case_dir: Path, tmp_path: Path) -> None:
    # seal/2 holds any name (its bytes in base64 when not UTF-8): refused before, sealed now
    import base64
    import os

    bad = os.fsencode(tmp_path) + b"/caf\xe9.txt"
    with open(bad, "wb") as fh:
        fh.write(b"x")
    code, out, err = _seal(case_dir, "seal", os.fsdecode(bad), "--item", "U")
    assert code == 0, err
    assert "caf\\xe9.txt" in out
    doc = json.loads((case_dir / "evidence" / "U" / "U.seal.json").read_bytes())
    assert [a.get("name_bytes") for a in doc["artifacts"]] == [
        base64.b64encode(b"caf\xe9.txt").decode()
    ]
