"""Checkpoints (tree size + root) as C2SP signed notes.

A checkpoint is the text of c2sp.org/tlog-checkpoint: the log's origin line, the tree size in
decimal, the root hash in base64, each ending in a newline. It is signed as a c2sp.org/signed-note:
a blank line, then `— <key name> <base64(key ID || signature)>`. The key name is
`evidencekit/<certificate fingerprint>` so a verifier finds the certificate among the case's
pinned examiners (or a `--trust` file); the key ID says which algorithm signed:

- an examiner signing `ecdsa-p256-sha256` uses signature type 0x02 (ECDSA, as implemented by
  transparency-dev/witness): an ASN.1 DER ECDSA P-256 signature over SHA-256 of the note text,
  key ID = the first four bytes of SHA-256 of the key's DER SubjectPublicKeyInfo (unchanged
  since the first ledger);
- any other algorithm (RSA from a token, P-384) uses the signed-note type 0xff, reserved for
  signature types with a longer identifier: the identifier is `evidencekit-sig/<algorithm>`,
  key ID = SHA-256(key name || 0x0A || 0xff || identifier || 0x0A || DER SPKI)[:4], and the
  signature is that algorithm's over the note text (docs/signing.md).

C2SP defines no RSA type; this keeps checkpoints one signature per examiner, made by the same key
(on the token) as the events they cover, with no second key to keep. A verifier derives the
algorithm from the key ID among those the certificate's key may make, so a signature cannot be
presented as another algorithm's (a key ID for another algorithm is an unknown key).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from evidencekit.chain import signature_cache
from evidencekit.errors import IntegrityError
from evidencekit.identity import Identity, algorithms, fingerprint, subject_name

EM_DASH = "\u2014"
KEY_PREFIX = "evidencekit/"
EXTENSION_PREFIX = "evidencekit-sig/"
"""The signed-note 0xff identifier of a non-P-256 algorithm is this followed by its name."""
MAX_SIGNATURES = 16


@functools.lru_cache(maxsize=256)
def key_id(cert: x509.Certificate, algorithm: str = algorithms.DEFAULT) -> bytes:
    """Signed-note key ID of `cert`'s key signing with `algorithm` (see the module docstring).

    Cached: `custody verify` checks every checkpoint of a ledger against the same few
    certificates."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if algorithm == algorithms.DEFAULT:
        return hashlib.sha256(spki).digest()[:4]
    name = key_name(fingerprint(cert)).encode("utf-8")
    ident = (EXTENSION_PREFIX + algorithm).encode("ascii")
    return hashlib.sha256(name + b"\n\xff" + ident + b"\n" + spki).digest()[:4]


def key_name(fp: str) -> str:
    """`evidencekit/<fingerprint>`: no spaces, no '+', names the certificate."""
    return KEY_PREFIX + fp


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The signed statement "the log `origin` has `size` entries with this `root`"."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        return "\n".join([*lines, *self.extensions]) + "\n"

    def to_dict(self) -> dict[str, object]:
        return {"origin": self.origin, "tree_size": self.size, "root": self.root.hex()}


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class VerifiedCheckpoint:
    """A checkpoint whose signature checked out against a trusted certificate."""

    checkpoint: Checkpoint
    text: str
    signer_fingerprint: str
    signer_name: str

    def to_dict(self) -> dict[str, object]:
        return {
            **self.checkpoint.to_dict(),
            "signer": {"name": self.signer_name, "fingerprint": self.signer_fingerprint},
            "text": self.text,
        }


def sign_checkpoint(checkpoint: Checkpoint, identity: Identity) -> str:
    """The checkpoint as a signed note, signed by `identity`."""
    body = checkpoint.body()
    sig = identity.sign(body.encode("utf-8"))
    kid = key_id(identity.certificate, identity.algorithm)
    blob = base64.b64encode(kid + sig).decode("ascii")
    return f"{body}\n{EM_DASH} {key_name(identity.fingerprint)} {blob}\n"


def parse_note(text: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines.

    Raises:
        IntegrityError: the note is malformed.
    """
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise IntegrityError("signed note contains control characters")
    if not text.endswith("\n"):
        raise IntegrityError("signed note does not end with a newline")
    cut = text.rfind("\n\n")
    if cut < 0:
        raise IntegrityError("signed note has no blank line before its signatures")
    body = text[: cut + 1]
    sigs: list[NoteSignature] = []
    for line in text[cut + 2 : -1].split("\n"):
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise IntegrityError(f"malformed signature line in signed note: {line[:60]!r}")
        parts = line[len(prefix) :].split(" ")
        if len(parts) != 2 or not parts[0] or "+" in parts[0]:
            raise IntegrityError(f"malformed signature line in signed note: {line[:60]!r}")
        try:
            raw = base64.b64decode(parts[1], validate=True)
        except binascii.Error as exc:
            raise IntegrityError(f"signature of {parts[0]!r} is not base64") from exc
        if len(raw) < 5:
            raise IntegrityError(f"signature of {parts[0]!r} is too short")
        sigs.append(NoteSignature(parts[0], raw[:4], raw[4:]))
    if not sigs or len(sigs) > MAX_SIGNATURES:
        raise IntegrityError(f"signed note has {len(sigs)} signatures")
    return body, sigs


def parse_checkpoint_body(body: str) -> Checkpoint:
    """Parse the text of a checkpoint (origin, size, root, extensions).

    Raises:
        IntegrityError: the text is not a checkpoint.
    """
    lines = body[:-1].split("\n") if body.endswith("\n") else []
    if len(lines) < 3 or not lines[0]:
        raise IntegrityError("checkpoint text needs an origin, a tree size and a root hash")
    size_text = lines[1]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise IntegrityError(f"checkpoint tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error as exc:
        raise IntegrityError(f"checkpoint root {lines[2]!r} is not base64") from exc
    if len(root) != 32:
        raise IntegrityError(f"checkpoint root has {len(root)} bytes, expected 32")
    return Checkpoint(lines[0], int(size_text), root, tuple(lines[3:]))


def verify_checkpoint(text: str, trusted: dict[str, x509.Certificate]) -> VerifiedCheckpoint:
    """Check a signed checkpoint against the trusted certificates (by fingerprint).

    Raises:
        IntegrityError: malformed, a known key's signature fails, or no trusted signer.
    """
    body, sigs = parse_note(text)
    checkpoint = parse_checkpoint_body(body)
    data = body.encode("utf-8")
    names: list[str] = []
    for s in sigs:
        names.append(s.name)
        if not s.name.startswith(KEY_PREFIX):
            continue
        fp = s.name[len(KEY_PREFIX) :]
        cert = trusted.get(fp)
        if cert is None:
            continue
        # the key ID names the algorithm, among those this key may make: any other is an
        # unknown key (C2SP: ignored), never verified as another algorithm
        algorithm = next(
            (a for a in signature_cache.allowed(fp, cert) if key_id(cert, a) == s.key_id),
            None,
        )
        if algorithm is None:
            continue
        if not signature_cache.verify(fp, cert, data, s.signature, algorithm):
            raise IntegrityError(
                f"checkpoint signature by {subject_name(cert)!r} ({fp[:16]}) does not verify "
                f"(tree size {checkpoint.size})"
            )
        return VerifiedCheckpoint(checkpoint, text, fp, subject_name(cert))
    raise IntegrityError(
        f"checkpoint (tree size {checkpoint.size}) is signed by unknown key(s): "
        + ", ".join(names),
        hint="pin the examiner in the case, or pass the signer's certificate with --trust",
    )
