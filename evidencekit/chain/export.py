"""Ledger exports: JSON Lines (lossless, re-verifiable) and CASE/UCO JSON-LD (for other tools).

JSON Lines: one object per line, `{"type": "event", "seq", "leaf_hash", "event": {...signed
fields}, "signature": {"algorithm", "value"}}` for each event in order, then one
`{"type": "checkpoint", "tree_size", "root", "note"}` with the latest signed checkpoint. Since
`event` is the signed object, `canonical_json(event)` gives back the exact signed bytes.

CASE/UCO (CASE 1.5.0 / UCO 1.4.0): per event a `case-investigation:InvestigativeAction` whose
`uco-action:object` is a ProvenanceRecord for the item as it came in and whose
`uco-action:result` is a ProvenanceRecord for it going out; the item is a
`uco-observable:ObservableObject` whose ContentDataFacet carries its digests as `uco-types:Hash`.
Identifiers are UUIDv5 derived from the ledger origin, so exporting twice gives the same graph.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from evidencekit.chain.events import SignedEvent
from evidencekit.chain.store import CheckpointRow

CONTEXT = {
    "kb": "urn:evidencekit:kb:",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-location": "https://ontology.unifiedcyberontology.org/uco/location/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# uco-vocabulary:HashNameVocab spellings
_HASH_NAMES = {
    "md5": "MD5",
    "sha1": "SHA1",
    "sha224": "SHA224",
    "sha256": "SHA256",
    "sha384": "SHA384",
    "sha512": "SHA512",
    "sha3-224": "SHA3-224",
    "sha3-256": "SHA3-256",
    "sha3-384": "SHA3-384",
    "sha3-512": "SHA3-512",
}


def export_jsonl(events: Sequence[SignedEvent], checkpoint: CheckpointRow | None) -> bytes:
    """The ledger as JSON Lines (UTF-8, one object per line, `\\n` endings)."""
    lines = []
    for se in events:
        d = se.to_dict()
        lines.append(
            {
                "type": "event",
                "seq": se.seq,
                "leaf_hash": se.leaf_hash.hex(),
                "event": se.event.body(),
                "signature": d["signature"],
            }
        )
    if checkpoint is not None:
        lines.append(
            {
                "type": "checkpoint",
                "tree_size": checkpoint.tree_size,
                "root": checkpoint.root.hex(),
                "note": checkpoint.note,
            }
        )
    return b"".join(
        json.dumps(x, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        for x in lines
    )


class _Ids:
    def __init__(self, origin: str) -> None:
        self.ns = uuid.uuid5(uuid.NAMESPACE_URL, "urn:evidencekit:" + origin)

    def __call__(self, kind: str, key: str) -> str:
        return f"kb:{kind}-{uuid.uuid5(self.ns, kind + '/' + key)}"


def _dt(value: str) -> dict[str, str]:
    return {"@type": "xsd:dateTime", "@value": value}


def export_case_uco(
    events: Sequence[SignedEvent],
    *,
    origin: str,
    case_number: str,
    case_title: str,
    checkpoint: CheckpointRow | None = None,
) -> bytes:
    """The ledger as a CASE 1.5.0 JSON-LD graph (UTF-8 bytes)."""
    ids = _Ids(origin)
    graph: list[dict[str, Any]] = []
    people: dict[str, str] = {}
    items: dict[str, str] = {}
    locations: dict[str, str] = {}

    def person(name: str, fp: str | None) -> str:
        key = fp or ("name:" + name)
        if key not in people:
            pid = ids("identity", key)
            people[key] = pid
            node: dict[str, Any] = {
                "@id": pid,
                "@type": "uco-identity:Person",
                "uco-core:name": name,
            }
            if fp:
                node["uco-core:description"] = f"X.509 certificate SHA-256 fingerprint {fp}"
            graph.append(node)
        return people[key]

    def location(text: str) -> str:
        if text not in locations:
            lid = ids("location", text)
            locations[text] = lid
            graph.append(
                {"@id": lid, "@type": "uco-location:Location", "uco-core:description": text}
            )
        return locations[text]

    def item(item_id: str, description: str | None) -> str:
        if item_id not in items:
            oid = ids("item", item_id)
            items[item_id] = oid
            node = {
                "@id": oid,
                "@type": "uco-observable:ObservableObject",
                "uco-core:name": item_id,
            }
            if description:
                node["uco-core:description"] = description
            graph.append(node)
        return items[item_id]

    investigation = ids("investigation", origin)
    actions: list[dict[str, str]] = []
    for se in events:
        ev = se.event
        body = ev.body()
        aid = ids("action", str(ev.seq))
        actions.append({"@id": aid})
        action: dict[str, Any] = {
            "@id": aid,
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": ev.kind,
            "uco-action:startTime": _dt(body["time"]),
            "uco-action:endTime": _dt(body["time"]),
            "uco-action:performer": {"@id": person(ev.actor.name, ev.actor.fingerprint)},
        }
        text = [f"custody event {ev.seq}: {ev.kind}"]
        for label, value in (
            ("purpose", ev.purpose),
            ("seal", ev.seal_number),
            ("condition", ev.condition),
            ("note", ev.note),
            ("reason", ev.reason),
            ("override", ev.override),
        ):
            if value:
                text.append(f"{label}: {value}")
        if ev.counterpart is not None:
            text.append(f"counterpart: {ev.counterpart.name}")
            action["uco-action:participant"] = [
                {"@id": person(ev.counterpart.name, ev.counterpart.fingerprint)}
            ]
        if ev.location:
            action["uco-action:location"] = [{"@id": location(ev.location)}]
        if ev.item_id is not None:
            obj = item(ev.item_id, ev.description)
            hashes = []
            for n, (alg, hexval) in enumerate(sorted(ev.digests.items())):
                if alg not in _HASH_NAMES:
                    # Not in UCO's HashNameVocab (e.g. blake3): validators flag it, so it
                    # stays in the description (and in the signed event) only.
                    text.append(f"{alg}: {hexval}")
                    continue
                # UCO 1.4: hashMethod is a plain string from HashNameVocab.
                method = _HASH_NAMES[alg]
                hashes.append(
                    {
                        "@id": ids("hash", f"{ev.seq}/{n}"),
                        "@type": "uco-types:Hash",
                        "uco-types:hashMethod": method,
                        "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": hexval},
                    }
                )
            state_id = obj
            if hashes:
                # The digests are a fact about the item at this event: a facet on a per-event
                # observation of it keeps different events' digests apart.
                state_id = ids("item-state", str(ev.seq))
                graph.append(
                    {
                        "@id": state_id,
                        "@type": "uco-observable:ObservableObject",
                        "uco-core:name": f"{ev.item_id} at custody event {ev.seq}",
                        "uco-core:hasFacet": [
                            {
                                "@id": ids("content-data-facet", str(ev.seq)),
                                "@type": "uco-observable:ContentDataFacet",
                                "uco-observable:hash": hashes,
                            }
                        ],
                    }
                )
            rin = ids("provenance-record-in", str(ev.seq))
            rout = ids("provenance-record-out", str(ev.seq))
            for rid, role in ((rin, "in"), (rout, "out")):
                graph.append(
                    {
                        "@id": rid,
                        "@type": "case-investigation:ProvenanceRecord",
                        "case-investigation:exhibitNumber": ev.item_id,
                        "uco-core:description": f"{ev.item_id} {role} of custody event {ev.seq}",
                        "uco-core:object": [{"@id": obj}]
                        + ([{"@id": state_id}] if state_id != obj else []),
                    }
                )
            action["uco-action:object"] = [{"@id": rin}]
            action["uco-action:result"] = [{"@id": rout}]
        action["uco-core:description"] = "; ".join(text)
        graph.append(action)
    inv: dict[str, Any] = {
        "@id": investigation,
        "@type": "case-investigation:Investigation",
        "uco-core:name": case_number,
        "uco-core:description": case_title,
        "case-investigation:focus": ["chain of custody"],
        "uco-core:object": actions,
    }
    if checkpoint is not None:
        inv["uco-core:description"] = (
            f"{case_title} (custody ledger {origin}, tree size {checkpoint.tree_size}, "
            f"root {checkpoint.root.hex()})"
        )
    graph.insert(0, inv)
    doc = {"@context": CONTEXT, "@graph": graph}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
