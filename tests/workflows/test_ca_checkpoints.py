"""Issue 17 (item 3 of the trust gaps): a checkpoint signed by an examiner trusted through a CA
anchor is checked at a proven time, like an event: its own timestamp when one is over it.

Real components: the `openssl` test CA (tests/identity/ca.py), its CRL, the local RFC 3161 TSA;
oracle `openssl verify -crl_check`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import Checkpoint, sign_checkpoint
from evidencekit.identity import IdentityStore
from evidencekit.workflows.custody import open_ledger
from tests.conftest import EXAMINER, PASSPHRASE
from tests.workflows.ca_world import BINH, World, next_second, ok, problems


def _checkpoint_problems(res: Any) -> list[dict[str, Any]]:
    return [p for p in problems(res) if "checkpoint of" in p["message"]]


def test_a_checkpoint_signed_after_the_revocation_is_named(world: World, ek_home: Path) -> None:
    """Bình, revoked by the CA, signs a checkpoint over the case's tree (past the tool: every
    event stays valid) and a colleague's `custody timestamp` stamps it: its own timestamp is
    after the revocation, so it is named."""
    w = world
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl("before.crl"))))
    ok(w.run(BINH, "custody", "note", "-", "trước khi thu hồi"))
    w.stamp()
    next_second()
    w.ca.revoke(w.binh)
    next_second()
    after = w.ca.crl("after.crl")
    assert not w.ca.openssl_verify(w.binh, crl=after)
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(after)))
    # the insider, with Bình's key and write access: a checkpoint over the current tree
    case = Case.open(w.case)
    binh = IdentityStore(ek_home).load(BINH, lambda _info: PASSPHRASE.encode())
    with open_ledger(case) as ledger:
        size, origin = ledger.size(), ledger.origin
        root = merkle.root(ledger.node, size)
    note = sign_checkpoint(Checkpoint(origin, size, root), binh)
    with sqlite3.connect(case.ledger_path) as db:
        db.execute(
            "INSERT INTO checkpoints (tree_size, root, signer, created, note) VALUES (?,?,?,?,?)",
            (size, root, binh.fingerprint, "2026-01-01T00:00:00Z", note),
        )
    w.stamp()  # over the latest checkpoint: Bình's
    res = w.verify()
    assert res.exit_code == 3, res.stdout
    found = _checkpoint_problems(res)
    assert [p["kind"] for p in found] == ["revoked-certificate"], res.stdout
    assert f"checkpoint of {size} events" in found[0]["message"]
    assert "its own timestamp" in found[0]["message"] and "compromised key" in found[0]["message"]
    assert BINH in found[0]["message"]
    # every event holds: only the checkpoint is named
    assert [p for p in problems(res) if p.get("seq") is not None] == [], res.stdout


def test_checkpoints_of_a_valid_ca_examiner_hold(world: World) -> None:
    w = world
    ok(w.run(BINH, "custody", "note", "-", "ghi chú"))
    ok(w.run(EXAMINER, "case", "add-revocation", "--crl", str(w.ca.crl())))
    w.stamp()
    res = w.verify()
    assert res.exit_code == 0, res.stdout
    assert not _checkpoint_problems(res)
