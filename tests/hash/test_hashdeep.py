"""hashdeep format and audit, with the real hashdeep as the oracle both ways."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.hash.hashdeep import audit, parse
from tests.conftest import need_peer


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "d"
    (root / "sub").mkdir(parents=True)
    (root / "a").write_bytes(b"a")
    (root / "sub" / "b").write_bytes(b"b" * 5000)
    (root / "c, with comma").write_bytes(b"c")
    (root / "Nguyễn Bá Tùng.txt").write_bytes("xin chào".encode())
    (root / "empty").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    return root


def _ours(*args: str) -> bytes:
    result = CliRunner().invoke(cli, ["hash", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def test_hashdeep_audits_our_file(tree: Path) -> None:
    need_peer("hashdeep")
    known = _ours("--format", "hashdeep", "-a", "md5,sha256", "-r", "d")
    assert known.startswith(b"%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n")
    Path("known.txt").write_bytes(known)
    ok = subprocess.run(
        ["hashdeep", "-a", "-l", "-r", "-k", "known.txt", "d"], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Audit passed" in ok.stdout
    (tree / "a").write_bytes(b"changed")
    bad = subprocess.run(
        ["hashdeep", "-a", "-l", "-r", "-k", "known.txt", "d"], capture_output=True, text=True
    )
    assert bad.returncode != 0
    assert "Audit failed" in bad.stdout + bad.stderr


def test_our_audit_reads_hashdeep_file(tree: Path) -> None:
    need_peer("hashdeep")
    known = subprocess.run(
        ["hashdeep", "-c", "md5,sha1,sha256", "-l", "-r", "d"], capture_output=True, check=True
    ).stdout
    Path("known.txt").write_bytes(known)
    runner = CliRunner()
    result = runner.invoke(cli, ["hash", "--audit", "known.txt", "-r", "d"])
    assert result.exit_code == 0, result.output
    assert "audit passed: 5 matched, 0 changed, 0 moved, 0 new, 0 missing" in result.stdout
    (tree / "a").write_bytes(b"changed")
    (tree / "sub" / "b").rename(tree / "moved-b")
    (tree / "empty").unlink()
    (tree / "brand-new").write_bytes(b"new")
    result = runner.invoke(cli, ["--json", "hash", "--audit", "known.txt", "-r", "d"])
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc["changed"] == ["d/a"]
    assert doc["moved"] == [{"name": "d/moved-b", "was": "d/sub/b"}]
    assert doc["new"] == ["d/brand-new"]
    assert doc["missing"] == ["d/empty"]
    assert sorted(doc["matched"]) == ["d/Nguyễn Bá Tùng.txt", "d/c, with comma"]


def test_parse_rejects_non_hashdeep_and_skips_broken_records() -> None:
    from evidencekit.errors import HashError

    with pytest.raises(HashError, match="not a hashdeep file"):
        parse(b"hello\n")
    data = (
        b"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## x\n"
        b"1,0cc175b9c0f1b6a831c399e269772661,a,b\n"
        b"garbage\n"
    )
    algos, records, bad = parse(data)
    assert algos == ("md5",)
    assert records[0].name == b"a,b" and records[0].size == 1
    assert bad == [5]


def test_audit_categories_in_library() -> None:
    _, known, _ = parse(
        b"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n"
        b"1,0cc175b9c0f1b6a831c399e269772661,a\n"
        b"1,92eb5ffee6ae2fec3ad71c777531578f,b\n"
    )
    result = audit(known, [(b"a", 1, {"md5": "0cc175b9c0f1b6a831c399e269772661"})], ("md5",))
    assert result.matched == [b"a"] and result.missing == [b"b"] and not result.ok


def test_hashdeep_format_refuses_algorithms_hashdeep_cannot_read(tree: Path) -> None:
    result = CliRunner().invoke(cli, ["hash", "--format", "hashdeep", "-a", "blake3", "d/a"])
    assert result.exit_code == 2
    assert "hashdeep files cannot carry blake3" in result.stderr
