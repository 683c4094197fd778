"""`keys import` of a PKCS#12 file is bounded before any key derivation (issue 13): size, iteration
counts, then the key type and the certificate's validity. The files are made by `openssl pkcs12
-export` (the peer that writes what CAs hand out); the oracle for "nothing was derived" is that
the identity store stays empty and the error names the bound."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from evidencekit.cli.main import cli
from evidencekit.identity.keyfile import MAX_P12_BYTES, MAX_P12_ITERATIONS
from tests.conftest import PASSPHRASE, need_peer

P12_PASSWORD = "mật khẩu p12"
NAME = "Lê Văn Cường"


def _openssl(*args: str) -> None:
    need_peer("openssl")
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _key(folder: Path, kind: str) -> Path:
    key = folder / f"{kind}.key"
    if kind.startswith("rsa"):
        bits = kind.removeprefix("rsa") or "2048"
        _openssl(
            "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}", "-out", str(key)
        )
    else:
        _openssl(
            "genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{kind}", "-out", str(key)
        )
    return key


def _cert(folder: Path, key: Path, *, days: int = 365, expired: bool = False) -> Path:
    cert = folder / f"{key.stem}{'-expired' if expired else ''}.crt"
    if not expired:
        _openssl(
            "req", "-x509", "-key", str(key), "-out", str(cert), "-days", str(days),
            "-subj", f"/CN={NAME}", "-utf8",
        )  # fmt: skip
        return cert
    # openssl 3.0's req/x509 cannot back-date a certificate: the certificate is made here, the
    # PKCS#12 file around it by openssl
    private = serialization.load_pem_private_key(key.read_bytes(), None)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = dt.datetime.now(dt.UTC)
    built = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now - dt.timedelta(days=35))
        .sign(private, hashes.SHA256())  # type: ignore[arg-type]
    )
    cert.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    return cert


def _p12(folder: Path, key: Path, cert: Path, name: str, *extra: str) -> Path:
    out = folder / f"{name}.p12"
    _openssl(
        "pkcs12", "-export", "-inkey", str(key), "-in", str(cert), "-out", str(out),
        "-passout", f"pass:{P12_PASSWORD}", *extra,
    )  # fmt: skip
    return out


def _import(p12: Path) -> Any:
    env = {"EVIDENCEKIT_P12_PASSPHRASE": P12_PASSWORD, "EVIDENCEKIT_PASSPHRASE": PASSPHRASE}
    return CliRunner().invoke(cli, ["keys", "import", str(p12)], env=env)


def _refused(res: Any, ek_home: Path, *words: str) -> None:
    assert res.exit_code == 1, res.output
    line = res.stderr.splitlines()[0]
    for w in words:
        assert w in line, line
    assert not (ek_home / "identities").exists()  # nothing stored


@pytest.mark.peer
def test_a_p256_p12_from_openssl_imports(ek_home: Path, tmp_path: Path) -> None:
    key = _key(tmp_path, "P-256")
    res = _import(_p12(tmp_path, key, _cert(tmp_path, key), "ok"))
    assert res.exit_code == 0, res.output
    assert f"Imported identity {NAME}" in res.stdout


@pytest.mark.peer
def test_legacy_p12_imports(ek_home: Path, tmp_path: Path) -> None:
    """RC2/3DES with the PKCS#12 KDF (what older CAs and Windows write) is read too."""
    key = _key(tmp_path, "P-256")
    res = _import(_p12(tmp_path, key, _cert(tmp_path, key), "legacy", "-legacy"))
    assert res.exit_code == 0, res.output


@pytest.mark.peer
def test_too_many_iterations_refused_before_any_derivation(ek_home: Path, tmp_path: Path) -> None:
    key = _key(tmp_path, "P-256")
    big = _p12(tmp_path, key, _cert(tmp_path, key), "iter", "-iter", str(MAX_P12_ITERATIONS + 1))
    _refused(_import(big), ek_home, f"{MAX_P12_ITERATIONS + 1:,} key-derivation iterations")


@pytest.mark.peer
@pytest.mark.parametrize(
    ("kind", "algorithm"),
    [
        ("rsa", "rsa-pkcs1v15-sha256"),
        ("rsa3072", "rsa-pkcs1v15-sha256"),
        ("P-384", "ecdsa-p384-sha384"),
    ],
)
def test_rsa_and_p384_import(ek_home: Path, tmp_path: Path, kind: str, algorithm: str) -> None:
    """Issue 17 lifted the P-256-only bound: the whitelist (RSA 2048/3072/4096, EC P-256/P-384)
    is what a CA's file may hold; the identity signs with the key's algorithm."""
    key = _key(tmp_path, kind)
    res = _import(_p12(tmp_path, key, _cert(tmp_path, key), kind))
    assert res.exit_code == 0, res.output
    (folder,) = (ek_home / "identities").iterdir()
    assert not (folder / "chain.pem").exists()  # no CA certificates in the file: none kept
    assert (
        json.loads((folder / "identity.json").read_text("utf-8")).get(
            "algorithm", "ecdsa-p256-sha256"
        )
        == algorithm
    )


