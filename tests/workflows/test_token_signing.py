"""A case whose examiner signs with a key on a PKCS#11 token (SoftHSM2), RSA-2048 or EC P-256
(issue 17): seal and `verify`, custody events and `custody verify`, the signed checkpoint, a
report checked by `pdfsig`; no private key material in any file written; and the refusals: a
flipped signature byte, a signature relabelled with another algorithm, a tampered checkpoint.

Oracles: `openssl dgst -verify` over the exact bytes each plain signature covers (the seal's
canonical JSON without its signature, the event's stored bytes, the checkpoint's note text),
`pdfsig` for the PDF.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.chain.checkpoint import EM_DASH, parse_note, verify_checkpoint
from evidencekit.cli.main import cli
from evidencekit.errors import IntegrityError
from evidencekit.hash.canonical import canonical_json
from evidencekit.identity import fingerprint, load_cert_file, load_cert_pem
from tests.chain.helpers import raw_db
from tests.peers import need_peer
from tests.tokens import EC_NAME, RSA_NAME, Token, add_token_args, softhsm, token

__all__ = ["softhsm", "token"]  # fixtures

pytestmark = pytest.mark.peer

CASES = {
    "rsa": ("rsa-pkcs1v15-sha256", ("-sha256",)),
    "ec": ("ecdsa-p256-sha256", ("-sha256",)),
    "rsa-pss": (
        "rsa-pss-sha256",
        ("-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"),
    ),
}


def _cli(*args: str, code: int = 0) -> Any:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == code, res.output
    return res


def _openssl_verify(folder: Path, cert: Path, data: bytes, sig: bytes, *opts: str) -> bool:
    pub, msg, sig_path = folder / "oracle.pub", folder / "oracle.msg", folder / "oracle.sig"
    subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-pubkey", "-noout", "-out", str(pub)], check=True
    )
    msg.write_bytes(data)
    sig_path.write_bytes(sig)
    res = subprocess.run(
        ["openssl", "dgst", *opts, "-verify", str(pub), "-signature", str(sig_path), str(msg)],
        capture_output=True,
        text=True,
    )
    for p in (pub, msg, sig_path):
        p.unlink()
    return res.returncode == 0 and "Verified OK" in res.stdout


def _case(token: Token, tmp_path: Path, key: str) -> tuple[Path, Path]:
    """A case made by the `key` token identity ("rsa", "ec", or "rsa-pss": the RSA key signing
    with PSS) with one sealed item DOC01 and a note."""
    if key == "rsa-pss":
        _cli(*add_token_args(token, "rsa", "--rsa-padding", "pss"))
        key = "rsa"
    else:
        _cli(*add_token_args(token, key))
    case = tmp_path / "case"
    _cli("case", "init", str(case), "--case-number", "VKS-2026-17", "--title",
         "Vụ án ký số bằng token", "--agency", "Công an tỉnh")  # fmt: skip
    src = tmp_path / "nguồn"
    src.mkdir()
    (src / "biên bản.txt").write_text("Biên bản thu giữ của Trương Đình Bủng\n", "utf-8")
    _cli("--case", str(case), "seal", "--item", "DOC01", str(src / "biên bản.txt"))
    _cli("--case", str(case), "custody", "note", "DOC01", "đã kiểm tra niêm phong")
    return case, token.rsa_cert if key == "rsa" else token.ec_cert


@pytest.mark.parametrize("key", sorted(CASES))
def test_token_case_seals_records_checkpoints_and_reports(
    token: Token, ek_home: Path, tmp_path: Path, key: str
) -> None:
    need_peer("openssl", "pdfsig")
    algorithm, opts = CASES[key]
    case, cert_path = _case(token, tmp_path, key)
    cert = load_cert_file(cert_path)
    oracle = tmp_path / "oracle"
    oracle.mkdir()

    # the seal: names the algorithm; openssl verifies it over the canonical bytes
    seal_path = case / "evidence" / "DOC01" / "DOC01.seal.json"
    doc = json.loads(seal_path.read_text("utf-8"))
    assert doc["signature"]["algorithm"] == algorithm
    signed = canonical_json({k: v for k, v in doc.items() if k != "signature"})
    sig = base64.b64decode(doc["signature"]["value"])
    assert _openssl_verify(oracle, cert_path, signed, sig, *opts)
    _cli("--case", str(case), "verify", "DOC01")

    # the events: each verifies with openssl over its stored bytes; an RSA event names its
    # algorithm in the signed body, a P-256 event is byte-for-byte what it always was
    with sqlite3.connect(case / "custody.sqlite") as db:
        rows = db.execute("SELECT seq, data, signature, signer FROM events ORDER BY seq").fetchall()
    assert len(rows) >= 3  # case_opened, sealed, note
    for _seq, data, signature, signer in rows:
        assert signer == fingerprint(cert)
        body = json.loads(data)
        if key != "ec":
            assert body["signature_algorithm"] == algorithm
        else:
            assert "signature_algorithm" not in body
        assert _openssl_verify(oracle, cert_path, bytes(data), bytes(signature), *opts)
    _cli("--case", str(case), "custody", "verify")

    # the checkpoint: the note text is what is signed (after the key ID)
    note = _cli("--case", str(case), "custody", "checkpoint").stdout
    body, sigs = parse_note(note)
    assert len(sigs) == 1 and sigs[0].name == f"evidencekit/{fingerprint(cert)}"
    assert _openssl_verify(oracle, cert_path, body.encode(), sigs[0].signature, *opts)
    trusted = {fingerprint(cert): cert}
    assert verify_checkpoint(note, trusted).signer_fingerprint == fingerprint(cert)

    # the report: signed through the pyhanko signer backed by the token identity
    res = _cli("--json", "--case", str(case), "report", "build")
    pdf = Path(json.loads(res.stdout)["path"])
    out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert "Signature Validation: Signature is Valid." in out, out
    assert "Total document signed" in out, out
    name = EC_NAME if key == "ec" else RSA_NAME
    assert f"Signer Certificate Common Name: {name}" in out, out
    _cli("--case", str(case), "report", "verify", str(pdf))

    # no private key material in anything written: the case folder and the identity store
    _assert_no_key_material(token, [case, ek_home])


def _assert_no_key_material(token: Token, folders: list[Path]) -> None:
    needles: dict[str, bytes] = {}
    for name, raw in token.secrets().items():
        needles[name] = raw
        needles[f"{name} (hex)"] = raw.hex().encode()
        needles[f"{name} (base64)"] = base64.b64encode(raw)[8:-8]
    needles["PEM private key"] = b"PRIVATE KEY-----"
    files = [p for folder in folders for p in folder.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        data = path.read_bytes()
        for name, needle in needles.items():
            assert needle not in data, f"{name} found in {path}"


def test_key_material_search_finds_a_planted_key(token: Token, tmp_path: Path) -> None:
    """The search above can fail: a key written out by a careless tool is found."""
    leak = tmp_path / "leak"
    leak.mkdir()
    (leak / "dump.bin").write_bytes(b"...." + token.secrets()["rsa p"] + b"....")
    for i in range(11):
        (leak / f"f{i}").write_bytes(b"x")
    with pytest.raises(AssertionError, match="rsa p found"):
        _assert_no_key_material(token, [leak])


@pytest.mark.parametrize("key", sorted(CASES))
def test_flipped_or_relabelled_seal_signature_exits_3(
    token: Token, tmp_path: Path, key: str
) -> None:
    case, _cert = _case(token, tmp_path, key)
    seal_path = case / "evidence" / "DOC01" / "DOC01.seal.json"
    original = seal_path.read_bytes()
    doc = json.loads(original)

    raw = bytearray(base64.b64decode(doc["signature"]["value"]))
    raw[len(raw) // 2] ^= 0x01
    doc["signature"]["value"] = base64.b64encode(bytes(raw)).decode()
    seal_path.write_bytes(canonical_json(doc))
    res = _cli("--case", str(case), "verify", "DOC01", code=3)
    assert "the seal was changed after signing" in res.output

    # the same signature presented as another family's (and as the other RSA padding): refused
    # before any verification for the family, a plain mismatch for the padding
    others = {
        "rsa": ["ecdsa-p256-sha256", "rsa-pss-sha256"],
        "rsa-pss": ["ecdsa-p384-sha384", "rsa-pkcs1v15-sha256"],
        "ec": ["rsa-pkcs1v15-sha256", "ecdsa-p384-sha384"],
    }[key]
    for other in others:
        doc = json.loads(original)
        doc["signature"]["algorithm"] = other
        seal_path.write_bytes(canonical_json(doc))
        res = _cli("--case", str(case), "verify", "DOC01", code=3)
        if other.split("-")[:2] != CASES[key][0].split("-")[:2] and not (
            other.startswith("rsa-") and CASES[key][0].startswith("rsa-")
        ):
            assert f"signed with {other}, which the" in res.output, res.output
        else:
            assert "the seal was changed after signing" in res.output, res.output
    seal_path.write_bytes(original)
    _cli("--case", str(case), "verify", "DOC01")


def test_event_relabelled_or_flipped_exits_3(token: Token, tmp_path: Path) -> None:
    """An RSA-signed event whose signed body is rewritten to claim the default (ECDSA P-256)
    is refused as an algorithm the key cannot make; a flipped signature byte as a bad
    signature."""
    case, _cert = _case(token, tmp_path, "rsa")
    with raw_db(case) as db:
        data, signature = db.execute("SELECT data, signature FROM events WHERE seq = 2").fetchone()
        body = json.loads(data)
        del body["signature_algorithm"]
        db.execute("UPDATE events SET data = ? WHERE seq = 2", (canonical_json(body),))
    res = _cli("--case", str(case), "custody", "verify", code=3)
    assert "names ecdsa-p256-sha256, which the signer's RSA 2048-bit key cannot make" in (
        res.output
    )
    flipped = bytearray(signature)
    flipped[10] ^= 0x01
    with raw_db(case) as db:
        db.execute("UPDATE events SET data = ?, signature = ? WHERE seq = 2", (data, flipped))
    res = _cli("--case", str(case), "custody", "verify", code=3)
    assert "signature does not match the event's bytes" in res.output


@pytest.mark.parametrize("key", sorted(CASES))
def test_tampered_token_checkpoint_refused(token: Token, tmp_path: Path, key: str) -> None:
    case, cert_path = _case(token, tmp_path, key)
    cert = load_cert_file(cert_path)
    trusted = {fingerprint(cert): cert}
    note = _cli("--case", str(case), "custody", "checkpoint").stdout
    verify_checkpoint(note, trusted)
    lines = note.split("\n")
    # another tree size under the same signature
    tampered = "\n".join([lines[0], str(int(lines[1]) + 1), *lines[2:]])
    with pytest.raises(IntegrityError, match="does not verify"):
        verify_checkpoint(tampered, trusted)
    # a flipped signature byte
    body, sigs = parse_note(note)
    raw = bytearray(sigs[0].key_id + sigs[0].signature)
    raw[-5] ^= 0x01
    flipped = f"{body}\n{EM_DASH} {sigs[0].name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(IntegrityError, match="does not verify"):
        verify_checkpoint(flipped, trusted)
    # the key ID of another algorithm: an unknown key, never verified as that algorithm
    other = bytes(4 * [0xAB]) + sigs[0].signature
    relabelled = f"{body}\n{EM_DASH} {sigs[0].name} {base64.b64encode(other).decode()}\n"
    with pytest.raises(IntegrityError, match="signed by unknown key"):
        verify_checkpoint(relabelled, trusted)


def test_two_token_examiners_through_the_case_flow(
    token: Token, ek_home: Path, tmp_path: Path
) -> None:
    """The issue's flow with two examiners on tokens, one RSA-2048 and one P-256: the RSA
    examiner opens the case, pins the P-256 one, seals and collects; hands an item over; the
    P-256 examiner receives it and builds the report. Everything verifies; no key material is
    written anywhere."""
    need_peer("pdfsig")
    _cli(*add_token_args(token, "rsa"))
    _cli(*add_token_args(token, "ec"))
    rsa_id = ["--identity", RSA_NAME]
    ec_id = ["--identity", EC_NAME]
    case = tmp_path / "case"
    _cli(*rsa_id, "case", "init", str(case), "--case-number", "VKS-2026-17B", "--title",
         "Vụ án hai giám định viên", "--agency", "Công an tỉnh")  # fmt: skip
    on = ["--case", str(case)]
    _cli(*rsa_id, *on, "case", "add-examiner", str(token.ec_cert))
    src = tmp_path / "thư mục"
    (src / "tài liệu").mkdir(parents=True)
    (src / "tài liệu" / "hợp đồng.txt").write_text("Hợp đồng mua bán\n", "utf-8")
    (src / "ảnh.bin").write_bytes(bytes(range(256)) * 64)
    _cli(*rsa_id, *on, "seal", "--item", "DOC01", str(src / "ảnh.bin"))
    _cli(*rsa_id, *on, "acquire", "files", "--item", "COL01", str(src))
    _cli(*rsa_id, *on, "custody", "transfer", "COL01", "--to", EC_NAME, "--purpose",
         "giám định")  # fmt: skip
    _cli(*ec_id, *on, "custody", "receive", "COL01", "--condition", "niêm phong nguyên vẹn")
    _cli(*ec_id, *on, "custody", "note", "COL01", "bắt đầu giám định")
    _cli(*on, "verify", "DOC01", "COL01")
    res = _cli("--json", *on, "custody", "verify")
    assert json.loads(res.stdout)["ok"]
    with sqlite3.connect(case / "custody.sqlite") as db:
        signers = {row[0] for row in db.execute("SELECT signer FROM events")}
    assert signers == {
        fingerprint(load_cert_file(token.rsa_cert)),
        fingerprint(load_cert_file(token.ec_cert)),
    }
    res = _cli("--json", *ec_id, *on, "report", "build")
    pdf = Path(json.loads(res.stdout)["path"])
    out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert "Signature Validation: Signature is Valid." in out, out
    assert f"Signer Certificate Common Name: {EC_NAME}" in out, out
    _cli(*on, "report", "verify", str(pdf))
    _assert_no_key_material(token, [case, ek_home])


def test_p384_token_identity_seals_and_reports(
    token: Token, ek_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The P-384 key made on the token (never extractable), its certificate given with --cert,
    the PIN from --passphrase-file: a seal openssl verifies with SHA-384, and a report whose
    PAdES signature uses SHA-384 (pdfsig)."""
    need_peer("openssl", "pdfsig")
    pin_file = tmp_path / "pin.txt"
    pin_file.write_text(token.pin + "\n", "utf-8")
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", "0000000000")  # the file wins, as for a passphrase
    pin = ["--passphrase-file", str(pin_file)]
    _cli(*pin, *add_token_args(token, "p384", "--cert", str(token.p384_cert)))
    case = tmp_path / "case"
    _cli(*pin, "case", "init", str(case), "--case-number", "VKS-2026-384", "--title",
         "Vụ án P-384", "--agency", "Công an tỉnh")  # fmt: skip
    src = tmp_path / "biên bản.txt"
    src.write_text("Biên bản\n", "utf-8")
    _cli(*pin, "--case", str(case), "seal", "--item", "DOC01", str(src))
    doc = json.loads((case / "evidence" / "DOC01" / "DOC01.seal.json").read_text("utf-8"))
    assert doc["signature"]["algorithm"] == "ecdsa-p384-sha384"
    signed = canonical_json({k: v for k, v in doc.items() if k != "signature"})
    sig = base64.b64decode(doc["signature"]["value"])
    oracle = tmp_path / "oracle"
    oracle.mkdir()
    assert _openssl_verify(oracle, token.p384_cert, signed, sig, "-sha384")
    assert not _openssl_verify(oracle, token.p384_cert, signed, sig, "-sha256")
    _cli("--case", str(case), "verify", "DOC01")
    _cli("--case", str(case), "custody", "verify")
    res = _cli("--json", *pin, "--case", str(case), "report", "build")
    pdf = Path(json.loads(res.stdout)["path"])
    out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert "Signature Validation: Signature is Valid." in out, out
    assert "Signing Hash Algorithm: SHA-384" in out, out
    _cli("--case", str(case), "report", "verify", str(pdf))


