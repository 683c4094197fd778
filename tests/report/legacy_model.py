"""The report model's builders as they stood before they took the typed seal and event
(commit 7dbde6c): they read the seal, manifest and ledger documents as dicts, probing alias keys.

Frozen here only as the oracle of tests/report/test_report_model_typed.py, which shows that the
typed builders give exactly the same sections and custody entries on cases made by the real
writers. Not used by the program; do not extend it.
"""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import datetime as dt
import errno
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from evidencekit.chain import parties
from evidencekit.chain.parties import Party
from evidencekit.report.model import nfc
from evidencekit.report.model.values import (
    Artifact,
    CustodyEntry,
    Extent,
    FileRow,
    ItemSection,
    Pairs,
    Verification,
)
from evidencekit.timeutil import parse_iso


def _get(doc: Mapping[str, Any] | None, *keys: str) -> Any:
    """The first of `keys` present (and not None) in `doc`; dotted keys walk nested dicts."""
    if not isinstance(doc, Mapping):
        return None
    for key in keys:
        value: Any = doc
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
            if value is None:
                break
        if value is not None:
            return value
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else None
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except ValueError:
            return None
    return None


def digest_pairs(value: Any) -> Pairs:
    """Digests as ((alg, hex), ...) from `{"sha256": "ab.."}`, `{"sha256": "sha256:ab.."}`,
    `["sha256:ab..", ...]` or `[{"algorithm": "sha256", "value": "ab.."}]`."""
    out: list[tuple[str, str]] = []

    def add(alg: str, hexval: str) -> None:
        if ":" in hexval:
            prefix, _, rest = hexval.partition(":")
            if prefix.lower() == alg.lower() or not alg:
                alg, hexval = prefix, rest
        out.append((alg.lower(), hexval.lower()))

    if isinstance(value, Mapping):
        for alg, hexval in value.items():
            if isinstance(hexval, str):
                add(str(alg), hexval)
    elif isinstance(value, list | tuple):
        for entry in value:
            if isinstance(entry, str) and ":" in entry:
                add("", entry)
            elif isinstance(entry, Mapping):
                alg = _get(entry, "algorithm", "alg", "name")
                hexval = _get(entry, "value", "hex", "digest")
                if isinstance(alg, str) and isinstance(hexval, str):
                    add(alg, hexval)
    order = {"md5": 0, "sha1": 1, "sha256": 2, "sha512": 3, "blake3": 4}
    return tuple(sorted(out, key=lambda p: (order.get(p[0], 9), p[0])))


_MAX_LIST = 8


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]], skip: set[str]) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if str(key) in skip:
                continue
            _flatten(f"{prefix}.{key}" if prefix else str(key), sub, out, skip)
    elif isinstance(value, list | tuple):
        if value and all(not isinstance(v, Mapping | list | tuple) for v in value):
            out.append((prefix, _bounded_list([nfc(v) for v in value])))
        elif len(value) == 1:
            _flatten(prefix, value[0], out, skip)
        elif value:
            for n, sub in enumerate(value[:_MAX_LIST], 1):
                _flatten(f"{prefix}[{n}]", sub, out, skip)
            if len(value) > _MAX_LIST:
                out.append((prefix, f"… ({len(value)})"))
    elif value is not None and value != "":
        if isinstance(value, bool):
            out.append((prefix, "yes" if value else "no"))
        else:
            out.append((prefix, _bounded(nfc(value))))


_MAX_SCALARS = 40
_MAX_TEXT = 4000
"""One fact's value is one table cell, which cannot break across pages: a list of thousands of
files (an interrupted seal's `not_sealed`) or a huge text is shown in part, with its full size;
the whole of it is in the seal attached to the report."""


def _bounded_list(values: list[str]) -> str:
    if len(values) <= _MAX_SCALARS:
        return _bounded(", ".join(values))
    shown = _bounded(", ".join(values[:_MAX_SCALARS]))
    return f"{shown}, … (+{len(values) - _MAX_SCALARS}; {len(values)} in all)"


