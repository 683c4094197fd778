"""One digest shape in every `--json` document (issue 18, docs/json.md "Encodings").

Walks every schema shipped in evidencekit/schemas/ and fails when a digest-like property uses
another shape than `{algorithm: lowercase hex}` (the common `digest_map_hex`): a `digests`
property that is not that map, an algorithm-named property (`md5`, `sha256`, `seal_sha256` …)
whose value may carry an `algorithm:` prefix, or any `algorithm:hex` value pattern outside the
few identifiers listed (with their reason) in `PREFIXED_ALLOWED`. The oracle is the schema
text itself plus `jsonschema` (the same validator the suite-wide json_contract fixture uses).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from evidencekit.schemas import schema_files
from tests.json_contract import registry

COMMON = "urn:evidencekit:schema:common#/$defs/"
MAP_REF = COMMON + "digest_map_hex"
PREFIXED_REF = COMMON + "prefixed_digest"
ALGORITHMS = ("md5", "sha1", "sha256", "sha512", "blake3")
# a value pattern that admits "algorithm:hex"
_PREFIX_PATTERN = re.compile(r"(md5|sha1|sha256|sha512|blake3|\[a-z0-9\]\+):")

# (schema file, property): single identifiers compared as text, not digest maps
PREFIXED_ALLOWED = {
    # the case identity is "sha256:hex" wherever it is written (seals, events, witness notes)
    ("case-1.schema.json", "identity"),
    ("custody-witness-1.schema.json", "case_identity"),
    ("custody-witness-check-1.schema.json", "case_identity"),
    # a verify problem's `expected` is a value of several kinds (size, fingerprint, digest)
    ("verify-1.schema.json", "expected"),
}


def _walk(node: Any, prop: str | None, where: str) -> Iterator[tuple[str | None, str, Any]]:
    """(nearest enclosing property name, JSON pointer, subschema) for every schema object."""
    if isinstance(node, dict):
        yield prop, where, node
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _walk(sub, name, f"{where}/properties/{name}")
            else:
                yield from _walk(value, prop, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, prop, f"{where}/{i}")


def _alternatives(sub: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a property's schema (`anyOf: [X, null]` gives [X])."""
    alts = sub.get("anyOf") or sub.get("oneOf") or [sub]
    return [a for a in alts if a != {"type": "null"}]


def _digest_like(name: str) -> bool:
    return name in ALGORITHMS or name.endswith(tuple("_" + a for a in ALGORITHMS))


def shape_problems(file_name: str, schema: dict[str, Any]) -> list[str]:
    """Every digest-like property of `schema` whose shape is not the one shape."""
    out: list[str] = []
    for prop, where, node in _walk(schema, None, ""):
        at = f"{file_name}#{where}"
        if where.endswith(f"/properties/{prop}") and prop is not None:
            alts = _alternatives(node)
            if prop == "digests" and not all(a == {"$ref": MAP_REF} for a in alts):
                out.append(f"{at}: `digests` must be {{algorithm: hex}} ($ref digest_map_hex)")
            if _digest_like(prop) and any(
                a.get("$ref") == PREFIXED_REF or a.get("type") == "array" for a in alts
            ):
                out.append(f"{at}: {prop!r} must be plain lowercase hex")
        allowed = (file_name, prop) in PREFIXED_ALLOWED
        if node.get("$ref") == PREFIXED_REF and not allowed:
            out.append(f"{at}: an 'algorithm:hex' value; use {{algorithm: hex}}")
        pattern = node.get("pattern")
        # the one definition of an 'algorithm:hex' identifier, referenced only where allowed
        the_definition = file_name == "common.schema.json" and where.endswith("/prefixed_digest")
        prefixed = isinstance(pattern, str) and _PREFIX_PATTERN.search(pattern) is not None
        if prefixed and not (allowed or the_definition):
            out.append(f"{at}: pattern {pattern!r} admits an 'algorithm:' prefix")
    return out


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_every_schema_uses_one_digest_shape(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert shape_problems(path.name, schema) == []


def test_the_documents_that_changed_shape_are_version_2() -> None:
    names = {p.name for p in schema_files()}
    for doc in ("acquire-disk", "acquire-files", "seal"):
        assert f"{doc}-2.schema.json" in names
        assert f"{doc}-1.schema.json" not in names  # nothing emits /1 any more


def test_the_walker_flags_each_other_shape() -> None:
    """The check above can fail: each of the three old shapes is caught."""
    prefixed_map = {
        "type": "object",
        "properties": {"md5": {"type": "string", "pattern": "^md5:[0-9a-f]{32}$"}},
    }
    as_list = {"type": "array", "items": {"$ref": PREFIXED_REF}}
    for bad_digests in (prefixed_map, as_list, {"$ref": COMMON + "digest_map"}):
        schema = {"properties": {"digests": {"anyOf": [bad_digests, {"type": "null"}]}}}
        assert shape_problems("x.schema.json", schema), bad_digests
    single = {"properties": {"seal_sha256": {"$ref": PREFIXED_REF}}}
    assert shape_problems("x.schema.json", single)
    # an allowed identifier is allowed only in its own schema
    ident = {"properties": {"case_identity": {"$ref": PREFIXED_REF}}}
    assert shape_problems("x.schema.json", ident)
    assert not shape_problems("custody-witness-1.schema.json", ident)
    good = {"properties": {"digests": {"anyOf": [{"$ref": MAP_REF}, {"type": "null"}]}}}
    assert shape_problems("x.schema.json", good) == []


def test_the_digest_map_admits_only_algorithm_to_hex() -> None:
    check = Draft202012Validator({"$ref": MAP_REF}, registry=registry())
    md5 = "9289d569f7b669b1e7f7bf97e3594330"
    assert check.is_valid({"md5": md5})
    assert not check.is_valid({"md5": "md5:" + md5})
    assert not check.is_valid({"md5": md5.upper()})
    assert not check.is_valid({"sha256": md5})  # wrong length for the algorithm
    assert not check.is_valid({"crc32": "deadbeef"})
    assert not check.is_valid(["md5:" + md5])