def test_ca_chain_carried_in_seal_and_report(token: Token, ek_home: Path, tmp_path: Path) -> None:
    """`--chain` keeps the CA certificates with the identity: a seal carries them after the
    leaf, the PDF's CMS carries them beside the signer's (path material for a reader who trusts
    the root); the identity store holds them as `chain.pem`."""
    need_peer("pdfsig")
    _cli(*add_token_args(token, "rsa", "--chain", str(token.ca_cert)))
    (folder,) = (ek_home / "identities").iterdir()
    assert (folder / "chain.pem").read_bytes().count(b"BEGIN CERTIFICATE") == 1
    case = tmp_path / "case"
    _cli("case", "init", str(case), "--case-number", "VKS-2026-CA", "--title", "Vụ án CA",
         "--agency", "Công an tỉnh")  # fmt: skip
    src = tmp_path / "tệp.txt"
    src.write_text("nội dung\n", "utf-8")
    _cli("--case", str(case), "seal", "--item", "DOC01", str(src))
    doc = json.loads((case / "evidence" / "DOC01" / "DOC01.seal.json").read_text("utf-8"))
    certs = doc["examiner"]["certificates"]
    ca = load_cert_file(token.ca_cert)
    assert len(certs) == 2
    assert fingerprint(load_cert_pem(certs[0])) == fingerprint(load_cert_file(token.rsa_cert))
    assert fingerprint(load_cert_pem(certs[1])) == fingerprint(ca)
    _cli("--case", str(case), "verify", "DOC01")
    res = _cli("--json", "--case", str(case), "report", "build")
    pdf = Path(json.loads(res.stdout)["path"])
    out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert "Signature Validation: Signature is Valid." in out, out
    from pyhanko.pdf_utils.reader import PdfFileReader

    with pdf.open("rb") as fh:
        sig = PdfFileReader(fh).embedded_signatures[0]
        carried = {
            c.chosen.sha256.hex()
            for c in sig.signed_data["certificates"]
            if c.name == "certificate"
        }
    assert fingerprint(ca) in carried