@pytest.mark.peer
def test_keys_outside_the_whitelist_refused(ek_home: Path, tmp_path: Path) -> None:
    rsa = _key(tmp_path, "rsa1024")
    _refused(
        _import(_p12(tmp_path, rsa, _cert(tmp_path, rsa), "rsa")),
        ek_home,
        "RSA 1024-bit key",
        "2048, 3072 or 4096 bits",
    )
    p521 = _key(tmp_path, "P-521")
    _refused(
        _import(_p12(tmp_path, p521, _cert(tmp_path, p521), "p521")),
        ek_home,
        "an EC secp521r1 key",
    )


@pytest.mark.peer
def test_expired_certificate_refused(ek_home: Path, tmp_path: Path) -> None:
    key = _key(tmp_path, "P-256")
    old = _p12(tmp_path, key, _cert(tmp_path, key, expired=True), "expired")
    _refused(_import(old), ek_home, "expired on", "cannot sign evidence now")


@pytest.mark.peer
def test_oversized_and_malformed_files_refused(ek_home: Path, tmp_path: Path) -> None:
    key = _key(tmp_path, "P-256")
    ok = _p12(tmp_path, key, _cert(tmp_path, key), "ok")
    big = tmp_path / "big.p12"
    big.write_bytes(ok.read_bytes() + b"\0" * MAX_P12_BYTES)
    _refused(_import(big), ek_home, f"at most {MAX_P12_BYTES} bytes")
    junk = tmp_path / "junk.p12"
    junk.write_bytes(b"0\x03\x02\x01\x03")  # a DER SEQUENCE, not a PFX
    _refused(_import(junk), ek_home, "is not a PKCS#12 file")
    link = tmp_path / "link.p12"
    link.symlink_to(ok)
    _refused(_import(link), ek_home, "refusing PKCS#12 file")


@pytest.mark.peer
def test_rsa_padding_choice_on_import(ek_home: Path, tmp_path: Path) -> None:
    """`--rsa-padding pss` makes an RSA identity sign RSA-PSS; asked of an EC key it is refused
    before a passphrase is asked or anything stored."""
    p256 = _key(tmp_path, "P-256")
    env = {"EVIDENCEKIT_P12_PASSPHRASE": P12_PASSWORD, "EVIDENCEKIT_PASSPHRASE": PASSPHRASE}
    res = CliRunner().invoke(
        cli,
        ["keys", "import", str(_p12(tmp_path, p256, _cert(tmp_path, p256), "ec")),
         "--rsa-padding", "pss"],
        env=env,
    )  # fmt: skip
    _refused(res, ek_home, "EC P-256 key, which cannot sign rsa-pss-sha256")
    key = _key(tmp_path, "rsa")
    res = CliRunner().invoke(
        cli,
        ["--json", "keys", "import", str(_p12(tmp_path, key, _cert(tmp_path, key), "rsa")),
         "--rsa-padding", "pss"],
        env=env,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["identity"]["algorithm"] == "rsa-pss-sha256"


@pytest.mark.peer
def test_ca_certificates_in_the_p12_are_kept(ek_home: Path, tmp_path: Path) -> None:
    """The CA certificates a PKCS#12 file carries beside the examiner's (`-certfile`) are kept as
    the identity's chain (`chain.pem`), the leaf left out; a file without them keeps none."""
    ca_dir = tmp_path / "ca"
    ca_dir.mkdir()
    ca_key = _key(ca_dir, "P-384")
    ca_cert = _cert(ca_dir, ca_key)
    key = _key(tmp_path, "rsa")
    p12 = _p12(tmp_path, key, _cert(tmp_path, key), "chain", "-certfile", str(ca_cert))
    res = _import(p12)
    assert res.exit_code == 0, res.output
    (folder,) = (ek_home / "identities").iterdir()
    kept = (folder / "chain.pem").read_bytes()
    assert kept.count(b"BEGIN CERTIFICATE") == 1
    assert x509.load_pem_x509_certificate(kept) == x509.load_pem_x509_certificate(
        ca_cert.read_bytes()
    )
