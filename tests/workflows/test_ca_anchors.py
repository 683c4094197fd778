"""Issue 17: a case trusts a CA root as an anchor, within limits; examiners it does not pin are
trusted through it, checked at the time a timestamp proves, against revocation data the case
keeps (CRL and OCSP, offline later).

Real components: a CA hierarchy made with `openssl` (tests/identity/ca.py), examiners imported
from PKCS#12 files with `keys import`, a CRL by `openssl ca -gencrl`, an `openssl ocsp`
responder on loopback, the local RFC 3161 TSA of the report tests. Oracle: `openssl verify
-crl_check` agrees with each verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.identity import IdentityStore, cert_pem, load_cert_file
from evidencekit.workflows.origin import ledger_origin
from evidencekit.workflows.trust import case_trust
from tests.conftest import EXAMINER, PASSPHRASE, need_peer
from tests.identity.ca import (
    ORG,
    OTHER_POLICY,
    P12_PASSWORD,
    lookalike,
    make_ca,
)
from tests.report.tsa import local_tsa
from tests.workflows.ca_world import AN, BINH, World, cli_run, next_second, ok, problems

_cli = cli_run
_ok = ok
_next_second = next_second
_problems = problems


def test_the_two_examiners_are_trusted_through_the_root(world: World) -> None:
    w = world
    _ok(w.run(AN, "custody", "note", "-", "An ghi chú"))
    _ok(w.run(BINH, "custody", "note", "-", "Bình ghi chú"))
    crl = w.ca.crl()
    _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(crl)))
    w.stamp()
    res = w.verify()
    assert res.exit_code == 0, res.stdout
    trust = case_trust(Case.open(w.case))
    assert {c.name for c in trust.chained} == {AN, BINH}
    shown = _ok(_cli("--case", str(w.case), "case", "show")).stdout
    assert "anchor: O=Bộ Công an Thử nghiệm,CN=Test Root CA evidencekit" in shown
    assert f"through a CA: {AN}" in shown and f"through a CA: {BINH}" in shown
    assert not {c.fingerprint for c in trust.chained} & set(trust.pinned_signers)
    # the oracle agrees: both chain to the root, neither is on the CRL
    assert w.ca.openssl_verify(w.an, crl=crl) and w.ca.openssl_verify(w.binh, crl=crl)


def test_events_not_covered_by_a_timestamp_are_a_problem(world: World) -> None:
    w = world
    _ok(w.run(AN, "custody", "note", "-", "chưa đóng dấu thời gian"))
    res = w.verify()
    assert res.exit_code == 3
    kinds = {p["kind"] for p in _problems(res)}
    assert "not-timestamped" in kinds
    w.stamp()  # now covered, but the CRL is missing: An's status is unknown
    res = w.verify()
    assert res.exit_code == 3
    assert any(
        p["kind"] == "chain-invalid" and "revocation" in p["message"] for p in _problems(res)
    ), res.stdout


def test_a_self_signed_lookalike_is_not_trusted(world: World, ek_home: Path) -> None:
    w = world
    cert, key = lookalike(w.ca.dir, AN)
    p12 = w.ca.dir / "lookalike.p12"
    from tests.identity.ca import run

    run(
        "openssl",
        "pkcs12",
        "-export",
        "-inkey",
        str(key),
        "-in",
        str(cert),
        "-out",
        str(p12),
        "-passout",
        f"pass:{P12_PASSWORD}",
    )
    imported = _ok(_cli("--json", "keys", "import", str(p12)))
    fake_fp = json.loads(imported.stdout)["identity"]["fingerprint"]
    refused = w.run(fake_fp[:16], "custody", "note", "-", "giả mạo")
    assert refused.exit_code == 1
    assert "neither pinned" in refused.stderr and "self-signed" in refused.stderr
    assert not w.ca.openssl_verify(cert)  # the oracle: it does not chain to the root
    # past the CLI: the look-alike appends its own chain event and a note with the chain API
    ident = IdentityStore(ek_home).load(fake_fp[:16], lambda _info: PASSPHRASE.encode())
    case = Case.open(w.case)
    trusted = {**case_trust(case).certificates, ident.fingerprint: ident.certificate}
    with Ledger.open(case.ledger_path, ledger_origin(case), trusted=trusted, writable=True) as lg:
        lg.append(
            ident,
            [
                Draft(
                    kind="certificate_chain_added",
                    item_id=None,
                    details={"certificates": [cert_pem(ident.certificate)]},
                ),
                Draft(kind="note", item_id=None, note="giả mạo"),
            ],
        )
    # nobody builds on it: the next append refuses, naming the unknown signer
    refused = w.run(EXAMINER, "custody", "timestamp", "--tsa", w.tsa_url)
    assert refused.exit_code == 3 and "refusing to append" in refused.stderr
    res = w.verify()
    assert res.exit_code == 3
    text = " ".join(p["message"] for p in _problems(res))
    assert "self-signed" in text and AN in text, res.stdout
    assert ident.fingerprint not in case_trust(case).certificates


def test_a_ca_trusted_examiner_never_changes_the_trust_list(world: World, ek_home: Path) -> None:
    w = world
    _ok(w.run(AN, "custody", "note", "-", "An ghi chú"))
    other = make_ca(w.ca.dir.parent / "other")
    refused = w.run(AN, "case", "trust-ca", str(other.root), "--reason", "tự thêm")
    assert refused.exit_code == 1 and "only a pinned examiner" in refused.stderr
    # past the CLI: An signs a trust_anchor_added with the chain API; it counts for nothing
    case = Case.open(w.case)
    an = IdentityStore(ek_home).load(AN, lambda _info: PASSPHRASE.encode())
    with Ledger.open(
        case.ledger_path, ledger_origin(case), trusted=case_trust(case).certificates, writable=True
    ) as lg:
        root = load_cert_file(other.root)
        lg.append(
            an,
            [
                Draft(
                    kind="trust_anchor_added",
                    item_id=None,
                    reason="tự thêm",
                    details={
                        "anchor_kind": "examiner",
                        "certificate": cert_pem(root),
                        "fingerprint": __import__("evidencekit.identity").identity.fingerprint(
                            root
                        ),
                        "limits": {},
                        "intermediates": [],
                    },
                )
            ],
        )
    trust = case_trust(case)
    assert len([a for a in trust.anchors if a.anchor.kind == "examiner"]) == 1
    _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl())))
    w.stamp()
    res = w.verify()
    assert res.exit_code == 3
    assert any("not pinned then" in p["message"] for p in _problems(res)), res.stdout


def test_limits_keep_other_units_out(world: World, ek_home: Path) -> None:
    w = world
    # an examiner of another organisation, and one under another policy, by the same CA
    w.ca.issue("khac", cn="Phạm Văn Khác", org="Công ty Khác")
    _ok(_cli("keys", "import", str(w.ca.p12("khac"))))
    refused = w.run("Phạm Văn Khác", "custody", "note", "-", "ngoài phạm vi")
    assert refused.exit_code == 1 and "subject O" in refused.stderr
    assert w.ca.openssl_verify(w.ca.dir / "khac.pem")  # chains fine: only the limits say no
    # a certificate of the right unit whose key usage is not for signing
    w.ca.issue("mahoa", cn="Hoàng Văn Mã", ext="encipher_only")
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    enc = IdentityStore(
        ek_home
    ).import_key(  # `keys import` may refuse it; the check must not rely on that
        load_pem_private_key((w.ca.dir / "mahoa.key").read_bytes(), None),  # type: ignore[arg-type]
        load_cert_file(w.ca.dir / "mahoa.pem"),
        PASSPHRASE.encode(),
    )
    refused = w.run(enc.fingerprint[:16], "custody", "note", "-", "khoá để mã hoá")
    assert refused.exit_code == 1 and "key usage" in refused.stderr, refused.stderr
    res = w.run(
        EXAMINER, "case", "trust-ca", str(w.ca.root), "--policy", OTHER_POLICY, "--reason", "x"
    )
    assert res.exit_code == 1  # already an anchor


def _revoked_flow(w: World, add_revocation: Any) -> None:
    """Bình signs (event A), a timestamp proves it; the CA revokes Bình; Bình signs again
    (event B), a timestamp proves it; the revocation data goes into the case."""
    crl_before = w.ca.crl("before.crl")
    _ok(w.run(BINH, "custody", "note", "-", "trước khi thu hồi"))
    w.stamp()
    _next_second()
    w.ca.revoke(w.binh)
    _next_second()
    _ok(w.run(BINH, "custody", "note", "-", "sau khi thu hồi"))
    w.stamp()
    add_revocation()
    w.stamp()
    # the oracle: before the revocation the CRL says good, after it revoked
    assert w.ca.openssl_verify(w.binh, crl=crl_before)
    assert not w.ca.openssl_verify(w.binh, crl=w.ca.crl("after.crl"))


def _check_revoked(w: World) -> None:
    res = w.verify()
    assert res.exit_code == 3, res.stdout
    log = _ok(_cli("--json", "--case", str(w.case), "custody", "log"))
    events = {e["seq"]: e for e in json.loads(log.stdout)["events"]}
    notes = {e["note"]: e["seq"] for e in events.values() if e.get("note")}
    revoked = [p for p in _problems(res) if p["kind"] == "revoked-certificate"]
    assert [p["seq"] for p in revoked] == [notes["sau khi thu hồi"]], res.stdout
    assert BINH in revoked[0]["message"] and "revoked at" in revoked[0]["message"]
    assert "compromised key" in revoked[0]["message"]
    assert not [p for p in _problems(res) if p.get("seq") == notes["trước khi thu hồi"]]


def test_events_signed_after_a_crl_revocation_fail_offline(world: World, tmp_path: Path) -> None:
    w = world
    crl = tmp_path / "given.crl"

    def add() -> None:
        crl.write_bytes(w.ca.crl("given.crl").read_bytes())
        _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(crl)))

    _revoked_flow(w, add)
    crl.unlink()  # offline, later: only what the case stored
    _check_revoked(w)
    # the case now knows: Bình's next append is refused
    refused = w.run(BINH, "custody", "note", "-", "lại ký")
    assert refused.exit_code == 1 and "is revoked" in refused.stderr
    # the stored CRL is part of the record: changing it is caught
    stored = next((w.case / "trust" / "revocation").glob("*.crl"))
    stored.write_bytes(stored.read_bytes() + b"\0")
    res = w.verify()
    assert res.exit_code == 3 and "was changed" in res.stdout


def test_events_signed_after_an_ocsp_revocation_fail_offline(world: World) -> None:
    w = world

    def add() -> None:
        with w.ca.ocsp_responder():  # started after the revocation, which it then knows
            resp = w.ca.ocsp_response(w.binh, w.ca.dir / "binh.ocsp")
            good = w.ca.ocsp_response(w.an, w.ca.dir / "an.ocsp")
        _ok(
            w.run(
                EXAMINER,
                "case",
                "add-revocation",
                "--ocsp-response",
                str(resp),
                "--ocsp-response",
                str(good),
            )
        )

    _revoked_flow(w, add)
    _check_revoked(w)  # the responder is gone: the stored answers decide


def test_revocation_fetched_online_from_the_certificate(world: World) -> None:
    w = world

    def add() -> None:
        with w.ca.ocsp_responder():  # the URL in the examiners' certificates
            _ok(w.run(EXAMINER, "case", "add-revocation", "--fetch"))

    _revoked_flow(w, add)
    stored = list((w.case / "trust" / "revocation").glob("*.ocsp"))
    assert len(stored) == 1  # one answer for the one CA-trusted examiner who signed
    _check_revoked(w)


def test_a_tsa_from_another_ca_proves_no_time(world: World, tmp_path: Path) -> None:
    w = world
    _ok(w.run(AN, "custody", "note", "-", "An ghi chú"))
    _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl())))
    with local_tsa(tmp_path / "tsa2") as other:
        _ok(w.run(EXAMINER, "custody", "timestamp", "--tsa", other))
    # the oracle: the other TSA's certificate does not chain to the TSA anchor
    import subprocess

    ok = subprocess.run(
        [
            "openssl",
            "verify",
            "-CAfile",
            str(w.tsa_dir / "tsa.crt"),
            "-purpose",
            "timestampsign",
            str(tmp_path / "tsa2" / "tsa.crt"),
        ],
        capture_output=True,
    )
    assert ok.returncode != 0
    same = subprocess.run(
        [
            "openssl",
            "verify",
            "-CAfile",
            str(w.tsa_dir / "tsa.crt"),
            "-purpose",
            "timestampsign",
            str(w.tsa_dir / "tsa.crt"),
        ],
        capture_output=True,
    )
    assert same.returncode == 0, same.stderr
    res = w.verify()
    assert res.exit_code == 3
    kinds = [p["kind"] for p in _problems(res)]
    assert "untrusted-tsa" in kinds and "not-timestamped" in kinds, res.stdout
    w.stamp()  # the trusted TSA: everything before it is proven
    res = w.verify()
    assert [p["kind"] for p in _problems(res)] == ["untrusted-tsa"], res.stdout


def test_a_seal_by_a_ca_trusted_examiner_in_the_case_and_outside(
    world: World, tmp_path: Path
) -> None:
    w = world
    src = tmp_path / "biên bản.txt"
    src.write_bytes("Biên bản thu giữ\n".encode())
    _ok(w.run(AN, "seal", "--item", "BB-01", str(src)))
    crl = w.ca.crl()
    _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(crl)))
    w.stamp()
    _ok(_cli("--case", str(w.case), "verify", "BB-01"))
    seal = w.case / "evidence" / "BB-01" / "BB-01.seal.json"
    outside = ("verify", str(seal), "--trust", str(w.ca.root), "--trust", str(w.ca.issuing))
    # a reader outside the case, with the root (and the issuing CA the seal's chain needs)
    assert w.ca.openssl_verify(w.an, crl=crl)
    _ok(_cli(*outside, "--crl", str(crl), "--trust-org", ORG))
    no_status = _cli("--json", *outside)
    assert no_status.exit_code == 3 and "revocation" in no_status.stdout
    other_org = _cli("--json", *outside, "--crl", str(crl), "--trust-org", "Công ty Khác")
    assert other_org.exit_code == 3 and "subject O" in other_org.stdout
    # revoked later: outside a case nothing proves the seal came first, so it fails
    _next_second()  # a CRL's revocation time is to the second: after the seal's, not equal
    w.ca.revoke(w.an)
    after = w.ca.crl("after.crl")
    assert not w.ca.openssl_verify(w.an, crl=after)
    revoked = _cli("--json", *outside, "--crl", str(after))
    assert revoked.exit_code == 3
    assert "revoked-certificate" in revoked.stdout and "nothing proves" in revoked.stdout, [
        p for st in json.loads(revoked.stdout)["items"] for p in st["problems"]
    ]
    # inside the case the timestamp proves the seal came first: it stays valid
    _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(after)))
    w.stamp()
    _ok(_cli("--case", str(w.case), "verify", "BB-01"))


def _append_past_the_cli(case_dir: Path, ident: Any, *drafts: Draft) -> None:
    """What an insider with the key and write access appends with the chain's own API."""
    case = Case.open(case_dir)
    trusted = {**case_trust(case).certificates, ident.fingerprint: ident.certificate}
    with Ledger.open(case.ledger_path, ledger_origin(case), trusted=trusted, writable=True) as lg:
        lg.append(ident, list(drafts))


