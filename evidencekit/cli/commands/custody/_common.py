"""Helpers shared by the custody commands: output lines, --trust and --out, file reading."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from evidencekit.chain.kinds import EventKind
from evidencekit.cli.i18n import N_, _, language
from evidencekit.cli.options import trust_option
from evidencekit.cli.runtime import App
from evidencekit.fsutil import atomic_write

if TYPE_CHECKING:  # imported by the commands that need them: `evidencekit --help` stays quick
    from cryptography import x509

    from evidencekit.case import Case
    from evidencekit.chain.details import DeviceDifference
    from evidencekit.chain.ledger import AppendResult
    from evidencekit.workflows.commit import Signer
    from evidencekit.workflows.recording import EndKind, Recipient

F = TypeVar("F", bound=Callable[..., Any])

TERMINAL_COMMANDS: dict[str, EventKind] = {
    "release": "released",
    "return": "returned",
    "destroy": "destroyed",
}


def _write_out(out: Path | None, data: bytes) -> None:
    """Write to `out` atomically, or to stdout."""
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    atomic_write(out.resolve(), data)


_FIELDS = {
    "description": N_("description"),
    "purpose": N_("purpose"),
    "location": N_("location"),
    "seal_number": N_("seal number"),
    "condition": N_("condition"),
    "note": N_("note"),
    "reason": N_("reason"),
    "session": N_("session"),
    "place": N_("place"),
    "agency": N_("agency"),
    "record_number": N_("record number"),
    "method": N_("method"),
    "seal_state": N_("seal state"),
    "state_note": N_("state note"),
    "statements": N_("statements"),
    "on_original": N_("on original"),
    "what": N_("what"),
    "make": N_("make"),
    "model": N_("model"),
    "serial": N_("serial number"),
    "capacity_text": N_("capacity"),
}


def _field(key: str) -> str:
    """The name of an event's field as `custody log` shows it."""
    return _(_FIELDS[key]) if key in _FIELDS else key.replace("_", " ")


def _event_lines(ev: dict[str, Any], zone: str) -> list[str]:
    """The event's line and one indented line per field (App.emit escapes each line: a note
    holding a newline stays on its own line, escaped)."""
    from evidencekit.timeutil import local_text, parse_iso

    when = local_text(parse_iso(ev["time"]), zone)
    item = ev.get("item") or _("(case)")
    kind = ev["kind"]
    if language() != "en":  # the report's names of the kinds (JSON keeps the kind itself)
        from evidencekit.report.i18n import event_label

        kind = event_label(language(), kind)
    parts = [f"#{ev['seq']:<5} {when}  {kind:<13} {item:<12} {ev['actor']['name']}"]
    cp = ev.get("counterpart")
    if cp:
        from evidencekit.chain.parties import Party

        arrow = (
            "→" if ev["kind"] == "transferred" else _("from") if ev["kind"] == "received" else "·"
        )
        # the fingerprint, or "holds no key" and the document: names alone can coincide
        parts.append(f"{arrow} {Party.from_dict(cp).describe(_lang())}")
    line = " ".join(parts)
    extras = []
    for key in ("description", "purpose", "location", "seal_number", "condition", "note", "reason"):
        if ev.get(key):
            extras.append(f"{_field(key)}: {ev[key]}")
    if ev.get("override"):
        extras.append(_("OVERRIDE: {override}").format(override=ev["override"]))
    for alg, hexval in sorted((ev.get("digests") or {}).items()):
        extras.append(f"{alg}: {hexval}")
    extras += _seizure_lines(ev.get("details") or {})
    return [line, *(f"         {x}" for x in extras)]


def _lang() -> str:
    """The language `custody log` words recorded values in: the report's words for the
    interface language (roles, documents, seal states), English otherwise."""
    from evidencekit.report.i18n import LANGUAGES

    return language() if language() in LANGUAGES else "en"


