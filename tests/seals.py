"""A seal re-signed after an edit: what an insider with a key of their own does to a seal."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path

from evidencekit.hash.canonical import canonical_json
from evidencekit.identity import Identity


def resign(seal: Path, signer: Identity, edit: Mapping[str, object] | None = None) -> None:
    """Rewrite `seal` with `edit` applied, signed by `signer` (its certificate embedded)."""
    doc = json.loads(seal.read_bytes())
    doc.pop("signature")
    doc.update(edit or {})
    doc["examiner"] = {"name": signer.name, "fingerprint": signer.fingerprint}
    if doc.get("schema") == "evidencekit/seal/1":
        doc["examiner"]["certificate"] = signer.cert_pem()
    else:  # seal/2: the chain, leaf first
        doc["examiner"]["certificates"] = [signer.cert_pem()]
    sig = signer.sign(canonical_json(doc))
    doc["signature"] = {"algorithm": "ecdsa-p256-sha256", "value": base64.b64encode(sig).decode()}
    seal.chmod(0o644)
    seal.write_bytes(canonical_json(doc))
