"""Seals: the document, its signature, the sums files, and every tamper case named precisely."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidencekit.errors import IntegrityError, UsageError
from evidencekit.hash.canonical import canonical_json
from evidencekit.hash.multihash import MultiHasher
from evidencekit.hash.seal.document import Artifact, Combined, Seal
from evidencekit.hash.seal.plugins import register_media_verifier
from evidencekit.hash.seal.read import load_seal
from evidencekit.hash.seal.verify import verify_seal
from evidencekit.hash.seal.write import artifact_from_file, seal_item
from evidencekit.identity import Identity, IdentityStore
from evidencekit.problems import Problem
from tests.conftest import need_peer
from tests.images import media, segments

ALGOS = ("md5", "sha1", "sha256")
WINDOW = 64 << 10


def _split_item(tmp_path: Path, identity: Identity, status: str = "complete") -> Path:
    """ext2.splitraw.000/.001 sealed as item DISK-1 (split raw, 64 KiB windows)."""
    item = tmp_path / "evidence" / "DISK-1"
    item.mkdir(parents=True)
    hasher = MultiHasher(ALGOS, window=WINDOW)
    arts = []
    for src, name in zip(segments("ext2.splitraw.000"), ("DISK-1.001", "DISK-1.002"), strict=True):
        data = src.read_bytes()
        (item / name).write_bytes(data)
        hasher.update(data)
        arts.append(artifact_from_file(item, name, ALGOS)[0])
    (item / "DISK-1.log").write_text("acquired by Nguyễn Bá Tùng\n", "utf-8")
    arts.append(artifact_from_file(item, "DISK-1.log", ALGOS)[0])
    result = seal_item(
        item,
        "DISK-1",
        identity,
        kind="split-raw",
        artifacts=arts,
        status=status,
        combined=hasher.result(),
        combined_parts=["DISK-1.001", "DISK-1.002"],
        facts={"source": "/dev/sdb", "read_errors": []},
        description="Ổ cứng của Trương Đình Bủng",
    )
    return result.path


@pytest.fixture
def sealed(tmp_path: Path, identity: Identity) -> Path:
    return _split_item(tmp_path, identity)


@pytest.fixture
def trusted(identity: Identity) -> dict[str, Any]:
    return {identity.fingerprint: identity.certificate}


def _problems(seal_path: Path, trusted: dict[str, Any]) -> list[Problem]:
    status = verify_seal(seal_path, trusted=trusted)
    assert not status.ok
    return list(status.problems)


def _kinds(problems: list[Problem]) -> list[str]:
    return [p.kind for p in problems]


def _writable(path: Path) -> Path:
    path.chmod(0o644)
    return path


def test_seal_document_and_known_media_digests(sealed: Path, trusted: dict[str, Any]) -> None:
    data = sealed.read_bytes()
    assert data == canonical_json(json.loads(data))
    seal = load_seal(sealed)
    assert seal.item_id == "DISK-1" and seal.status == "complete" and seal.kind == "split-raw"
    assert seal.combined is not None
    assert seal.combined.size == 4194304
    assert seal.combined.digests["md5"] == media("ext2.splitraw.000").md5
    assert seal.combined.digests["sha256"] == media("ext2.splitraw.000").sha256
    assert len(seal.combined.windows) == 64
    doc = seal.document
    assert doc["description"] == "Ổ cứng của Trương Đình Bủng"
    assert doc["examiner"]["certificates"][0].startswith("-----BEGIN CERTIFICATE-----")
    assert doc["sums"] == {"md5": "DISK-1.md5", "sha1": "DISK-1.sha1", "sha256": "DISK-1.sha256"}
    for key in ("tool", "host", "started", "finished", "sealed", "facts", "signature"):
        assert key in doc
    status = verify_seal(sealed, trusted=trusted)
    assert status.ok, status.problems
    assert status.bytes_hashed == 4194304 + len("acquired by Nguyễn Bá Tùng\n".encode())


@pytest.mark.parametrize("tool", ["md5sum", "sha1sum", "sha256sum"])
def test_sums_files_check_with_coreutils(sealed: Path, tool: str) -> None:
    need_peer(tool)
    ext = tool.removesuffix("sum")
    check = subprocess.run(
        [tool, "-c", f"DISK-1.{ext}"], cwd=sealed.parent, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 3


def test_flip_one_byte_names_file_and_window(sealed: Path, trusted: dict[str, Any]) -> None:
    seg = _writable(sealed.parent / "DISK-1.002")
    data = bytearray(seg.read_bytes())
    data[100000] ^= 0x01
    seg.write_bytes(bytes(data))
    problems = _problems(sealed, trusted)
    assert _kinds(problems) == ["digest-mismatch", "media-mismatch", "window-mismatch"]
    digest, _media, window = problems
    assert digest.file == "DISK-1.002"
    assert "content differs from the seal" in digest.message
    assert digest.expected and digest.expected.startswith("sha256:")
    # media offset 2097152 + 100000 lies in window 33 = DISK-1.002 bytes 65536-131071
    assert window.byte_range == (33 * WINDOW, 34 * WINDOW)
    assert "window 33" in window.message and "DISK-1.002 bytes 65536-131071" in window.message


def test_truncate(sealed: Path, trusted: dict[str, Any]) -> None:
    seg = _writable(sealed.parent / "DISK-1.001")
    with seg.open("r+b") as fh:
        fh.truncate(2097152 - 512)
    problems = _problems(sealed, trusted)
    size = next(p for p in problems if p.kind == "size-mismatch")
    assert size.file == "DISK-1.001"
    assert "truncated: 2097152 bytes sealed, 2096640 found (512 missing)" in size.message
    assert "media-mismatch" in _kinds(problems)


def test_append(sealed: Path, trusted: dict[str, Any]) -> None:
    with _writable(sealed.parent / "DISK-1.log").open("ab") as fh:
        fh.write(b"x")
    problems = _problems(sealed, trusted)
    assert _kinds(problems) == ["size-mismatch", "digest-mismatch"]
    assert "bytes appended" in problems[0].message and "(1 extra)" in problems[0].message


def test_swap_two_artifacts(sealed: Path, trusted: dict[str, Any]) -> None:
    a, b = sealed.parent / "DISK-1.001", sealed.parent / "DISK-1.002"
    tmp = sealed.parent / "swap"
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    problems = _problems(sealed, trusted)
    swapped = [p for p in problems if p.kind == "digest-mismatch"]
    assert {p.file for p in swapped} == {"DISK-1.001", "DISK-1.002"}
    assert all("files swapped or renamed?" in p.message for p in swapped)


def test_missing_artifact(sealed: Path, trusted: dict[str, Any]) -> None:
    (sealed.parent / "DISK-1.log").unlink()
    problems = _problems(sealed, trusted)
    assert _kinds(problems) == ["missing-file"]
    assert problems[0].file == "DISK-1.log"


def test_edited_sums_file(sealed: Path, trusted: dict[str, Any]) -> None:
    sums = _writable(sealed.parent / "DISK-1.md5")
    sums.write_bytes(sums.read_bytes().replace(b"DISK-1.log", b"DISK-1.LOG"))
    problems = _problems(sealed, trusted)
    assert _kinds(problems) == ["sums-mismatch"] and problems[0].file == "DISK-1.md5"


def _rewrite(seal_path: Path, doc: dict[str, Any]) -> None:
    _writable(seal_path).write_bytes(canonical_json(doc))


def _edits() -> list[tuple[str, Any]]:
    def set_path(doc: dict[str, Any], path: list[Any], value: Any) -> None:
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value

    cases: list[tuple[str, Any]] = []
    for path, value in [
        (["schema"], "evidencekit/seal/2"),  # unchanged value: control, must still verify
        (["item"], "DISK-2"),
        (["kind"], "raw"),
        (["status"], "incomplete"),
        (["description"], "Ổ cứng khác"),
        (["algorithms"], ["md5"]),
        (["artifacts", 0, "size"], 2097153),
        (["artifacts", 2, "name"], "DISK-1.md5"),
        (["combined", "windows", 3], "sha256:" + "0" * 64),
        (["facts", "read_errors"], [{"offset": 0, "length": 512}]),
        (["tool", "version"], "9.9.9"),
        (["host"], "elsewhere"),
        (["started"], "2020-01-01T00:00:00Z"),
        (["sealed"], "2020-01-01T00:00:00Z"),
        (["examiner", "name"], "Someone Else"),
    ]:
        cases.append(("/".join(map(str, path)), (path, value, set_path)))
    return cases


@pytest.mark.parametrize(("label", "edit"), _edits(), ids=[c[0] for c in _edits()])
def test_edit_any_field_breaks_the_signature(
    sealed: Path, trusted: dict[str, Any], label: str, edit: Any
) -> None:
    path, value, set_path = edit
    doc = json.loads(sealed.read_bytes())
    set_path(doc, path, value)
    _rewrite(sealed, doc)
    status = verify_seal(sealed, trusted=trusted)
    if label == "schema":
        assert status.ok
        return
    bad = [p.message for p in status.problems if p.kind == "bad-signature"]
    assert any("the seal was changed after signing" in m for m in bad), (label, status.problems)
    if label == "sealed":  # 2020: before the examiner's certificate existed
        assert any("was not valid when the seal was made" in m for m in bad)


def test_non_canonical_rewrite_is_reported(sealed: Path, trusted: dict[str, Any]) -> None:
    doc = json.loads(sealed.read_bytes())
    _writable(sealed).write_text(json.dumps(doc, indent=2), "utf-8")
    problems = _problems(sealed, trusted)
    assert _kinds(problems) == ["malformed-seal"]
    assert "not in canonical JSON form" in problems[0].message


def test_duplicate_keys_are_rejected(sealed: Path, trusted: dict[str, Any]) -> None:
    data = sealed.read_bytes()
    _writable(sealed).write_bytes(data[:-1] + b',"status":"complete"}')
    problems = _problems(sealed, trusted)
    assert _kinds(problems) == ["malformed-seal"] and "duplicate key" in problems[0].message


def test_remove_signature(sealed: Path, trusted: dict[str, Any]) -> None:
    doc = json.loads(sealed.read_bytes())
    del doc["signature"]
    _rewrite(sealed, doc)
    problems = _problems(sealed, trusted)
    assert _kinds(problems) == ["missing-signature"]
    assert problems[0].message == "the seal carries no signature"


def test_resign_with_another_key(sealed: Path, trusted: dict[str, Any], tmp_path: Path) -> None:
    other = IdentityStore(tmp_path / "mallory").create(
        "Mallory", "mật khẩu của người khác".encode()
    )
    doc = json.loads(sealed.read_bytes())
    doc["description"] = "forged"
    doc["examiner"] = {
        "name": other.name,
        "fingerprint": other.fingerprint,
        "certificates": [other.cert_pem()],  # seal/2: the chain, leaf first
    }
    del doc["signature"]
    sig = other.sign(canonical_json(doc))
    doc["signature"] = {"algorithm": "ecdsa-p256-sha256", "value": base64.b64encode(sig).decode()}
    _rewrite(sealed, doc)
    problems = _problems(sealed, trusted)
    assert _kinds(problems) == ["unknown-signer"]
    assert "signed by Mallory" in problems[0].message and "not pinned" in problems[0].message
    # trusting Mallory explicitly (--trust) makes the same seal verify
    assert verify_seal(sealed, trusted={other.fingerprint: other.certificate}).ok


def test_signature_swapped_in_from_another_key_without_cert(
    sealed: Path, trusted: dict[str, Any], tmp_path: Path
) -> None:
    other = IdentityStore(tmp_path / "mallory").create(
        "Mallory", "mật khẩu của người khác".encode()
    )
    doc = json.loads(sealed.read_bytes())
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    doc["signature"]["value"] = base64.b64encode(other.sign(canonical_json(unsigned))).decode()
    _rewrite(sealed, doc)
    assert _kinds(_problems(sealed, trusted)) == ["bad-signature"]


def test_unknown_signer_when_not_pinned(sealed: Path) -> None:
    problems = _problems(sealed, {})
    assert _kinds(problems) == ["unknown-signer"]


def test_missing_and_garbage_seal(tmp_path: Path, trusted: dict[str, Any]) -> None:
    assert _kinds(_problems(tmp_path / "X.seal.json", trusted)) == ["missing-file"]
    (tmp_path / "Y.seal.json").write_bytes(b"\xff\x00not json")
    assert _kinds(_problems(tmp_path / "Y.seal.json", trusted)) == ["malformed-seal"]


def test_hostile_artifact_name_is_not_followed(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    item = tmp_path / "X"
    item.mkdir()
    (item / "a").write_bytes(b"abc")
    art = artifact_from_file(item, "a", ALGOS)[0]
    with pytest.raises(UsageError):
        seal_item(item, "X", identity, kind="files", artifacts=[Artifact("../a", 3, art.digests)])
    # a forged seal naming ../../etc/passwd: reported, never read
    result = seal_item(item, "X", identity, kind="files", artifacts=[art])
    doc = json.loads(result.path.read_bytes())
    doc["artifacts"][0]["name"] = "../../etc/passwd"
    _rewrite(result.path, doc)
    kinds = _kinds(_problems(result.path, trusted))
    assert "unsafe-name" in kinds and "bad-signature" in kinds


def test_seal_refuses_size_mismatch_and_bad_status(tmp_path: Path, identity: Identity) -> None:
    item = tmp_path / "X"
    item.mkdir()
    (item / "a").write_bytes(b"abc")
    art = artifact_from_file(item, "a", ALGOS)[0]
    with pytest.raises(IntegrityError, match="it has 3 bytes"):
        seal_item(item, "X", identity, kind="files", artifacts=[Artifact("a", 4, art.digests)])
    with pytest.raises(UsageError, match="invalid seal status"):
        seal_item(item, "X", identity, kind="files", artifacts=[art], status="done")
    with pytest.raises(UsageError, match="invalid item id"):
        seal_item(item, "Ổ", identity, kind="files", artifacts=[art])


def test_incomplete_seal_verifies_with_a_note(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    seal_path = _split_item(tmp_path, identity, status="incomplete")
    status = verify_seal(seal_path, trusted=trusted)
    assert status.ok and status.status == "incomplete"
    assert any("did not finish" in n for n in status.notes)


def test_media_verifier_plugin_is_called(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    item = tmp_path / "E"
    item.mkdir()
    (item / "E.E01").write_bytes(b"fake ewf")
    art = artifact_from_file(item, "E.E01", ALGOS)[0]
    media = MultiHasher(ALGOS, window=4)
    media.update(b"the media")
    result = seal_item(
        item,
        "E",
        identity,
        kind="e01",
        artifacts=[art],
        combined=media.result(),
        combined_format="test-e01",
        combined_parts=["E.E01"],
    )
    status = verify_seal(result.path, trusted=trusted)
    # no verifier for the format: its media digests went unchecked, a problem (not a note)
    assert [(p.kind, p.file) for p in status.problems] == [("no-verifier", "E.E01")]
    assert not any("verifier" in n for n in status.notes)
    calls: list[str] = []

    def fake(seal: Seal, combined: Combined) -> list[Problem]:
        calls.append(seal.item_id)
        return [Problem("chunk-mismatch", "E.E01", "chunk 0 CRC differs", byte_range=(0, 4))]

    register_media_verifier("test-e01", fake)
    status = verify_seal(result.path, trusted=trusted)
    assert calls == ["E"]
    assert _kinds(list(status.problems)) == ["chunk-mismatch"]


def test_openssl_verifies_the_signature(sealed: Path, tmp_path: Path) -> None:
    need_peer("openssl")
    doc = json.loads(sealed.read_bytes())
    sig = doc.pop("signature")
    (tmp_path / "sig.der").write_bytes(base64.b64decode(sig["value"]))
    (tmp_path / "cert.pem").write_text(doc["examiner"]["certificates"][0])
    (tmp_path / "signed.bin").write_bytes(canonical_json(doc))
    pub = subprocess.run(
        ["openssl", "x509", "-in", "cert.pem", "-pubkey", "-noout"],
        cwd=tmp_path, capture_output=True, check=True,
    ).stdout  # fmt: skip
    (tmp_path / "pub.pem").write_bytes(pub)
    cmd = ["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der"]
    ok = subprocess.run([*cmd, "signed.bin"], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and "Verified OK" in ok.stdout
    (tmp_path / "signed.bin").write_bytes(canonical_json({**doc, "host": "x"}))
    bad = subprocess.run([*cmd, "signed.bin"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0


def test_unsealed_files_are_noted(sealed: Path, trusted: dict[str, Any]) -> None:
    (sealed.parent / "added-later.txt").write_bytes(b"x")
    status = verify_seal(sealed, trusted=trusted)
    assert status.ok
    assert "not covered by the seal: added-later.txt" in status.notes
