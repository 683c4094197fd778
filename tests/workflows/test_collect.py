"""collect → seal → custody: the `acquire files` use case, including complete-with-errors (exit 4)
and tampering caught by seal verification and coreutils."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.case import Case
from evidencekit.errors import CaseError, PartialReadError, SourceError
from evidencekit.hash.seal.read import load_seal
from evidencekit.hash.seal.verify import verify_seal
from evidencekit.identity import Identity
from evidencekit.workflows.collect import CollectRequest, CollectResult, collect_item
from evidencekit.workflows.custody import list_events
from evidencekit.workflows.progress import Tick
from tests.acquire.logical.test_logical import build_live, eio_mount  # noqa: F401 - a fixture
from tests.conftest import need_peer
from tests.images import image


def _case(case_dir: Path) -> Case:
    return Case.open(case_dir)


def test_collect_seal_record(case_dir: Path, identity: Identity) -> None:
    case = _case(case_dir)
    request = CollectRequest(
        "FILES01",
        (image("ímynd.dd"),),
        CollectOptions(include_deleted=True),
        description="Tệp trong ảnh đĩa ímynd.dd",
    )
    res = collect_item(case, identity, request)
    item = case_dir / "evidence" / "FILES01"
    assert res.status == "complete"
    for name in ("FILES01.tar", "FILES01.dfxml", "FILES01.manifest.json", "FILES01.seal.json"):
        assert (item / name).is_file()
    seal = load_seal(res.seal.path)
    assert seal.kind == "tar" and seal.status == "complete"
    assert {a.name for a in seal.artifacts} == {
        "FILES01.tar",
        "FILES01.dfxml",
        "FILES01.manifest.json",
    }
    assert seal.facts["summary"]["deleted"] == 2
    status = verify_seal(res.seal.path, trusted=case.trusted())
    assert status.ok, [p.text() for p in status.problems]
    # coreutils checks the sums files alone
    need_peer("sha256sum", "md5sum")
    subprocess.run(["sha256sum", "--quiet", "-c", "FILES01.sha256"], cwd=item, check=True)
    # seal/2: the tar, DFXML and manifest are derived files, SHA-256 only, so no FILES01.md5;
    # the tar's content (the item's `combined`) keeps md5, sha1 and sha256
    assert not (item / "FILES01.md5").exists()
    assert all(set(a.digests) == {"sha256"} for a in seal.artifacts)
    assert seal.combined is not None and set(seal.combined.digests) == {"md5", "sha1", "sha256"}
    events = [e for e in list_events(case, "FILES01")]
    assert [e["kind"] for e in events] == ["collected"]
    tar_sha = res.outputs.container_hash.digests["sha256"]
    assert events[0]["digests"]["sha256"].endswith(tar_sha)
    assert events[0]["details"]["status"] == "complete"
    manifest = json.loads((item / "FILES01.manifest.json").read_text("utf-8"))
    assert manifest["item"] == "FILES01" and manifest["summary"]["errors"] == 0


@pytest.mark.parametrize("damage", ["flip", "truncate", "append", "delete-dfxml"])
def test_tampering_is_caught(case_dir: Path, identity: Identity, damage: str) -> None:
    case = _case(case_dir)
    res = collect_item(case, identity, CollectRequest("F", (image("ímynd.dd"),)))
    tar = res.outputs.container
    tar.chmod(0o644)
    data = bytearray(tar.read_bytes())
    if damage == "flip":
        data[1000] ^= 0x01
        tar.write_bytes(bytes(data))
    elif damage == "truncate":
        tar.write_bytes(bytes(data[:-512]))
    elif damage == "append":
        tar.write_bytes(bytes(data) + b"\0" * 512)
    else:
        res.outputs.dfxml.unlink()
    status = verify_seal(res.seal.path, trusted=case.trusted())
    assert not status.ok
    kinds = {p.kind for p in status.problems}
    if damage == "delete-dfxml":
        assert "missing-file" in kinds
    elif damage == "flip":
        assert "digest-mismatch" in kinds or "media-mismatch" in kinds
    else:
        assert "size-mismatch" in kinds or "media-mismatch" in kinds


@pytest.mark.root
def test_unreadable_files_give_complete_with_errors(
    case_dir: Path,
    identity: Identity,
    eio_mount: Path,  # noqa: F811
) -> None:
    live = eio_mount.parent
    build_live(live)
    case = _case(case_dir)
    with pytest.raises(PartialReadError) as info:
        collect_item(case, identity, CollectRequest("LIVE01", (live,)))
    assert info.value.exit_code == 4
    res = info.value.result
    assert isinstance(res, CollectResult)
    assert res.status == "complete-with-errors"
    seal = load_seal(res.seal.path)
    assert seal.status == "complete-with-errors"
    errors = {e["path"]: e["error"] for e in seal.facts["read_errors"]}
    assert set(errors) == {"faulty/hỏng.bin", "faulty/cấm.txt"}
    status = verify_seal(res.seal.path, trusted=case.trusted())
    assert status.ok, [p.text() for p in status.problems]
    event = list_events(case, "LIVE01")[0]
    assert event["kind"] == "collected"
    assert event["details"]["status"] == "complete-with-errors"
    assert event["details"]["summary"]["errors"] == 2


def test_existing_item_and_bad_source(case_dir: Path, identity: Identity, tmp_path: Path) -> None:
    case = _case(case_dir)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    collect_item(case, identity, CollectRequest("X", (src,)))
    with pytest.raises(CaseError, match="already exists"):
        collect_item(case, identity, CollectRequest("X", (src,)))
    bad = tmp_path / "corrupt.E01"
    bad.write_bytes(b"EVF\x09\x0d\x0a\xff\x00" + b"\x00" * 4000)
    with pytest.raises(SourceError):
        collect_item(case, identity, CollectRequest("Y", (bad,)))
    assert not (case_dir / "evidence" / "Y").exists()  # no half-made item is left
    assert all(e.get("item_id", e.get("item")) != "Y" for e in list_events(case))


def test_cli_acquire_files(case_dir: Path, identity: Identity, invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = invoke(
        "--case",
        str(case_dir),
        "--json",
        "acquire",
        "files",
        str(image("ímynd.dd")),
        "--item",
        "CLI01",
        "--include-deleted",
        "-a",
        "md5,sha256",
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["status"] == "complete" and doc["summary"]["deleted"] == 2
    assert set(doc["digests"]) == {"md5", "sha256"}


@pytest.mark.parametrize("after", [1, 6 << 20], ids=["small-file", "inside-big-file"])
def test_interrupted_collection_is_sealed_incomplete(
    case_dir: Path, identity: Identity, tmp_path: Path, after: int
) -> None:
    from evidencekit.errors import InterruptedError_

    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        (src / f"a{i}.txt").write_bytes(b"x" * 1000)
    (src / "big.bin").write_bytes(bytes(range(256)) * (40 << 12))  # 10 MiB: the pump path

    def progress(tick: Tick) -> None:
        if tick.done >= after:
            raise KeyboardInterrupt

    case = _case(case_dir)
    with pytest.raises(InterruptedError_):
        collect_item(case, identity, CollectRequest("INT", (src,), progress=progress))
    seal_path = case_dir / "evidence" / "INT" / "INT.seal.json"
    seal = load_seal(seal_path)
    assert seal.status == "incomplete"
    assert seal.facts["summary"]["interrupted"] is True
    status = verify_seal(seal_path, trusted=case.trusted())
    assert status.ok, [p.text() for p in status.problems]  # the partial tar is what was sealed
    import tarfile

    with tarfile.open(case_dir / "evidence" / "INT" / "INT.tar") as tar:
        tar.getmembers()  # still a readable tar
    event = list_events(case, "INT")[0]
    assert event["details"]["status"] == "incomplete"


def test_tar_checker_compares_members_with_the_manifest(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    """Negative tests for the tar item checker that `verify` runs after the digest checks."""
    from evidencekit.acquire.logical.tar_check import check_tar_item

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"alpha\n")
    (src / "b.txt").write_bytes(b"beta\n")
    case = _case(case_dir)
    res = collect_item(case, identity, CollectRequest("T", (src,)))
    seal = load_seal(res.seal.path)
    assert check_tar_item(seal) == []
    manifest = res.outputs.manifest
    manifest.chmod(0o644)
    original = manifest.read_text("utf-8")
    sha_a = hashlib.sha256(b"alpha\n").hexdigest()
    manifest.write_text(original.replace(sha_a, "0" * 64), "utf-8")
    kinds = [p.kind for p in check_tar_item(seal)]
    assert kinds == ["member-mismatch"]
    manifest.write_text(original.replace('"member": "src/b.txt"', '"member": "src/c.txt"'), "utf-8")
    kinds = sorted(p.kind for p in check_tar_item(seal))
    assert kinds == ["member-extra", "member-missing"]
    manifest.write_text("{not json", "utf-8")
    assert [p.kind for p in check_tar_item(seal)] == ["malformed-manifest"]
    # and the seal itself notices the edited manifest
    status = verify_seal(res.seal.path, trusted=case.trusted())
    assert not status.ok


@pytest.mark.root
def test_files_command_exit_4_and_json(
    case_dir: Path,
    identity: Identity,
    eio_mount: Path,  # noqa: F811
) -> None:
    """The `files` command itself (also before the `acquire` group registers it)."""
    from click.testing import CliRunner

    from evidencekit.cli.commands.acquire_files import files
    from evidencekit.cli.runtime import App

    live = eio_mount.parent
    build_live(live)
    result = CliRunner().invoke(
        files,
        [str(live), "--item", "LIVE02", "-a", "sha256", "--exclude", "thư mục"],
        obj=App(case_dir=case_dir, json=True),
    )
    assert result.exit_code == 4, result.output
    doc = json.loads(result.stdout)
    assert doc["status"] == "complete-with-errors"
    assert doc["summary"]["errors"] == 2
    assert {e["path"] for e in doc["errors"]} == {"faulty/hỏng.bin", "faulty/cấm.txt"}
    assert list(doc["digests"]) == ["sha256"]
    assert "could not be read" in result.stderr
    manifest = json.loads((case_dir / "evidence" / "LIVE02" / "LIVE02.manifest.json").read_text())
    assert not any(f["path"].startswith("thư mục") for f in manifest["files"])


def test_source_path_that_is_not_utf8(case_dir: Path, identity: Identity, tmp_path: Path) -> None:
    """A SOURCE folder whose own name is not UTF-8 still seals and records (escaped + base64)."""
    import os

    raw = os.path.join(os.fsencode(tmp_path), b"th\xf0\x28m\xe1c")
    os.mkdir(raw)
    with open(os.path.join(raw, b"a.txt"), "wb") as fh:
        fh.write(b"a")
    case = _case(case_dir)
    res = collect_item(case, identity, CollectRequest("NU", (Path(os.fsdecode(raw)),)))
    seal = load_seal(res.seal.path)
    src = seal.facts["sources"][0]
    assert src["path_b64"] and "\\x" in src["path"]
    assert verify_seal(res.seal.path, trusted=case.trusted()).ok
    event = list_events(case, "NU")[0]
    assert event["details"]["sources"][0]["path_b64"] == src["path_b64"]
