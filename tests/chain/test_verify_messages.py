"""Issue 14, item 11: what a tampered ledger holds is shown escaped in `custody verify`, never
sent to the terminal as control or escape sequences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.identity import Identity
from tests.chain.helpers import populate, raw_db, second_examiner

ESC = "\x1b"


@pytest.fixture
def ledger_case(case_dir: Path, identity: Identity, ek_home: Path) -> Path:
    case = Case.open(case_dir)
    populate(case, identity, second_examiner(ek_home, case))
    return case_dir


@pytest.mark.parametrize(
    "sql",
    [
        # bytes where the item id belongs
        "UPDATE events SET item = x'1b5b324a48444430319b' WHERE seq = 1",
        # a terminal escape sequence in the item column, as text
        "UPDATE events SET item = char(27) || '[2J' || char(155) WHERE seq = 2",
        # and in the signer column, which the unknown-signer message quotes
        "UPDATE events SET signer = char(27) || ']0;pwned' || char(7) || 'abcdef0123' "
        "WHERE seq = 3",
        # inside the signed bytes (JSON-escaped, so it parses): the chain check quotes prev
        'UPDATE events SET data = CAST(replace(data, \'"prev":"\', \'"prev":"\\u001b[31m\') '
        "AS BLOB) WHERE seq = 2",
    ],
)
def test_tampered_text_is_escaped(ledger_case: Path, invoke: Any, sql: str) -> None:
    with raw_db(ledger_case) as db:
        db.execute(sql)
    res = invoke("--case", str(ledger_case), "custody", "verify")
    assert res.exit_code == 3
    shown = res.stdout
    assert "does NOT verify" in shown
    assert ESC not in shown and "\x9b" not in shown and "\x07" not in shown, shown
    if "signer" in sql or "prev" in sql:  # the tampered text is quoted: escaped
        assert "\\x1b" in shown, shown
    # the JSON document is valid and carries text, not bytes reprs of Python objects
    res = invoke("--json", "--case", str(ledger_case), "custody", "verify")
    doc = json.loads(res.stdout)
    assert all(isinstance(p["item"], str | None) for p in doc["problems"])
