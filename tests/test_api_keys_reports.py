"""The keys and report use cases driven through `evidencekit.api` only (no click, no CLI): the
typed requests do what the commands do, secrets are asked through callbacks only after the
inputs are checked, and every refusal is the project's error. Oracles: the identity store read
back (a new passphrase unlocks, the old one no longer does), `openssl` (the PKCS#12 file an
examiner imports, made by `openssl pkcs12`), the report's own verification with one byte of
the PDF flipped, and the attachments' SHA-256 recomputed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from evidencekit import api
from tests.conftest import need_peer

GOOD = "mật khẩu thử nghiệm".encode()
NEW = "cụm mật khẩu mới 2026".encode()


def _asked(answers: dict[str, bytes], log: list[str]) -> api.Passphrase:
    def ask(what: str) -> bytes:
        log.append(what)
        return answers[what]

    return ask


@pytest.fixture
def store(ek_home: Path) -> api.IdentityStore:
    return api.IdentityStore()


def test_create_show_export_and_change_a_passphrase(store: api.IdentityStore) -> None:
    asked: list[str] = []
    with pytest.raises(api.UsageError):  # the passphrase rule
        api.create_identity(store, api.CreateIdentityRequest("Nguyễn Bá Tùng"), lambda _: b"short")
    examiner = api.create_identity(
        store,
        api.CreateIdentityRequest("Nguyễn Bá Tùng", email="tung@example.vn", org="Công an tỉnh"),
        _asked({"Nguyễn Bá Tùng": GOOD}, asked),
    )
    assert asked == ["Nguyễn Bá Tùng"]
    assert examiner.name == "Nguyễn Bá Tùng"

    (shown,) = api.show_identities(store, api.ShowIdentitiesRequest())
    assert shown.info.fingerprint == examiner.fingerprint
    assert shown.key_file is not None and shown.key_file.startswith("scrypt")
    assert not shown.weaker and shown.unreadable is None
    assert [s.info.name for s in api.show_identities(store, api.ShowIdentitiesRequest(all=True))]
    with pytest.raises(api.IdentityError):
        api.show_identities(store, api.ShowIdentitiesRequest("nobody-by-this-name"))

    exported = api.export_certificate(store)
    assert exported.info.fingerprint == examiner.fingerprint
    assert exported.pem == examiner.cert_pem()

    request = api.ChangePassphraseRequest(examiner.fingerprint)
    with pytest.raises(api.IdentityError, match="wrong passphrase"):
        api.change_passphrase(store, request, lambda _: b"not the passphrase!", lambda _: NEW)
    changed = api.change_passphrase(store, request, lambda _: GOOD, lambda _: NEW)
    assert changed.fingerprint == examiner.fingerprint
    assert store.load(examiner.fingerprint, lambda _: NEW).fingerprint == examiner.fingerprint
    with pytest.raises(api.IdentityError):
        store.load(examiner.fingerprint, lambda _: GOOD)
    # the key file is readable and as strong as a new one after the change
    (again,) = api.show_identities(store, api.ShowIdentitiesRequest(examiner.fingerprint))
    assert again.key_file is not None and not again.weaker


def test_a_damaged_key_file_is_shown_as_unreadable(store: api.IdentityStore) -> None:
    examiner = api.create_identity(store, api.CreateIdentityRequest("Lê Thị Hoa"), lambda _: GOOD)
    (examiner.info.path / "key.pem").write_text("not a key\n", "ascii")
    (shown,) = api.show_identities(store, api.ShowIdentitiesRequest())
    assert shown.key_file is None and shown.unreadable


def test_import_a_p12_checks_the_file_before_asking(
    store: api.IdentityStore, tmp_path: Path
) -> None:
    need_peer("openssl")
    from tests.identity.ca import P12_PASSWORD, make_ca

    ca = make_ca(tmp_path / "ca")
    ca.issue("tung", cn="Nguyễn Bá Tùng")
    p12 = ca.p12("tung")
    asked: list[str] = []
    never = _asked({}, asked)
    with pytest.raises(api.IdentityError):  # a wrong file password: nothing asked
        api.import_identity(store, api.ImportIdentityRequest(p12, b"wrong"), never)
    with pytest.raises(api.IdentityError, match="cannot sign rsa-pss"):  # nothing asked
        api.import_identity(
            store, api.ImportIdentityRequest(p12, P12_PASSWORD.encode(), "pss"), never
        )
    garbage = tmp_path / "garbage.p12"
    garbage.write_bytes(os.urandom(512))
    with pytest.raises(api.IdentityError):
        api.import_identity(store, api.ImportIdentityRequest(garbage), never)
    assert asked == []
    request = api.ImportIdentityRequest(p12, P12_PASSWORD.encode())
    assert "mật khẩu" not in repr(request)  # the file's password is never printed
    imported = api.import_identity(store, request, _asked({str(p12): GOOD}, asked))
    assert asked == [str(p12)]
    assert imported.name == "Nguyễn Bá Tùng"
    assert store.load(imported.fingerprint, lambda _: GOOD).fingerprint == imported.fingerprint


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"token_label": "T", "slot": 0, "key_label": "k"}, "exactly one of --token"),
        ({"key_label": "k"}, "exactly one of --token"),
        ({"token_label": "T"}, "give --key LABEL or --key-id HEX"),
        ({"slot": 1, "key_id": "zz"}, "--key-id 'zz' is not hexadecimal"),
    ],
)
def test_a_token_request_is_checked_before_the_pin_is_asked(
    store: api.IdentityStore, tmp_path: Path, fields: dict[str, object], message: str
) -> None:
    asked: list[str] = []
    request = api.AddTokenRequest(tmp_path / "libvendor.so", **fields)  # type: ignore[arg-type]
    with pytest.raises(api.UsageError, match=message):
        api.add_token(store, request, _asked({}, asked))
    assert asked == []


def test_a_token_request_names_the_key() -> None:
    ref = api.AddTokenRequest(Path("/usr/lib/x.so"), slot=3, key_id="01:AB").token_ref()
    assert (ref.module, ref.slot, ref.token_label, ref.key_id) == ("/usr/lib/x.so", 3, None, "01ab")


def test_report_build_verify_cosign_and_extract(store: api.IdentityStore, tmp_path: Path) -> None:
    examiner = api.create_identity(
        store, api.CreateIdentityRequest("Nguyễn Bá Tùng"), lambda _: GOOD
    )
    witness = api.create_identity(store, api.CreateIdentityRequest("Lê Thị Hoa"), lambda _: GOOD)
    api.init_case(
        tmp_path / "case",
        examiner,
        pins=[witness.certificate],
        number="VKS-2024-06",
        title="Vụ án trộm cắp tài sản",
        agency="Công an tỉnh",
        timezone="Asia/Ho_Chi_Minh",
    )
    case = api.open_case(tmp_path / "case")
    photo = tmp_path / "ảnh.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 " + "ảnh hiện trường".encode())
    api.seal_files(case, examiner, api.SealRequest("D1", (photo,), description="Ảnh"))

    with pytest.raises(api.UsageError, match="--tsa needs a signature"):
        api.issue_report(case, None, api.BuildReportRequest(sign=False, tsa_url="http://tsa"))
    preview = api.issue_report(
        case, None, api.BuildReportRequest(sign=False, out=tmp_path / "preview.pdf")
    )
    assert not preview.signed

    pdf = tmp_path / "báo cáo.pdf"
    built = api.issue_report(
        case, examiner, api.BuildReportRequest(items=("D1",), lang="vi", out=pdf)
    )
    assert built.signed and built.path == pdf
    assert built.sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    checked = api.check_report(api.VerifyReportRequest(pdf), case)
    assert checked.ok, [p.message for p in checked.problems]
    # the same through the keyword function the API kept
    assert api.verify_report(pdf, case=case).to_dict() == checked.to_dict()
    # without the case, the signer is unknown unless the reader trusts the certificate
    assert not api.check_report(api.VerifyReportRequest(pdf)).ok
    trusted = api.VerifyReportRequest(pdf, trust=(examiner.certificate,))
    assert api.check_report(trusted).ok

    cosigned = api.cosign(
        api.CosignRequest(pdf, "witness", out=tmp_path / "đồng ký.pdf"), witness, case
    )
    assert cosigned.event_recorded
    assert api.check_report(api.VerifyReportRequest(cosigned.path), case).ok
    assert any(e["kind"] == "report_cosigned" for e in api.list_events(case))

    folder = tmp_path / "attachments"
    extracted = api.extract(api.ExtractRequest(pdf, folder))
    assert extracted.files
    for f in extracted.files:
        assert hashlib.sha256((folder / f.name).read_bytes()).hexdigest() == f.sha256

    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))
    tampered = api.check_report(api.VerifyReportRequest(pdf), case)
    assert not tampered.ok and tampered.problems
