"""`--participant` / `--session` on an item-writing command, and the device details of
`custody register`, on the PostgreSQL ledger: the session check before the work reads the
case-level events of that backend, and the events carry what SQLite's do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WITNESS = "role=witness,name=Lê Thị Hoa,cccd=001203004567"


def test_session_and_participants_on_postgresql(pg_case: Path, invoke: Any, tmp_path: Path) -> None:
    c = ("--case", str(pg_case))
    f = tmp_path / "ảnh.jpg"
    f.write_bytes(b"anh")
    assert (
        invoke(*c, "custody", "session", "open", "S1", "--place", "P", "--agency", "A").exit_code
        == 0
    )
    res = invoke(*c, "custody", "register", "HDD01", "--description", "Ổ cứng", "--serial", "Z9",
                 "--capacity", "1TB", "--session", "S1")  # fmt: skip
    assert res.exit_code == 0, res.output
    res = invoke(*c, "seal", str(f), "--item", "F1", "--session", "S1", "--participant", WITNESS)
    assert res.exit_code == 0, res.output
    assert invoke(*c, "custody", "session", "close", "S1").exit_code == 0
    res = invoke(*c, "seal", str(f), "--item", "F2", "--session", "S1")
    assert res.exit_code == 1 and "seizure session 'S1' is closed" in res.output
    doc = json.loads(invoke(*c, "--json", "custody", "log").stdout)
    by = {(e["item"], e["kind"]): e["details"] for e in doc["events"]}
    assert by[("F1", "sealed")]["session"] == "S1"
    assert by[("F1", "sealed")]["participants"][0]["name"] == "Lê Thị Hoa"
    assert by[("HDD01", "registered")]["device"]["capacity"] == 10**12
    assert ("F2", "sealed") not in by
    assert invoke(*c, "custody", "verify").exit_code == 0