def test_an_expired_certificate_signs_nothing(world: World, ek_home: Path) -> None:
    w = world
    cert, key = w.ca.issue("cu", cn="Đỗ Văn Cũ", start="20200101000000Z", end="20210101000000Z")
    assert not w.ca.openssl_verify(cert)  # the oracle: expired
    refused = _cli("keys", "import", str(w.ca.p12("cu")))
    assert refused.exit_code == 1 and "expired" in refused.stderr
    # the key still works: an insider stores it past `keys import` and signs with it
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    old = IdentityStore(ek_home).import_key(
        load_pem_private_key(key.read_bytes(), None),  # type: ignore[arg-type]
        load_cert_file(cert),
        PASSPHRASE.encode(),
    )
    res = w.run("Đỗ Văn Cũ", "custody", "note", "-", "chứng thư hết hạn")
    assert res.exit_code == 1 and "expired" in res.stderr
    _append_past_the_cli(
        w.case,
        old,
        Draft(
            kind="certificate_chain_added",
            item_id=None,
            details={"certificates": [cert_pem(old.certificate)]},
        ),
        Draft(kind="note", item_id=None, note="chứng thư hết hạn"),
    )
    res = w.verify()
    assert res.exit_code == 3
    assert any("expired" in p["message"] for p in _problems(res)), res.stdout
    assert old.fingerprint not in case_trust(Case.open(w.case)).certificates


