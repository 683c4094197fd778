"""The seal document's value types: artifacts, combined media digests, a parsed seal, what
:func:`evidencekit.hash.seal.write.seal_item` wrote, and where an artifact named in a seal lives.

Names an artifact may carry are checked here (:func:`resolve_artifact`) so that a hostile seal
cannot make a verifier read outside the item folder.

Two schemas are read: `evidencekit/seal/1` (still verified) and `evidencekit/seal/2`, the one
written. Seal/2 adds the case identity and item the seal belongs to, the signer's certificate
chain, SHA-256-only digests of derived artifacts, and an exact encoding of any file name (see
:func:`name_member`). Inside the program a name is a `str` in which a byte that is not UTF-8 is a
lone surrogate (Python's `surrogateescape`, as `os.fsdecode` gives on POSIX), so it round-trips
to the exact bytes with :func:`name_bytes`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, get_args

from evidencekit.errors import IntegrityError
from evidencekit.fsutil import open_regular
from evidencekit.hash.algorithms import ALGORITHMS, DIGEST_HEX_LENGTH
from evidencekit.hash.multihash import HashResult
from evidencekit.identity.algorithms import ALGORITHMS as ALGORITHMS_SIGNED
from evidencekit.timeutil import parse_iso

SCHEMA_V1 = "evidencekit/seal/1"
SCHEMA_V2 = "evidencekit/seal/2"
SCHEMA = SCHEMA_V2
"""The schema every writer writes; :data:`SCHEMAS` are those read."""
SCHEMAS = (SCHEMA_V1, SCHEMA_V2)
DERIVED_ALGORITHMS = ("sha256",)
"""The per-file digests of a *derived* artifact (E01 segment, tar, log, manifest, device report,
DFXML): SHA-256 only. The media (the combined content, the files of a raw or split image, the
files `seal` copies) carry the algorithms chosen with `-a`. Every seal/2 artifact carries
SHA-256, so `ITEM.sha256` lists every file of the item."""
SEAL_SUFFIX = ".seal.json"

SIGNATURE_ALGORITHM = ALGORITHMS_SIGNED[0]
"""What seals signed with a software P-256 key (every seal before tokens) name."""
SIGNATURE_ALGORITHMS = ALGORITHMS_SIGNED
"""Every `signature.algorithm` a seal may name (`identity.algorithms`); a verifier also checks
that it fits the certificate's key (docs/seal.md)."""
SealStatus = Literal["complete", "complete-with-errors", "incomplete"]
"""A seal's status: whole, whole but some source data unreadable (listed in its facts), or
interrupted. A writer refuses any other (:func:`evidencekit.hash.seal.seal_item`)."""
STATUSES: tuple[SealStatus, ...] = get_args(SealStatus)
SealKind = Literal["raw", "split-raw", "e01", "tar", "files"]
"""What the writers seal: a disk image (raw file, split raw pieces, E01 segments), a logical
collection (PAX tar) or files `seal` copied or hashed in place. The format leaves `kind` open
(a seal is read whatever it says); these are the kinds a reader can tell apart."""
SEAL_KINDS: tuple[SealKind, ...] = get_args(SealKind)
DISK_KINDS: frozenset[SealKind] = frozenset({"raw", "split-raw", "e01"})
FILE_KINDS: frozenset[SealKind] = frozenset({"tar", "files"})


def media_algorithms(algorithms: Sequence[str]) -> tuple[str, ...]:
    """What a media file (a raw image, a split piece, a file `seal` copies) is hashed with: the
    chosen algorithms and SHA-256, which every seal/2 artifact carries (in the algorithm
    table's order)."""
    wanted = {*algorithms, "sha256"}
    return tuple(a for a in ALGORITHMS if a in wanted)


def _digest_list(digests: Mapping[str, str]) -> list[str]:
    return [f"{a}:{digests[a]}" for a in ALGORITHMS if a in digests]


def _parse_digest_list(items: Any, where: str) -> dict[str, str]:
    if not isinstance(items, list):
        raise ValueError(f"{where}: digests must be a list of 'algorithm:hex'")
    out: dict[str, str] = {}
    for item in items:
        algo, _, hexd = str(item).partition(":")
        if algo not in DIGEST_HEX_LENGTH or len(hexd) != DIGEST_HEX_LENGTH[algo]:
            raise ValueError(f"{where}: bad digest {item!r}")
        out[algo] = hexd
    return out


def name_bytes(name: str) -> bytes:
    """The exact bytes of a name held as text (non-UTF-8 bytes as lone surrogates)."""
    return name.encode("utf-8", "surrogateescape")


