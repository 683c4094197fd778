"""Participants: the one schema for a person or body a custody record names (issue 13's parties,
issue 16's participants of a Biên bản).

A participant has a display name, a role, and either a key — then they are a pinned examiner,
bound by the SHA-256 fingerprint of their certificate — or no key, and then an identity document
tells them apart: Vietnamese names coincide often, so two keyless people may share a name, and
the log shows the document beside it. A keyless party is never bound by name alone: nobody's
signature can stand for them, and no examiner pinned later under that name inherits them.

In a signed event a participant is a JSON object. Events written before participants existed
carry `{"name", "fingerprint"}` only (the *legacy* form, still read and re-encoded byte for
byte); a participant record carries all of::

    {"name": "Nguyễn Văn An", "fingerprint": null, "role": "witness", "holds_key": false,
     "document": {"type": "cccd", "number": "001203004567"}}

(`fingerprint` set and `document` null when `holds_key` is true), and, optionally, the
details a Vietnamese record carries: `year_of_birth` (a number), `address`, `unit` (texts).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evidencekit.errors import UsageError

ROLES: dict[str, tuple[str, str]] = {
    "investigator": ("điều tra viên", "investigator"),
    "officer": ("cán bộ điều tra", "investigating officer"),
    "examiner": ("giám định viên", "forensic examiner"),
    "specialist": ("người có chuyên môn", "specialist"),
    "clerk": ("thư ký", "clerk"),
    "witness": ("người chứng kiến", "witness"),
    "owner": ("người có phương tiện / chủ sở hữu", "owner"),
    "prosecutor": ("kiểm sát viên", "prosecutor"),
    "court": ("toà án", "court"),
    "defence": ("người bào chữa", "defence"),
    "receiver": ("người nhận", "receiver"),
}
"""Role -> (Vietnamese, English) label."""

DOCUMENTS: dict[str, tuple[str, str]] = {
    "cccd": ("CCCD", "citizen ID"),
    "cmnd": ("CMND", "old identity card"),
    "passport": ("hộ chiếu", "passport"),
    "other": ("giấy tờ", "document"),
}
"""Identity document kinds -> (Vietnamese, English) label. `cccd` (căn cước công dân / căn
cước) is 12 digits, `cmnd` 9 digits; `passport` 5-20 letters and digits; `other` any short text
(a unit's decision number for a court or agency)."""

LEGACY_KEYS = frozenset({"name", "fingerprint"})
KEYS = frozenset({"name", "fingerprint", "role", "holds_key", "document"})
OPTIONAL_KEYS = frozenset({"year_of_birth", "address", "unit"})
_FP = re.compile(r"^[0-9a-f]{64}$")
_PATTERNS = {
    "cccd": re.compile(r"^[0-9]{12}$"),
    "cmnd": re.compile(r"^[0-9]{9}$"),
    "passport": re.compile(r"^[A-Z0-9]{5,20}$"),
}
MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class Party:
    """A person or body in an event: the actor (always a pinned examiner) or a counterpart.

    `holds_key` None is the legacy form (name and fingerprint only).
    """

    name: str
    fingerprint: str | None = None
    role: str | None = None
    holds_key: bool | None = None
    document_type: str | None = None
    document_number: str | None = None
    year_of_birth: int | None = None
    address: str | None = None
    unit: str | None = None

    @property
    def legacy(self) -> bool:
        return self.holds_key is None

    @property
    def keyless(self) -> bool:
        """True for a party who holds no key (recorded so, or a legacy one without fingerprint)."""
        return self.fingerprint is None

    def to_dict(self) -> dict[str, object]:
        if self.legacy:
            return {"name": self.name, "fingerprint": self.fingerprint}
        doc = (
            None
            if self.document_type is None
            else {"type": self.document_type, "number": self.document_number}
        )
        out: dict[str, object] = {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "role": self.role,
            "holds_key": self.holds_key,
            "document": doc,
        }
        for key in ("year_of_birth", "address", "unit"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def describe(self, lang: str = "en") -> str:
        """How logs and reports name them: the name, the role, and what tells them apart (the
        fingerprint's start, or "holds no key" and the document)."""
        i = 0 if lang == "vi" else 1
        parts = [self.name]
        if self.role is not None:
            parts.append(ROLES.get(self.role, (self.role, self.role))[i])
        if self.fingerprint is not None:
            parts.append(f"sha256:{self.fingerprint[:16]}")
        else:
            parts.append("không giữ khoá" if lang == "vi" else "holds no key")
            if self.document_type is not None:
                label = DOCUMENTS.get(self.document_type, (self.document_type,) * 2)[i]
                parts.append(f"{label} {self.document_number}")
        return parts[0] + " (" + ", ".join(parts[1:]) + ")"

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Party:
        """Read a participant object of a signed event (no validation: `problem` does that)."""
        if "holds_key" not in doc:
            return cls(str(doc["name"]), doc.get("fingerprint"))
        d = doc.get("document")
        return cls(
            str(doc["name"]),
            doc.get("fingerprint"),
            doc.get("role"),
            bool(doc.get("holds_key")),
            None if not isinstance(d, dict) else d.get("type"),
            None if not isinstance(d, dict) else d.get("number"),
            doc.get("year_of_birth"),
            doc.get("address"),
            doc.get("unit"),
        )


def problem(doc: Any) -> str | None:
    """What is wrong with a participant object as stored in an event, or None."""
    if not isinstance(doc, dict):
        return "a participant is not an object"
    keys = doc.keys()
    if keys == LEGACY_KEYS:
        ok = isinstance(doc["name"], str) and (
            doc["fingerprint"] is None or isinstance(doc["fingerprint"], str)
        )
        return None if ok else "a participant's name or fingerprint has the wrong type"
    if not keys >= KEYS or not keys - KEYS <= OPTIONAL_KEYS:
        return f"a participant has the fields {sorted(keys)}"
    year = doc.get("year_of_birth")
    if year is not None and (type(year) is not int or not 1900 <= year <= 2100):
        return f"a participant's year of birth {year!r} is not a year"
    for key in ("address", "unit"):
        value = doc.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            return f"a participant's {key} is not a short text"
    try:
        check(
            doc["name"],
            role=doc["role"],
            fingerprint=doc["fingerprint"],
            holds_key=doc["holds_key"],
            document=doc["document"],
        )
    except UsageError as exc:
        return exc.message
    return None


def check(name: Any, *, role: Any, fingerprint: Any, holds_key: Any, document: Any) -> None:
    """The participant rules: a name (NFC, no control characters), a known role (or none, for
    an examiner), a key holder with a fingerprint and no document, a keyless party with a
    document and no fingerprint.

    Raises:
        UsageError: one of them is broken.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_TEXT:
        raise UsageError("a participant needs a name (at most 200 characters)")
    if unicodedata.normalize("NFC", name) != name:
        raise UsageError(f"the participant's name {name!r} is not in NFC form")
    if role is not None and role not in ROLES:
        raise UsageError(f"unknown participant role {role!r}", hint="one of: " + ", ".join(ROLES))
    if holds_key is True:
        if not isinstance(fingerprint, str) or not _FP.match(fingerprint) or document is not None:
            raise UsageError(
                f"participant {name!r} holds a key: they are named by certificate fingerprint, "
                "without a document"
            )
        return
    if holds_key is not False or fingerprint is not None:
        raise UsageError(f"participant {name!r}: holds_key must be true or false")
    if role is None:
        raise UsageError(f"participant {name!r} holds no key: their role must be given")
    if not isinstance(document, dict) or document.keys() != {"type", "number"}:
        raise UsageError(
            f"participant {name!r} holds no key: an identity document must tell them apart "
            "(e.g. cccd:001203004567)"
        )
    check_document(str(document["type"]), document["number"])


def check_document(kind: str, number: Any) -> None:
    """Raises UsageError unless `number` is a valid document number of `kind`."""
    if kind not in DOCUMENTS:
        raise UsageError(
            f"unknown identity document kind {kind!r}", hint="one of: " + ", ".join(DOCUMENTS)
        )
    if not isinstance(number, str):
        raise UsageError(f"the {kind} number is not a text")
    pattern = _PATTERNS.get(kind)
    if pattern is not None and not pattern.match(number):
        what = {"cccd": "12 digits", "cmnd": "9 digits", "passport": "5-20 letters and digits"}
        raise UsageError(f"{kind} number {number!r} is not {what[kind]}")
    if pattern is None and (
        not number.strip()
        or len(number) > MAX_TEXT
        or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in number)
    ):
        raise UsageError(f"document number {number!r} is empty, too long or holds control codes")


def keyless(
    name: str,
    role: str,
    document: str,
    *,
    year_of_birth: int | None = None,
    address: str | None = None,
    unit: str | None = None,
) -> Party:
    """A party who holds no key, from what an examiner types: `document` is `KIND:NUMBER`
    (`cccd:001203004567`, `passport:B1234567`, `other:Quyết định 12/QĐ-TA`). The name is
    stored NFC.

    Raises:
        UsageError: an empty name, unknown role, or a malformed document.
    """
    name = unicodedata.normalize("NFC", name.strip())
    kind, sep, number = document.partition(":")
    if not sep:
        raise UsageError(
            f"identity document {document!r} is not KIND:NUMBER",
            hint="e.g. cccd:001203004567 (" + ", ".join(DOCUMENTS) + ")",
        )
    kind = kind.strip().lower()
    number = unicodedata.normalize("NFC", number.strip())
    if kind == "passport":
        number = number.upper()
    doc = {"type": kind, "number": number}
    check(name, role=role, fingerprint=None, holds_key=False, document=doc)
    party = Party(
        name,
        None,
        role,
        False,
        kind,
        number,
        year_of_birth,
        None if address is None else unicodedata.normalize("NFC", address.strip()) or None,
        None if unit is None else unicodedata.normalize("NFC", unit.strip()) or None,
    )
    wrong = problem(party.to_dict())
    if wrong is not None:
        raise UsageError(wrong)
    return party


def examiner(name: str, fp: str, role: str | None = None) -> Party:
    """A pinned examiner as a counterpart: the legacy form unless a role is given.

    Raises:
        UsageError: an unknown role.
    """
    if role is None:
        return Party(name, fp)
    check(name, role=role, fingerprint=fp, holds_key=True, document=None)
    return Party(name, fp, role, True)


SPEC_KEYS = (
    "role",
    "name",
    "key",
    "id",
    "cccd",
    "cmnd",
    "passport",
    "other",
    "yob",
    "address",
    "unit",
)
"""The keys of a participant SPEC (`parse_spec`)."""


def parse_spec(spec: str) -> dict[str, str]:
    """The `key=value` pairs of a participant SPEC as typed on the command line::

        role=witness,name=Nguyễn Văn An,cccd=001203004567,yob=1980,address="Số 5, Hàng Bài"

    Pairs are separated by commas. A value may be double-quoted (then it holds commas and
    leading or trailing spaces as typed; `""` or `\\"` is a quote); outside quotes `\\,` is a
    comma. A backslash before any character is that character. Keys (`SPEC_KEYS`): `role`,
    `name`, then either `key` (a pinned examiner's name or fingerprint) or the identity document
    (`cccd=`, `cmnd=`, `passport=`, `other=`, or `id=KIND:NUMBER`), and optionally `yob` (year of
    birth), `address`, `unit`. Values are kept as typed (NFC is applied by `keyless`).

    Raises:
        UsageError: a malformed SPEC, an unknown or repeated key.
    """
    out: dict[str, str] = {}
    i, n = 0, len(spec)
    while i < n:
        eq = spec.find("=", i)
        if eq < 0:
            raise UsageError(
                f"participant {spec!r}: {spec[i:].strip()!r} is not key=value",
                hint="e.g. role=witness,name=Nguyễn Văn An,cccd=001203004567",
            )
        key = spec[i:eq].strip().lower()
        if key not in SPEC_KEYS:
            raise UsageError(
                f"participant {spec!r}: unknown key {key!r}", hint="keys: " + ", ".join(SPEC_KEYS)
            )
        if key in out:
            raise UsageError(f"participant {spec!r}: {key!r} is given twice")
        i = eq + 1
        while i < n and spec[i] == " ":
            i += 1
        chars: list[str] = []
        if i < n and spec[i] == '"':
            i += 1
            while True:
                if i >= n:
                    raise UsageError(f"participant {spec!r}: the quote of {key!r} is not closed")
                c = spec[i]
                if c == "\\" and i + 1 < n:
                    chars.append(spec[i + 1])
                    i += 2
                elif c == '"' and spec[i + 1 : i + 2] == '"':
                    chars.append('"')
                    i += 2
                elif c == '"':
                    i += 1
                    break
                else:
                    chars.append(c)
                    i += 1
            while i < n and spec[i] == " ":
                i += 1
            if i < n and spec[i] != ",":
                raise UsageError(
                    f"participant {spec!r}: text after the quoted value of {key!r}",
                    hint="separate pairs with commas",
                )
            value = "".join(chars)
        else:
            while i < n and spec[i] != ",":
                if spec[i] == "\\" and i + 1 < n:
                    chars.append(spec[i + 1])
                    i += 2
                    continue
                chars.append(spec[i])
                i += 1
            value = "".join(chars).strip()
        out[key] = value
        i += 1  # the comma
    return out


def spec_document(fields: Mapping[str, str]) -> str | None:
    """The `KIND:NUMBER` identity document a parsed SPEC gives, or None.

    Raises:
        UsageError: it gives more than one.
    """
    given = [f"{k}:{fields[k]}" for k in ("cccd", "cmnd", "passport", "other") if k in fields]
    if "id" in fields:
        given.append(fields["id"])
    if len(given) > 1:
        raise UsageError(f"participant {fields.get('name', '')!r}: give one identity document")
    return given[0] if given else None


def spec_year(fields: Mapping[str, str]) -> int | None:
    """The year of birth of a parsed SPEC (`yob`), or None.

    Raises:
        UsageError: it is not a year.
    """
    text = fields.get("yob")
    if text is None or text == "":
        return None
    if not text.isascii() or not text.isdigit() or not 1900 <= int(text) <= 2100:
        raise UsageError(f"participant year of birth {text!r} is not a year (1900-2100)")
    return int(text)


def with_details(party: Party, fields: Mapping[str, str]) -> Party:
    """`party` with the year of birth, address and unit of a parsed SPEC (NFC).

    Raises:
        UsageError: a bad year, or a text over 200 characters.
    """
    out = Party(
        party.name,
        party.fingerprint,
        party.role,
        party.holds_key,
        party.document_type,
        party.document_number,
        spec_year(fields),
        _nfc_or_none(fields.get("address")),
        _nfc_or_none(fields.get("unit")),
    )
    wrong = problem(out.to_dict())
    if wrong is not None:
        raise UsageError(wrong)
    return out


def _nfc_or_none(text: str | None) -> str | None:
    return None if text is None else unicodedata.normalize("NFC", text.strip()) or None


__all__ = [
    "DOCUMENTS",
    "KEYS",
    "LEGACY_KEYS",
    "OPTIONAL_KEYS",
    "ROLES",
    "SPEC_KEYS",
    "Party",
    "check",
    "check_document",
    "examiner",
    "keyless",
    "parse_spec",
    "problem",
    "spec_document",
    "spec_year",
    "with_details",
]
