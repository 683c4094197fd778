"""The `details` of the seizure-record events (issue 16): their exact shape, checked when an event
is appended and again, as part of "well-formed", when it is verified.

- `session_opened` / `session_closed` (case-level): a seizure session, the Biên bản's frame;
- `seal_applied` / `seal_opened` / `resealed`: the physical seal (niêm phong, mở niêm phong,
  niêm phong lại), not the cryptographic `sealed`;
- `document_attached`: a file attached to an item (the scanned signed Biên bản);
- on any event: `participants` (a list of `chain.parties` participants) and `session` (the id of
  the seizure session the event belongs to);
- on `accessed` / `analysed`: `working_copy` (what was examined instead of the original) or
  `on_original` (why the original itself was examined);
- on `registered`: `device` (make, model, serial and capacity as the investigator read them off
  the device), compared with what an acquisition measures by `device_differences`.

docs/custody.md ("Seizure records") lists every field. Texts are NFC; ids are item-id shaped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from evidencekit.chain import parties
from evidencekit.chain.kinds import EXAMINATION_KINDS

MAX_TEXT = 2000
"""A statement or a reason may be a paragraph; names and numbers are shorter (`MAX_SHORT`)."""
MAX_SHORT = 200
SEAL_STATES = ("intact", "damaged")
ATTACHMENTS = ("signed-record", "other")
_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# kind -> (required keys, optional keys)
_SHAPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "session_opened": (
        frozenset({"session", "place", "agency", "record_number", "legal_basis", "participants"}),
        frozenset(),
    ),
    "session_closed": (frozenset({"session", "refusals", "statements"}), frozenset()),
    "seal_applied": (
        frozenset({"seal_numbers", "method", "participants", "session"}),
        frozenset(),
    ),
    "seal_opened": (
        frozenset({"seal_numbers", "seal_state", "state_note", "reason", "participants"}),
        frozenset({"session"}),
    ),
    "resealed": (
        frozenset({"seal_numbers", "replaces", "method", "participants"}),
        frozenset({"session"}),
    ),
    "document_attached": (frozenset({"what", "file"}), frozenset({"session", "participants"})),
}


def _text(value: Any, limit: int = MAX_SHORT, *, empty: bool = False) -> bool:
    """A stored text: a string, NFC, within `limit`, no control characters (a newline is
    allowed in long texts: a statement may have paragraphs)."""
    if not isinstance(value, str) or len(value) > limit:
        return False
    if not empty and not value.strip():
        return False
    if unicodedata.normalize("NFC", value) != value:
        return False
    allowed = "\n" if limit > MAX_SHORT else ""
    return not any(
        unicodedata.category(c) in ("Cc", "Zl", "Zp") and c not in allowed for c in value
    )


def is_id(value: Any) -> bool:
    """True for a session id (shaped like an item id)."""
    return isinstance(value, str) and _ID.match(value) is not None


def _texts(value: Any, what: str, *, nonempty: bool = True) -> str | None:
    if not isinstance(value, list) or (nonempty and not value):
        return f"{what} is not a{' non-empty' if nonempty else ''} list of texts"
    if not all(_text(v) for v in value):
        return f"{what} holds an empty, over-long or non-NFC text"
    if len(set(value)) != len(value):
        return f"{what} names one value twice"
    return None


def _participants(value: Any) -> str | None:
    if not isinstance(value, list):
        return "participants is not a list"
    for p in value:
        wrong = parties.problem(p)
        if wrong is not None:
            return f"participants: {wrong}"
        if p.keys() == parties.LEGACY_KEYS:
            return "participants: a participant needs a role (the full participant form)"
    return None


def _file(value: Any) -> str | None:
    if not isinstance(value, dict) or value.keys() != {"name", "size", "sha256"}:
        return "file is not {name, size, sha256}"
    if not _text(value["name"], 1000) or type(value["size"]) is not int or value["size"] < 0:
        return "file has a bad name or size"
    if not isinstance(value["sha256"], str) or not _SHA256.match(value["sha256"]):
        return "file.sha256 is not 64 lowercase hex digits"
    return None


def _working_copy(value: Any) -> str | None:
    if not isinstance(value, dict) or value.keys() != {"item", "path", "sha256"}:
        return "working_copy is not {item, path, sha256}"
    item, path = value["item"], value["path"]
    if (item is None) == (path is None):
        return "working_copy names either an item or a path"
    if item is not None and not is_id(item):
        return f"working_copy.item {item!r} is not an item id"
    if path is not None and not _text(path, 4096):
        return "working_copy.path is not a text"
    if not isinstance(value["sha256"], str) or not _SHA256.match(value["sha256"]):
        return "working_copy.sha256 is not 64 lowercase hex digits"
    return None


DEVICE_KEYS = ("make", "model", "serial", "capacity", "capacity_text")
"""`registered` `details.device`: texts as typed (or null), `capacity` a byte count (or null)
with `capacity_text` the capacity as written ("64GB", "64 GiB", "64000000000")."""


def _device(value: Any) -> str | None:
    if not isinstance(value, dict) or set(value) != set(DEVICE_KEYS):
        return f"device is not {{{', '.join(DEVICE_KEYS)}}}"
    for key in ("make", "model", "serial", "capacity_text"):
        if value[key] is not None and not _text(value[key]):
            return f"device.{key} is not a text"
    capacity = value["capacity"]
    if capacity is not None and (type(capacity) is not int or capacity < 0):
        return "device.capacity is not a byte count"
    if (capacity is None) != (value["capacity_text"] is None):
        return "device.capacity and device.capacity_text go together"
    if all(value[k] is None for k in DEVICE_KEYS):
        return "device names nothing"
    return None


@dataclass(frozen=True, slots=True)
class DeviceDifference:
    """What the investigator registered of a device (`registered` `details.device`) and what
    an acquisition of it measured, when they differ: the record shows both, never one of them
    silently."""

    item: str | None
    what: Literal["capacity", "serial"]
    registered: str | int
    registered_text: str
    measured: str | int
    registered_seq: int | None = None
    measured_seq: int | None = None

    def message(self) -> str:
        """One English line (the library's; the CLI and the report word it in their
        language)."""
        if self.what == "capacity":
            said = f"{self.registered_text} ({self.registered} bytes)"
            read = f"{self.measured} bytes"
        else:
            said, read = repr(self.registered), repr(self.measured)
        where = "" if self.measured_seq is None else f" (event {self.measured_seq})"
        return (
            f"item {self.item!r}: registered with {self.what} {said}, but its acquisition"
            f"{where} measured {read}"
        )


def _serial_key(text: str) -> str:
    return "".join(text.split()).casefold()


def device_differences(
    registered: Mapping[str, Any] | None,
    *,
    capacity: int | None,
    serial: str | None,
    item: str | None = None,
    registered_seq: int | None = None,
    measured_seq: int | None = None,
) -> list[DeviceDifference]:
    """Where the registered `device` (a `registered` event's `details.device`) and what an
    acquisition measured (`capacity` in bytes, the device's `serial`) disagree. Serials are
    compared without spaces and case (labels and firmware print them differently); a value
    either side lacks is no difference."""
    if not isinstance(registered, Mapping):
        return []
    out: list[DeviceDifference] = []
    reg_cap = registered.get("capacity")
    if type(reg_cap) is int and type(capacity) is int and reg_cap != capacity:
        out.append(
            DeviceDifference(
                item,
                "capacity",
                reg_cap,
                str(registered.get("capacity_text") or reg_cap),
                capacity,
                registered_seq,
                measured_seq,
            )
        )
    reg_serial = registered.get("serial")
    if (
        isinstance(reg_serial, str)
        and isinstance(serial, str)
        and serial.strip()
        and _serial_key(reg_serial) != _serial_key(serial)
    ):
        out.append(
            DeviceDifference(
                item, "serial", reg_serial, reg_serial, serial.strip(), registered_seq, measured_seq
            )
        )
    return out


def measured_serial(identity: Mapping[str, Any]) -> str | None:
    """The serial number an acquisition read from its source (a device's sysfs/udev serial,
    or the one an E01 source stores), or None."""
    for key in ("serial", "ewf_serial_number"):
        value = identity.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def device_notes(events: Sequence[Mapping[str, Any]]) -> list[DeviceDifference]:
    """Where an item's registered device (`registered` `details.device`) and what its
    acquisition measured (`acquired` `details.size` and `details.serial`) differ, for each item
    of `events` (event dicts in ledger order). The latest acquisition of an item counts (a
    resume supersedes an incomplete one)."""
    registered: dict[str, Mapping[str, Any]] = {}
    acquired: dict[str, Mapping[str, Any]] = {}
    for e in events:
        item = e.get("item")
        if not isinstance(item, str):
            continue
        if e.get("kind") == "registered":
            registered[item] = e
        elif e.get("kind") == "acquired":
            acquired[item] = e
    out: list[DeviceDifference] = []
    for item, reg in registered.items():
        acq = acquired.get(item)
        if acq is None:
            continue
        d = acq.get("details") or {}
        size = d.get("size")
        serial = d.get("serial")
        out += device_differences(
            (reg.get("details") or {}).get("device"),
            capacity=size if type(size) is int else None,
            serial=serial if isinstance(serial, str) else None,
            item=item,
            registered_seq=reg.get("seq"),
            measured_seq=acq.get("seq"),
        )
    return out


def problem(kind: str, details: Mapping[str, Any]) -> str | None:
    """What is wrong with an event's `details` for `kind`, or None. Kinds without a shape of
    their own keep free details; `participants`, `session`, `working_copy` and `on_original`
    are checked wherever they appear."""
    shape = _SHAPES.get(kind)
    keys = set(details)
    if shape is not None:
        required, optional = shape
        if not keys >= required or not keys <= required | optional:
            missing = sorted(required - keys)
            extra = sorted(keys - required - optional)
            return f"{kind} details " + (
                f"lack {', '.join(missing)}" if missing else f"hold unknown {', '.join(extra)}"
            )
    if "participants" in details:
        wrong = _participants(details["participants"])
        if wrong is not None:
            return wrong
    session = details.get("session")
    if "session" in details and not (
        is_id(session) or (session is None and kind == "seal_applied")
    ):
        return f"session {session!r} is not a session id"
    if kind in EXAMINATION_KINDS:
        if "working_copy" in details:
            wrong = _working_copy(details["working_copy"])
            if wrong is not None:
                return wrong
        if "on_original" in details and not _text(details["on_original"], MAX_TEXT):
            return "on_original is not a text"
    if kind == "registered" and "device" in details:
        wrong = _device(details["device"])
        if wrong is not None:
            return wrong
    check = _CHECKS.get(kind)
    return None if check is None else check(details)


def _session_opened(d: Mapping[str, Any]) -> str | None:
    for key in ("place", "agency"):
        if not _text(d[key], MAX_TEXT):
            return f"session_opened.{key} is not a text"
    if d["record_number"] is not None and not _text(d["record_number"]):
        return "session_opened.record_number is not a text"
    return _texts(d["legal_basis"], "legal_basis", nonempty=False)


def _session_closed(d: Mapping[str, Any]) -> str | None:
    refusals = d["refusals"]
    if not isinstance(refusals, list):
        return "refusals is not a list"
    for r in refusals:
        if not isinstance(r, dict) or r.keys() != {"participant", "reason"}:
            return "a refusal is not {participant, reason}"
        wrong = _participants([r["participant"]])
        if wrong is not None:
            return f"refusals: {wrong}"
        if not _text(r["reason"], MAX_TEXT):
            return "a refusal's reason is not a text"
    if d["statements"] is not None and not _text(d["statements"], MAX_TEXT):
        return "statements is not a text"
    return None


def _seal_applied(d: Mapping[str, Any]) -> str | None:
    if not _text(d["method"], MAX_TEXT):
        return "method is not a text"
    return _texts(d["seal_numbers"], "seal_numbers")


def _seal_opened(d: Mapping[str, Any]) -> str | None:
    if d["seal_state"] not in SEAL_STATES:
        return f"seal_state {d['seal_state']!r} is not one of {', '.join(SEAL_STATES)}"
    if d["state_note"] is not None and not _text(d["state_note"], MAX_TEXT):
        return "state_note is not a text"
    if not _text(d["reason"], MAX_TEXT):
        return "reason is not a text"
    return _texts(d["seal_numbers"], "seal_numbers")


def _resealed(d: Mapping[str, Any]) -> str | None:
    wrong = _seal_applied(d) or _texts(d["replaces"], "replaces")
    if wrong is None and set(d["seal_numbers"]) & set(d["replaces"]):
        return "a seal number is both new and replaced"
    return wrong


def _document_attached(d: Mapping[str, Any]) -> str | None:
    if d["what"] not in ATTACHMENTS:
        return f"what {d['what']!r} is not one of {', '.join(ATTACHMENTS)}"
    return _file(d["file"])


_CHECKS = {
    "session_opened": _session_opened,
    "session_closed": _session_closed,
    "seal_applied": _seal_applied,
    "seal_opened": _seal_opened,
    "resealed": _resealed,
    "document_attached": _document_attached,
}

RULE_KEYS = ("session", "seal_numbers", "replaces", "working_copy", "on_original")
"""The keys of `details` the custody rules read (an acquisition's: `encoding.RULE_DETAILS`)."""


__all__ = [
    "ATTACHMENTS",
    "DEVICE_KEYS",
    "RULE_KEYS",
    "SEAL_STATES",
    "DeviceDifference",
    "device_differences",
    "device_notes",
    "is_id",
    "measured_serial",
    "problem",
]