def test_a_removed_anchor_and_a_policy_limit(world: World, ek_home: Path) -> None:
    w = world
    _ok(w.run(AN, "custody", "note", "-", "qua gốc thứ nhất"))
    case = Case.open(w.case)
    root_fp = next(a.fingerprint for a in case_trust(case).anchors if a.anchor.kind == "examiner")
    refused = w.run(AN, "case", "untrust-ca", root_fp[:12], "--reason", "tự bỏ")
    assert refused.exit_code == 1 and "only a pinned examiner" in refused.stderr
    _ok(w.run(EXAMINER, "case", "untrust-ca", root_fp[:12], "--reason", "đổi chính sách"))
    # the root again, now only for certificates under another policy: An's is not
    _ok(w.run(EXAMINER, "case", "trust-ca", str(w.ca.root), "--policy", OTHER_POLICY,
              "--intermediate", str(w.ca.issuing), "--reason", "chính sách khác"))  # fmt: skip
    # An's chain went to the removed anchor: a new chain is needed, which the new limits refuse
    res = w.run(AN, "custody", "note", "-", "sau khi bỏ gốc")
    assert res.exit_code == 1 and "policies" in res.stderr
    # past the CLI: An signs on with the old chain event
    an = IdentityStore(ek_home).load(AN, lambda _info: PASSPHRASE.encode())
    _append_past_the_cli(w.case, an, Draft(kind="note", item_id=None, note="sau khi bỏ gốc"))
    _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl())))
    w.stamp()
    res = w.verify()
    assert res.exit_code == 3
    problems = _problems(res)
    removed = [p for p in problems if p["kind"] == "chain-invalid" and "removed" in p["message"]]
    assert len(removed) == 1, res.stdout  # the note after the removal, not the one before
    # a new examiner under the test policy cannot join through the policy-limited anchor
    w.ca.issue("moi", cn="Vũ Thị Mới")
    _ok(_cli("keys", "import", str(w.ca.p12("moi"))))
    res = w.run("Vũ Thị Mới", "custody", "note", "-", "không đúng chính sách")
    assert res.exit_code == 1 and "policies" in res.stderr


