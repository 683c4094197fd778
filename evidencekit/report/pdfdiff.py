"""What the revisions after a report's first signature may change, and naming what they did.

A signed PDF can grow by incremental updates, and every earlier signature stays cryptographically
valid: it covers only its own byte range. So a colleague with a pinned key could replace an
attached seal and `report.json` in a new revision and sign that revision; pdfsig then shows two
valid signatures while the pages still name the first examiner. The rule here: after the first
signature a revision may only add a signature (in its own, new signature field), a document
timestamp, or validation data (the DSS): pyhanko's difference analysis
(`pyhanko.sign.diff_analysis`, its standard policy with the metadata rules made strict in
diffpolicy.py) at `ModificationLevel.LTA_UPDATES`, or `FORM_FILLING` when the only form field
changed is the signature that signs that very revision. Anything else is named: which revision,
and what it changed (embedded files, pages, metadata, or pyhanko's own finding).

Each revision is compared with the one before it, so a change that a later revision undoes is
still seen (the same reason pyhanko reviews revisions one by one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from evidencekit.identity import subject_name
from evidencekit.report.attachments import deref, embedded_entries, shown
from evidencekit.report.diffpolicy import REPORT_DIFF_POLICY, MetadataChange

RULE = "only further signatures, document timestamps and validation data may follow the first"
MAX_PAGE_DEPTH = 32


def _value_key(field_ref: Any, name: str) -> tuple[object, ...]:
    value = deref(field_ref).raw_get("/V")
    if isinstance(value, generic.IndirectObject):
        return (value.idnum, value.generation)
    return ("direct", name)


def lost_signatures(
    reader: PdfFileReader, sigs: Sequence[EmbeddedPdfSignature]
) -> tuple[int | None, list[str]]:
    """The earliest revision holding a filled signature field in *any* revision, and one line
    per signature that an earlier revision holds but the final document no longer validates.

    Without this, a revision that drops the examiner's signature field from the form (or
    re-types it so pyhanko skips it) would make a colleague's later signature the "first".
    """
    present = {_value_key(s.sig_field, str(s.field_name)) for s in sigs}
    earliest: int | None = None
    seen: dict[tuple[object, ...], tuple[int, str]] = {}
    for rev in range(reader.xrefs.total_revisions):
        resolver = reader.get_historical_resolver(rev)
        for name, _value, field_ref in enumerate_sig_fields(resolver, filled_status=True):
            key = _value_key(field_ref, str(name))
            seen.setdefault(key, (rev, str(name)))
            earliest = rev if earliest is None else min(earliest, rev)
    lines = [
        f"the signature in field {shown(name)}, added in revision {rev + 1}, is no longer part "
        "of the document (a later revision removed it from the form, or it is of a kind that "
        "is not validated)"
        for key, (rev, name) in sorted(seen.items(), key=lambda kv: kv[1])
        if key not in present
    ]
    return earliest, lines


def revision_problems(
    reader: PdfFileReader, sigs: Sequence[EmbeddedPdfSignature], first: int | None = None
) -> list[str]:
    """One line per revision after the first signature that changes more than `RULE` allows.

    `first`: the revision of the first signature the file ever held (see `lost_signatures`);
    default: the first of `sigs`.
    """
    if not sigs and first is None:
        return []
    signed = [s.signed_revision for s in sigs]
    first = min([*signed, first]) if first is not None else min(signed)
    by_revision = {s.signed_revision: s for s in sigs}
    problems: list[str] = []
    for rev in range(first + 1, reader.xrefs.total_revisions):
        signer = by_revision.get(rev)
        try:
            old = reader.get_historical_resolver(rev - 1)
            new = reader.get_historical_resolver(rev)
            diff = REPORT_DIFF_POLICY.apply(old=old, new=new)
        except SuspiciousModification as exc:
            problems.append(_problem(reader, rev, signer, _first_line(exc)))
            continue
        except Exception as exc:  # a malformed revision is itself a finding
            problems.append(
                f"revision {rev + 1} of {reader.xrefs.total_revisions} cannot be analysed "
                f"({type(exc).__name__}: {exc}); {RULE} signature"
            )
            continue
        level = diff.modification_level
        if level <= ModificationLevel.LTA_UPDATES:
            continue
        if level == ModificationLevel.FORM_FILLING and signer is not None:
            # pyhanko's FORM_FILLING also admits new values of ordinary form fields; a report
            # has none, so the only field a revision may fill is the signature signing it.
            extra = sorted(diff.changed_form_fields - {signer.field_name})
            if not extra and signer.sig_object_type == "/Sig":
                continue
            what = "fills form field(s) " + ", ".join(
                shown(f) for f in extra or [signer.field_name]
            )
        elif level == ModificationLevel.FORM_FILLING:
            what = "fills form field(s) " + ", ".join(
                shown(f) for f in sorted(diff.changed_form_fields)
            )
        else:
            what = f"changes the document (pyhanko: modification level {level.name})"
        problems.append(_problem(reader, rev, signer, what))
    return problems


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, MetadataChange):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"pyhanko (revisions counted from 0): {text[0] if text else type(exc).__name__}"


def _problem(
    reader: PdfFileReader, rev: int, signer: EmbeddedPdfSignature | None, fallback: str
) -> str:
    try:
        changes = describe_changes(reader, rev)
    except Exception:  # the explanation is best effort; the finding stands without it
        changes = []
    what = "; ".join(changes) if changes else fallback
    by = f"signed by {_signer_name(signer)}" if signer is not None else "not signed"
    total = reader.xrefs.total_revisions
    return (
        f"revision {rev + 1} of {total} ({by}) {what} after the first signature; {RULE} signature"
    )


def _signer_name(sig: EmbeddedPdfSignature) -> str:
    try:
        return repr(subject_name(x509.load_der_x509_certificate(sig.signer_cert.dump())))
    except Exception:
        return f"field {sig.field_name!r}"


def describe_changes(reader: PdfFileReader, rev: int) -> list[str]:
    """What revision `rev` changed in the attachments and the pages, in words."""
    old = reader.get_historical_resolver(rev - 1)
    new = reader.get_historical_resolver(rev)
    out: list[str] = []
    before = {e.key: e.data for e in embedded_entries(old.root)}
    after = {e.key: e.data for e in embedded_entries(new.root)}
    replaced = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    if replaced:
        out.append("replaces embedded file(s) " + ", ".join(shown(k) for k in replaced))
    if added:
        out.append("adds embedded file(s) " + ", ".join(shown(k) for k in added))
    if removed:
        out.append("removes embedded file(s) " + ", ".join(shown(k) for k in removed))
    old_pages = _pages(old.root)
    new_pages = _pages(new.root)
    if len(old_pages) != len(new_pages):
        out.append(f"changes the number of pages from {len(old_pages)} to {len(new_pages)}")
    content = [
        i for i, (a, b) in enumerate(zip(old_pages, new_pages, strict=False), 1) if a[0] != b[0]
    ]
    annots = [
        i for i, (a, b) in enumerate(zip(old_pages, new_pages, strict=False), 1) if a[1] != b[1]
    ]
    if content:
        out.append("changes the content of page(s) " + _numbers(content))
    if annots:
        out.append("changes the annotations of page(s) " + _numbers(annots))
    return out


def _numbers(pages: list[int]) -> str:
    shown_pages = ", ".join(map(str, pages[:10]))
    return shown_pages + (f" and {len(pages) - 10} more" if len(pages) > 10 else "")


def _pages(root: Any) -> list[tuple[str, int]]:
    """(digest of the decoded content and resources, number of annotations) per page."""
    pages: list[tuple[str, int]] = []

    def walk(node: Any, depth: int) -> None:
        node = deref(node)
        if depth > MAX_PAGE_DEPTH or not isinstance(node, generic.DictionaryObject):
            return
        if "/Kids" in node:
            for kid in node["/Kids"]:
                walk(kid, depth + 1)
            return
        h = hashlib.sha256()
        contents = deref(node.get("/Contents"))
        streams = contents if isinstance(contents, generic.ArrayObject) else [contents]
        for s in streams:
            s = deref(s)
            if isinstance(s, generic.StreamObject):
                h.update(s.data)
        resources = node.get("/Resources")
        h.update(repr(resources).encode("utf-8", "replace"))
        annots = deref(node.get("/Annots"))
        count = 0
        for annot in annots if isinstance(annots, generic.ArrayObject) else []:
            if not _is_signature_widget(deref(annot)):
                count += 1
        pages.append((h.hexdigest(), count))

    walk(root.get("/Pages"), 0)
    return pages


def _is_signature_widget(annot: Any) -> bool:
    """A signature field's widget: what adding a signature puts on a page (judged by pyhanko's
    rules; here only so that it is not named as a change)."""
    if not isinstance(annot, generic.DictionaryObject) or annot.get("/Subtype") != "/Widget":
        return False
    field = annot
    for _ in range(MAX_PAGE_DEPTH):
        if field.get("/FT") == "/Sig":
            return True
        parent = deref(field.get("/Parent"))
        if not isinstance(parent, generic.DictionaryObject):
            return False
        field = parent
    return False