def _bounded(text: str) -> str:
    if len(text) <= _MAX_TEXT:
        return text
    return f"{text[:_MAX_TEXT]} … ({len(text)} characters in all)"


def _errno_text(err: Any) -> str:
    if isinstance(err, int) and not isinstance(err, bool):
        name = errno.errorcode.get(err)
        return f"{name} ({err})" if name else str(err)
    return nfc(err) if err is not None else ""


_NOISY_DETAILS = {
    "signer_fingerprint",
    "problems",
    "seal",
    "sources",
    "options",
    "summary",
    "bytes_hashed",
    "ok",
    "kind",
    "report_id",
}


def custody_from_events(events: Iterable[Mapping[str, Any]]) -> tuple[CustodyEntry, ...]:
    """Custody entries from ledger event dicts (as `Event.to_dict()` gives them)."""
    out: list[CustodyEntry] = []
    for n, ev in enumerate(events):
        body = _get(ev, "event", "body") or ev
        time = _time(_get(body, "time", "timestamp", "at")) or _time(_get(ev, "time"))
        if time is None:
            continue
        actor = _get(body, "actor.name", "actor_name", "actor")
        counterpart = _get(body, "counterpart.name", "counterpart", "to")
        details = _get(body, "details")
        detail_parts: list[str] = []
        for key, prefix in (
            ("description", ""),
            ("note", ""),
            ("reason", ""),
            ("condition", ""),
            ("seal_number", "#"),
            ("override", "override: "),
        ):
            text = _get(body, key)
            if isinstance(text, str) and text:
                detail_parts.append(prefix + nfc(text))
        result: bool | None = None
        if isinstance(details, Mapping):
            ok = details.get("ok")
            result = ok if isinstance(ok, bool) else None
            flat: list[tuple[str, str]] = []
            _flatten("", details, flat, _NOISY_DETAILS)
            detail_parts += [f"{k}: {v}" for k, v in flat[:4]]
        seq = _int(_get(ev, "seq", "index", "leaf_index", "id"))
        out.append(
            CustodyEntry(
                seq=seq if seq is not None else n,
                time=time,
                event_type=str(_get(body, "type", "event_type", "kind") or "?"),
                item_id=_get(body, "item_id", "item"),
                actor=nfc(actor) if isinstance(actor, str) else "",
                counterpart=nfc(counterpart) if isinstance(counterpart, str) else None,
                counterpart_party=_party(_get(body, "counterpart")),
                purpose=nfc(p) if isinstance(p := _get(body, "purpose"), str) else None,
                location=nfc(loc) if isinstance(loc := _get(body, "location"), str) else None,
                detail="; ".join(detail_parts),
                result=result,
            )
        )
    return tuple(out)


def _party(value: object) -> Party | None:
    """The recorded counterpart, when it is a participant record (chain.parties)."""
    if not isinstance(value, Mapping) or parties.problem(dict(value)) is not None:
        return None
    return Party.from_dict(value)


def _extents(facts: Any, seal: Mapping[str, Any]) -> tuple[Extent, ...]:
    raw = _get(facts, "read_errors", "bad_sectors", "unreadable") or _get(
        seal, "read_errors", "unreadable"
    )
    if isinstance(raw, Mapping):
        raw = _get(raw, "extents", "items") or []
    out: list[Extent] = []
    if isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, Mapping):
                off = _int(_get(entry, "offset", "start", "pos"))
                length = _int(_get(entry, "length", "size", "len"))
                if off is None or length is None:
                    continue
                err = _get(entry, "errno", "errno_name", "error", "reason")
                out.append(Extent(off, length, _errno_text(err)))
            elif isinstance(entry, list | tuple) and len(entry) >= 2:
                off, length = _int(entry[0]), _int(entry[1])
                if off is not None and length is not None:
                    err = nfc(entry[2]) if len(entry) > 2 else ""
                    out.append(Extent(off, length, err))
    return tuple(sorted(out, key=lambda e: e.offset))