def is_text_name(name: str) -> bool:
    """Whether `name` is valid UTF-8 (and so held in a seal as JSON text)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_name(name: str) -> str:
    """A name for messages: valid UTF-8 as it is, any other byte as `\\xff` (the exact bytes
    are in the seal; a lone surrogate cannot be printed)."""
    return name_bytes(name).decode("utf-8", "backslashreplace")


def name_member(name: str, key: str = "name") -> dict[str, str]:
    """The seal/2 encoding of a file name, `{key: text}` or `{key + "_bytes": base64}`.

    A name that is valid UTF-8 is JSON text under `key`; any other name (a POSIX name is any
    bytes but NUL and `/` per component) is its exact bytes in standard base64 (RFC 4648, with
    padding) under `key_bytes`. Exactly one of the two is present, and `key_bytes` is used only
    when the bytes are not UTF-8, so every name has one encoding and decodes to its exact bytes.
    Backslash, newline, CR, a leading dash are ordinary characters of the text form.
    """
    if is_text_name(name):
        return {key: name}
    return {key + "_bytes": base64.b64encode(name_bytes(name)).decode("ascii")}


def parse_name_member(doc: Mapping[str, Any], key: str = "name") -> str:
    """The name :func:`name_member` encoded (lone surrogates for the bytes that are not UTF-8).

    Raises:
        ValueError: neither or both members, text that holds a lone surrogate, base64 that is
            not canonical, or bytes given as base64 that are valid UTF-8 (two encodings of one
            name would let two readers disagree).
    """
    text, raw = doc.get(key), doc.get(key + "_bytes")
    if (text is None) == (raw is None):
        raise ValueError(f"needs exactly one of {key!r} and {key + '_bytes'!r}: {dict(doc)!r}")
    if text is not None:
        if not isinstance(text, str) or not is_text_name(text):
            raise ValueError(f"{key!r} must be UTF-8 text: {text!r}")
        return text
    if not isinstance(raw, str):
        raise ValueError(f"{key + '_bytes'!r} must be base64 text")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{key + '_bytes'!r} is not base64: {raw!r}") from exc
    if base64.b64encode(data).decode("ascii") != raw:
        raise ValueError(f"{key + '_bytes'!r} is not canonical base64: {raw!r}")
    name = data.decode("utf-8", "surrogateescape")
    if is_text_name(name):
        raise ValueError(f"{key + '_bytes'!r} holds a UTF-8 name: it must be given as {key!r}")
    return name


@dataclass(frozen=True, slots=True)
class Artifact:
    """One sealed file: `name` relative to the item folder (POSIX `/`), or absolute (in place).

    `digests` maps algorithm to lowercase hex. A name's bytes that are not UTF-8 are lone
    surrogates (see the module docstring); :meth:`to_dict` encodes them exactly (seal/2).
    """

    name: str
    size: int
    digests: dict[str, str]

    def to_dict(self, schema: str = SCHEMA) -> dict[str, object]:
        if schema == SCHEMA_V1:
            return {"name": self.name, "size": self.size, "digests": _digest_list(self.digests)}
        return {
            **name_member(self.name),
            "size": self.size,
            "digests": _digest_list(self.digests),
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], schema: str = SCHEMA) -> Artifact:
        if schema == SCHEMA_V1:
            name = doc["name"]
            if not isinstance(name, str):
                raise ValueError(f"bad artifact entry {doc!r}")
        else:
            name = parse_name_member(doc)
        size = doc["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"bad artifact entry {doc!r}")
        return cls(name, size, _parse_digest_list(doc["digests"], shown_name(name)))


@dataclass(frozen=True, slots=True)
class Combined:
    """Digests of the item's logical content (the media of an image), with window digests.

    `format` says how the content is read back: "raw" is the concatenation of `parts` (artifact
    names, in order: one raw file or split segments); anything else ("e01") needs a verifier
    registered with :func:`register_media_verifier`. `windows` holds one hex digest (algorithm
    `window_algorithm`) per `window_size` bytes; the last window may be shorter.
    """

    format: str
    parts: tuple[str, ...]
    size: int
    digests: dict[str, str]
    window_size: int | None = None
    window_algorithm: str | None = None
    windows: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "format": self.format,
            "parts": list(self.parts),
            "size": self.size,
            "digests": _digest_list(self.digests),
        }
        if self.window_size:
            doc["window_size"] = self.window_size
            doc["window_algorithm"] = self.window_algorithm
            doc["windows"] = [f"{self.window_algorithm}:{w}" for w in self.windows]
        return doc

    @classmethod
    def from_result(
        cls, result: HashResult, *, format: str = "raw", parts: Sequence[str] = ()
    ) -> Combined:
        algo = result.window_algorithm
        return cls(
            format=format,
            parts=tuple(parts),
            size=result.size,
            digests=dict(result.digests),
            window_size=result.window_size,
            window_algorithm=algo,
            windows=tuple(w.digests[algo] for w in result.windows) if algo else (),
        )

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Combined:
        wsize = doc.get("window_size")
        walgo = doc.get("window_algorithm")
        windows: list[str] = []
        if wsize:
            if not isinstance(wsize, int) or wsize <= 0 or walgo not in DIGEST_HEX_LENGTH:
                raise ValueError("combined: bad window_size or window_algorithm")
            for w in doc.get("windows", []):
                algo, _, hexd = str(w).partition(":")
                if algo != walgo or len(hexd) != DIGEST_HEX_LENGTH[algo]:
                    raise ValueError(f"combined: bad window digest {w!r}")
                windows.append(hexd)
        size = doc["size"]
        if not isinstance(size, int) or size < 0:
            raise ValueError("combined: bad size")
        return cls(
            format=str(doc["format"]),
            parts=tuple(str(p) for p in doc.get("parts", [])),
            size=size,
            digests=_parse_digest_list(doc["digests"], "combined"),
            window_size=wsize or None,
            window_algorithm=walgo if wsize else None,
            windows=tuple(windows),
        )


@dataclass(frozen=True, slots=True)
class Seal:
    """A parsed seal file (not yet verified: use :func:`verify_seal` for that)."""

    path: Path
    document: dict[str, Any]
    artifacts: tuple[Artifact, ...]
    combined: Combined | None

    @property
    def item_dir(self) -> Path:
        return self.path.parent

    @property
    def schema(self) -> str:
        return str(self.document["schema"])

    @property
    def names_case(self) -> bool:
        """Whether the seal says which case it belongs to (seal/2; seal/1 does not)."""
        return self.schema != SCHEMA_V1

    @property
    def case_identity(self) -> str | None:
        """The case identity a seal/2 names (`sha256:…`); None for a seal/2 made outside a
        case (`"case": null`) and for a seal/1, which does not name one (see
        :attr:`names_case`)."""
        case = self.document.get("case")
        if isinstance(case, dict) and isinstance(case.get("identity"), str):
            return str(case["identity"])
        return None

    @property
    def certificate_pems(self) -> tuple[str, ...]:
        """The signer's certificates as PEM, leaf first (seal/1: its one certificate)."""
        examiner = self.document.get("examiner")
        if not isinstance(examiner, dict):
            return ()
        if self.schema == SCHEMA_V1:
            cert = examiner.get("certificate")
            return (cert,) if isinstance(cert, str) else ()
        certs = examiner.get("certificates")
        if not isinstance(certs, list) or not all(isinstance(c, str) for c in certs):
            return ()
        return tuple(certs)

    @property
    def item_id(self) -> str:
        return str(self.document["item"])

    @property
    def kind(self) -> str:
        return str(self.document["kind"])

    @property
    def status(self) -> str:
        """The status as the seal states it (verification judges the seal that states it)."""
        return str(self.document["status"])

    @property
    def known_status(self) -> SealStatus | None:
        """The status when it is one of :data:`STATUSES`, as in every seal a writer made (they
        refuse any other); None for other text, which only a changed seal holds (its signature
        then fails, and `verify` says so)."""
        status = self.document.get("status")
        return next((s for s in STATUSES if s == status), None)

    @property
    def facts(self) -> dict[str, Any]:
        facts = self.document.get("facts") or {}
        return dict(facts) if isinstance(facts, dict) else {}

    @property
    def description(self) -> str | None:
        """The free text given when sealing (optional in both schemas)."""
        text = self.document.get("description")
        return text if isinstance(text, str) else None

    @property
    def host(self) -> str:
        """The name of the machine that sealed it."""
        host = self.document.get("host")
        return host if isinstance(host, str) else ""

    @property
    def tool(self) -> str:
        """The program that sealed it, `name version` (`evidencekit 0.1.0`)."""
        tool = self.document.get("tool")
        if not isinstance(tool, dict):
            return ""
        return " ".join(str(v) for v in (tool.get("name"), tool.get("version")) if v)

    @property
    def started(self) -> dt.datetime | None:
        """When the acquisition (or copy) began; None if the seal lacks a readable time."""
        return _time_member(self.document, "started")

    @property
    def finished(self) -> dt.datetime | None:
        """When it ended; None if the seal lacks a readable time."""
        return _time_member(self.document, "finished")

    @property
    def sealed_at(self) -> dt.datetime | None:
        """When the seal was signed; None if the seal lacks a readable time."""
        return _time_member(self.document, "sealed")

    @property
    def examiner_name(self) -> str:
        return str(self.document.get("examiner", {}).get("name", ""))

    @property
    def examiner_fingerprint(self) -> str:
        return str(self.document.get("examiner", {}).get("fingerprint", ""))

    @property
    def in_place(self) -> bool:
        """Sealed where the files lay (`seal --in-place`): only then may artifact names be
        absolute paths outside the item folder."""
        return self.facts.get("mode") == "in-place"

    def artifact_path(self, name: str) -> Path:
        """Where artifact `name` lives (IntegrityError for a name that leaves the folder, or an
        absolute one in a seal not made in place)."""
        folder, parts = artifact_location(self.item_dir, name, absolute_ok=self.in_place)
        return folder.joinpath(*parts)

    def open_artifact(self, name: str) -> int:
        """Open artifact `name` for reading: a regular file, reached without following a link.

        Raises:
            IntegrityError: an unsafe name (`..`, NUL, absolute outside an in-place seal), or
                the file is a link, device, FIFO … (`UnsafeFileError`).
            OSError: missing or unreadable.
        """
        folder, parts = artifact_location(self.item_dir, name, absolute_ok=self.in_place)
        return open_regular(folder, parts)

    def to_dict(self) -> dict[str, object]:
        return {"path": str(self.path), **self.document}


