"""Checks every `--json` document the test suite sees against its JSON Schema (docs/json.md).

In-process runs are checked by the autouse fixture in tests/conftest.py, which wraps
`evidencekit.cli.runtime.json_text` (the one place a document becomes text); subprocess runs
call `check_stdout` from their helpers. A document whose schema id has no file fails too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from evidencekit.schemas import schema_file, schema_files


@cache
def registry() -> Registry[Any]:
    resources = []
    for path in schema_files():
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents, DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def validator(schema_id: str) -> Draft202012Validator:
    schema = json.loads(schema_file(schema_id).read_text(encoding="utf-8"))
    return Draft202012Validator(
        schema, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def problems(doc: Any) -> list[str]:
    """Every way `doc` breaks its schema (empty when it validates)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("schema"), str):
        return [f"not an evidencekit document (no 'schema' string): {str(doc)[:200]}"]
    try:
        check = validator(doc["schema"])
    except KeyError as exc:
        return [str(exc)]
    return [
        f"{doc['schema']}: at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in check.iter_errors(doc)
    ]


def check_document(doc: Any) -> None:
    """Raise AssertionError naming every problem of `doc`."""
    found = problems(doc)
    assert not found, "JSON contract broken:\n" + "\n".join(found)


def check_stdout(args: Sequence[str], stdout: str | bytes) -> None:
    """For a subprocess run of the CLI: with `--json`, stdout (when not empty) is one document
    that validates against its schema."""
    if "--json" not in args:
        return
    text = stdout.decode("utf-8") if isinstance(stdout, bytes) else stdout
    if text.strip():
        check_document(json.loads(text))
