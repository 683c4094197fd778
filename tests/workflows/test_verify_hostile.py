"""Issue 13, scenario 8: verification never follows what an untrusted document names, and no
writer follows a link planted in the case.

Real files throughout: seals written by `evidencekit seal`, forged seals re-signed with a key
made by `keys init`, devices (/dev/zero, /dev/null), FIFOs made with mkfifo, symbolic links. The
CLI runs in a child process with a generous time limit, so a verifier that blocks on a FIFO or
reads /dev/zero forever fails the test instead of hanging the suite (no timing is asserted).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity, IdentityStore
from tests.conftest import TEST_KDF
from tests.json_contract import check_stdout
from tests.seals import resign

HANG_GUARD = 120  # seconds: only turns a hang into a failure (a verify here takes ~1 s)


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


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process (environment inherited: home, passphrase)."""
    result = subprocess.run(
        [sys.executable, "-m", "evidencekit", *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    check_stdout(args, result.stdout)  # a --json document validates (docs/json.md)
    return result


def _artifacts(seal: Path, names: list[str], sizes: list[int] | None = None) -> list[object]:
    doc = json.loads(seal.read_bytes())
    arts = doc["artifacts"]
    out = []
    for i, name in enumerate(names):
        art = dict(arts[i % len(arts)])
        art["name"] = name
        if sizes is not None:
            art["size"] = sizes[i]
        out.append(art)
    return out


def _attacker(tmp_path: Path) -> Identity:
    return IdentityStore(tmp_path / "attacker").create(
        "Kẻ Giả Mạo", b"attacker passphrase 1", kdf=TEST_KDF
    )


def test_untrusted_seal_naming_a_file_outside_is_never_read(
    case_dir: Path, item: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not evidence: a file the seal's author wants digested\n")
    secret_sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    seal = item / "IT.seal.json"
    resign(
        seal,
        _attacker(tmp_path),
        {
            "artifacts": _artifacts(seal, [str(secret), "/etc/shadow"]),
            "facts": {"mode": "in-place"},
            "combined": None,
        },
    )
    res = _run("--case", str(case_dir), "verify", "IT")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "unknown-signer" in res.stdout
    assert "the seal's files were not read" in res.stdout
    assert secret_sha not in res.stdout and "internal error" not in res.stderr


def test_trusted_seal_not_made_in_place_may_not_name_absolute_paths(
    case_dir: Path, item: Path, tmp_path: Path, identity: Identity
) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"outside the item folder")
    seal = item / "IT.seal.json"
    resign(seal, identity, {"artifacts": _artifacts(seal, [str(outside)]), "combined": None})
    res = _run("--case", str(case_dir), "--json", "verify", "IT")
    assert res.returncode == 3
    problems = json.loads(res.stdout)["items"][0]["problems"]
    unsafe = [p for p in problems if p["kind"] == "unsafe-name"]
    assert unsafe and "the seal was not made in place" in unsafe[0]["message"]
    assert hashlib.sha256(outside.read_bytes()).hexdigest() not in res.stdout


@pytest.mark.parametrize(
    ("target", "what"),
    [("/dev/zero", "a character device"), ("/dev/null", "a character device")],
)
def test_in_place_seal_naming_a_device_is_refused_not_read(
    case_dir: Path, item: Path, identity: Identity, target: str, what: str
) -> None:
    if not Path(target).exists():
        pytest.skip(f"{target} does not exist here")
    seal = item / "IT.seal.json"
    resign(
        seal,
        identity,
        {
            "artifacts": _artifacts(seal, [target], [1 << 40]),
            "facts": {"mode": "in-place"},
            "combined": None,
        },
    )
    res = _run("--case", str(case_dir), "verify", "IT")
    assert res.returncode == 3, res.stdout + res.stderr
    assert f"unsafe-file: {target}: '{Path(target).name}' is {what}, not a regular file" in (
        res.stdout
    )
    assert "internal error" not in res.stderr


def test_artifact_replaced_by_a_link_to_a_device(case_dir: Path, item: Path) -> None:
    (item / "a.bin").unlink()
    (item / "a.bin").symlink_to("/dev/zero")
    res = _run("--case", str(case_dir), "verify", "IT")
    assert res.returncode == 3
    assert "unsafe-file: a.bin: 'a.bin' is a symbolic link, not a regular file; not read" in (
        res.stdout
    )


def test_artifact_replaced_by_a_link_to_a_good_copy_is_still_refused(
    case_dir: Path, item: Path, tmp_path: Path
) -> None:
    # the content would verify, but it lives outside the case: not the sealed file
    copy = tmp_path / "a-copy.bin"
    shutil.copyfile(item / "a.bin", copy)
    (item / "a.bin").unlink()
    (item / "a.bin").symlink_to(copy)
    res = _run("--case", str(case_dir), "verify", "IT")
    assert res.returncode == 3 and "'a.bin' is a symbolic link" in res.stdout


def test_artifact_replaced_by_a_fifo(case_dir: Path, item: Path) -> None:
    (item / "b.bin").unlink()
    os.mkfifo(item / "b.bin")
    res = _run("--case", str(case_dir), "verify", "IT")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "'b.bin' is a named pipe (FIFO), not a regular file" in res.stdout


def test_sub_folder_replaced_by_a_link(case_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f.txt").write_bytes(b"in a sub-folder")
    res = _run("--case", str(case_dir), "seal", str(src), "--item", "TREE")
    assert res.returncode == 0, res.stderr
    folder = case_dir / "evidence" / "TREE" / "tree"
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(folder / "sub", elsewhere)
    folder.chmod(0o755)
    shutil.rmtree(folder / "sub")
    (folder / "sub").symlink_to(elsewhere)
    res = _run("--case", str(case_dir), "verify", "TREE")
    assert res.returncode == 3
    assert "'tree/sub' is a symbolic link or not a folder" in res.stdout


def test_seal_file_itself_a_link_to_a_device(case_dir: Path, item: Path) -> None:
    seal = item / "IT.seal.json"
    seal.unlink()
    seal.symlink_to("/dev/zero")
    res = _run("--case", str(case_dir), "verify", "IT")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "unsafe-file: IT.seal.json: 'IT.seal.json' is a symbolic link" in res.stdout


def test_nul_in_names(case_dir: Path, item: Path, identity: Identity) -> None:
    seal = item / "IT.seal.json"
    resign(
        seal,
        identity,
        {
            "artifacts": _artifacts(seal, ["/etc/pass\u0000wd", "a\u0000.bin"]),
            "facts": {"mode": "in-place"},
            "combined": None,
        },
    )
    res = _run("--case", str(case_dir), "--json", "verify", "IT")
    assert res.returncode == 3, res.stderr
    assert "internal error" not in res.stderr
    kinds = [(p["kind"], p["file"]) for p in json.loads(res.stdout)["items"][0]["problems"]]
    assert ("unsafe-name", "/etc/pass\u0000wd") in kinds and ("unsafe-name", "a\u0000.bin") in kinds


def test_item_folder_is_a_planted_link(case_dir: Path, item: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved-IT"
    shutil.move(item, moved)
    item.symlink_to(moved)
    res = _run("--case", str(case_dir), "verify", "IT")
    assert res.returncode == 3
    assert "unsafe-file: evidence/IT: is a symbolic link: the item is not inside the case" in (
        res.stdout
    )


# -- writers ------------------------------------------------------------------------------------


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "disk.img"
    src.write_bytes(os.urandom(64 * 1024))
    return src


@pytest.mark.parametrize("command", ["seal", "acquire disk", "acquire files"])
def test_writers_refuse_a_planted_item_link(case_dir: Path, tmp_path: Path, command: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (case_dir / "evidence" / "NEW").symlink_to(outside)
    src = _source(tmp_path)
    res = _run("--case", str(case_dir), *command.split(), str(src), "--item", "NEW")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "evidence/NEW' is a symbolic link" in res.stderr
    assert "evidencekit writes only into real folders of the case" in res.stderr
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("command", ["seal", "acquire disk", "acquire files"])
def test_writers_refuse_a_planted_evidence_link(
    case_dir: Path, tmp_path: Path, command: str
) -> None:
    outside = tmp_path / "outside"
    (case_dir / "evidence").rename(outside)
    (case_dir / "evidence").symlink_to(outside)
    src = _source(tmp_path)
    res = _run("--case", str(case_dir), *command.split(), str(src), "--item", "NEW")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "evidence' is a symbolic link" in res.stderr
    assert list(outside.iterdir()) == []


def test_convert_refuses_a_planted_item_link(case_dir: Path, tmp_path: Path) -> None:
    src = _source(tmp_path)
    res = _run("--case", str(case_dir), "acquire", "disk", str(src), "--item", "RAW")
    assert res.returncode == 0, res.stderr
    outside = tmp_path / "outside"
    outside.mkdir()
    (case_dir / "evidence" / "E").symlink_to(outside)
    res = _run("--case", str(case_dir), "convert", "RAW", "--to", "e01", "--item", "E")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "evidence/E' is a symbolic link" in res.stderr
    assert list(outside.iterdir()) == []
