"""A real PKCS#11 token for the tests: SoftHSM2 (`softhsm2-util`) with keys put on it by OpenSC's
`pkcs11-tool`, and a test CA made with `openssl` that issues their certificates.

One token per test session: a PKCS#11 module reads its configuration (SOFTHSM2_CONF) once per
process, when it is first loaded, so every test of the session shares this token and its
configuration. On it:

- `rsa-examiner` (id 01): RSA 2048, its certificate written on the token;
- `ec-examiner` (id 02): EC P-256, its certificate written on the token;
- `p384-examiner` (id 03): EC P-384, made on the token (never extractable); its certificate is
  given with --cert.

The RSA and P-256 keys are made by openssl and written to the token, so the tests know their
private numbers and can search every file evidencekit writes for them (`secrets`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.peers import REQUIRE_PEERS, need_peer

TOKEN_LABEL = "evidencekit-test"
PIN = "2468013579"
SO_PIN = "13572468"
RSA_NAME = "Nguyễn Bá Tùng"
EC_NAME = "Trương Đình Bủng"
P384_NAME = "Lê Văn Cường"
ORG = "Công an tỉnh Thử nghiệm"

# Where Debian (and Ubuntu) install SoftHSM2's module: a test's knowledge of its own peer, not a
# guess at any vendor's token in the product (docs/signing.md).
_MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)


@dataclass(frozen=True)
class Token:
    module: Path
    label: str
    pin: str
    folder: Path
    ca_cert: Path
    rsa_cert: Path
    ec_cert: Path
    p384_cert: Path
    rsa_key: rsa.RSAPrivateKey
    ec_key: ec.EllipticCurvePrivateKey

    def secrets(self) -> dict[str, bytes]:
        """The private numbers of the keys written to the token, as bytes, by name."""
        r = self.rsa_key.private_numbers()
        size = (self.rsa_key.key_size + 7) // 8
        scalar = self.ec_key.private_numbers().private_value.to_bytes(32, "big")
        return {
            "rsa d": r.d.to_bytes(size, "big"),
            "rsa p": r.p.to_bytes(size // 2, "big"),
            "rsa q": r.q.to_bytes(size // 2, "big"),
            "ec scalar": scalar,
        }

    def tool(self, *args: str, login: bool = True) -> str:
        cmd = ["pkcs11-tool", "--module", str(self.module), "--token-label", self.label]
        if login:
            cmd += ["--login", "--pin", self.pin]
        res = subprocess.run([*cmd, *args], capture_output=True, text=True, check=True)
        return res.stdout


def _run(*args: str | Path) -> None:
    res = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    assert res.returncode == 0, f"{args}: {res.stdout}{res.stderr}"


def _module() -> Path | None:
    env = os.environ.get("SOFTHSM2_MODULE")
    for candidate in ([env] if env else []) + list(_MODULES):
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def _issue(folder: Path, name: str, pubkey: Path, ca: Path, ca_key: Path) -> Path:
    """A certificate for `pubkey` issued by the test CA, subject CN=`name`, O=ORG (UTF-8)."""
    stem = pubkey.name.split(".")[0]
    # openssl needs a CSR to issue from: one signed by a throwaway key, whose public key
    # -force_pubkey replaces with the token key's
    throwaway = folder / f"{stem}.csr.key"
    csr = folder / f"{stem}.csr"
    _run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", throwaway)  # fmt: skip
    _run("openssl", "req", "-new", "-utf8", "-key", throwaway, "-subj", f"/CN={name}/O={ORG}",
         "-out", csr)  # fmt: skip
    ext = folder / "examiner.ext"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,nonRepudiation\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    cert = folder / f"{stem}.crt"
    _run("openssl", "x509", "-req", "-in", csr, "-force_pubkey", pubkey, "-CA", ca,
         "-CAkey", ca_key, "-CAcreateserial", "-days", "30", "-extfile", ext,
         "-out", cert)  # fmt: skip
    return cert


_MADE: list[Token] = []
"""The process's token. Test modules import the fixture, which makes it a fixture of each module
(a session-scoped fixture imported into two modules runs twice): the token must still be made
once, before the module is first loaded, and SOFTHSM2_CONF stays set for the rest of the
process."""


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Token:
    """The session's SoftHSM2 token with its three keys and the CA's certificates."""
    if not _MADE:
        _MADE.append(_make(tmp_path_factory))
    return _MADE[0]


def _make(tmp_path_factory: pytest.TempPathFactory) -> Token:
    need_peer("softhsm2-util", "pkcs11-tool", "openssl")
    module = _module()
    if module is None:
        msg = "SoftHSM2's PKCS#11 module is not installed (apt-get install softhsm2)"
        if REQUIRE_PEERS:
            pytest.fail(msg)
        pytest.skip(msg)
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    _run("softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", PIN,
         "--so-pin", SO_PIN)  # fmt: skip
    tool = ["pkcs11-tool", "--module", str(module), "--token-label", TOKEN_LABEL, "--login",
            "--pin", PIN]  # fmt: skip

    ca_key, ca = folder / "ca.key", folder / "ca.crt"
    _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", ca_key, "-out", ca, "-days", "60", "-utf8",
         "-subj", "/CN=Test Root CA/O=evidencekit tests",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip

    keys: dict[str, object] = {}
    certs: dict[str, Path] = {}
    for stem, gen, ident, name in (
        ("rsa", ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"), "01", RSA_NAME),
        ("ec", ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"), "02", EC_NAME),
    ):
        pem = folder / f"{stem}.key.pem"
        _run("openssl", "genpkey", *gen, "-out", pem)
        der = folder / f"{stem}.key.der"
        _run("openssl", "pkey", "-in", pem, "-outform", "DER", "-out", der)
        pub = folder / f"{stem}.pub.pem"
        _run("openssl", "pkey", "-in", pem, "-pubout", "-out", pub)
        label = f"{stem}-examiner"
        _run(*tool, "--write-object", der, "--type", "privkey", "--id", ident, "--label", label)
        cert = _issue(folder, name, pub, ca, ca_key)
        cert_der = folder / f"{stem}.crt.der"
        _run("openssl", "x509", "-in", cert, "-outform", "DER", "-out", cert_der)
        _run(*tool, "--write-object", cert_der, "--type", "cert", "--id", ident, "--label", label)
        keys[stem] = serialization.load_pem_private_key(pem.read_bytes(), None)
        certs[stem] = cert
        # the private key now lives on the token only
        pem.unlink()
        der.unlink()
    _run(*tool, "--keypairgen", "--key-type", "EC:secp384r1", "--id", "03",
         "--label", "p384-examiner")  # fmt: skip
    # pkcs11-tool 0.23 cannot export a P-384 public key ("cannot create EVP_PKEY"): read it
    # with python-pkcs11 (this process loads the module after SOFTHSM2_CONF is set)
    import pkcs11
    from pkcs11.util.ec import encode_ec_public_key

    lib = pkcs11.lib(str(module))
    with lib.get_token(token_label=TOKEN_LABEL).open() as session:
        p384 = session.get_key(object_class=pkcs11.ObjectClass.PUBLIC_KEY, id=b"\x03")
        spki = encode_ec_public_key(p384)
    pub_der = folder / "p384.pub.der"
    pub_der.write_bytes(spki)
    pub = folder / "p384.pub.pem"
    _run("openssl", "pkey", "-pubin", "-inform", "DER", "-in", pub_der, "-out", pub)
    certs["p384"] = _issue(folder, P384_NAME, pub, ca, ca_key)

    rsa_key, ec_key = keys["rsa"], keys["ec"]
    assert isinstance(rsa_key, rsa.RSAPrivateKey) and isinstance(ec_key, ec.EllipticCurvePrivateKey)
    return Token(
        module=module,
        label=TOKEN_LABEL,
        pin=PIN,
        folder=folder,
        ca_cert=ca,
        rsa_cert=certs["rsa"],
        ec_cert=certs["ec"],
        p384_cert=certs["p384"],
        rsa_key=rsa_key,
        ec_key=ec_key,
    )


@pytest.fixture
def token(softhsm: Token, ek_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Token]:
    """The session's token, with an empty EVIDENCEKIT_HOME (`ek_home`), its PIN as the
    passphrase and no session left logged in from an earlier test (so the token itself judges
    every PIN)."""
    from evidencekit.identity import forget_unlocked_keys

    forget_unlocked_keys()
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", softhsm.pin)
    yield softhsm
    forget_unlocked_keys()


def add_token_args(token: Token, key: str, *extra: str) -> list[str]:
    """`keys add-token` arguments for the key labelled `key`-examiner."""
    return [
        "keys", "add-token", "--module", str(token.module), "--token", token.label,
        "--key", f"{key}-examiner", *extra,
    ]  # fmt: skip
