"""`evidencekit custody …` end to end, with two examiners and offline proof checking."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.chain.parties import keyless
from evidencekit.identity import Identity
from tests.chain.helpers import SECOND, second_examiner
from tests.conftest import EXAMINER, need_peer


def _ok(res: Any) -> Any:
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return res


def test_custody_flow(
    case_dir: Path, identity: Identity, ek_home: Path, invoke: Any, tmp_path: Path
) -> None:
    case = Case.open(case_dir)
    second_examiner(ek_home, case)
    c = ["--case", str(case_dir)]
    a = [*c, "--identity", EXAMINER]
    b = [*c, "--identity", SECOND]
    photo = tmp_path / "ảnh 1.jpg"
    photo.write_bytes(b"\xff\xd8jpeg")
    res = _ok(
        invoke(
            *a,
            "custody",
            "register",
            "HDD01",
            "--description",
            "Ổ cứng Seagate",
            "--seal-number",
            "NB-0001",
            "--photo",
            str(photo),
            "--location",
            "Kho",
        )
    )
    assert "registered" in res.stdout and "HDD01" in res.stdout
    assert (case_dir / "photos/HDD01/ảnh 1.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert not (case_dir / "evidence/HDD01").exists()  # left for the acquisition
    # only the custodian transfers
    _ok(invoke(*a, "custody", "transfer", "HDD01", "--to", SECOND, "--purpose", "phân tích"))
    res = invoke(
        *a, "custody", "transfer", "HDD01", "--to", "Ai đó", "--to-role", "witness",
        "--to-id", "cccd:001203004567", "--purpose", "x",
    )  # fmt: skip
    assert res.exit_code == 1 and "not the current custodian" in res.stderr
    res = invoke(*a, "custody", "receive", "HDD01")
    assert res.exit_code == 1 and "not to" in res.stderr
    _ok(invoke(*b, "custody", "receive", "HDD01", "--condition", "nguyên vẹn"))
    res = invoke(
        *a, "custody", "transfer", "HDD01", "--to", "X", "--to-role", "court",
        "--to-id", "other:TA-01", "--purpose", "p",
    )  # fmt: skip
    assert res.exit_code == 1 and "not the current custodian" in res.stderr
    _ok(
        invoke(
            *a,
            "custody",
            "transfer",
            "HDD01",
            "--to",
            "X",
            "--to-role",
            "court",
            "--to-id",
            "other:TA-01",
            "--purpose",
            "p",
            "--override-reason",
            "lệnh của thủ trưởng",
        )
    )
    res = invoke(*b, "custody", "receive", "HDD01")
    # X holds no key: nobody's signature stands for X's receipt, not even one under that name
    assert res.exit_code == 1 and "transferred to 'X', who holds no key" in res.stderr
    _ok(invoke(*b, "custody", "receive", "HDD01", "--override-reason", "X giao lại"))
    _ok(invoke(*a, "custody", "note", "HDD01", "đã niêm phong lại"))
    _ok(invoke(*a, "custody", "note", "-", "ghi chú cho cả vụ án"))
    # the custodian (b, who received it) returns it; a, who no longer holds it, may not
    res = invoke(*a, "custody", "return", "HDD01", "--reason", "trả lại chủ sở hữu")
    assert res.exit_code == 1 and "not the current custodian" in res.stderr
    _ok(invoke(*b, "custody", "return", "HDD01", "--reason", "trả lại chủ sở hữu"))
    res = invoke(*a, "custody", "note", "HDD01", "muộn")
    assert res.exit_code == 1 and "no event may follow" in res.stderr

    log = _ok(invoke(*c, "custody", "log", "HDD01"))
    assert "OVERRIDE: lệnh của thủ trưởng" in log.stdout
    assert "+07:00" in log.stdout  # shown in the case's zone
    doc = json.loads(_ok(invoke(*c, "custody", "log", "--json")).stdout)
    kinds = [e["kind"] for e in doc["events"]]
    assert kinds[0] == "case_opened" and kinds[-1] == "returned"
    received = next(e for e in doc["events"] if e["kind"] == "received")
    assert received["actor"]["name"] == SECOND
    assert received["counterpart"]["name"] == EXAMINER
    registered = next(e for e in doc["events"] if e["kind"] == "registered")
    photos = registered["details"]["photos"]
    assert photos[0]["name"] == "photos/HDD01/ảnh 1.jpg"
    assert photos[0]["sha256"] == hashlib.sha256(b"\xff\xd8jpeg").hexdigest()

    _ok(invoke(*c, "custody", "verify"))

    # proofs, checked offline: no case, only the proof, the checkpoint and a certificate
    cp = tmp_path / "cp.txt"
    _ok(invoke(*c, "custody", "checkpoint", "--out", str(cp)))
    assert cp.read_text().startswith("evidencekit.case/VKS-2024-06/")
    proof = tmp_path / "proof.json"
    _ok(invoke(*c, "custody", "prove", "HDD01", "--out", str(proof)))
    single = tmp_path / "one.json"
    _ok(invoke(*c, "custody", "prove", "HDD01", "--event", "1", "--out", str(single)))
    assert [e["leaf_index"] for e in json.loads(single.read_text())["entries"]] == [1]
    certs = []
    for name in (EXAMINER, SECOND):
        pem = tmp_path / f"{len(certs)}.pem"
        _ok(invoke("--identity", name, "keys", "export-cert", "--out", str(pem)))
        certs += ["--trust", str(pem)]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    res = _ok(invoke("custody", "verify-proof", str(proof), "--checkpoint", str(cp), *certs))
    assert "Inclusion proof OK" in res.stdout
    # a checkpoint copied with CRLF line ends and no final newline still checks
    crlf = tmp_path / "cp-crlf.txt"
    crlf.write_bytes(cp.read_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n"))
    _ok(invoke("custody", "verify-proof", str(proof), "--checkpoint", str(crlf), *certs))
    # without the certificates the signer is unknown
    res = invoke("custody", "verify-proof", str(proof), "--checkpoint", str(cp))
    assert res.exit_code == 3
    # a flipped character in an event breaks it
    bad = json.loads(proof.read_text())
    bad["entries"][0]["event"]["seal_number"] = "NB-0002"
    badp = tmp_path / "bad.json"
    badp.write_text(json.dumps(bad, ensure_ascii=False))
    res = invoke("custody", "verify-proof", str(badp), "--checkpoint", str(cp), *certs)
    assert res.exit_code == 3 and "signature" in res.stderr
    # a wrong path hash
    bad = json.loads(proof.read_text())
    bad["entries"][-1]["path"][0] = "00" * 32
    badp.write_text(json.dumps(bad))
    res = invoke("custody", "verify-proof", str(badp), "--checkpoint", str(cp), *certs)
    assert res.exit_code == 3
    # a checkpoint of another size
    _ok(invoke(*a, "custody", "note", "-", "sau"))
    cp2 = tmp_path / "cp2.txt"
    _ok(invoke(*c, "custody", "checkpoint", "--out", str(cp2)))
    res = invoke("custody", "verify-proof", str(proof), "--checkpoint", str(cp2), *certs)
    assert res.exit_code == 3 and "tree size" in res.stderr
    # proving against the old checkpoint still works
    old = tmp_path / "old.json"
    _ok(invoke(*c, "custody", "prove", "HDD01", "--checkpoint", str(cp), "--out", str(old)))
    _ok(invoke("custody", "verify-proof", str(old), "--checkpoint", str(cp), *certs))
    # consistency from the old checkpoint, and its proof checked offline
    cons = tmp_path / "cons.json"
    res = _ok(invoke(*c, "custody", "consistency", str(cp), "--out", str(cons)))
    assert "Consistent" in res.stderr
    res = _ok(invoke(*c, "custody", "consistency", str(cp)))
    assert json.loads(res.stdout) == json.loads(cons.read_text())
    res = _ok(invoke("custody", "verify-proof", str(cons), *certs))
    assert "Consistency proof OK" in res.stdout
    bad = json.loads(cons.read_text())
    bad["path"][0] = "ff" * 32
    badp.write_text(json.dumps(bad))
    assert invoke("custody", "verify-proof", str(badp), *certs).exit_code == 3


def test_export_jsonl_reverifies(case_dir: Path, identity: Identity, invoke: Any) -> None:
    from evidencekit.chain.merkle import MemoryTree, leaf_hash
    from evidencekit.hash.canonical import canonical_json
    from evidencekit.identity import verify_signature

    c = ["--case", str(case_dir)]
    _ok(invoke(*c, "custody", "register", "A1", "--description", "Điện thoại"))
    _ok(invoke(*c, "custody", "note", "A1", "một"))
    out = _ok(invoke(*c, "custody", "export", "--format", "jsonl")).stdout
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x["type"] for x in lines] == ["event"] * 3 + ["checkpoint"]
    leaves = []
    for x in lines[:-1]:
        data = canonical_json(x["event"])
        import base64

        assert verify_signature(
            identity.certificate, data, base64.b64decode(x["signature"]["value"])
        )
        assert leaf_hash(data).hex() == x["leaf_hash"]
        leaves.append(leaf_hash(data))
    assert MemoryTree(leaves).root().hex() == lines[-1]["root"]


def test_export_case_uco_validates(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    # case-utils is a test dependency (setup.cfg), so it sits beside the interpreter.
    exe = shutil.which("case_validate") or str(Path(sys.executable).parent / "case_validate")
    if not Path(exe).exists():
        need_peer("case_validate")
    from evidencekit.workflows.custody import record_event

    case = Case.open(case_dir)
    record_event(
        case,
        identity,
        "acquired",
        "HDD01",
        digests={"sha256": "ab" * 32, "md5": "cd" * 16, "blake3": "ef" * 32},
        description="Ổ cứng",
    )
    record_event(
        case,
        identity,
        "transferred",
        "HDD01",
        counterpart=keyless("Lê Văn C", "specialist", "cccd:079088001234"),
        purpose="giám định",
        location="Viện KHHS",
    )
    out = tmp_path / "custody.jsonld"
    _ok(invoke("--case", str(case_dir), "custody", "export", "--format", "case", "--out", str(out)))
    doc = json.loads(out.read_text("utf-8"))
    types = [n["@type"] for n in doc["@graph"]]
    assert types.count("case-investigation:InvestigativeAction") == 3
    assert "uco-types:Hash" in out.read_text()
    res = subprocess.run(
        [exe, "--built-version", "case-1.5.0", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Conforms: True" in res.stdout
