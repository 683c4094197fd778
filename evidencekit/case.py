"""The case workspace: `case.toml`, `evidence/ITEM/`, `reports/`, and the pinned examiners.

A case pins the certificates of the examiners it trusts (the creator, then whoever
`case add-examiner` adds). Verifiers accept signatures from those certificates only, unless a
reader passes `--trust CERT.pem`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from cryptography import x509

from evidencekit.errors import CaseError, IdentityError, IntegrityError, UsageError
from evidencekit.fsutil import UnsafeFileError, atomic_write, make_dirs_inside
from evidencekit.identity import cert_pem, fingerprint, load_cert_pem, subject_name
from evidencekit.ids import check_item_id
from evidencekit.timeutil import isoformat, parse_iso, system_zone_name, utcnow, zone

CASE_FILE = "case.toml"
LEDGER_FILE = "custody.sqlite"
SCHEMA = "evidencekit/case/1"
LANGUAGES = ("vi", "en")


def nfc(text: str) -> str:
    """Typed text (names, titles, notes) is stored NFC-normalised; file names never are."""
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True, slots=True)
class Examiner:
    """An examiner pinned in the case."""

    name: str
    fingerprint: str
    certificate_pem: str
    added: dt.datetime
    revoked_event: int | None = None
    """The ledger event that revoked them (a copy: the ledger decides, `workflows.trust`)."""
    revoked: dt.datetime | None = None

    @property
    def certificate(self) -> x509.Certificate:
        return load_cert_pem(self.certificate_pem)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "added": isoformat(self.added),
            "revoked_event": self.revoked_event,
            "revoked": None if self.revoked is None else isoformat(self.revoked),
        }


@dataclass(frozen=True, slots=True)
class CaseInfo:
    """What `case.toml` says about the case."""

    number: str
    title: str
    agency: str
    examiner: str
    language: str
    timezone: str
    created: dt.datetime
    examiners: tuple[Examiner, ...] = field(default_factory=tuple)
    ledger: str | None = None
    """Where the ledger is when it is not `custody.sqlite` in the folder: a postgresql:// URL
    (no credentials: libpq finds them in PGPASSFILE, a service file or the environment)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "ledger": self.ledger or LEDGER_FILE,
            "number": self.number,
            "title": self.title,
            "agency": self.agency,
            "examiner": self.examiner,
            "language": self.language,
            "timezone": self.timezone,
            "created": isoformat(self.created),
            "examiners": [e.to_dict() for e in self.examiners],
        }


def _case_file_error(toml_path: Path, what: str) -> CaseError:
    return CaseError(
        f"cannot read {str(toml_path)!r}: {what}",
        hint=f"fix that line of {CASE_FILE} (a text file; `evidencekit case init` writes it) or "
        "restore it from a backup copy",
    )


def _text(table: Any, key: str, where: str, toml_path: Path, default: str | None = None) -> str:
    """`table[key]` as text, or an error naming the key and what is wrong with it."""
    if not isinstance(table, dict):
        raise _case_file_error(toml_path, f"{where} is not a table")
    if key not in table:
        if default is not None:
            return default
        raise _case_file_error(toml_path, f"{where} has no {key!r} (required)")
    value = table[key]
    if not isinstance(value, str):
        raise _case_file_error(
            toml_path,
            f"{where}.{key} must be a quoted text, not {type(value).__name__} {value!r}",
        )
    return value


def _time(table: Any, key: str, where: str, toml_path: Path) -> dt.datetime:
    text = _text(table, key, where, toml_path)
    try:
        return parse_iso(text)
    except (ValueError, TypeError) as exc:
        raise _case_file_error(
            toml_path, f"{where}.{key} = {text!r} is not a UTC time like 2026-11-29T03:40:06Z"
        ) from exc


def _event_no(table: Any, where: str, toml_path: Path) -> int | None:
    value = table.get("revoked_event") if isinstance(table, dict) else None
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _case_file_error(toml_path, f"{where}: revoked_event must be an event number")
    return value


