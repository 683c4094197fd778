"""Issue 17, the limit the last session left: a reader who checks a case's signers against
their own CA root (`custody verify --trust ROOT.pem --crl NEWER.crl`) and also names the
timestamp authority they trust (`--tsa-cert TSA.pem`) gets the time those timestamps prove,
even when the case itself trusts no TSA (no `case trust-ca --tsa` anchor).

Bình's certificate comes from the test CA and is pinned directly (`case add-examiner`), so the
case knows nothing of CA revocation. She signs A, a timestamp covers it, the CA revokes her,
she signs B, a timestamp covers it. With the reader's root and the newer CRL:
- without `--tsa-cert` nothing proves when A or B were signed: both are problems;
- with `--tsa-cert` the timestamps prove A came before the revocation: only B is.
Real components: the `openssl` CA (tests/identity/ca.py; `openssl verify -crl_check` is the
oracle of revoked-or-not), the local `openssl ts` TSA (tests/report/tsa.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMINER, need_peer
from tests.identity.ca import make_ca
from tests.report.tsa import local_tsa
from tests.workflows.ca_world import BINH, cli_run, next_second, ok, problems


def test_the_readers_tsa_proves_when_a_revoked_signer_signed(
    case_dir: Path, tmp_path: Path
) -> None:
    need_peer("openssl")
    ca = make_ca(tmp_path / "ca")
    binh, _ = ca.issue("binh", cn=BINH)
    ok(cli_run("keys", "import", str(ca.p12("binh"))))

    def run(who: str, *args: str) -> object:
        return cli_run("--case", str(case_dir), "--identity", who, *args)

    ok(run(EXAMINER, "case", "add-examiner", str(binh)))
    with local_tsa(tmp_path / "tsa") as url:
        tsa_cert = tmp_path / "tsa" / "tsa.crt"
        ok(run(BINH, "custody", "note", "-", "trước khi thu hồi"))
        ok(run(EXAMINER, "custody", "timestamp", "--tsa", url))
        next_second()
        ca.revoke(binh)
        after = ca.crl("after.crl")
        next_second()
        ok(run(BINH, "custody", "note", "-", "sau khi thu hồi"))
        ok(run(EXAMINER, "custody", "timestamp", "--tsa", url))
    assert not ca.openssl_verify(binh, crl=after)
    log = ok(cli_run("--json", "--case", str(case_dir), "custody", "log"))
    notes = {e["note"]: e["seq"] for e in json.loads(log.stdout)["events"] if e.get("note")}
    a, b = notes["trước khi thu hồi"], notes["sau khi thu hồi"]

    verify = ("--json", "--case", str(case_dir), "custody", "verify")
    reader = ("--trust", str(ca.root), "--trust", str(ca.issuing), "--crl", str(after))
    ok(cli_run(*verify, "--tsa-cert", str(tsa_cert)))  # the case alone knows no revocation

    res = cli_run(*verify, *reader)
    assert res.exit_code == 3, res.stdout
    revoked = {p["seq"] for p in problems(res) if p["kind"] == "revoked-certificate"}
    assert {a, b} <= revoked, res.stdout  # nothing proves A came before the revocation

    res = cli_run(*verify, *reader, "--tsa-cert", str(tsa_cert))
    assert res.exit_code == 3, res.stdout
    revoked = {p["seq"] for p in problems(res) if p["kind"] == "revoked-certificate"}
    assert b in revoked and a not in revoked, res.stdout
    assert not [p for p in problems(res) if p.get("seq") == a], res.stdout

    # a TSA certificate that did not sign the timestamps proves nothing
    other = make_ca(tmp_path / "other-ca")
    res = cli_run(*verify, *reader, "--tsa-cert", str(other.root))
    assert res.exit_code == 3
    revoked = {p["seq"] for p in problems(res) if p["kind"] == "revoked-certificate"}
    assert {a, b} <= revoked, res.stdout