def test_a_report_signed_after_the_revocation_fails_one_before_holds(
    world: World, tmp_path: Path
) -> None:
    w = world
    src = tmp_path / "biên bản.txt"
    src.write_bytes("Biên bản thu giữ\n".encode())
    _ok(w.run(BINH, "seal", "--item", "BB-01", str(src)))
    _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl("before.crl"))))
    w.stamp()
    before = tmp_path / "before.pdf"
    _ok(w.run(BINH, "report", "build", "--out", str(before)))
    w.stamp()
    _next_second()
    w.ca.revoke(w.binh)
    _next_second()
    after = tmp_path / "after.pdf"
    _ok(w.run(BINH, "report", "build", "--out", str(after)))  # the case does not know yet
    w.stamp()
    _ok(_cli("report", "verify", str(before), "--case", str(w.case)))
    _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl("after.crl"))))
    w.stamp()
    res = _cli("--json", "report", "verify", str(after), "--case", str(w.case))
    assert res.exit_code == 3
    assert "the report (issued by ledger event" in res.stdout, res.stdout
    assert "compromised key" in res.stdout
    # the report issued before: its own signature holds; the case's ledger, which now holds an
    # event signed after the revocation, is what `report verify --case` reports about it
    res = _cli("--json", "report", "verify", str(before), "--case", str(w.case))
    assert "the report (issued by ledger event" not in res.stdout, res.stdout
    assert "custody ledger does not verify: event" in res.stdout