def _time_member(doc: Mapping[str, Any], key: str) -> dt.datetime | None:
    """A time the writer always writes (`started`, `finished`, `sealed`); parse_seal does not
    require them, so a seal without one still reads (and is shown without it)."""
    value = doc.get(key)
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class SealResult:
    """What :func:`seal_item` wrote."""

    path: Path
    item_id: str
    status: SealStatus
    sums_files: tuple[Path, ...]
    seal_sha256: str
    document: dict[str, Any]

    @property
    def combined_digests(self) -> dict[str, str]:
        """Digests for a custody event: the logical content's, else the only artifact's."""
        comb = self.document.get("combined")
        if comb:
            return _parse_digest_list(comb["digests"], "combined")
        arts = self.document["artifacts"]
        if len(arts) == 1:
            return _parse_digest_list(arts[0]["digests"], "artifact")
        return {}

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "item": self.item_id,
            "status": self.status,
            "sums_files": [str(p) for p in self.sums_files],
            "seal_sha256": self.seal_sha256,
            "artifacts": [_json_artifact(a) for a in self.document["artifacts"]],
            "combined": _json_combined(self.document.get("combined")),
        }


def _json_artifact(art: Mapping[str, Any]) -> dict[str, Any]:
    """A signed artifact entry as the `--json` documents show it (evidencekit/seal/2 CLI
    document): `digests` as `{algorithm: hex}` like every other `--json` digest; the seal
    file itself keeps its signed list of 'algorithm:hex'."""
    return {
        **art,
        "digests": _parse_digest_list(art["digests"], shown_name(parse_name_member(art))),
    }


