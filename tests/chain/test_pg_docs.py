"""docs/postgresql.md shows the DBA exactly the SQL the code expects (chain.pg_store.schema_sql)."""

from __future__ import annotations

from pathlib import Path

from evidencekit.chain.pg_store import schema_sql

DOC = Path(__file__).resolve().parents[2] / "docs" / "postgresql.md"


def test_documented_schema_is_the_code_schema() -> None:
    text = DOC.read_text("utf-8")
    blocks = [b.split("\n", 1)[1] for b in text.split("```sql")[1:]]
    shown = [b[: b.index("```")] for b in blocks]
    assert schema_sql() in shown
