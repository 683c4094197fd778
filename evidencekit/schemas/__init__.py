"""The JSON Schemas (draft 2020-12) of every `--json` document the CLI prints (docs/json.md).

One file per document, named after its schema id (`evidencekit/report-build/1` is
`report-build-1.schema.json`), plus `common.schema.json` with the shared definitions (digests,
sizes, times) the others reference by its `$id`. They ship inside the package so a lab's
script can validate what it reads with any JSON Schema library:

    from evidencekit.schemas import schema_file
    schema = json.loads(schema_file("evidencekit/report-build/1").read_text())
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_DIR = Path(__file__).parent
COMMON_ID = "urn:evidencekit:schema:common"


def schema_file(schema_id: str) -> Path:
    """The schema file of a document whose `schema` field is `schema_id`.

    Raises:
        KeyError: no document has that schema id (the file does not exist).
    """
    parts = schema_id.split("/")
    if len(parts) != 3 or parts[0] != "evidencekit" or not parts[2].isdigit():
        raise KeyError(f"{schema_id!r} is not an evidencekit document schema id")
    path = SCHEMA_DIR / f"{parts[1]}-{parts[2]}.schema.json"
    if not path.is_file():
        raise KeyError(f"no JSON Schema for {schema_id!r} (looked for {path.name})")
    return path


def schema_files() -> list[Path]:
    """Every schema file, `common.schema.json` included, in name order."""
    return sorted(SCHEMA_DIR.glob("*.schema.json"))
