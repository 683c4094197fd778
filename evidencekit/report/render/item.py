"""The section of one evidence item: identity, acquisition, digests, errors, files."""

from __future__ import annotations

import re

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)

from evidencekit.report.i18n import LABELS, device_difference, label, status_label
from evidencekit.report.model import ItemSection, ReportModel
from evidencekit.report.render.drawings import custody_lanes, media_map
from evidencekit.report.render.photos import photo_table
from evidencekit.report.render.styles import BODY_W
from evidencekit.report.render.tables import _kv_table, _plain_table
from evidencekit.report.render.text import _grouped, _p, _t, _visible, human_size
from evidencekit.report.words import algorithm_name, facts_in_words, size_in_words
from evidencekit.timeutil import local_text, parse_iso


def _item(model: ReportModel, it: ItemSection, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    out: list[Flowable] = [PageBreak()]
    title = f"{label(lang, 'item')} {it.item_id}"
    # an item nobody described is named by its kind, in the report's language
    title += f" — {it.description or label(lang, f'item_default_{it.kind}')}"
    out.append(_p(title, st["h1"]))
    rows: list[tuple[str, object]] = [
        (label(lang, "kind"), label(lang, f"kind_{it.kind}")),
        (label(lang, "status"), status_label(lang, it.status)),
    ]
    if it.evidence_number:
        rows.append((label(lang, "evidence_number"), it.evidence_number))
    if it.content_size is not None:
        rows.append(
            (
                label(lang, "size"),
                f"{_grouped(it.content_size)} {label(lang, 'bytes')}"
                f" ({human_size(it.content_size)})",
            )
        )
    for key, when in (
        ("started", it.started),
        ("finished", it.finished),
        ("sealed_at", it.sealed_at),
    ):
        if when is not None:
            rows.append((label(lang, key), _t(model, when)))
    for key, text in (("sealed_by", it.sealed_by), ("host", it.host), ("tool", it.tool)):
        if text:
            rows.append((label(lang, key), text))
    if it.seal_sha256:
        rows.append((label(lang, "seal_sha256"), Paragraph(it.seal_sha256, st["mono"])))
    out.append(_kv_table(rows, st))
    if it.registered_device:
        # what the investigator read off the device when it was registered
        device = []
        for key, value in it.registered_device:
            if key == "capacity" and it.registered_capacity is not None:
                value = f"{value} = {size_in_words(it.registered_capacity, lang)}"
            device.append((label(lang, f"bb_{key}"), value))
        out += [_p(label(lang, "device_registered"), st["h2"]), _kv_table(device, st)]
    out += [_p(device_difference(lang, d), st["body"]) for d in it.device_differences]
    source = facts_in_words(it.source, lang, model.timezone)
    if source:
        out += [_p(label(lang, "source_identity"), st["h2"]), _kv_table(source, st)]
    acquisition = facts_in_words(it.acquisition, lang, model.timezone)
    if acquisition:
        out += [_p(label(lang, "acquisition"), st["h2"]), _kv_table(acquisition, st)]
    if it.content_digests:
        out.append(_p(label(lang, "media_digests"), st["h2"]))
        out.append(
            _plain_table(
                [label(lang, "algorithm"), label(lang, "value")],
                [[algorithm_name(alg), value] for alg, value in it.content_digests],
                [25 * mm, BODY_W - 25 * mm],
                mono_cols=(1,),
            )
        )
    if it.artifacts:
        out.append(_p(label(lang, "artifacts"), st["h2"]))
        rows2 = []
        for art in it.artifacts:
            first = True
            for alg, hexval in art.digests or (("—", "—"),):
                rows2.append(
                    [
                        _visible(art.name) if first else "",
                        _grouped(art.size) if first else "",
                        algorithm_name(alg),
                        hexval,
                    ]
                )
                first = False
        out.append(
            _plain_table(
                [
                    label(lang, "file"),
                    label(lang, "size"),
                    label(lang, "algorithm"),
                    label(lang, "value"),
                ],
                rows2,
                [40 * mm, 22 * mm, 14 * mm, BODY_W - 76 * mm],
                font_size=7.6,
                mono_cols=(3,),
                long=True,
            )
        )
    if it.photos:
        out.append(_p(label(lang, "photos"), st["h2"]))
        out.append(photo_table(it.photos, lang))
    if it.window_count:
        out.append(_p(label(lang, "windows"), st["h2"]))
        out.append(
            _p(
                label(
                    lang,
                    "windows_text",
                    count=it.window_count,
                    size=human_size(it.window_size),
                    algs=", ".join(algorithm_name(a) for a in it.window_algorithms) or "—",
                ),
                st["body"],
            )
        )
    if it.kind == "disk":
        out.append(_p(label(lang, "read_errors"), st["h2"]))
        if it.read_errors:
            out.append(
                _plain_table(
                    [label(lang, "offset"), label(lang, "length"), label(lang, "errno")],
                    [
                        [_grouped(e.offset), _grouped(e.length), e.error or "—"]
                        for e in it.read_errors
                    ],
                    [45 * mm, 45 * mm, BODY_W - 90 * mm],
                    long=True,
                )
            )
        else:
            out.append(_p(label(lang, "no_read_errors"), st["body"]))
        if it.media_size:
            out.append(Spacer(1, 3 * mm))
            out.append(
                KeepTogether(
                    [
                        _p(label(lang, "media_map"), st["h2"]),
                        media_map(it.media_size, it.read_errors, lang),
                    ]
                )
            )
    out.append(_p(label(lang, "verification"), st["h2"]))
    if it.verifications:
        out.append(
            _plain_table(
                [label(lang, "when"), label(lang, "who"), label(lang, "status")],
                [
                    [
                        _t(model, v.time),
                        v.actor,
                        "\n".join(
                            x
                            for x in (
                                None
                                if v.ok is None
                                else label(lang, "verified_ok" if v.ok else "verified_bad"),
                                _readback(v.detail, lang),
                            )
                            if x
                        )
                        or "—",
                    ]
                    for v in it.verifications
                ],
                [45 * mm, 45 * mm, BODY_W - 90 * mm],
            )
        )
    else:
        out.append(_p(label(lang, "no_verification"), st["body"]))
    if it.custody:
        out.append(
            KeepTogether(
                [
                    _p(label(lang, "custody_lanes"), st["h2"]),
                    custody_lanes(it.custody, lang, model.timezone),
                ]
            )
        )
    if it.files:
        out.append(CondPageBreak(40 * mm))
        out.append(_p(label(lang, "files"), st["h2"]))
        out.append(
            _p(
                label(lang, "files_count", count=len(it.files), size=human_size(it.files_total)),
                st["body"],
            )
        )
        out.append(Spacer(1, 2 * mm))
        out.append(_files_table(it, lang, model.timezone))
    return out


def _note(note: str, lang: str) -> str:
    parts = []
    for part in note.split("; ") if note else []:
        if part == "deleted":
            part = label(lang, "deleted")
        elif part.startswith("error: "):
            # the tool's message (English) is quoted in the appendix; here it is said in words
            part = label(lang, "file_error") if lang != "en" else f"error: {part[7:]}"
        elif f"file_kind_{part}" in LABELS:
            part = label(lang, f"file_kind_{part}")
        parts.append(part)
    return "; ".join(parts)


_PROBLEMS = re.compile(r"^verification FAILED: (\d+) problem\(s\)$")


def _readback(detail: str, lang: str) -> str:
    """A verification's detail in words: the imager's read-back ("image: match") or a recorded
    verification's own text ("verification passed", which the match/mismatch line already
    says). Any other detail is shown as recorded."""
    if detail == "verification passed":
        return ""
    failed = _PROBLEMS.match(detail)
    if failed:
        return label(lang, "readback_problems", count=failed.group(1))
    parts = []
    for part in detail.split("; ") if detail else []:
        what, sep, outcome = part.partition(": ")
        if sep and f"readback_{what}" in LABELS and f"readback_{outcome}" in LABELS:
            parts.append(f"{label(lang, f'readback_{what}')}: {label(lang, f'readback_{outcome}')}")
        else:
            parts.append(part)
    return "; ".join(parts)


def _local(text: str | None, zone_name: str) -> str | None:
    """An ISO time from a manifest, shown in the examiner's zone; other text as it is."""
    if not text:
        return text
    try:
        return local_text(parse_iso(text), zone_name)
    except (ValueError, OverflowError):
        return text


def _files_table(it: ItemSection, lang: str, zone_name: str) -> Table:
    # SHA-256 as two fixed halves of 32 hex digits: aligned, and easy to compare by eye.
    widths = [11 * mm, BODY_W - 77 * mm, 19 * mm, 47 * mm]
    rows = []
    for n, f in enumerate(it.files, 1):
        name = _visible(f.path)
        extra = " · ".join(x for x in (_local(f.modified, zone_name), _note(f.note, lang)) if x)
        digest = f"{f.sha256[:32]}\n{f.sha256[32:]}" if f.sha256 else "—"
        rows.append([str(n), name + ("\n" + extra if extra else ""), _grouped(f.size), digest])
    header = ["#", label(lang, "path"), label(lang, "size"), "SHA-256"]
    return _plain_table(header, rows, widths, font_size=7, mono_cols=(3,), long=True)
