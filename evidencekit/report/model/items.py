"""One item's report section, built from its seal and (logical collections) manifest documents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evidencekit.report.model.readers import _flatten, _get, _int, _time, digest_pairs, nfc
from evidencekit.report.model.rows import _artifacts, _extents, _file_rows
from evidencekit.report.model.values import CustodyEntry, ItemSection, Pairs, Verification

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
