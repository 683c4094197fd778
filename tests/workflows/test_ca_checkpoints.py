"""Issue 17 (item 3 of the trust gaps): a checkpoint signed by an examiner trusted through a CA
anchor is checked at a proven time, like an event: its own timestamp when one is over it.

Real components: the `openssl` test CA (tests/identity/ca.py), its CRL, the local RFC 3161 TSA;
oracle `openssl verify -crl_check`.
"""

from __future__ import annotations

from typing import Any

from evidencekit.case import Case
from evidencekit.workflows.custody import open_ledger
from evidencekit.workflows.trust import case_trust, note_signers
from tests.conftest import EXAMINER
from tests.workflows.ca_world import BINH, World, next_second, ok, problems


def _checkpoint_problems(res: Any) -> list[dict[str, Any]]:
    return [p for p in problems(res) if "checkpoint of" in p["message"]]


def test_a_checkpoint_signed_after_the_revocation_is_named(world: World) -> None:
    w = world
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl("before.crl"))))
    ok(w.run(BINH, "custody", "note", "-", "trước khi thu hồi"))
    w.stamp()  # over the checkpoint Bình signed with that note: proven before the revocation
    next_second()
    w.ca.revoke(w.binh)
    next_second()
    ok(w.run(BINH, "custody", "note", "-", "sau khi thu hồi"))
    w.stamp()  # over the checkpoint Bình signed after the revocation
    after = w.ca.crl("after.crl")
    assert not w.ca.openssl_verify(w.binh, crl=after)
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(after)))
    w.stamp()
    case = Case.open(w.case)
    binh = next(c.fingerprint for c in case_trust(case).chained if c.name == BINH)
    with open_ledger(case) as ledger:
        by_binh = [cp.tree_size for cp in ledger.checkpoints() if binh in note_signers(cp.note)]
    assert len(by_binh) == 2, by_binh
    res = w.verify()
    assert res.exit_code == 3
    found = _checkpoint_problems(res)
    # exactly the one signed after the revocation, proven by its own timestamp
    assert [p["kind"] for p in found] == ["revoked-certificate"], res.stdout
    assert f"checkpoint of {by_binh[1]} events" in found[0]["message"]
    assert "its own timestamp" in found[0]["message"] and "compromised key" in found[0]["message"]


def test_checkpoints_of_a_valid_ca_examiner_hold(world: World) -> None:
    w = world
    ok(w.run(BINH, "custody", "note", "-", "ghi chú"))
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl())))
    w.stamp()
    res = w.verify()
    assert res.exit_code == 0, res.stdout
    assert not _checkpoint_problems(res)
