"""Every signature algorithm in every format (issue 17), with software keys of each kind: the
identity signs what `openssl dgst -verify` accepts; a verifier accepts a signature only under
the algorithm it names and only when that algorithm fits the certificate's key; events name a
non-default algorithm in their signed body (and only then); checkpoints carry it in the key ID.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from evidencekit.chain.checkpoint import (
    EM_DASH,
    Checkpoint,
    key_id,
    parse_note,
    sign_checkpoint,
    verify_checkpoint,
)
from evidencekit.chain.encoding import check_bytes, check_event, event_signature_ok
from evidencekit.chain.events import Event
from evidencekit.chain.parties import Party
from evidencekit.errors import IdentityError, IntegrityError
from evidencekit.identity import Identity, IdentityStore, fingerprint, verify_signature
from evidencekit.identity import algorithms as algs
from tests.conftest import PASSPHRASE, need_peer

DATA = "Biên bản bàn giao vật chứng — Nguyễn Bá Tùng\n".encode()

KEYS = {
    algs.ECDSA_P256_SHA256: lambda: ec.generate_private_key(ec.SECP256R1()),
    algs.ECDSA_P384_SHA384: lambda: ec.generate_private_key(ec.SECP384R1()),
    algs.RSA_PKCS1V15_SHA256: lambda: rsa.generate_private_key(65537, 2048),
    algs.RSA_PSS_SHA256: lambda: rsa.generate_private_key(65537, 3072),
}
OPENSSL = {
    algs.ECDSA_P256_SHA256: ("-sha256",),
    algs.ECDSA_P384_SHA384: ("-sha384",),
    algs.RSA_PKCS1V15_SHA256: ("-sha256",),
    algs.RSA_PSS_SHA256: (
        "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32",
    ),
}  # fmt: skip


def _cert(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def identities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Identity]:
    """One software identity per algorithm, imported as a CA's key would be."""
    store = IdentityStore(tmp_path_factory.mktemp("ekhome"))
    out = {}
    for algorithm, make in KEYS.items():
        key = make()
        out[algorithm] = store.import_key(
            key, _cert(key, f"Giám định viên {algorithm}"), PASSPHRASE.encode(), algorithm=algorithm
        )
    return out


@pytest.mark.parametrize("algorithm", algs.ALGORITHMS)
def test_each_algorithm_verifies_with_openssl(
    identities: dict[str, Identity], tmp_path: Path, algorithm: str
) -> None:
    need_peer("openssl")
    ident = identities[algorithm]
    assert ident.algorithm == algorithm
    sig = ident.sign(DATA)
    pub = tmp_path / "pub.pem"
    pub.write_bytes(
        ident.certificate.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "data").write_bytes(DATA)

    def openssl(signature: bytes) -> bool:
        (tmp_path / "sig").write_bytes(signature)
        res = subprocess.run(
            ["openssl", "dgst", *OPENSSL[algorithm], "-verify", str(pub), "-signature",
             str(tmp_path / "sig"), str(tmp_path / "data")],
            capture_output=True, text=True,
        )  # fmt: skip
        return res.returncode == 0

    assert openssl(sig)
    assert verify_signature(ident.certificate, DATA, sig, algorithm)
    flipped = bytearray(sig)
    flipped[-3] ^= 0x04
    assert not openssl(bytes(flipped))
    assert not verify_signature(ident.certificate, DATA, bytes(flipped), algorithm)
    # under any other label: refused (RSA's other padding is a plain mismatch)
    for other in algs.ALGORITHMS:
        if other != algorithm:
            assert not verify_signature(ident.certificate, DATA, sig, other), other


def test_algorithm_must_fit_the_key(identities: dict[str, Identity]) -> None:
    p256 = identities[algs.ECDSA_P256_SHA256].certificate.public_key()
    p384 = identities[algs.ECDSA_P384_SHA384].certificate.public_key()
    rsa_key = identities[algs.RSA_PKCS1V15_SHA256].certificate.public_key()
    assert algs.algorithms_for(p256) == (algs.ECDSA_P256_SHA256,)
    assert algs.algorithms_for(p384) == (algs.ECDSA_P384_SHA384,)
    assert algs.algorithms_for(rsa_key) == algs.RSA_ALGORITHMS
    assert not algs.fits(p256, algs.RSA_PSS_SHA256) and not algs.fits(rsa_key, "none")
    with pytest.raises(IdentityError, match="EC P-256 key, which cannot sign rsa-pss-sha256"):
        algs.choose(p256, algs.RSA_PSS_SHA256, "the key")
    weak = rsa.generate_private_key(65537, 1024)
    assert "RSA 1024-bit" in (algs.key_problem(weak) or "")
    assert algs.algorithms_for(weak) == ()
    with pytest.raises(IdentityError, match="cannot sign"):
        algs.sign_with_key(weak, algs.RSA_PKCS1V15_SHA256, DATA)


