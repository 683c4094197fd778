"""The `--json` documents (and human lines) of the evidence-producing commands stay
byte-identical (issue 15).

The workflows take typed requests and return typed results; the command line builds the request
and prints the result. That move must not change one byte of what a lab's scripts read: each
command is run here on a clean and on a tampered (or missing) input, its `--json` document (and
exit code, and for `hash --format sums|hashdeep` its raw bytes) compared with the golden copy in
tests/data/json_golden/, written by the code as it was before the move.

What differs from run to run is replaced before the comparison, and only that: the temporary
folder, the examiner's key fingerprint (a new key each run), times, durations, and the digests
of files that hold a time or a signature (logs, E01 segments, seals). Every other value —
media digests, sizes, names, statuses, problems, exit codes, key order — is compared as is.
`EVIDENCEKIT_WRITE_GOLDEN=1` rewrites the golden copies (only for a deliberate change of output).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.workflows.test_e01_stored_digests import (
    _ewfacquire,
    _fat_e01,
    _tamper_chunk,
    _tamper_stored_md5,
)

GOLDEN = Path(__file__).parent.parent / "data" / "json_golden"
WRITE = os.environ.get("EVIDENCEKIT_WRITE_GOLDEN") == "1"

_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
# files whose bytes hold a time, a random salt or a signature: their digests change every run
_VOLATILE_FILE = re.compile(r"\.(log|seal\.json|E\d\d|device\.txt|dfxml|manifest\.json|tar)$")
_VOLATILE_KEYS = {"seconds", "seal_sha256", "started", "finished", "elapsed", "inode", "file_size"}
_HEX = re.compile(r"\b[0-9a-f]{32}(?:[0-9a-f]{8})?(?:[0-9a-f]{24})?\b")


class Golden:
    """Runs commands and compares (or, with EVIDENCEKIT_WRITE_GOLDEN=1, writes) their output."""

    def __init__(self, tmp_path: Path, identity: Identity | None) -> None:
        self.tmp = str(tmp_path)
        self.fingerprint = identity.fingerprint if identity is not None else None
        self.runner = CliRunner()

    def run(
        self,
        name: str,
        *args: str,
        raw: bool = False,
        hexes: bool = False,
        text: bool = False,
        mask: str | None = None,
    ) -> tuple[int, str]:
        """Run `args`; compare exit code and output with the golden copy `name`. `hexes`: the
        input itself differs from run to run (a file system made with today's times), so each
        distinct digest becomes <H1>, <H2>… in order of appearance: which values are equal and
        which differ is still compared. `text`: the human output (stdout) instead of JSON;
        `mask`: a pattern of it that holds a value that differs from run to run."""
        self.hexes: dict[str, str] | None = {} if hexes else None
        result = self.runner.invoke(cli, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        doc: Any
        if raw or text:
            doc = result.stdout_bytes.decode("utf-8", "surrogateescape")
            if mask is not None:
                doc = re.sub(mask, "<masked>", doc)
        else:
            assert result.stdout.lstrip().startswith("{"), result.output
            doc = json.loads(result.stdout)
        got = {"exit_code": result.exit_code, "output": self._normal(doc)}
        path = GOLDEN / f"{name}.json"
        if WRITE:
            GOLDEN.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(got, ensure_ascii=False, indent=2) + "\n", "utf-8")
        want = json.loads(path.read_text("utf-8"))
        # key order is part of the output: compare the encodings, not just the values
        assert json.dumps(got, ensure_ascii=False, indent=2) == json.dumps(
            want, ensure_ascii=False, indent=2
        ), f"{name}: --json output changed\n{result.stdout}\n{result.stderr}"
        return result.exit_code, result.stdout

    def _normal(self, value: Any, key: str = "") -> Any:
        if key in _VOLATILE_KEYS and value is not None:
            return f"<{key}>"
        if isinstance(value, dict):
            out = {self._normal(k): self._normal(v, k) for k, v in value.items()}
            name = value.get("name") or value.get("file")
            name = name or value.get("container")
            if isinstance(name, str) and _VOLATILE_FILE.search(name):
                for k in ("digests", "sha256", "size"):
                    if k in out:
                        out[k] = "<volatile>"
            return out
        if isinstance(value, list):
            return [self._normal(v, key) for v in value]
        if isinstance(value, str):
            text = value.replace(self.tmp, "<TMP>")
            if self.fingerprint:
                text = text.replace(self.fingerprint, "<FP>").replace(
                    self.fingerprint[:16], "<FP16>"
                )
            text = _TIME.sub("<TIME>", text)
            if self.hexes is not None:
                hexes = self.hexes
                text = _HEX.sub(lambda m: hexes.setdefault(m[0], f"<H{len(hexes) + 1}>"), text)
            return text
        return value


@pytest.fixture
def golden(tmp_path: Path, identity: Identity) -> Golden:
    return Golden(tmp_path, identity)


def _tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "thư mục").mkdir(parents=True)
    (src / "hello.txt").write_bytes(b"hello")
    (src / "thư mục" / "Nguyễn Bá Tùng.txt").write_bytes("xin chào".encode())
    (src / "data.bin").write_bytes(random.Random(15).randbytes(200_000))
    return src


def test_hash_json_clean_missing_and_tampered(
    tmp_path: Path, golden: Golden, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    # hashdeep's header names the command line: the one a user typed, not pytest's
    monkeypatch.setattr("sys.argv", ["evidencekit", "hash", "--format", "hashdeep"])
    golden.run("hash-json", "--json", "hash", "-a", "md5,sha256", "--window", "64KiB", "-r", "src")
    golden.run("hash-missing", "--json", "hash", "src/hello.txt", "src/absent")
    golden.run("hash-sums", "hash", "-a", "sha256", "-r", "src", raw=True)
    sums = tmp_path / "src.sha256"
    code, _ = golden.run("hash-hashdeep", "hash", "--format", "hashdeep", "-r", "src", raw=True)
    assert code == 0
    result = CliRunner().invoke(cli, ["hash", "-a", "sha256", "-r", "src"])
    sums.write_bytes(result.stdout_bytes)
    known = tmp_path / "known.hashdeep"
    result = CliRunner().invoke(
        cli, ["hash", "--format", "hashdeep", "-a", "md5,sha256", "-r", "src"]
    )
    known.write_bytes(result.stdout_bytes)
    assert golden.run("hash-check-clean", "--json", "hash", "-c", str(sums))[0] == 0
    assert (
        golden.run("hash-audit-clean", "--json", "hash", "--audit", str(known), "-r", "src")[0] == 0
    )
    (src / "data.bin").write_bytes(b"changed")
    (src / "hello.txt").rename(src / "moved.txt")
    assert golden.run("hash-check-tampered", "--json", "hash", "-c", str(sums))[0] == 3
    assert golden.run("hash-check-tampered-text", "hash", "-c", str(sums), raw=True)[0] == 3
    code, _ = golden.run(
        "hash-audit-tampered", "--json", "hash", "--audit", str(known), "-r", "src"
    )
    assert code == 3


def test_seal_and_verify_json_clean_and_tampered(
    tmp_path: Path, case_dir: Path, golden: Golden
) -> None:
    src = _tree(tmp_path)
    case = ("--case", str(case_dir))
    code, _ = golden.run(
        "seal-clean", *case, "--json", "seal", str(src), "--item", "S1",
        "--description", "USB của Trương Đình Bủng",
    )  # fmt: skip
    assert code == 0
    assert (
        golden.run("seal-missing", *case, "--json", "seal", str(src / "absent"), "--item", "S2")[0]
        == 1
    )
    golden.run("seal-text", *case, "seal", str(src), "--item", "S1T", "--in-place", text=True)
    assert golden.run("verify-clean", *case, "--json", "verify", "S1")[0] == 0
    assert golden.run("verify-clean-text", *case, "verify", "S1", "S1T", text=True)[0] == 0
    assert golden.run("verify-sizes-only", *case, "--json", "verify", "--sizes-only", "S1")[0] == 0
    target = case_dir / "evidence" / "S1" / "src" / "data.bin"
    data = bytearray(target.read_bytes())
    data[70_000] ^= 1
    target.chmod(0o644)
    target.write_bytes(data)
    code, _ = golden.run("verify-tampered", *case, "--json", "verify", "S1", "--record")
    assert code == 3
    code, _ = golden.run("verify-tampered-text", *case, "verify", "S1", "NOPE", str(src),
                         text=True)  # fmt: skip
    assert code == 3
    assert golden.run("verify-no-item", *case, "--json", "verify", "NOPE")[0] == 3
    assert golden.run("verify-no-seal", *case, "--json", "verify", str(src))[0] == 1


def test_acquire_disk_and_convert_json_clean_and_tampered(
    tmp_path: Path, case_dir: Path, golden: Golden
) -> None:
    case = ("--case", str(case_dir))
    data = random.Random(150).randbytes(8 * 64 * 512)
    disk = tmp_path / "disk.bin"
    disk.write_bytes(data)
    for item, extra in (
        ("RAW1", ("--window", "64KiB")),
        ("SPLIT1", ("--format", "split", "--segment-size", "100KiB", "-a", "sha256,blake3")),
        ("E01A", ("--format", "e01", "--compression", "none", "--no-verify")),
    ):
        code, _ = golden.run(f"acquire-disk-{item}", *case, "--json", "acquire", "disk",
                             str(disk), "--item", item, *extra)  # fmt: skip
        assert code == 0
    golden.run("acquire-disk-text", *case, "acquire", "disk", str(disk), "--item", "RAWT",
               "--format", "split", "--segment-size", "100KiB", text=True)  # fmt: skip
    assert golden.run("acquire-disk-missing", *case, "--json", "acquire", "disk",
                      str(tmp_path / "absent"), "--item", "X1")[0] == 1  # fmt: skip
    first = _ewfacquire(disk, tmp_path / "ev")
    assert golden.run("acquire-disk-e01-clean", *case, "--json", "acquire", "disk",
                      str(first), "--item", "EV1")[0] == 0  # fmt: skip
    _tamper_chunk(first, data, 3)
    assert golden.run("acquire-disk-e01-tampered", *case, "--json", "acquire", "disk",
                      str(first), "--item", "EV2")[0] == 3  # fmt: skip
    assert golden.run("acquire-disk-e01-accepted", *case, "--json", "acquire", "disk",
                      str(first), "--item", "EV3", "--accept-stored-digest-mismatch",
                      "bản sao đã hỏng")[0] == 4  # fmt: skip
    assert golden.run("acquire-disk-e01-accepted-text", *case, "acquire", "disk",
                      str(first), "--item", "EV4", "--accept-stored-digest-mismatch",
                      "bản sao đã hỏng", text=True)[0] == 4  # fmt: skip

    code, _ = golden.run("convert-clean", *case, "--json", "convert", "RAW1", "--to", "e01",
                         "--item", "C1", "--compression", "none")  # fmt: skip
    assert code == 0
    # an E01 segment's size depends on its compressed header (it holds the time)
    golden.run("convert-text", *case, "convert", "RAW1", "--to", "e01", "--item", "C1T",
               text=True, mask=r"(?<=C1T\.E01  )[\d.]+ KiB")  # fmt: skip
    assert golden.run("convert-e01-raw", *case, "--json", "convert", "E01A", "--to", "raw",
                      "--item", "C2")[0] == 0  # fmt: skip
    raw = case_dir / "evidence" / "RAW1" / "RAW1.raw"
    raw.chmod(0o644)
    with raw.open("r+b") as f:
        f.seek(1000)
        f.write(b"\xff")
    code, _ = golden.run("convert-tampered", *case, "--json", "convert", "RAW1", "--to", "e01",
                         "--item", "C3")  # fmt: skip
    assert code == 3
    assert hashlib.sha256(data).hexdigest() in (GOLDEN / "acquire-disk-RAW1.json").read_text()


def test_acquire_files_json_clean_and_tampered(
    tmp_path: Path, case_dir: Path, golden: Golden
) -> None:
    case = ("--case", str(case_dir))
    src = _tree(tmp_path)
    code, _ = golden.run("acquire-files-clean", *case, "--json", "acquire", "files", str(src),
                         "--item", "F1", "--exclude", "*.bin",
                         "--description", "Thư mục tài liệu")  # fmt: skip
    assert code == 0
    # the tar holds the files' times: its digests differ from run to run
    golden.run("acquire-files-text", *case, "acquire", "files", str(src), "--item", "F1T",
               text=True, mask=r"(?<=F1T\.tar )\w+: \w+")  # fmt: skip
    assert golden.run("acquire-files-missing", *case, "--json", "acquire", "files",
                      str(tmp_path / "absent"), "--item", "F2")[0] == 2  # fmt: skip
    first, fat = _fat_e01(tmp_path)
    _tamper_stored_md5(first, hashlib.md5(fat).digest())
    code, _ = golden.run("acquire-files-tampered", *case, "--json", "acquire", "files",
                         str(first), "--item", "F3", hexes=True)  # fmt: skip
    assert code == 0
    code, _ = golden.run("acquire-files-tampered-text", *case, "acquire", "files",
                         str(first), "--item", "F4", hexes=True, text=True)  # fmt: skip
    assert code == 0