def _artifacts(seal: Mapping[str, Any]) -> tuple[Artifact, ...]:
    raw = _get(seal, "artifacts", "files")
    out: list[Artifact] = []
    if isinstance(raw, Mapping):
        raw = [{"name": k, **v} for k, v in raw.items() if isinstance(v, Mapping)]
    if isinstance(raw, list):
        for entry in raw:
            if not isinstance(entry, Mapping):
                continue
            name = _get(entry, "name", "path", "relative_name", "file")
            if name is None and isinstance(entry.get("name_bytes"), str):
                name = _bytes_name(entry["name_bytes"])
            out.append(
                Artifact(
                    name=str(name) if name is not None else "?",
                    size=_int(_get(entry, "size", "bytes")),
                    digests=digest_pairs(_get(entry, "digests", "hashes")),
                )
            )
    return tuple(out)


def _bytes_name(value: str) -> str:
    """A seal/2 name that is not UTF-8 (`name_bytes`, base64), shown with each byte that is not
    UTF-8 as `\\xff` (the seal attached to the report holds the exact bytes)."""
    import base64
    import binascii

    try:
        return base64.b64decode(value, validate=True).decode("utf-8", "backslashreplace")
    except (binascii.Error, ValueError):
        return "?"


_KINDS = {
    "l": "symlink",
    "p": "fifo",
    "s": "socket",
    "b": "block device",
    "c": "char device",
    "ads": "data stream",
    "v": "virtual",
}


def _file_rows(manifest: Mapping[str, Any]) -> tuple[FileRow, ...]:
    raw = _get(manifest, "files", "entries", "members")
    rows: list[FileRow] = []
    if not isinstance(raw, list):
        return ()
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        # Names exactly as stored: the manifest's text form (escaped when not valid UTF-8).
        path = _get(entry, "path", "original_path", "name", "filename")
        digests = dict(digest_pairs(_get(entry, "digests", "hashes") or {}))
        notes: list[str] = []
        etype = _get(entry, "type", "kind")
        if etype in ("d", "dir", "directory", "v", "virtual"):
            continue
        if isinstance(etype, str) and etype not in ("file", "regular", "r"):
            notes.append(_KINDS.get(etype, etype))
        if _get(entry, "deleted") is True or _get(entry, "allocated") is False:
            notes.append("deleted")
        err = _get(entry, "error")
        if err:
            notes.append(f"error: {nfc(err)}")
        mtime = _get(entry, "mtime", "modified", "times.mtime")
        rows.append(
            FileRow(
                path=str(path) if path is not None else "?",
                size=_int(_get(entry, "size")),
                sha256=digests.get("sha256"),
                modified=str(mtime) if mtime is not None else None,
                note="; ".join(notes),
            )
        )
    return tuple(rows)


_SOURCE_KEYS = (
    "source",
    "device",
    "source_path",
    "model",
    "vendor",
    "serial",
    "wwn",
    "transport",
    "size",
    "logical_sector_size",
    "physical_sector_size",
    "removable",
    "rotational",
    "read_only",
    "hpa",
    "dco",
)
_SKIP_FACTS = {
    "verification",
    "read_errors",
    "errors",
    "bad_sectors",
    "extents",
    "files",
    "device_report",
    "hdparm",
    "smartctl",
    "windows",
}


def _signer_name(seal: Mapping[str, Any]) -> str:
    name = _get(seal, "examiner.name", "signer.name", "examiner_name", "sealed_by")
    if isinstance(name, str):
        return nfc(name)
    pem = _get(seal, "certificate", "examiner.certificate", "signer.certificate", "signature.cert")
    chain = _get(seal, "examiner.certificates")  # seal/2: the chain, leaf first
    if pem is None and isinstance(chain, list) and chain:
        pem = chain[0]
    if isinstance(pem, str) and "BEGIN CERTIFICATE" in pem:
        from evidencekit.identity import load_cert_pem, subject_name

        try:
            return nfc(subject_name(load_cert_pem(pem)))
        except Exception:  # a damaged certificate still lets the rest of the report render
            return ""
    return ""