def _read_case_file(toml_path: Path) -> CaseInfo:
    """Parse `case.toml`; every error names the line or key that is wrong.

    Raises:
        CaseError: unreadable, not TOML, or a key is missing or of the wrong type.
    """
    try:
        doc = tomllib.loads(toml_path.read_text("utf-8"))
    except OSError as exc:
        raise _case_file_error(toml_path, exc.strerror or str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise _case_file_error(toml_path, f"not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        # tomllib says where: "Expected '=' after a key in a key/value pair (at line 3, column 8)"
        raise _case_file_error(toml_path, f"not valid TOML: {exc}") from exc
    if "case" not in doc:
        raise _case_file_error(toml_path, "it has no [case] table")
    c = doc["case"]
    entries = doc.get("examiners", [])
    if not isinstance(entries, list):
        raise _case_file_error(toml_path, "examiners must be a list of [[examiners]] tables")
    examiners = []
    for n, e in enumerate(entries, 1):
        where = f"[[examiners]] number {n}"
        examiners.append(
            Examiner(
                name=_text(e, "name", where, toml_path),
                fingerprint=_text(e, "fingerprint", where, toml_path),
                certificate_pem=_text(e, "certificate", where, toml_path),
                added=_time(e, "added", where, toml_path),
                revoked_event=_event_no(e, where, toml_path),
                revoked=_time(e, "revoked", where, toml_path) if "revoked" in e else None,
            )
        )
    return CaseInfo(
        number=_text(c, "number", "[case]", toml_path),
        title=_text(c, "title", "[case]", toml_path),
        agency=_text(c, "agency", "[case]", toml_path, ""),
        examiner=_text(c, "examiner", "[case]", toml_path, ""),
        language=_text(c, "language", "[case]", toml_path, "vi"),
        timezone=_text(c, "timezone", "[case]", toml_path, "UTC"),
        created=_time(c, "created", "[case]", toml_path),
        examiners=tuple(examiners),
        ledger=_ledger_url(doc, toml_path),
    )


def _ledger_url(doc: dict[str, Any], toml_path: Path) -> str | None:
    if "ledger" not in doc:
        return None
    url = _text(doc["ledger"], "url", "[ledger]", toml_path)
    if not url.startswith(("postgresql://", "postgres://")):
        raise _case_file_error(toml_path, f"[ledger].url = {url!r} is not a postgresql:// URL")
    return url


class Case:
    """An opened case folder."""

    def __init__(self, path: Path, info: CaseInfo) -> None:
        self.path = path
        self.info = info
        self.pinned_identity: str | None = None
        """The case identity the reader trusts (`--case-identity`): then the ledger alone, from
        that first event, says who is trusted (`workflows.trust`), never `case.toml`."""
        self._trusted: dict[str, x509.Certificate] | None = None

    # -- locations ------------------------------------------------------------------------
    @property
    def evidence_dir(self) -> Path:
        return self.path / "evidence"

    @property
    def reports_dir(self) -> Path:
        return self.path / "reports"

    @property
    def ledger_path(self) -> Path:
        """The embedded ledger's file (whether or not the case uses it: `ledger_location`)."""
        return self.path / LEDGER_FILE

    @property
    def ledger_location(self) -> Path | str:
        """Where the case's ledger is: `custody.sqlite` in the folder, or the postgresql://
        URL `case.toml` names."""
        return self.info.ledger or self.ledger_path

    def set_ledger(self, url: str | None) -> None:
        """Name another place for the ledger in `case.toml` (None: `custody.sqlite`); only a
        migration that proved the copy does this (`workflows.migrate`)."""
        self.info = dataclasses.replace(self.info, ledger=url)
        self._save()

    def item_dir(self, item_id: str) -> Path:
        """`evidence/ITEM/` (not created)."""
        return self.evidence_dir / check_item_id(item_id)

    def make_item_dir(self, item_id: str) -> bool:
        """Create `evidence/ITEM/` for writing (every item-writing workflow goes through here).

        Returns:
            True when the folder was created (False: it existed).

        Raises:
            UsageError: an invalid item id.
            UnsafeFileError: `evidence/` or `evidence/ITEM` is a symbolic link or not a folder
                (a planted link would make the writer write outside the case).
            CaseError: the folder cannot be created.
        """
        try:
            return make_dirs_inside(self.path, ["evidence", check_item_id(item_id)])
        except UnsafeFileError:
            raise
        except OSError as exc:
            raise CaseError(
                f"cannot create {str(self.item_dir(item_id))!r}: {exc.strerror or exc}"
            ) from exc

    def items(self) -> list[str]:
        """Ids of the items that have a folder under `evidence/` (not `evidence/.staging/`,
        where unfinished attempts live: item ids never start with a dot)."""
        if not self.evidence_dir.is_dir():
            return []
        return sorted(
            p.name for p in self.evidence_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    # -- trust ----------------------------------------------------------------------------
    def trusted(self) -> dict[str, x509.Certificate]:
        """The certificates `case.toml` pins, by fingerprint *recomputed from each certificate*.

        `case.toml` is a file anyone with the folder can edit: an examiner's name and
        fingerprint kept beside another certificate must not make that certificate trusted
        "as" the examiner. The ledger is the authority on who is trusted
        (`evidencekit.workflows.trust` checks this list against it).

        Raises:
            IntegrityError: a certificate cannot be read, or its fingerprint is not the one
                stated beside it.
        """
        if self._trusted is None:
            found: dict[str, x509.Certificate] = {}
            for e in self.info.examiners:
                try:
                    cert = load_cert_pem(e.certificate_pem, what=f"the certificate of {e.name!r}")
                except IdentityError as exc:
                    raise IntegrityError(
                        f"{CASE_FILE}: {exc.message}", hint="run: evidencekit custody verify"
                    ) from exc
                fp = fingerprint(cert)
                if fp != e.fingerprint:
                    raise IntegrityError(
                        f"{CASE_FILE} lists examiner {e.name!r} with fingerprint "
                        f"{e.fingerprint} but the certificate beside it has fingerprint {fp}: "
                        "the certificate was substituted",
                        hint="restore case.toml from a trusted copy; run: evidencekit custody "
                        "verify",
                    )
                found[fp] = cert
            self._trusted = found
        return dict(self._trusted)

    def is_pinned(self, fp: str) -> bool:
        """Whether `case.toml` pins the certificate with fingerprint `fp` (IntegrityError as
        for :meth:`trusted`)."""
        return fp in self.trusted()

    def add_examiner(self, cert: x509.Certificate) -> Examiner:
        """Pin another examiner's certificate.

        Raises:
            CaseError: it is already pinned.
        """
        fp = fingerprint(cert)
        if self.is_pinned(fp):
            raise CaseError(f"examiner {subject_name(cert)!r} ({fp[:16]}) is already pinned")
        examiner = Examiner(
            name=nfc(subject_name(cert)),
            fingerprint=fp,
            certificate_pem=cert_pem(cert),
            added=utcnow(),
        )
        self.info = dataclasses.replace(self.info, examiners=(*self.info.examiners, examiner))
        self._trusted = None
        self._save()
        return examiner

    def mark_revoked(self, fp: str, event_seq: int, when: dt.datetime) -> bool:
        """Write into the `case.toml` copy that the examiner with fingerprint `fp` was revoked
        by ledger event `event_seq` (the ledger decides; this copy is checked against it).
        Returns False when `case.toml` does not list them."""
        found = False
        examiners = []
        for e in self.info.examiners:
            if e.fingerprint == fp:
                e = dataclasses.replace(e, revoked_event=event_seq, revoked=when)
                found = True
            examiners.append(e)
        if found:
            self.info = dataclasses.replace(self.info, examiners=tuple(examiners))
            self._save()
        return found

    # -- persistence ----------------------------------------------------------------------
    def _save(self) -> None:
        info = self.info
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "case": {
                "number": info.number,
                "title": info.title,
                "agency": info.agency,
                "examiner": info.examiner,
                "language": info.language,
                "timezone": info.timezone,
                "created": isoformat(info.created),
            },
            "examiners": [
                {
                    "name": e.name,
                    "fingerprint": e.fingerprint,
                    "added": isoformat(e.added),
                    **(
                        {}
                        if e.revoked_event is None or e.revoked is None
                        else {"revoked_event": e.revoked_event, "revoked": isoformat(e.revoked)}
                    ),
                    "certificate": e.certificate_pem,
                }
                for e in info.examiners
            ],
        }
        if info.ledger is not None:
            doc["ledger"] = {"url": info.ledger}
        atomic_write(self.path / CASE_FILE, tomli_w.dumps(doc).encode("utf-8"))

    @classmethod
    def open(cls, path: Path) -> Case:
        """Open the case in `path`.

        Raises:
            CaseError: `path` is not a case folder or `case.toml` is malformed.
        """
        toml_path = path / CASE_FILE
        if not toml_path.is_file():
            raise CaseError(
                f"{str(path)!r} is not a case folder (no {CASE_FILE})",
                hint="create one with: evidencekit case init DIR --case-number N --title T",
            )
        info = _read_case_file(toml_path)
        return cls(path, info)

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        number: str,
        title: str,
        creator_cert: x509.Certificate,
        agency: str = "",
        examiner: str | None = None,
        language: str = "vi",
        timezone: str | None = None,
        ledger: str | None = None,
    ) -> Case:
        """Create a case folder and pin the creating examiner's certificate; `ledger` is a
        postgresql:// URL for a lab's shared ledger (default: `custody.sqlite` in the folder).

        Raises:
            CaseError: `path` exists and is not empty, or cannot be created.
            UsageError: an empty case number or title, an unknown language or time zone.
        """
        if not number.strip() or not title.strip():
            raise UsageError("the case number and title must not be empty")
        if language not in LANGUAGES:
            raise UsageError(f"unknown language {language!r}", hint="use vi or en")
        tz_name = timezone or system_zone_name()
        zone(tz_name)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise CaseError(
                f"{str(path)!r} is not empty; a case needs a new or empty folder",
                hint="choose another folder",
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
            (path / "evidence").mkdir()
            (path / "reports").mkdir()
        except OSError as exc:
            raise CaseError(f"cannot create case folder {str(path)!r}: {exc.strerror}") from exc
        now = utcnow()
        creator = Examiner(
            name=nfc(subject_name(creator_cert)),
            fingerprint=fingerprint(creator_cert),
            certificate_pem=cert_pem(creator_cert),
            added=now,
        )
        info = CaseInfo(
            number=nfc(number.strip()),
            title=nfc(title.strip()),
            agency=nfc(agency.strip()),
            examiner=nfc((examiner or creator.name).strip()),
            language=language,
            timezone=tz_name,
            created=now,
            examiners=(creator,),
            ledger=ledger,
        )
        case = cls(path, info)
        case._save()
        return case


def find_case_if_any(explicit: Path | None) -> Case | None:
    """As `find_case`, but None when no case is named and the current folder is not one (for
    commands that also work without a case, such as `report verify`).

    Raises:
        CaseError: `explicit` or `EVIDENCEKIT_CASE` names a folder that is not a case.
    """
    named = explicit is not None or os.environ.get("EVIDENCEKIT_CASE")
    if not named and not (Path.cwd() / CASE_FILE).is_file():
        return None
    return find_case(explicit)


def find_case(explicit: Path | None) -> Case:
    """The case from `--case`, else `EVIDENCEKIT_CASE`, else the current folder.

    Raises:
        CaseError: none of them is a case.
    """
    if explicit is not None:
        return Case.open(explicit)
    env = os.environ.get("EVIDENCEKIT_CASE")
    if env:
        return Case.open(Path(env))
    cwd = Path.cwd()
    if (cwd / CASE_FILE).is_file():
        return Case.open(cwd)
    raise CaseError(
        "no case given and the current folder is not a case",
        hint="pass --case DIR or set EVIDENCEKIT_CASE",
    )
