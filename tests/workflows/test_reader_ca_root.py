"""Issue 13/17: a reader's own CA root (`--trust ROOT.pem`, with `--trust-org/-ou/-policy/-eku`,
`--crl`, `--ocsp-response`: one option group) works for `custody verify`, `custody witness
check` and `report verify` as it does for `verify`: each signer whose chain goes to the root is
checked at the time a timestamp proves, else at the time it states, and then any revocation
the given data shows fails it.

The case of the world fixture keeps a CRL issued *before* Bình's certificate is revoked, so the
case itself does not know of the revocation; the reader brings the newer CRL. Oracle: `openssl
verify -crl_check` agrees that Bình is good by the first CRL and revoked by the second.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import EXAMINER
from tests.identity.ca import ORG
from tests.workflows.ca_world import AN, BINH, World, cli_run, next_second, ok, problems


def _revoked_unknown_to_the_case(w: World) -> tuple[int, int, Path, Path]:
    """Bình signs event A (proven by a timestamp), is revoked by the CA, signs event B (proven
    too); the case stores only the CRL from before. Returns (A, B, CRL before, CRL after)."""
    before = w.ca.crl("before.crl")
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(before)))
    ok(w.run(BINH, "custody", "note", "-", "trước khi thu hồi"))
    w.stamp()
    next_second()
    w.ca.revoke(w.binh)
    after = w.ca.crl("after.crl")
    next_second()
    ok(w.run(BINH, "custody", "note", "-", "sau khi thu hồi"))
    w.stamp()
    assert w.ca.openssl_verify(w.binh, crl=before)
    assert not w.ca.openssl_verify(w.binh, crl=after)
    log = ok(cli_run("--json", "--case", str(w.case), "custody", "log"))
    notes = {e["note"]: e["seq"] for e in json.loads(log.stdout)["events"] if e.get("note")}
    return notes["trước khi thu hồi"], notes["sau khi thu hồi"], before, after


def _reader(w: World, *extra: str) -> tuple[str, ...]:
    return ("--trust", str(w.ca.root), "--trust", str(w.ca.issuing), *extra)


def test_custody_verify_checks_signers_against_the_readers_root(world: World) -> None:
    w = world
    a, b, before, after = _revoked_unknown_to_the_case(w)
    case = ("--json", "--case", str(w.case), "custody", "verify")
    ok(cli_run(*case))  # the case does not know of the revocation
    ok(cli_run(*case, *_reader(w, "--crl", str(before), "--trust-org", ORG)))
    res = cli_run(*case, *_reader(w, "--crl", str(after)))
    assert res.exit_code == 3, res.stdout
    revoked = [p for p in problems(res) if p["kind"] == "revoked-certificate"]
    # only the event signed after the revocation: the timestamps prove A came before it
    assert [p["seq"] for p in revoked] == [b], res.stdout
    assert BINH in revoked[0]["message"] and "compromised key" in revoked[0]["message"]
    assert not [p for p in problems(res) if p.get("seq") == a]
    # the limits given with the root apply
    res = cli_run(*case, *_reader(w, "--crl", str(before), "--trust-org", "Công ty Khác"))
    assert res.exit_code == 3
    assert any(
        p["kind"] == "chain-invalid" and "subject O" in p["message"] for p in problems(res)
    ), res.stdout
    # without data of the reader's own, the CRL the case keeps is used (it predates the
    # revocation: the case does not know, nor does this reader)
    ok(cli_run(*case, *_reader(w)))


def test_a_witness_copy_by_a_pinned_ca_issued_examiner_then_revoked(
    world: World, tmp_path: Path
) -> None:
    """An is pinned directly (`case add-examiner`) though the CA issued the certificate: the
    case knows no CA revocation for a pinned examiner, the reader with the root and a newer
    CRL does, and nothing proves when the copy was exported."""
    w = world
    ok(w.run(EXAMINER, "case", "add-examiner", str(w.an)))
    ok(w.run(AN, "custody", "note", "-", "An, được ghim trực tiếp"))
    before = w.ca.crl("before.crl")
    kept = tmp_path / "witness.json"
    ok(w.run(AN, "custody", "witness", "--out", str(kept)))
    check = ("--case", str(w.case), "custody", "witness", "check", str(kept))
    ok(cli_run(*check))
    ok(cli_run(*check, *_reader(w, "--crl", str(before))))
    next_second()
    w.ca.revoke(w.an)
    after = w.ca.crl("after.crl")
    assert w.ca.openssl_verify(w.an, crl=before) and not w.ca.openssl_verify(w.an, crl=after)
    ok(cli_run(*check))  # the case does not know
    res = cli_run(*check, *_reader(w, "--crl", str(after)))
    assert res.exit_code == 3, (res.stdout, res.stderr)
    assert "revoked at" in res.stderr and "nothing proves" in res.stderr, res.stderr
    assert AN in res.stderr
    # custody verify with the same reader data names An's events (none is proven before)
    res = cli_run(
        "--json", "--case", str(w.case), "custody", "verify", *_reader(w, "--crl", str(after))
    )
    assert res.exit_code == 3
    revoked = [p for p in problems(res) if p["kind"] == "revoked-certificate"]
    assert revoked and all(AN in p["message"] for p in revoked), res.stdout


def test_report_verify_trusts_a_signer_through_the_readers_root(
    world: World, tmp_path: Path
) -> None:
    w = world
    src = tmp_path / "biên bản.txt"
    src.write_bytes("Biên bản thu giữ\n".encode())
    ok(w.run(BINH, "seal", "--item", "BB-01", str(src)))
    before = w.ca.crl("before.crl")
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(before)))
    w.stamp()
    pdf = tmp_path / "report.pdf"
    ok(w.run(BINH, "report", "build", "--out", str(pdf)))
    outside = ("--json", "report", "verify", str(pdf))
    # a root alone was "unknown signer" before: the root is not the signer's certificate
    ok(cli_run(*outside, *_reader(w, "--crl", str(before), "--trust-org", ORG)))
    res = cli_run(*outside, *_reader(w, "--crl", str(before), "--trust-org", "Công ty Khác"))
    assert res.exit_code == 3 and "subject O" in res.stdout, res.stdout
    # a self-signed certificate is not under the root: still unknown
    res = cli_run(*outside, "--trust", str(w.tsa_dir / "tsa.crt"))
    assert res.exit_code == 3 and "unknown signer" in res.stdout
    next_second()
    w.ca.revoke(w.binh)
    after = w.ca.crl("after.crl")
    assert not w.ca.openssl_verify(w.binh, crl=after)
    res = cli_run(*outside, *_reader(w, "--crl", str(after)))
    assert res.exit_code == 3, res.stdout
    found: Any = json.loads(res.stdout)["problems"]
    assert any("revoked at" in p and "compromised key" in p for p in found), found


def test_a_seal_outside_the_case_says_what_a_pinned_signer_cannot_show(
    world: World, tmp_path: Path
) -> None:
    """Item 4: a seal checked outside the case against a pinned examiner certificate cannot
    know of that examiner's revocation in the ledger: `verify --json` says so in a note; the
    same seal inside the case shows the revocation."""
    w = world
    src = tmp_path / "ảnh.jpg"
    src.write_bytes(b"\xff\xd8 not really a photo")
    ok(w.run(EXAMINER, "seal", "--item", "ANH-01", str(src)))
    seal = w.case / "evidence" / "ANH-01" / "ANH-01.seal.json"
    cert = tmp_path / "examiner.pem"
    ok(cli_run("--identity", EXAMINER, "keys", "export-cert", "--out", str(cert)))
    res = ok(cli_run("--json", "verify", str(seal), "--trust", str(cert)))
    notes = json.loads(res.stdout)["items"][0]["notes"]
    assert any("cannot know" in n and "revocation" in n for n in notes), notes
    # a signer checked through the reader's CA gets no such note (its revocation is checked)
    b_src = tmp_path / "b.txt"
    b_src.write_bytes(b"B")
    ok(w.run(BINH, "seal", "--item", "B-01", str(b_src)))
    b_seal = w.case / "evidence" / "B-01" / "B-01.seal.json"
    res = ok(cli_run("--json", "verify", str(b_seal), *_reader(w, "--crl", str(w.ca.crl()))))
    assert not any("cannot know" in n for n in json.loads(res.stdout)["items"][0]["notes"])