def test_the_chain_kept_with_the_identity_reaches_the_root(case_dir: Path, tmp_path: Path) -> None:
    """A PKCS#12 file that carries the issuing CA: the anchor needs no --intermediate, and a
    seal carries the whole chain, so a reader outside the case needs only the root."""
    need_peer("openssl")
    ca = make_ca(tmp_path / "ca")
    ca.issue("an", cn=AN)
    from tests.identity.ca import run

    p12 = ca.dir / "an-chain.p12"
    run("openssl", "pkcs12", "-export", "-inkey", str(ca.dir / "an.key"),
        "-in", str(ca.dir / "an.pem"), "-certfile", str(ca.issuing), "-out", str(p12),
        "-passout", f"pass:{P12_PASSWORD}")  # fmt: skip
    _ok(_cli("keys", "import", str(p12)))
    with local_tsa(tmp_path / "tsa") as url:
        w = World(case_dir, ca, ca.dir / "an.pem", ca.dir / "an.pem", url, tmp_path / "tsa")
        _ok(w.run(EXAMINER, "case", "trust-ca", str(ca.root), "--org", ORG, "--reason", "gốc"))
        _ok(w.run(EXAMINER, "case", "trust-ca", str(w.tsa_dir / "tsa.crt"), "--tsa",
                  "--reason", "TSA"))  # fmt: skip
        src = tmp_path / "ảnh.jpg"
        src.write_bytes(b"\xff\xd8 not really a photo")
        _ok(w.run(AN, "seal", "--item", "ANH-01", str(src)))
        crl = ca.crl()
        _ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(crl)))
        w.stamp()
        _ok(w.verify())
    seal = case_dir / "evidence" / "ANH-01" / "ANH-01.seal.json"
    carried = json.loads(seal.read_text())["examiner"]["certificates"]
    assert len(carried) == 2  # leaf and issuing CA
    _ok(_cli("verify", str(seal), "--trust", str(ca.root), "--crl", str(crl)))