def _json_combined(comb: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The signed `combined` entry for `--json`: `digests` as `{algorithm: hex}`, `windows` as
    plain hex (their algorithm is `window_algorithm`)."""
    if not comb:
        return None
    out = {**comb, "digests": _parse_digest_list(comb["digests"], "combined")}
    if comb.get("windows"):
        out["windows"] = [str(w).partition(":")[2] for w in comb["windows"]]
    return out


def resolve_artifact(item_dir: Path, name: str) -> Path:
    """The path of artifact `name`: absolute names as they are, relative ones under `item_dir`.

    A backslash is an ordinary character of a POSIX name (`a\\b.txt` is one file), never a
    separator here, so it cannot climb out and is allowed.

    Raises:
        IntegrityError: a name holding a NUL, or a relative name that is empty or climbs out
            (`..`), so a hostile seal cannot make a verifier read outside the item folder.
    """
    folder, parts = artifact_location(item_dir, name, absolute_ok=True)
    return folder.joinpath(*parts)


def artifact_location(item_dir: Path, name: str, *, absolute_ok: bool) -> tuple[Path, list[str]]:
    """Where artifact `name` lives, as (folder, components below it) for
    :func:`evidencekit.fsutil.open_regular`: under `item_dir` for a relative name; the file's
    own folder for an absolute one, accepted only with `absolute_ok` (a trusted seal made in
    place).

    Raises:
        IntegrityError: an unsafe name, or an absolute one where it is not allowed.
    """
    if "\x00" in name:
        raise IntegrityError(f"unsafe artifact name {shown_name(name)!r} in seal (it holds a NUL)")
    if name.startswith("/"):
        if not absolute_ok:
            raise IntegrityError(
                f"artifact name {shown_name(name)!r} is outside the item folder, and the seal "
                "was not made in place"
            )
        path = PurePosixPath(name)
        if any(p in ("..", ".") for p in path.parts) or path.name in ("", "/"):
            raise IntegrityError(f"unsafe artifact name {shown_name(name)!r} in seal")
        return Path(path.parent), [path.name]
    parts = PurePosixPath(name).parts
    if not parts or any(p in ("..", ".", "") for p in parts):
        raise IntegrityError(f"unsafe artifact name {shown_name(name)!r} in seal")
    return item_dir, list(parts)