def _event(identity: Identity, seq: int = 1) -> Event:
    return Event(
        origin="evidencekit.test/case",
        seq=seq,
        kind="note",
        item_id=None,
        time=dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC),
        actor=Party(identity.name, identity.fingerprint),
        note="Ghi chú về niêm phong",
        signature_algorithm=identity.algorithm,
    )


@pytest.mark.parametrize("algorithm", algs.ALGORITHMS)
def test_event_names_its_algorithm_only_when_not_the_default(
    identities: dict[str, Identity], algorithm: str
) -> None:
    ident = identities[algorithm]
    data = _event(ident).encode()
    light, named = check_event(data)
    assert named == algorithm and light == check_bytes(data)
    assert (b'"signature_algorithm"' in data) == (algorithm != algs.DEFAULT)
    assert Event.decode(data).signature_algorithm == algorithm
    sig = ident.sign(data)
    assert event_signature_ok(ident.fingerprint, ident.certificate, data, sig)
    assert not event_signature_ok(ident.fingerprint, ident.certificate, data + b" ", sig)


def test_event_algorithm_forms_refused(identities: dict[str, Identity]) -> None:
    """One encoding per event: the default written out, or an unknown algorithm, is malformed;
    an event relabelled to another family is refused by its signer's key."""
    p256 = identities[algs.ECDSA_P256_SHA256]
    rsa_id = identities[algs.RSA_PKCS1V15_SHA256]
    body = _event(p256).body()
    for value in (algs.DEFAULT, "rsa-pkcs1v15-sha1", "none"):
        data = (
            _event(p256)
            .encode()
            .replace(b'"seq":1', f'"seq":1,"signature_algorithm":"{value}"'.encode())
        )
        with pytest.raises(IntegrityError, match="signature_algorithm"):
            check_event(data)
    assert "signature_algorithm" not in body
    # an RSA-signed event relabelled as ECDSA P-256 (the body rewritten): nothing verifies
    data = _event(rsa_id).encode()
    sig = rsa_id.sign(data)
    relabelled = data.replace(b',"signature_algorithm":"rsa-pkcs1v15-sha256"', b"")
    assert check_event(relabelled)[1] == algs.DEFAULT
    assert not event_signature_ok(rsa_id.fingerprint, rsa_id.certificate, relabelled, sig)


@pytest.mark.parametrize("algorithm", algs.ALGORITHMS)
def test_checkpoint_signed_and_tampered(identities: dict[str, Identity], algorithm: str) -> None:
    ident = identities[algorithm]
    cp = Checkpoint("evidencekit.test/case", 7, hashlib.sha256(b"root").digest())
    note = sign_checkpoint(cp, ident)
    trusted = {ident.fingerprint: ident.certificate}
    verified = verify_checkpoint(note, trusted)
    assert verified.checkpoint == cp and verified.signer_fingerprint == ident.fingerprint
    body, (sig,) = parse_note(note)
    spki = ident.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if algorithm == algs.ECDSA_P256_SHA256:
        # C2SP type 0x02, as every checkpoint before
        assert sig.key_id == hashlib.sha256(spki).digest()[:4]
    else:
        name = f"evidencekit/{fingerprint(ident.certificate)}".encode()
        expected = hashlib.sha256(
            name + b"\n\xff" + f"evidencekit-sig/{algorithm}".encode() + b"\n" + spki
        ).digest()[:4]
        assert sig.key_id == expected
    assert key_id(ident.certificate, algorithm) == sig.key_id
    assert verify_signature(ident.certificate, body.encode(), sig.signature, algorithm)
    tampered = note.replace("\n7\n", "\n8\n", 1)
    with pytest.raises(IntegrityError, match="does not verify"):
        verify_checkpoint(tampered, trusted)
    # the same signature under another algorithm's key ID: an unknown key (C2SP), refused
    for other in algs.ALGORITHMS:
        if other == algorithm:
            continue
        blob = base64.b64encode(key_id(ident.certificate, other) + sig.signature).decode()
        forged = f"{body}\n{EM_DASH} {sig.name} {blob}\n"
        with pytest.raises(IntegrityError):
            verify_checkpoint(forged, trusted)


def test_p12_import_algorithm_choice(tmp_path: Path) -> None:
    """An RSA key may sign PKCS#1 v1.5 (default) or PSS; an EC key only its curve's."""
    store = IdentityStore(tmp_path / "home")
    key = rsa.generate_private_key(65537, 2048)
    ident = store.import_key(key, _cert(key, "Phạm Thị Hoa"), PASSPHRASE.encode())
    assert ident.algorithm == algs.RSA_PKCS1V15_SHA256
    reopened = store.unlock(store.find(ident.fingerprint), PASSPHRASE.encode())
    assert reopened.algorithm == algs.RSA_PKCS1V15_SHA256
    eckey = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(IdentityError, match="cannot sign rsa-pss-sha256"):
        store.import_key(
            eckey, _cert(eckey, "Đỗ Văn Minh"), PASSPHRASE.encode(), algorithm=algs.RSA_PSS_SHA256
        )