def _value(key: str, value: Any) -> str:
    """A recorded value as `custody log` shows it: a seal's state and an attached document's
    kind in the interface language (the report's words, `report.i18n`), the rest as recorded."""
    from evidencekit.report.i18n import document_label, seal_state_label

    if key == "seal_state" and value in ("intact", "damaged"):
        return seal_state_label(_lang(), value)
    if key == "what" and isinstance(value, str):
        return document_label(_lang(), value)
    return str(value)


def _seizure_lines(d: dict[str, Any]) -> list[str]:
    """The seizure-record details of an event (chain.details), one line each."""
    from evidencekit.chain.parties import Party

    out = []
    for key in ("session", "place", "agency", "record_number"):
        if d.get(key):
            out.append(f"{_field(key)}: {d[key]}")
    for basis in d.get("legal_basis") or []:
        out.append(_("legal basis: {basis}").format(basis=basis))
    if d.get("seal_numbers"):
        out.append(_("seal numbers: ") + ", ".join(map(str, d["seal_numbers"])))
    if d.get("replaces"):
        out.append(_("replaces: ") + ", ".join(map(str, d["replaces"])))
    for key in ("method", "seal_state", "state_note", "statements", "on_original", "what"):
        if d.get(key):
            out.append(f"{_field(key)}: {_value(key, d[key])}")
    if d.get("seal_numbers") and d.get("reason"):  # seal_opened: why it was opened
        out.append(_("opened because: {reason}").format(reason=d["reason"]))
    doc = d.get("file")
    if isinstance(doc, dict):
        out.append(
            _("file: {get} ({get2} bytes, sha256 {get3})").format(
                get=doc.get("name"), get2=doc.get("size"), get3=doc.get("sha256")
            )
        )
    for photo in d.get("photos") or []:
        if isinstance(photo, dict):
            out.append(
                _("photo: {get} (sha256 {get2})").format(
                    get=photo.get("name"), get2=photo.get("sha256")
                )
            )
    dev = d.get("device")
    if isinstance(dev, dict):
        for key in ("make", "model", "serial", "capacity_text"):
            if dev.get(key):
                value = str(dev[key])
                if key == "capacity_text" and dev.get("capacity") is not None:
                    value = _("{text} ({count} bytes)").format(
                        text=value, count=f"{dev['capacity']:,}".replace(",", " ")
                    )
                out.append(f"{_field(key)}: {value}")
    wc = d.get("working_copy")
    if isinstance(wc, dict):
        out.append(
            _("working copy: {value} (sha256 {get})").format(
                value=wc.get("item") or wc.get("path"), get=wc.get("sha256")
            )
        )
    for p in d.get("participants") or []:
        if isinstance(p, dict) and "name" in p:
            out.append(
                _("participant: {describe}").format(describe=Party.from_dict(p).describe(_lang()))
            )
    for r in d.get("refusals") or []:
        if isinstance(r, dict) and isinstance(r.get("participant"), dict):
            who = Party.from_dict(r["participant"]).describe(_lang())
            out.append(_("refused to sign: {who}: {get}").format(who=who, get=r.get("reason")))
    return out


def device_note(diff: DeviceDifference) -> str:
    """A difference between a registered device and its acquisition, in the interface
    language (the library's English is `diff.message()`)."""
    if diff.what == "capacity":
        return _(
            "item {item}: registered with capacity {text} ({registered} bytes), but its "
            "acquisition (event {seq}) measured {measured} bytes"
        ).format(
            item=diff.item,
            text=diff.registered_text,
            registered=f"{diff.registered:,}".replace(",", " "),
            seq=diff.measured_seq,
            measured=f"{diff.measured:,}".replace(",", " "),
        )
    return _(
        "item {item}: registered with serial number {registered!r}, but its acquisition "
        "(event {seq}) read {measured!r}"
    ).format(
        item=diff.item, registered=diff.registered, seq=diff.measured_seq, measured=diff.measured
    )


