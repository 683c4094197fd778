"""Issue 17 (item 2 of the trust gaps): a report's timestamps are checked against the TSAs the
reader trusts: the case's `tsa` anchors (`report verify --case`) or `--tsa-cert` outside it; a
timestamp from another TSA proves nothing and is a problem (exit 3). A CA-trusted signer given
`--trust ROOT.pem` is then checked at the time the trusted timestamp proves.

Real components: two local RFC 3161 TSAs (`openssl ts`, tests/report/tsa.py), the `openssl`
test CA and its CRL (oracle `openssl verify -crl_check`), pyHanko's PAdES signatures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import EXAMINER
from tests.identity.ca import ORG
from tests.report.tsa import local_tsa
from tests.workflows.ca_world import BINH, World, cli_run, next_second, ok


def _problems(res: Any) -> list[str]:
    return list(json.loads(res.stdout)["problems"])


def _report(w: World, tmp_path: Path, tsa_url: str, name: str) -> Path:
    src = tmp_path / f"{name}.txt"
    src.write_bytes(f"Biên bản {name}\n".encode())
    ok(w.run(BINH, "seal", "--item", name.upper(), str(src)))
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl(f"{name}.crl"))))
    w.stamp()
    pdf = tmp_path / f"{name}.pdf"
    ok(w.run(BINH, "report", "build", "--out", str(pdf), "--tsa", tsa_url, "--level", "B-T"))
    w.stamp()
    return pdf


def test_a_report_timestamped_by_a_tsa_outside_the_anchors_fails(
    world: World, tmp_path: Path
) -> None:
    w = world
    good = _report(w, tmp_path, w.tsa_url, "good")
    res = ok(cli_run("--json", "report", "verify", str(good), "--case", str(w.case)))
    assert any("its TSA is a trusted one" in n for n in json.loads(res.stdout)["notes"])
    with local_tsa(tmp_path / "tsa2") as other_url:
        bad = _report(w, tmp_path, other_url, "bad")
    res = cli_run("--json", "report", "verify", str(bad), "--case", str(w.case))
    assert res.exit_code == 3, res.stdout
    assert any("outside the trusted ones" in p for p in _problems(res)), res.stdout
    # outside the case, the reader names the TSA they trust
    reader = ("--trust", str(w.ca.root), "--trust", str(w.ca.issuing), "--trust-org", ORG)
    crl = ("--crl", str(w.ca.crl("now.crl")))
    trusted_tsa = ("--tsa-cert", str(w.tsa_dir / "tsa.crt"))
    ok(cli_run("report", "verify", str(good), *reader, *crl, *trusted_tsa))
    res = cli_run("--json", "report", "verify", str(bad), *reader, *crl, *trusted_tsa)
    assert res.exit_code == 3 and any("outside the trusted ones" in p for p in _problems(res))
    res = cli_run(
        "--json", "report", "verify", str(bad), *reader, *crl,
        "--tsa-cert", str(tmp_path / "tsa2" / "tsa.crt"),
    )  # fmt: skip
    assert res.exit_code == 0, res.stdout


def test_a_ca_signer_is_checked_at_the_time_its_trusted_timestamp_proves(
    world: World, tmp_path: Path
) -> None:
    """Signed and timestamped before the revocation: with the TSA trusted, the newer CRL does
    not touch it; with the timestamp not trusted, nothing proves the time and it fails."""
    w = world
    pdf = _report(w, tmp_path, w.tsa_url, "early")
    next_second()
    w.ca.revoke(w.binh)
    after = w.ca.crl("after.crl")
    assert not w.ca.openssl_verify(w.binh, crl=after)
    reader = ("--trust", str(w.ca.root), "--trust", str(w.ca.issuing), "--crl", str(after))
    ok(cli_run("report", "verify", str(pdf), *reader, "--tsa-cert", str(w.tsa_dir / "tsa.crt")))
    with local_tsa(tmp_path / "tsa3"):
        pass
    res = cli_run(
        "--json", "report", "verify", str(pdf), *reader,
        "--tsa-cert", str(tmp_path / "tsa3" / "tsa.crt"),
    )  # fmt: skip
    assert res.exit_code == 3
    problems = _problems(res)
    assert any("outside the trusted ones" in p for p in problems), problems
    assert any("revoked at" in p and "nothing proves" in p for p in problems), problems


def test_the_crl_in_the_reports_dss_serves_a_reader_offline(world: World, tmp_path: Path) -> None:
    """A B-LT report carries the issuing CA's CRL in its DSS: a reader with only the root
    (and the TSA) validates the CA-issued signer with it; a B-T report without it cannot."""
    w = world
    src = tmp_path / "dss.txt"
    src.write_bytes("Biên bản DSS\n".encode())
    ok(w.run(BINH, "seal", "--item", "DSS-01", str(src)))
    crl = w.ca.crl("dss.crl")
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(crl)))
    w.stamp()
    lt = tmp_path / "lt.pdf"
    ok(w.run(BINH, "report", "build", "--out", str(lt), "--tsa", w.tsa_url, "--level", "B-LT",
             "--cert", str(w.ca.issuing), "--cert", str(w.ca.root), "--crl", str(crl)))  # fmt: skip
    w.stamp()  # the report_issued event: proven before the next report is built
    bt = tmp_path / "bt.pdf"
    ok(w.run(BINH, "report", "build", "--out", str(bt), "--tsa", w.tsa_url, "--level", "B-T"))
    assert w.ca.openssl_verify(w.binh, crl=crl)
    reader = ("--trust", str(w.ca.root), "--trust", str(w.ca.issuing))
    tsa = ("--tsa-cert", str(w.tsa_dir / "tsa.crt"))
    ok(cli_run("report", "verify", str(lt), *reader, *tsa))
    res = cli_run("--json", "report", "verify", str(bt), *reader, *tsa)
    assert res.exit_code == 3 and any("revocation" in p for p in _problems(res)), res.stdout
