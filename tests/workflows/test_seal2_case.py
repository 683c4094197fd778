"""seal/2 through the real writers and `verify` (issues 13, 14, 19): an item imaged in another
case (same examiner, pinned in both) is `wrong-case`, a seal moved to another item's folder is
`wrong-item`; seal/1 keeps verifying; derived files carry SHA-256 only while the media keep the
`-a` digests (coreutils, ewfverify as oracles); any name a file system holds is sealed exactly."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.hash.seal.document import SCHEMA_V1
from evidencekit.hash.seal.read import load_seal
from evidencekit.hash.seal.write import seal_item as real_seal_item
from evidencekit.identity import Identity
from tests.acquire.ewf.helpers import ewfverify, mixed_source
from tests.conftest import need_peer

MiB = 1 << 20


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def _ok(*args: str) -> str:
    code, out, err = _cli(*args)
    assert code == 0, out + err
    return out


def _new_case(path: Path) -> Path:
    _ok("case", "init", str(path), "--case-number", "VKS-B", "--title", "Vụ án thứ hai")
    return path


def _identity_of(case: Path) -> str:
    doc = json.loads(_ok("--case", str(case), "--json", "case", "show"))
    return str(doc["trust"]["identity"])


def _acquire(case: Path, src: Path, item: str, *more: str) -> Path:
    _ok("--case", str(case), "acquire", "disk", str(src), "--item", item, *more)
    return case / "evidence" / item


def _swap_in(case: Path, item: str, other: Path) -> None:
    target = case / "evidence" / item
    target.chmod(0o755)
    shutil.rmtree(target)
    shutil.copytree(other, target)


def test_item_imaged_in_another_case_is_wrong_case(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    case_b = _new_case(tmp_path / "case-b")  # the same examiner, pinned in both
    a_id, b_id = _identity_of(case_dir), _identity_of(case_b)
    assert a_id != b_id
    src = tmp_path / "usb.bin"
    mixed_source(src, 2 * MiB)
    in_a = _acquire(case_dir, src, "USB-01")
    assert load_seal(in_a / "USB-01.seal.json").case_identity == a_id
    other = tmp_path / "other.bin"
    mixed_source(other, 2 * MiB, seed=9)
    _acquire(case_b, other, "USB-01")
    _ok("--case", str(case_b), "verify", "USB-01")  # control: B's own item verifies
    _swap_in(case_b, "USB-01", in_a)
    code, out, _ = _cli("--case", str(case_b), "verify", "USB-01")
    assert code == 3
    assert (
        f"wrong-case: USB-01.seal.json: the seal belongs to case {a_id}, not to this case "
        f"({b_id}): the item was made in another case and copied here"
    ) in out
    assert "ledger-mismatch" in out  # the ledger binding still catches it too
    # in its own case the same item verifies
    _ok("--case", str(case_dir), "verify", "USB-01")


def test_seal_moved_to_another_item_is_wrong_item(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    for item in ("X", "Y"):
        src = tmp_path / item
        src.mkdir()
        (src / "tệp.txt").write_text(f"nội dung {item}\n", "utf-8")
        _ok("--case", str(case_dir), "seal", str(src), "--item", item)
    moved = tmp_path / "moved"
    shutil.copytree(case_dir / "evidence" / "X", moved)
    (moved / "X.seal.json").rename(moved / "Y.seal.json")
    _swap_in(case_dir, "Y", moved)
    code, out, _ = _cli("--case", str(case_dir), "verify", "Y")
    assert code == 3
    assert (
        "wrong-item: Y.seal.json: the seal is of item 'X' but lies in the folder of item 'Y'"
    ) in out
    _ok("--case", str(case_dir), "verify", "X")  # control


def test_outside_a_case_with_trust(case_dir: Path, identity: Identity, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a")
    _ok("--case", str(case_dir), "seal", str(src), "--item", "OUT")
    copy = tmp_path / "handed-over" / "OUT"
    shutil.copytree(case_dir / "evidence" / "OUT", copy)
    pem = tmp_path / "examiner.pem"
    _ok("keys", "export-cert", "--out", str(pem))
    code, out, err = _cli("verify", str(copy / "OUT.seal.json"), "--trust", str(pem))
    assert code == 0, out + err
    assert f"the seal names case {_identity_of(case_dir)} (not compared: no case given)" in out
    # a flipped byte outside the case is still caught
    victim = copy / "f" / "a.txt"
    victim.chmod(0o644)
    victim.write_bytes(b"b")
    code, out, _ = _cli("verify", str(copy / "OUT.seal.json"), "--trust", str(pem))
    assert code == 3 and "digest-mismatch: f/a.txt" in out


def test_seal1_by_the_former_writer_keeps_verifying_in_a_case(
    case_dir: Path, identity: Identity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the seal workflow with its writer switched back to the seal/1 document it used to write
    monkeypatch.setattr(
        "evidencekit.workflows.seal.seal_item",
        functools.partial(real_seal_item, schema=SCHEMA_V1),
    )
    src = tmp_path / "old"
    src.mkdir()
    (src / "Biên bản.txt").write_text("Trương Đình Bủng\n", "utf-8")
    _ok("--case", str(case_dir), "seal", str(src), "--item", "OLD")
    monkeypatch.setattr("evidencekit.workflows.seal.seal_item", real_seal_item)
    doc = json.loads((case_dir / "evidence" / "OLD" / "OLD.seal.json").read_bytes())
    assert doc["schema"] == "evidencekit/seal/1" and "case" not in doc
    assert "certificate" in doc["examiner"]
    code, out, err = _cli("--case", str(case_dir), "verify", "OLD")
    assert code == 0, out + err
    assert "seal/1: does not name its case (made before seals did)" in out
    victim = case_dir / "evidence" / "OLD" / "old" / "Biên bản.txt"
    victim.chmod(0o644)
    victim.write_text("Trương Đình Bủng!\n", "utf-8")
    code, out, _ = _cli("--case", str(case_dir), "verify", "OLD")
    assert code == 3 and "digest-mismatch" in out


def _digest_algos(doc: dict[str, Any]) -> dict[str, list[str]]:
    return {a["name"]: [d.split(":")[0] for d in a["digests"]] for a in doc["artifacts"]}


def test_e01_segments_and_side_files_carry_sha256_only(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    need_peer("ewfverify", "sha256sum")
    src = tmp_path / "disk.bin"
    mixed_source(src, 3 * MiB + 3 * 512)
    item = _acquire(case_dir, src, "E", "--format", "e01", "--segment-size", "1MiB")
    doc = json.loads((item / "E.seal.json").read_bytes())
    algos = _digest_algos(doc)
    segments = sorted(n for n in algos if n.startswith("E.E"))
    assert len(segments) >= 2, algos
    assert all(algos[n] == ["sha256"] for n in algos), algos  # segments, log, device report
    assert [d.split(":")[0] for d in doc["combined"]["digests"]] == ["md5", "sha1", "sha256"]
    assert doc["algorithms"] == ["md5", "sha1", "sha256"]
    assert doc["sums"] == {"sha256": "E.sha256"}  # nothing carries md5/sha1: no empty file
    assert not (item / "E.md5").exists() and not (item / "E.sha1").exists()
    run = ewfverify(item / "E.E01")
    assert run.returncode == 0, run.stdout + run.stderr
    run2 = subprocess.run(["sha256sum", "-c", "E.sha256"], cwd=item, capture_output=True)
    assert run2.returncode == 0 and run2.stdout.count(b": OK") == len(algos)
    _ok("--case", str(case_dir), "verify", "E")
    # converted to E01 again: the new segments are derived too; to raw: the file is the media
    _ok("--case", str(case_dir), "convert", "E", "--to", "raw", "--item", "E-RAW")
    raw_doc = json.loads((case_dir / "evidence" / "E-RAW" / "E-RAW.seal.json").read_bytes())
    assert _digest_algos(raw_doc)["E-RAW.raw"] == ["md5", "sha1", "sha256"]
    _ok("--case", str(case_dir), "convert", "E-RAW", "--to", "e01", "--item", "E2")
    e2 = json.loads((case_dir / "evidence" / "E2" / "E2.seal.json").read_bytes())
    assert set(map(tuple, _digest_algos(e2).values())) == {("sha256",)}
    _ok("--case", str(case_dir), "verify", "E-RAW", "E2")


@pytest.mark.parametrize("fmt", ["raw", "split"])
def test_raw_and_split_files_keep_the_chosen_digests(
    case_dir: Path, identity: Identity, tmp_path: Path, fmt: str
) -> None:
    need_peer("md5sum", "sha1sum", "sha256sum")
    src = tmp_path / "disk.bin"
    mixed_source(src, 3 * MiB + 512)
    item = _acquire(case_dir, src, "S", "--format", fmt, "--segment-size", "1MiB")
    doc = json.loads((item / "S.seal.json").read_bytes())
    algos = _digest_algos(doc)
    media = [n for n in algos if (n.startswith("S.") and n[2:].isdigit()) or n == "S.raw"]
    assert len(media) == (4 if fmt == "split" else 1), algos
    assert all(algos[n] == ["md5", "sha1", "sha256"] for n in media)
    assert algos["S.log"] == ["sha256"] and algos["S.device.txt"] == ["sha256"]
    for tool, ext, lines in (
        ("md5sum", "md5", len(media)),
        ("sha1sum", "sha1", len(media)),
        ("sha256sum", "sha256", len(algos)),
    ):
        run = subprocess.run([tool, "-c", f"S.{ext}"], cwd=item, capture_output=True)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.count(b": OK") == lines
    _ok("--case", str(case_dir), "verify", "S")


def test_a_folder_of_hostile_names_is_sealed_complete_and_checked(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    need_peer("sha256sum", "md5sum")
    src = tmp_path / "src"
    src.mkdir()
    nfc = unicodedata.normalize("NFC", "Nguyễn.txt")
    nfd = unicodedata.normalize("NFD", "Nguyễn.txt")
    assert nfc != nfd
    names = [b"a\\b.txt", b"line\nbreak", b"caf\xe9", nfc.encode(), nfd.encode(), b"-n"]
    for i, name in enumerate(names):
        with open(os.fsencode(src) + b"/" + name, "wb") as fh:
            fh.write(f"tệp {i}".encode())
    code, out, err = _cli("--case", str(case_dir), "seal", str(src), "--item", "N")
    assert code == 0, err
    assert "Sealed item N (complete)" in out
    assert "  src/caf\\xe9  " in out  # shown escaped, on one line
    item = case_dir / "evidence" / "N"
    seal = load_seal(item / "N.seal.json")
    assert seal.status == "complete"
    sealed = sorted(a.name.encode("utf-8", "surrogateescape") for a in seal.artifacts)
    assert sealed == sorted(b"src/" + n for n in names)  # exact bytes, twins kept apart
    for i, name in enumerate(names):  # the copies hold what the sources held
        with open(os.fsencode(item / "src") + b"/" + name, "rb") as fh:
            assert fh.read() == f"tệp {i}".encode()
    for tool, ext in (("sha256sum", "sha256"), ("md5sum", "md5")):
        run = subprocess.run([tool, "-c", f"N.{ext}"], cwd=item, capture_output=True)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.count(b": OK") == len(names)
    verified = _ok("--case", str(case_dir), "verify", "N")
    assert "not covered by the seal" not in verified  # every byte name matched its file
    victim = os.fsencode(item / "src") + b"/caf\xe9"
    os.chmod(victim, 0o644)
    with open(victim, "r+b") as fh:
        fh.write(b"X")
    code, out, _ = _cli("--case", str(case_dir), "verify", "N")
    assert code == 3
    assert "digest-mismatch: src/caf\\xe9: content differs from the seal" in out


def test_chosen_digests_without_sha256(case_dir: Path, identity: Identity, tmp_path: Path) -> None:
    """`-a md5`: a raw image still carries sha256 (every sealed file does, ITEM.sha256 lists
    them all); an E01's media is hashed only with what E01 and `-a` need, its segments get
    their sha256 from the writer."""
    need_peer("md5sum", "sha256sum")
    src = tmp_path / "disk.bin"
    mixed_source(src, MiB + 512)
    item = _acquire(case_dir, src, "R", "-a", "md5")
    doc = json.loads((item / "R.seal.json").read_bytes())
    assert _digest_algos(doc)["R.raw"] == ["md5", "sha256"]
    assert doc["algorithms"] == ["md5"] and doc["sums"] == {"md5": "R.md5", "sha256": "R.sha256"}
    for tool, ext in (("md5sum", "md5"), ("sha256sum", "sha256")):
        run = subprocess.run([tool, "-c", f"R.{ext}"], cwd=item, capture_output=True)
        assert run.returncode == 0, run.stdout + run.stderr
    e01 = _acquire(case_dir, src, "E", "--format", "e01", "-a", "md5,sha1")
    edoc = json.loads((e01 / "E.seal.json").read_bytes())
    assert [d.split(":")[0] for d in edoc["combined"]["digests"]] == ["md5", "sha1"]
    assert set(map(tuple, _digest_algos(edoc).values())) == {("sha256",)}
    _ok("--case", str(case_dir), "verify", "R", "E")
