"""pyhanko's difference policy, with the document's metadata held to the first signature.

pyhanko's default policy (`DEFAULT_DIFF_POLICY`) accepts any change to the document information
dictionary (`/Info`) and any well-formed XMP metadata stream after a signature, as validation
data. A report's `/Info` names its examiner (`/Author`), title and report id (`/Subject`), and
PDF readers show those (Acrobat prefers the XMP `dc:creator` and `dc:title`): a colleague could
put their own name there in a revision every other check accepts. Here only what signing tools
legitimately refresh may change - `/ModDate` and `/Producer`, and in XMP the modification and
metadata dates, the producer, the creator tool and the `xmpMM` bookkeeping (instance ids,
history); anything else is a `MetadataChange` naming the entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.etree import ElementTree

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DocInfoRule,
    DSSCompareRule,
    FormUpdatingRule,
    GenericFieldModificationRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    ReferenceUpdate,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    SuspiciousModification,
    WhitelistRule,
    XrefStreamRule,
)

INFO_MUTABLE = frozenset({"/ModDate", "/Producer"})
_XMP = "http://ns.adobe.com/xap/1.0/"
_PDF = "http://ns.adobe.com/pdf/1.3/"
_XMPMM = "http://ns.adobe.com/xap/1.0/mm/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XMETA = "adobe:ns:meta/"
XMP_MUTABLE = frozenset(
    {
        f"{{{_XMP}}}ModifyDate",
        f"{{{_XMP}}}MetadataDate",
        f"{{{_XMP}}}CreatorTool",
        f"{{{_PDF}}}Producer",
        f"{{{_XMETA}}}xmptk",
        f"{{{_RDF}}}about",
    }
)


class MetadataChange(SuspiciousModification):
    """A revision changes the document's descriptive metadata (names the entry)."""


def _info(resolver: HistoricalResolver) -> generic.DictionaryObject | None:
    ref = resolver.trailer_view.get_value_as_reference("/Info", optional=True)
    if ref is None:
        return None
    value = resolver.get_object(ref)
    return value if isinstance(value, generic.DictionaryObject) else None


class StrictDocInfoRule(WhitelistRule):
    """pyhanko's `DocInfoRule`, refusing changes beyond `/ModDate` and `/Producer`."""

    def apply(self, old: HistoricalResolver, new: HistoricalResolver) -> Iterable[ReferenceUpdate]:
        before, after = _info(old), _info(new)
        if before is not None:
            current = after if after is not None else generic.DictionaryObject()  # type: ignore[no-untyped-call]
            for key in sorted(set(before) | set(current)):
                if key in INFO_MUTABLE:
                    continue
                was, now = before.get(key), current.get(key)
                if was != now:
                    raise MetadataChange(
                        f"changes the document information {key} from {_short(was)} to "
                        f"{_short(now)}"
                    )
        yield from DocInfoRule().apply(old, new)


def _short(value: object) -> str:
    if value is None:
        return "(none)"
    text = str(value)
    return repr(text if len(text) <= 80 else text[:77] + "...")


Path = tuple[str, ...]


def _xmp_facts(resolver: HistoricalResolver) -> list[tuple[Path, str]]:
    """(path of tags, value) of every XMP property but the ones signing tools refresh, sorted."""
    ref = resolver.root.get_value_as_reference("/Metadata", optional=True)
    if ref is None:
        return []
    stream = resolver.get_object(ref)
    if not isinstance(stream, generic.StreamObject):
        raise MetadataChange("the XMP metadata is not a stream")
    # pyhanko's MetadataUpdateRule ran first: well-formed, no entity references
    root = ElementTree.fromstring(stream.data)
    facts: list[tuple[Path, str]] = []
    skip = (f"{{{_RDF}}}Description", f"{{{_RDF}}}RDF", f"{{{_XMETA}}}xmpmeta")

    def walk(node: ElementTree.Element, path: Path) -> None:
        if node.tag.startswith(f"{{{_XMPMM}}}"):
            return
        here = path if node.tag in skip else (*path, node.tag)
        for attr, value in node.attrib.items():
            if attr not in XMP_MUTABLE and not attr.startswith(f"{{{_XMPMM}}}"):
                facts.append(((*here, attr), value))
        children = list(node)
        if not children and node.tag not in XMP_MUTABLE:
            text = (node.text or "").strip()
            if text:
                facts.append((here, text))
        for child in children:
            walk(child, here)

    walk(root, ())
    return sorted(facts)


_PREFIXES = {
    "http://purl.org/dc/elements/1.1/": "dc",
    _XMP: "xmp",
    _PDF: "pdf",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
}


def _property(path: Path) -> str:
    """The XMP property a fact path belongs to, as `prefix:name` (`dc:creator`)."""
    for part in path:
        ns, _, local = part[1:].partition("}") if part.startswith("{") else ("", "", part)
        if ns in (_RDF, _XMETA):
            continue
        return f"{_PREFIXES.get(ns, ns)}:{local}" if ns else local
    return "?"


class StrictMetadataRule(MetadataUpdateRule):
    """pyhanko's `MetadataUpdateRule` (well-formed XMP, no entities), refusing any change to
    a property other than the dates, producer and bookkeeping that signing tools refresh."""

    def apply(self, old: HistoricalResolver, new: HistoricalResolver) -> Iterable[ReferenceUpdate]:
        updates = list(super().apply(old, new))
        try:
            before, after = _xmp_facts(old), _xmp_facts(new)
        except ElementTree.ParseError as exc:
            raise MetadataChange(f"the XMP metadata cannot be read: {exc}") from exc
        if before != after:
            changed = sorted({path for path, _ in set(before) ^ set(after)})
            names = ", ".join(dict.fromkeys(_property(p) for p in changed)) or "?"
            raise MetadataChange(f"changes the XMP metadata ({names})")
        yield from updates


REPORT_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),  # type: ignore[no-untyped-call]
        StrictDocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        StrictMetadataRule().as_qualified(ModificationLevel.LTA_UPDATES),  # type: ignore[no-untyped-call]
    ],
    form_rule=FormUpdatingRule(
        field_rules=[
            SigFieldCreationRule(),  # type: ignore[no-untyped-call]
            SigFieldModificationRule(),
            GenericFieldModificationRule(),
        ],
    ),
)
"""`DEFAULT_DIFF_POLICY` with the two metadata rules made strict (same rules, same order)."""