def test_report_cosigned_by_a_token_identity(token: Token, ek_home: Path, tmp_path: Path) -> None:
    """The P-256 token examiner builds the report, the RSA token examiner (pinned) co-signs it as
    receiver through the same identity-backed pyhanko signer: pdfsig shows two valid
    signatures, one per signer, and `report verify` accepts it."""
    need_peer("pdfsig")
    _cli(*add_token_args(token, "ec"))
    _cli(*add_token_args(token, "rsa"))
    case = tmp_path / "case"
    on = ["--case", str(case)]
    _cli("--identity", EC_NAME, "case", "init", str(case), "--case-number", "VKS-2026-CO",
         "--title", "Vụ án đồng ký", "--agency", "Công an tỉnh")  # fmt: skip
    _cli("--identity", EC_NAME, *on, "case", "add-examiner", str(token.rsa_cert))
    src = tmp_path / "tệp.txt"
    src.write_text("nội dung\n", "utf-8")
    _cli("--identity", EC_NAME, *on, "seal", "--item", "DOC01", str(src))
    res = _cli("--json", "--identity", EC_NAME, *on, "report", "build")
    pdf = Path(json.loads(res.stdout)["path"])
    _cli("--identity", RSA_NAME, *on, "report", "cosign", str(pdf), "--role", "receiver")
    out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert f"Signer Certificate Common Name: {EC_NAME}" in out, out
    assert f"Signer Certificate Common Name: {RSA_NAME}" in out, out
    res = _cli(*on, "report", "verify", str(pdf))
    assert RSA_NAME in res.output and EC_NAME in res.output
    _assert_no_key_material(token, [case, ek_home])