def item_from_documents(
    item_id: str,
    seal: Mapping[str, Any] | None,
    manifest: Mapping[str, Any] | None = None,
    custody: Sequence[CustodyEntry] = (),
    seal_sha256: str | None = None,
) -> ItemSection:
    """Build one item's section from its seal and (logical collections) manifest documents."""
    seal = seal or {}
    facts = _get(seal, "facts", "acquisition", "source_facts") or {}
    item_id = str(_get(seal, "item", "item_id") or item_id)
    files = _file_rows(manifest) if manifest else ()
    extents = _extents(facts, seal)
    kind = _kind(seal, manifest, extents)
    source, acquisition = _source_and_acquisition(facts, manifest)
    content = _get(seal, "content", "combined", "media", "logical")
    content_size = _int(_get(content, "size")) or _int(_get(seal, "size", "media_size"))
    window_count, window_size, window_algs = _windows(seal)
    media_size = _int(
        _get(
            facts,
            "media_size",
            "size",
            "source_size",
            "source.size",
            "source.size_bytes",
            "device.size",
            "device.size_bytes",
        )
    ) or (content_size if kind == "disk" else None)
    description = _get(seal, "description", "facts.description", "item.description") or ""
    return ItemSection(
        item_id=item_id,
        kind=kind,
        description=nfc(description),
        evidence_number=nfc(
            _get(seal, "evidence_number", "facts.evidence_number", "facts.options.evidence_number")
            or ""
        ),
        status=_get(seal, "status"),
        content_size=content_size,
        content_digests=digest_pairs(_get(content, "digests", "hashes") or content),
        source=source,
        acquisition=acquisition,
        started=_time(_get(seal, "started", "times.started", "facts.started")),
        finished=_time(_get(seal, "finished", "times.finished", "facts.finished")),
        sealed_at=_time(_get(seal, "sealed", "sealed_at", "created", "times.sealed")),
        sealed_by=_signer_name(seal),
        host=_host_text(seal),
        tool=_tool_text(seal),
        artifacts=_artifacts(seal),
        window_count=window_count,
        window_size=window_size,
        window_algorithms=window_algs,
        read_errors=extents,
        media_size=media_size,
        verifications=_verifications(seal, facts, custody),
        files=files,
        files_total=sum(f.size or 0 for f in files) if files else None,
        custody=tuple(custody),
        seal_sha256=seal_sha256,
    )


def _kind(
    seal: Mapping[str, Any], manifest: Mapping[str, Any] | None, extents: Sequence[object]
) -> str:
    """The item's kind, "logical", "disk" or "other": from the seal, else from its evidence.

    A manifest makes it a logical collection whatever the seal says; unreadable extents make it a
    disk unless the seal says it is a logical one.
    """
    kind_text = str(_get(seal, "kind", "type", "facts.kind", "facts.type") or "").lower()
    if manifest is not None or kind_text in ("tar", "logical", "files"):
        return "logical"
    if kind_text in ("raw", "split-raw", "e01", "disk", "image") or extents:
        return "disk"
    return "other"


