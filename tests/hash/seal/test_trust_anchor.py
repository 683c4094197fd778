"""The seal's signer is looked up by the fingerprint recomputed from its certificate, and the
trusted certificate found under that fingerprint must be that certificate (issue 13,
scenario 2: a name and fingerprint kept beside another certificate trust nobody)."""

from __future__ import annotations

from pathlib import Path

from evidencekit.hash.seal.verify import verify_seal
from evidencekit.hash.seal.write import artifact_from_file, seal_item
from evidencekit.identity import Identity, IdentityStore
from tests.conftest import TEST_KDF


def _sealed(tmp_path: Path, identity: Identity) -> Path:
    item = tmp_path / "X"
    item.mkdir()
    (item / "a.bin").write_bytes(b"evidence")
    art = artifact_from_file(item, "a.bin", ["sha256"])[0]
    return seal_item(item, "X", identity, kind="files", artifacts=[art]).path


def test_trusted_certificate_under_another_fingerprint(tmp_path: Path, identity: Identity) -> None:
    other = IdentityStore(tmp_path / "other").create(
        "Lê Văn Giả", b"mat khau gia 2026", kdf=TEST_KDF
    )
    seal = _sealed(tmp_path, identity)
    assert verify_seal(seal, trusted={identity.fingerprint: identity.certificate}).ok
    status = verify_seal(seal, trusted={identity.fingerprint: other.certificate})
    assert [p.kind for p in status.problems] == ["unknown-signer"]
    assert "the trusted certificate listed under that fingerprint is another one" in (
        status.problems[0].message
    )
    assert status.problems[0].found == other.fingerprint
    # and the impostor's own seal is not trusted under the examiner's fingerprint either
    (tmp_path / "f").mkdir()
    forged = _sealed(tmp_path / "f", other)
    status = verify_seal(forged, trusted={identity.fingerprint: other.certificate})
    assert [p.kind for p in status.problems] == ["unknown-signer"]
