"""Identities whose key is on a PKCS#11 token (issue 17): `keys add-token` with SoftHSM2, the
signatures the token makes checked by `openssl dgst -verify` (the oracle for plain signatures),
and the refusals: wrong PIN, token absent, key absent, a certificate that is not the key's, an
algorithm the key cannot make, a flipped signature byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import IdentityStore, forget_unlocked_keys, verify_signature
from tests.tokens import (
    EC_NAME,
    P384_NAME,
    RSA_NAME,
    Token,
    add_token_args,
    softhsm,
    token,
)

__all__ = ["softhsm", "token"]  # fixtures

pytestmark = pytest.mark.peer

MESSAGE = "biên bản niêm phong — ổ USB của Trương Đình Bủng\n".encode()


def _cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def _add(token: Token, key: str, *extra: str) -> dict[str, Any]:
    res = _cli("--json", *add_token_args(token, key, *extra))
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["identity"]  # type: ignore[no-any-return]


def _openssl_verify(tmp_path: Path, cert: Path, signature: bytes, *opts: str) -> bool:
    pub = tmp_path / "pub.pem"
    subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-pubkey", "-noout", "-out", str(pub)], check=True
    )
    (tmp_path / "msg").write_bytes(MESSAGE)
    (tmp_path / "sig").write_bytes(signature)
    res = subprocess.run(
        ["openssl", "dgst", *opts, "-verify", str(pub), "-signature", str(tmp_path / "sig"),
         str(tmp_path / "msg")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    return res.returncode == 0 and "Verified OK" in res.stdout


@pytest.mark.parametrize(
    ("key", "extra", "algorithm", "name", "opts"),
    [
        ("rsa", (), "rsa-pkcs1v15-sha256", RSA_NAME, ("-sha256",)),
        (
            "rsa",
            ("--rsa-padding", "pss"),
            "rsa-pss-sha256",
            RSA_NAME,
            ("-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"),
        ),
        ("ec", (), "ecdsa-p256-sha256", EC_NAME, ("-sha256",)),
    ],
)
def test_token_identity_signs_what_openssl_verifies(
    token: Token,
    ek_home: Path,
    tmp_path: Path,
    key: str,
    extra: tuple[str, ...],
    algorithm: str,
    name: str,
    opts: tuple[str, ...],
) -> None:
    info = _add(token, key, *extra)
    assert info["kind"] == "token" and info["algorithm"] == algorithm and info["name"] == name
    assert info["token"]["module"] == str(token.module)
    folder = Path(info["path"])
    # only where the key is, and the certificate: no key file
    assert sorted(p.name for p in folder.iterdir()) == ["cert.pem", "identity.json"]
    store = IdentityStore(ek_home)
    ident = store.unlock(store.find(None), token.pin.encode())
    assert ident.algorithm == algorithm
    sig = ident.sign(MESSAGE)
    cert = token.rsa_cert if key == "rsa" else token.ec_cert
    assert _openssl_verify(tmp_path, cert, sig, *opts)
    assert verify_signature(ident.certificate, MESSAGE, sig, algorithm)
    flipped = bytearray(sig)
    flipped[len(flipped) // 2] ^= 0x01
    assert not _openssl_verify(tmp_path, cert, bytes(flipped), *opts)
    assert not verify_signature(ident.certificate, MESSAGE, bytes(flipped), algorithm)
    with pytest.raises(Exception, match="keeps its key on a token"):
        _ = ident.private_key


def test_p384_key_made_on_the_token_with_cert_file(
    token: Token, ek_home: Path, tmp_path: Path
) -> None:
    """The P-384 key was generated on the token (never extractable); its certificate is given
    with --cert; the signature is ECDSA with SHA-384."""
    info = _add(token, "p384", "--cert", str(token.p384_cert))
    assert info["algorithm"] == "ecdsa-p384-sha384" and info["name"] == P384_NAME
    store = IdentityStore(ek_home)
    ident = store.unlock(store.find(None), token.pin.encode())
    sig = ident.sign(MESSAGE)
    assert _openssl_verify(tmp_path, token.p384_cert, sig, "-sha384")
    assert not _openssl_verify(tmp_path, token.p384_cert, sig, "-sha256")


def test_keys_show_names_the_token(token: Token) -> None:
    _add(token, "ec", "--name", "Trương Đình Bủng (ký số)")
    res = _cli("keys", "show")
    assert res.exit_code == 0, res.output
    assert "Trương Đình Bủng (ký số)" in res.stdout
    assert "on token: key 'ec-examiner' on token 'evidencekit-test'" in res.stdout


def _one_line_error(res: Any, code: int, *words: str) -> str:
    assert res.exit_code == code, res.output
    line: str = res.stderr.splitlines()[0]
    for w in words:
        assert w in line, line
    return line


def test_wrong_pin_is_one_line_exit_1(token: Token, ek_home: Path) -> None:
    res = _cli(*add_token_args(token, "rsa"), env={"EVIDENCEKIT_PASSPHRASE": "0000000000"})
    _one_line_error(res, 1, "wrong PIN", "evidencekit-test")
    assert not (ek_home / "identities").exists()
    _add(token, "rsa")
    forget_unlocked_keys()
    # and when signing: a seal needs the identity unlocked
    res = _cli("keys", "passwd", env={"EVIDENCEKIT_PASSPHRASE": "0000000000"})
    _one_line_error(res, 1, "on a token")
    store = IdentityStore(ek_home)
    with pytest.raises(Exception, match="wrong PIN for token 'evidencekit-test'"):
        store.unlock(store.find(None), b"0000000000")


def test_a_session_open_with_one_pin_refuses_another(token: Token, ek_home: Path) -> None:
    """A token allows one login per process: the cached session answers a different PIN as the
    token would (wrong), without spending one of its wrong-PIN attempts."""
    _add(token, "rsa")
    store = IdentityStore(ek_home)
    store.unlock(store.find(None), token.pin.encode())
    with pytest.raises(Exception, match="wrong PIN"):
        store.unlock(store.find(None), b"1111111111")


def test_token_absent_key_absent_module_missing(token: Token, tmp_path: Path) -> None:
    base = ["keys", "add-token", "--module", str(token.module)]
    res = _cli(*base, "--token", "no-such-token", "--key", "rsa-examiner")
    _one_line_error(res, 1, "no token labelled 'no-such-token'", str(token.module))
    res = _cli(*base, "--slot", "987654", "--key", "rsa-examiner")
    _one_line_error(res, 1, "no token in slot 987654")
    res = _cli(*base, "--token", token.label, "--key", "no-such-key")
    _one_line_error(res, 1, "no private key 'no-such-key'")
    not_a_module = tmp_path / "libnot-pkcs11.so"
    not_a_module.write_bytes(b"\x7fELF not really")
    res = _cli("keys", "add-token", "--module", str(not_a_module), "--token", token.label,
               "--key", "rsa-examiner")  # fmt: skip
    _one_line_error(res, 1, "cannot load PKCS#11 module")
    # usage errors: exit 2
    res = _cli(*base, "--key", "rsa-examiner")
    _one_line_error(res, 2, "--token LABEL and --slot N")
    res = _cli(*base, "--token", token.label)
    _one_line_error(res, 2, "--key LABEL or --key-id HEX")


def test_registered_token_later_absent(token: Token, ek_home: Path, tmp_path: Path) -> None:
    """A token identity whose token is not plugged in (here: its label changed in the stored
    identity, as if another token were inserted) fails when it must sign: exit 1, one line."""
    info = _add(token, "ec")
    meta_path = Path(info["path"]) / "identity.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["token"]["token_label"] = "unplugged-token"
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    case = tmp_path / "case"
    res = _cli("case", "init", str(case), "--case-number", "VKS-17", "--title", "Vụ án thử",
               "--agency", "Công an tỉnh")  # fmt: skip
    _one_line_error(res, 1, "no token labelled 'unplugged-token'")


def test_certificate_of_another_key_refused(token: Token, ek_home: Path) -> None:
    """The token signs a challenge that the certificate must verify: the EC key with the RSA
    key's certificate is refused, and so is an RSA padding for an EC key."""
    res = _cli(*add_token_args(token, "ec", "--cert", str(token.rsa_cert)))
    _one_line_error(res, 1, "does not belong to the certificate")
    res = _cli(*add_token_args(token, "rsa", "--cert", str(token.ec_cert)))
    _one_line_error(res, 1, "does not belong to the certificate")
    res = _cli(*add_token_args(token, "ec", "--rsa-padding", "pss"))
    _one_line_error(res, 1, "EC P-256 key, which cannot sign rsa-pss-sha256")
    assert not (ek_home / "identities").exists()


