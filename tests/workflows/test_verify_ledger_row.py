"""`verify ITEM` binds a seal to its ledger event only through an event that verifies.

The attack: an insider re-signs an edited seal and rewrites the ledger row of the item's
`sealed` event to carry the new seal's sha256 (append-only triggers dropped, as anyone with the
file can). The row's signature no longer matches its bytes; `custody verify` says so, and
`verify ITEM` must not take the row's word for it either.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.chain.helpers import raw_db
from tests.seals import resign


def _cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_a_rewritten_ledger_row_does_not_bind_a_resigned_seal(
    case_dir: Path, tmp_path: Path, identity: Identity
) -> None:
    src = tmp_path / "biên bản.txt"
    src.write_bytes("Biên bản thu giữ, bản gốc\n".encode())
    res = _cli("--case", str(case_dir), "seal", str(src), "--item", "IT")
    assert res.exit_code == 0, res.output
    seal = case_dir / "evidence" / "IT" / "IT.seal.json"
    before = hashlib.sha256(seal.read_bytes()).hexdigest()
    resign(seal, identity, {"description": "niêm phong lại"})
    after = hashlib.sha256(seal.read_bytes()).hexdigest()
    with raw_db(case_dir) as db:
        rows = db.execute("SELECT seq, data FROM events WHERE item = 'IT'").fetchall()
        assert len(rows) == 1 and before.encode() in rows[0][1]
        db.execute(
            "UPDATE events SET data = ? WHERE seq = ?",
            (rows[0][1].replace(before.encode(), after.encode()), rows[0][0]),
        )
    res = _cli("--case", str(case_dir), "verify", "IT")
    assert res.exit_code == 3, res.output
    assert f"event {rows[0][0]}" in res.stdout and "does not verify" in res.stdout
    # and the ledger's own check agrees
    assert _cli("--case", str(case_dir), "custody", "verify").exit_code == 3
