"""Event encoding: the fast canonical path must be byte-identical to RFC 8785."""

from __future__ import annotations

import random
from typing import Any

import pytest
import rfc8785

from evidencekit.chain.checkpoint import (
    Checkpoint,
    parse_note,
    sign_checkpoint,
    verify_checkpoint,
)
from evidencekit.chain.encoding import canonical
from evidencekit.chain.events import Event
from evidencekit.chain.parties import Party
from evidencekit.errors import IntegrityError
from evidencekit.identity import Identity, IdentityStore
from evidencekit.timeutil import utcnow
from tests.conftest import PASSPHRASE

ALPHABET = (
    [chr(c) for c in range(0, 0x30)]
    + list('AZaz~\\"/\u007f\u0080\u00e9\u1ea1\u2028\u2029\ufeff\uffff')
    + ["Nguyễn", "Bủng", "\U0001f600", "\ue000"]
)


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))


def _value(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if depth > 2 or r < 0.4:
        return rng.choice([_text(rng), rng.randint(-(2**53) + 1, 2**53 - 1), None, True, False])
    if r < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_text(rng): _value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def test_fast_path_matches_rfc8785() -> None:
    rng = random.Random(8785)
    for _ in range(3000):
        obj = {_text(rng): _value(rng) for _ in range(rng.randint(0, 6))}
        assert canonical(obj) == bytes(rfc8785.dumps(obj)), obj


@pytest.mark.parametrize(
    "details",
    [{"x": 1.5}, {"x": 1e21}, {"\U0001f600": 1, "\ue000": 2}, {"big": 2**60}, {"x": [0.1]}],
)
def test_slow_path_for_the_rest(details: dict[str, Any]) -> None:
    obj = {"details": details, "a": "b"}
    if any(isinstance(v, int) and v > 2**53 for v in details.values()):
        with pytest.raises(Exception):  # noqa: B017 - RFC 8785 refuses unsafe ints
            canonical(obj, details)
        return
    assert canonical(obj, details) == bytes(rfc8785.dumps(obj))


def test_event_round_trip() -> None:
    ev = Event(
        origin="evidencekit.case/X/20260101T000000Z",
        seq=7,
        kind="transferred",
        item_id="HDD01",
        time=utcnow(),
        actor=Party("Nguyễn Bá Tùng", "ab" * 32),
        counterpart=Party("Trương Đình Bủng", None),
        digests={"sha256": "11" * 32},
        details={"n": 1, "list": ["a", None]},
    )
    data = ev.encode()
    back = Event.decode(data)
    assert back == ev
    assert back.encode() == data
    for bad in (b"", b"[]", b"{}", data.replace(b'"seq":7', b'"seq":"7"'), b"\xff"):
        with pytest.raises(IntegrityError):
            Event.decode(bad)


@pytest.fixture
def ident(ek_home: Any) -> Identity:
    return IdentityStore(ek_home).create("Nguyễn Bá Tùng", PASSPHRASE.encode())


def test_signed_note_format(ident: Identity) -> None:
    cp = Checkpoint("evidencekit.case/X/20260101T000000Z", 12, b"\x01" * 32)
    text = sign_checkpoint(cp, ident)
    lines = text.split("\n")
    assert lines[:4] == [cp.origin, "12", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", ""]
    assert lines[4].startswith(f"\u2014 evidencekit/{ident.fingerprint} ")
    assert text.endswith("\n")
    body, sigs = parse_note(text)
    assert body == cp.body() and sigs[0].name == f"evidencekit/{ident.fingerprint}"
    ok = verify_checkpoint(text, {ident.fingerprint: ident.certificate})
    assert ok.checkpoint == cp and ok.signer_name == "Nguyễn Bá Tùng"
    trusted = {ident.fingerprint: ident.certificate}
    for bad in (
        text.replace("\n12\n", "\n13\n"),
        text.replace("\u2014", "-"),
        text[:-1],
        text.replace("\n\n", "\n"),
        text + "extra\n",
        text.replace(cp.origin, cp.origin + "x"),
    ):
        with pytest.raises(IntegrityError):
            verify_checkpoint(bad, trusted)
    with pytest.raises(IntegrityError, match="unknown"):
        verify_checkpoint(text, {})


def test_cached_key_verification(ident: Identity, ek_home: Any) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from evidencekit.chain import signature_cache
    from evidencekit.identity import verify_signature

    data = "sự kiện".encode()
    sig = ident.sign(data)
    fp = ident.fingerprint
    for _ in range(2):  # second time from the cache
        assert signature_cache.verify(fp, ident.certificate, data, sig)
        assert not signature_cache.verify(fp, ident.certificate, data + b"x", sig)
    other = IdentityStore(ek_home).create("Người khác", PASSPHRASE.encode())
    # same fingerprint key, another certificate object: the cache must not answer for it
    assert not signature_cache.verify(fp, other.certificate, data, sig)
    assert verify_signature(ident.certificate, data, sig)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rsa")])
    now = dt.datetime.now(dt.UTC)
    rsa_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(rsa_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(rsa_key, hashes.SHA256())
    )
    assert not signature_cache.verify("rsa", rsa_cert, data, sig)