def _signer(app: App) -> Signer:
    """The examiner's identity, unlocked by the workflow only once the request is checked (a
    mistyped participant is refused before the passphrase is asked for)."""
    from evidencekit.workflows.commit import lazy_identity

    return lazy_identity(app.identity_store(), app.identity_selector, app.identity)


def _appended(app: App, case: Case, result: AppendResult) -> None:
    """Print what an append committed: from its result, never by reading the ledger again (on
    a full disk that read can fail after the commit, and a committed event must be reported)."""
    ev = result.events[0].to_dict()
    app.emit(
        "evidencekit/custody-event/1",
        {"event": ev, "checkpoint": result.checkpoint},
        [
            *_recorded(_event_lines(ev, case.info.timezone)),
            _("Checkpoint: tree size {tree_size}").format(tree_size=result.tree_size),
        ],
    )


def _trust(paths: tuple[Path, ...]) -> list[x509.Certificate]:
    from evidencekit.identity import load_cert_file

    return [load_cert_file(p) for p in paths]


def _read_text(path: Path, what: str) -> str:
    from evidencekit.errors import EvidenceKitError

    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceKitError(
            _("cannot read {what} {path!r}: {exc}").format(what=what, path=str(path), exc=exc)
        ) from exc
    if what == "checkpoint":
        # A checkpoint copied out of a report or an e-mail may have gained CRLF line ends or
        # lost its final newline; the signed text is the LF form.
        text = text.replace("\r\n", "\n")
        if not text.endswith("\n"):
            text += "\n"
    return text


_trust_option = trust_option  # the one `--trust` definition (cli/options.py)
_out_option = click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of stdout.",
)


def _recorded(lines: list[str]) -> list[str]:
    return [_("Recorded {event}").format(event=lines[0]), *lines[1:]]


# `--to-id`'s help as _party_options builds it, for the interface catalog (a test checks every
# help text of the loaded command tree is in the catalog, so a change to DOCUMENTS is noticed)
_TO_ID_HELP = N_(
    "The identity document of a recipient who holds no key (cccd, cmnd, passport, other), "
    "e.g. cccd:001203004567; the name is then kept as typed, never bound to an examiner."
)


def _party_options(f: F) -> F:
    """`--to-role` and `--to-id`: what records a counterpart who holds no key."""
    from evidencekit.chain.parties import DOCUMENTS, ROLES

    f = click.option(
        "--to-id",
        "to_id",
        metavar="KIND:NUMBER",
        help="The identity document of a recipient who holds no key ("
        + ", ".join(DOCUMENTS)
        + "), e.g. cccd:001203004567; the name is then kept as typed, never bound to an "
        "examiner.",
    )(f)
    return click.option(
        "--to-role",
        "to_role",
        type=click.Choice(list(ROLES)),
        help="The recipient's role (required with --to-id).",
    )(f)


def _recipient(to: str | None, role: str | None, doc: str | None) -> Recipient:
    """The recipient `--to` (`--to-role`, `--to-id`) names, as the workflow's request takes it
    (`workflows.recording.Recipient`; resolved there).

    Raises:
        UsageError: --to-id without --to-role, or --to-role/--to-id without --to.
    """
    from evidencekit.chain.parties import ROLES
    from evidencekit.errors import UsageError
    from evidencekit.workflows.recording import PartyRole, Recipient

    if to is None:
        raise UsageError(_("--to-role and --to-id describe the recipient named with --to"))
    if doc is not None and role is None:
        raise UsageError(
            _("a recipient who holds no key needs --to-role (witness, court, owner, …)")
        )
    if role is not None and role not in ROLES:
        raise UsageError(_("unknown role {role!r}").format(role=role))
    return Recipient(to, cast("PartyRole | None", role), doc)


def _end_kind(kind: str) -> EndKind:
    """`released`, `returned` or `destroyed` (the terminal commands' kinds)."""
    if kind == "released":
        return "released"
    if kind == "returned":
        return "returned"
    return "destroyed"
