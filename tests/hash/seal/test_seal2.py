"""The seal/2 document (issue 13): it names its case and item, carries the signer's certificate
chain, encodes any file name exactly, gives derived files SHA-256 only; the verifier compares
the case and item it is verified in; seal/1 seals, made by the real former writer path, keep
verifying; hostile names are refused without reading."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidencekit.errors import UsageError
from evidencekit.hash.canonical import canonical_json
from evidencekit.hash.seal.document import (
    SCHEMA_V1,
    SCHEMA_V2,
    Artifact,
    name_member,
    parse_name_member,
)
from evidencekit.hash.seal.read import load_seal
from evidencekit.hash.seal.verify import verify_seal
from evidencekit.hash.seal.write import artifact_from_file, seal_item
from evidencekit.identity import Identity
from tests.conftest import need_peer

CASE_A = "sha256:" + "a" * 64
CASE_B = "sha256:" + "b" * 64


@pytest.fixture
def trusted(identity: Identity) -> dict[str, Any]:
    return {identity.fingerprint: identity.certificate}


def _item(tmp_path: Path, identity: Identity, **kwargs: Any) -> Path:
    """Item IT: an image file (the media: md5, sha1, sha256) and a log (derived: sha256)."""
    item = tmp_path / "IT"
    item.mkdir()
    (item / "IT.raw").write_bytes(bytes(range(256)) * 64)
    (item / "IT.log").write_text("Nguyễn Bá Tùng\n", "utf-8")
    arts = [
        artifact_from_file(item, "IT.raw", ("md5", "sha1", "sha256"))[0],
        artifact_from_file(item, "IT.log", ("sha256",))[0],
    ]
    return seal_item(
        item,
        "IT",
        identity,
        kind="raw",
        artifacts=arts,
        combined_parts=["IT.raw"],
        algorithms=("md5", "sha1", "sha256"),
        **kwargs,
    ).path


def test_seal2_document_names_case_item_and_chain(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    path = _item(tmp_path, identity, case_identity=CASE_A)
    doc = json.loads(path.read_bytes())
    assert doc["schema"] == SCHEMA_V2 == "evidencekit/seal/2"
    assert doc["case"] == {"identity": CASE_A} and doc["item"] == "IT"
    assert doc["examiner"]["certificates"] == [identity.cert_pem()]
    assert "certificate" not in doc["examiner"]
    assert doc["examiner"]["fingerprint"] == identity.fingerprint
    by_name = {a["name"]: a["digests"] for a in doc["artifacts"]}
    assert [d.split(":")[0] for d in by_name["IT.raw"]] == ["md5", "sha1", "sha256"]
    assert [d.split(":")[0] for d in by_name["IT.log"]] == ["sha256"]
    # ITEM.sha256 lists every artifact, ITEM.md5 / ITEM.sha1 those carrying the digest
    assert doc["sums"] == {"md5": "IT.md5", "sha1": "IT.sha1", "sha256": "IT.sha256"}
    assert (path.parent / "IT.sha256").read_bytes().count(b"\n") == 2
    assert (path.parent / "IT.md5").read_bytes().count(b"\n") == 1
    status = verify_seal(path, trusted=trusted, case_identity=CASE_A, item_id="IT")
    assert status.ok, status.problems
    need_peer("md5sum", "sha1sum", "sha256sum")
    for tool, ext in (("md5sum", "md5"), ("sha1sum", "sha1"), ("sha256sum", "sha256")):
        run = subprocess.run([tool, "-c", f"IT.{ext}"], cwd=path.parent, capture_output=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_no_empty_sums_file_and_sha256_required(tmp_path: Path, identity: Identity) -> None:
    item = tmp_path / "D"
    item.mkdir()
    (item / "D.E01").write_bytes(b"segment")
    art = artifact_from_file(item, "D.E01", ("sha256",))[0]
    res = seal_item(item, "D", identity, kind="e01", artifacts=[art], algorithms=("md5",))
    assert res.document["sums"] == {"sha256": "D.sha256"}  # no artifact carries md5
    assert not (item / "D.md5").exists()
    (item / "E").write_bytes(b"x")
    md5_only = artifact_from_file(item, "E", ("md5",))[0]
    with pytest.raises(UsageError, match="without a sha256 digest"):
        seal_item(item, "E", identity, kind="files", artifacts=[md5_only])


def test_outside_a_case_says_so(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    path = _item(tmp_path, identity)
    doc = json.loads(path.read_bytes())
    assert "case" in doc and doc["case"] is None
    alone = verify_seal(path, trusted=trusted)
    assert alone.ok and "the seal was made outside any case" in alone.notes
    in_case = verify_seal(path, trusted=trusted, case_identity=CASE_A)
    assert [p.kind for p in in_case.problems] == ["wrong-case"]
    assert "made outside any case" in in_case.problems[0].message


def test_wrong_case_and_wrong_item(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    path = _item(tmp_path, identity, case_identity=CASE_A)
    status = verify_seal(path, trusted=trusted, case_identity=CASE_B, item_id="OTHER")
    assert [p.kind for p in status.problems] == ["wrong-case", "wrong-item"]
    wrong_case, wrong_item = status.problems
    assert CASE_A in wrong_case.message and CASE_B in wrong_case.message
    assert (wrong_case.expected, wrong_case.found) == (CASE_B, CASE_A)
    assert "'IT'" in wrong_item.message and "'OTHER'" in wrong_item.message
    # control: the right case and item
    assert verify_seal(path, trusted=trusted, case_identity=CASE_A, item_id="IT").ok
    # without a case the case is only noted
    alone = verify_seal(path, trusted=trusted)
    assert alone.ok and any(CASE_A in n and "not compared" in n for n in alone.notes)


def test_seal1_from_the_former_writer_still_verifies(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    item = tmp_path / "OLD"
    item.mkdir()
    (item / "OLD.bin").write_bytes(b"old evidence")
    art = artifact_from_file(item, "OLD.bin", ("md5", "sha1", "sha256"))[0]
    res = seal_item(item, "OLD", identity, kind="files", artifacts=[art], schema=SCHEMA_V1)
    doc = json.loads(res.path.read_bytes())
    assert doc["schema"] == SCHEMA_V1 and "case" not in doc
    assert doc["examiner"]["certificate"] == identity.cert_pem()
    assert doc["artifacts"][0]["name"] == "OLD.bin"
    status = verify_seal(res.path, trusted=trusted, case_identity=CASE_A, item_id="OTHER")
    assert status.ok, status.problems  # a seal/1 names no case: a note, never a failure
    assert "seal/1: does not name its case (made before seals did)" in status.notes
    # and it is still checked: a flipped byte fails
    victim = item / "OLD.bin"
    victim.write_bytes(b"OLD evidence")
    assert [p.kind for p in verify_seal(res.path, trusted=trusted).problems] == ["digest-mismatch"]


@pytest.mark.parametrize(
    "name",
    ["plain.txt", "a\\b.txt", "line\nbreak", "cr\r", "-leading-dash", "Nguyễn", "caf\udce9"],
)
def test_name_encoding_round_trips_to_the_exact_bytes(name: str) -> None:
    member = name_member(name)
    raw = name.encode("utf-8", "surrogateescape")
    if b"\xe9" in raw:
        assert member == {"name_bytes": base64.b64encode(raw).decode()}
    else:
        assert member == {"name": name}
    back = parse_name_member(json.loads(canonical_json(member)))
    assert back.encode("utf-8", "surrogateescape") == raw


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        ({}, "exactly one"),
        ({"name": "a", "name_bytes": "YQ=="}, "exactly one"),
        ({"name_bytes": base64.b64encode(b"plain").decode()}, "UTF-8 name"),  # two encodings
        ({"name_bytes": "Y2Fm6Q"}, "not base64"),  # no padding
        ({"name_bytes": "Y2Fm6Q=!"}, "not base64"),
        ({"name": "caf\udce9"}, "UTF-8 text"),  # a lone surrogate as JSON text
        ({"name": 5}, "UTF-8 text"),
    ],
)
def test_name_encoding_is_never_ambiguous(doc: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_name_member(doc)


def _resign(path: Path, identity: Identity, artifacts: list[dict[str, Any]]) -> None:
    """A validly signed hostile seal: the trusted examiner's key signs whatever it is given
    (a stolen key, or a bug), so only the name checks stand between it and the file system."""
    doc = json.loads(path.read_bytes())
    doc.pop("signature")
    doc["artifacts"] = artifacts
    sig = identity.sign(canonical_json(doc))
    doc["signature"] = {"algorithm": "ecdsa-p256-sha256", "value": base64.b64encode(sig).decode()}
    path.chmod(0o644)
    path.write_bytes(canonical_json(doc))


@pytest.mark.parametrize(
    "target", [b"../caf\xe9", b"/tmp/caf\xe9", b"sub/../../caf\xe9"], ids=["dotdot", "abs", "deep"]
)
def test_hostile_byte_name_is_refused_unread(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any], target: bytes
) -> None:
    path = _item(tmp_path, identity, case_identity=CASE_A)
    # what the name points at exists, and is a FIFO: opening it would hang the verifier
    outside = os.fsencode(tmp_path) + b"/caf\xe9"
    os.mkfifo(outside)
    doc = json.loads(path.read_bytes())
    hostile = {**doc["artifacts"][1]}
    hostile.pop("name")
    hostile["name_bytes"] = base64.b64encode(target).decode()
    _resign(path, identity, [doc["artifacts"][0], hostile])
    status = verify_seal(path, trusted=trusted, case_identity=CASE_A, item_id="IT")
    unsafe = [p for p in status.problems if p.kind == "unsafe-name"]
    assert len(unsafe) == 1, status.problems
    shown = target.decode("utf-8", "backslashreplace")
    assert unsafe[0].file == shown
    assert all(shown not in f for f in status.checked_files)


def test_byte_name_that_is_utf8_is_malformed(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    path = _item(tmp_path, identity, case_identity=CASE_A)
    doc = json.loads(path.read_bytes())
    hostile = {**doc["artifacts"][1]}
    hostile.pop("name")
    hostile["name_bytes"] = base64.b64encode(b"../x").decode()
    _resign(path, identity, [doc["artifacts"][0], hostile])
    status = verify_seal(path, trusted=trusted)
    assert [p.kind for p in status.problems] == ["malformed-seal"]
    assert "must be given as 'name'" in status.problems[0].message
    assert status.checked_files == ()


def test_non_utf8_artifact_is_sealed_and_checked_exactly(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    item = tmp_path / "B"
    item.mkdir()
    raw = b"caf\xe9.txt"
    with open(os.fsencode(item) + b"/" + raw, "wb") as fh:
        fh.write(b"bytes")
    name = raw.decode("utf-8", "surrogateescape")
    art = artifact_from_file(item, name, ("md5", "sha256"))[0]
    res = seal_item(item, "B", identity, kind="files", artifacts=[art], case_identity=CASE_A)
    seal = load_seal(res.path)
    assert [a.name.encode("utf-8", "surrogateescape") for a in seal.artifacts] == [raw]
    assert res.document["artifacts"][0]["name_bytes"] == base64.b64encode(raw).decode()
    assert (item / "B.sha256").read_bytes().endswith(b"  caf\xe9.txt\n")  # as sha256sum
    assert verify_seal(res.path, trusted=trusted).ok
    with pytest.raises(UsageError, match="seal/1 cannot hold"):
        seal_item(item, "B", identity, kind="files", artifacts=[art], schema=SCHEMA_V1)
    with open(os.fsencode(item) + b"/" + raw, "wb") as fh:
        fh.write(b"BYTES")
    status = verify_seal(res.path, trusted=trusted)
    assert [(p.kind, p.file) for p in status.problems] == [("digest-mismatch", "caf\\xe9.txt")]


def test_a_chain_certificate_that_is_not_one_fails(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    path = _item(tmp_path, identity, case_identity=CASE_A)
    doc = json.loads(path.read_bytes())
    doc.pop("signature")
    doc["examiner"]["certificates"].append("-----BEGIN CERTIFICATE-----\nnope\n")
    sig = identity.sign(canonical_json(doc))
    doc["signature"] = {"algorithm": "ecdsa-p256-sha256", "value": base64.b64encode(sig).decode()}
    path.chmod(0o644)
    path.write_bytes(canonical_json(doc))
    status = verify_seal(path, trusted=trusted)
    assert [p.kind for p in status.problems] == ["bad-signature"]
    assert "certificate 1 of the seal's examiner chain" in status.problems[0].message
    assert status.checked_files == ()


def test_raw_artifact_names_survive_the_artifact_type(tmp_path: Path) -> None:
    art = Artifact("x/caf\udce9", 3, {"sha256": "0" * 64})
    assert Artifact.from_dict(art.to_dict()) == art
    assert art.to_dict(SCHEMA_V1)["name"] == "x/caf\udce9"  # seal/1 writer refuses it earlier


def _resign_doc(path: Path, identity: Identity, edit: Any) -> None:
    doc = json.loads(path.read_bytes())
    doc.pop("signature")
    edit(doc)
    sig = identity.sign(canonical_json(doc))
    doc["signature"] = {"algorithm": "ecdsa-p256-sha256", "value": base64.b64encode(sig).decode()}
    path.chmod(0o644)
    path.write_bytes(canonical_json(doc))


@pytest.mark.parametrize(
    ("label", "edit", "why"),
    [
        ("no-case", lambda d: d.pop("case"), "no 'case' member"),
        ("bad-case", lambda d: d.update(case={"identity": "md5:00"}), "bad 'case' member"),
        ("no-sha256-sums", lambda d: d["sums"].pop("sha256"), "must name the sha256 sums"),
        ("derived-without-sha256", lambda d: d["artifacts"][1].update(digests=[]), "sha256"),
        ("twice", lambda d: d["artifacts"].append(d["artifacts"][0]), "listed twice"),
        ("schema-3", lambda d: d.update(schema="evidencekit/seal/3"), "unknown schema"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_seal2_breaking_its_rules_is_malformed_even_when_signed(
    tmp_path: Path,
    identity: Identity,
    trusted: dict[str, Any],
    label: str,
    edit: Any,
    why: str,
) -> None:
    path = _item(tmp_path, identity, case_identity=CASE_A)
    _resign_doc(path, identity, edit)
    status = verify_seal(path, trusted=trusted, case_identity=CASE_A, item_id="IT")
    assert [p.kind for p in status.problems] == ["malformed-seal"], (label, status.problems)
    assert why in status.problems[0].message
    assert status.checked_files == ()


def test_a_sums_file_for_a_digest_nothing_carries_is_malformed(
    tmp_path: Path, identity: Identity, trusted: dict[str, Any]
) -> None:
    path = _item(tmp_path, identity, case_identity=CASE_A)

    def edit(doc: dict[str, Any]) -> None:
        doc["sums"]["sha512"] = "IT.sha512"

    _resign_doc(path, identity, edit)
    status = verify_seal(path, trusted=trusted)
    assert [(p.kind, p.file) for p in status.problems] == [("malformed-seal", "IT.sha512")]
