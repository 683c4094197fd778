"""`hash -c` checks sums files of any algorithm it knows: its `--json` document validates for
MD5, SHA-1 and SHA-512 lines too (the schema once allowed SHA-256 digests only)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests import json_contract


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256", "sha512"])
def test_hash_check_json_for_every_algorithm(
    tmp_path: Path, algorithm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # names in a sums file are relative to where it is checked
    data = tmp_path / "tệp.txt"
    data.write_bytes(b"xin chao\n")
    digest = hashlib.new(algorithm, data.read_bytes()).hexdigest()
    sums = tmp_path / f"sums.{algorithm}"
    sums.write_text(f"{digest}  {data.name}\n", "utf-8")
    res = CliRunner().invoke(cli, ["--json", "hash", "-c", str(sums)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["entries"][0]["algorithm"] == algorithm
    assert doc["entries"][0]["digest"] == digest
    assert json_contract.problems(doc) == []
    bad = dict(doc, entries=[dict(doc["entries"][0], digest=digest.upper())])
    assert json_contract.problems(bad) != []