def test_stored_algorithm_that_does_not_fit_refused(token: Token, ek_home: Path) -> None:
    """An identity.json edited to claim another algorithm than its certificate's key makes is
    refused when unlocked (never signs a mislabelled signature)."""
    info = _add(token, "ec")
    meta_path = Path(info["path"]) / "identity.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["algorithm"] = "rsa-pkcs1v15-sha256"
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    store = IdentityStore(ek_home)
    with pytest.raises(Exception, match="cannot sign rsa-pkcs1v15-sha256"):
        store.unlock(store.find(None), token.pin.encode())


def test_register_by_slot_and_key_id(token: Token, ek_home: Path) -> None:
    """A token named by its slot number and a key by its CKA_ID (as `pkcs11-tool -L` and `-O`
    show them) works as well as labels."""
    listing = token.tool("-L", login=False)
    slot = next(
        int(line.split("(0x")[1].split(")")[0], 16)
        for line in listing.splitlines()
        if line.startswith("Slot ") and "(0x" in line
    )
    res = _cli("--json", "keys", "add-token", "--module", str(token.module), "--slot",
               str(slot), "--key-id", "02")  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)["identity"]
    assert info["token"]["slot"] == slot and info["token"]["key_id"] == "02"
    assert info["name"] == EC_NAME
    store = IdentityStore(ek_home)
    ident = store.unlock(store.find(None), token.pin.encode())
    assert verify_signature(ident.certificate, MESSAGE, ident.sign(MESSAGE), ident.algorithm)
    res = _cli("keys", "add-token", "--module", str(token.module), "--slot", str(slot),
               "--key-id", "zz")  # fmt: skip
    _one_line_error(res, 2, "--key-id 'zz' is not hexadecimal")