def _source_and_acquisition(facts: Any, manifest: Mapping[str, Any] | None) -> tuple[Pairs, Pairs]:
    """The facts flattened to (key, text) pairs: those about the source, and the rest.

    A logical collection's seal may carry no source facts; its manifest's `sources` stand in.
    """
    source: list[tuple[str, str]] = []
    acquisition: list[tuple[str, str]] = []
    if isinstance(facts, Mapping):
        flat: list[tuple[str, str]] = []
        _flatten("", facts, flat, _SKIP_FACTS)
        for key, value in flat:
            leaf = key.split(".")[-1]
            if key.startswith(("source", "device")) or leaf in _SOURCE_KEYS:
                source.append((key, value))
            else:
                acquisition.append((key, value))
    sources = _get(manifest, "sources")
    if isinstance(sources, list) and not source:
        for n, src in enumerate(sources, 1):
            flat_src: list[tuple[str, str]] = []
            _flatten(
                f"source[{n}]" if len(sources) > 1 else "source", src, flat_src, {"partitions"}
            )
            source += flat_src
    return tuple(source), tuple(acquisition)


def _algorithms(digests: Any) -> tuple[str, ...]:
    return tuple(a for a, _v in digest_pairs(digests))


def _windows(seal: Mapping[str, Any]) -> tuple[int, int | None, tuple[str, ...]]:
    """How many window digests the seal holds, the window size and their algorithms.

    Seals have listed windows as a mapping (with or without `algorithms`), as a list of
    `"alg:hex"` strings, or as a list of entries with their own digests; each is understood.
    """
    windows = _get(seal, "windows", "window_digests", "content.windows", "combined.windows")
    window_count = 0
    window_size = _int(_get(seal, "window_size", "content.window_size", "combined.window_size"))
    window_algs: tuple[str, ...] = ()
    walg = _get(seal, "combined.window_algorithm", "window_algorithm")
    if isinstance(walg, str):
        window_algs = (walg,)
    if isinstance(windows, Mapping):
        window_size = _int(_get(windows, "size", "window_size")) or window_size
        entries = _get(windows, "digests", "windows", "entries") or []
        window_count = len(entries) if isinstance(entries, list) else 0
        algs = _get(windows, "algorithms")
        if isinstance(algs, list):
            window_algs = tuple(str(a) for a in algs)
        elif isinstance(entries, list) and entries and isinstance(entries[0], Mapping):
            window_algs = _algorithms(_get(entries[0], "digests") or {})
    elif isinstance(windows, list):
        window_count = len(windows)
        if windows and isinstance(windows[0], str) and not window_algs:
            window_algs = _algorithms(windows[:1])
        if windows and isinstance(windows[0], Mapping):
            window_algs = _algorithms(_get(windows[0], "digests") or {})
            if window_size is None:
                window_size = _int(_get(windows[0], "length", "size"))
    return window_count, window_size, window_algs


def _tool_text(seal: Mapping[str, Any]) -> str:
    tool = _get(seal, "tool")
    tool_text = (
        " ".join(str(v) for v in (_get(tool, "name"), _get(tool, "version")) if v)
        if isinstance(tool, Mapping)
        else (str(tool) if tool else "")
    )
    return nfc(tool_text)


def _host_text(seal: Mapping[str, Any]) -> str:
    host = _get(seal, "host")
    return (
        nfc(_get(host, "name", "hostname", "node") or "")
        if isinstance(host, Mapping)
        else nfc(host or "")
    )


def _verifications(
    seal: Mapping[str, Any], facts: Any, custody: Sequence[CustodyEntry]
) -> tuple[Verification, ...]:
    """The item's recorded verifications, the imager's read-back check (if any) first."""
    verifications = tuple(
        Verification(time=e.time, ok=e.result, actor=e.actor, detail=e.detail)
        for e in custody
        if e.event_type == "verified"
    )
    at_acquisition = _get(facts, "verification")
    if isinstance(at_acquisition, Mapping) and at_acquisition:
        # The imager's read-back check, done before sealing.
        results = {str(k): nfc(v) for k, v in at_acquisition.items() if v is not None}
        ok = all(v in ("match", "ok", "True") for v in results.values()) if results else None
        verifications = (
            Verification(
                time=_time(_get(seal, "finished")),
                ok=ok,
                actor=_signer_name(seal),
                detail="; ".join(f"{k}: {v}" for k, v in results.items()),
            ),
            *verifications,
        )
    return verifications
