"""`evidencekit case init|show|add-examiner|revoke-examiner|recover`."""

from __future__ import annotations

from pathlib import Path

import click

from evidencekit.cli.i18n import _
from evidencekit.cli.options import participant_options
from evidencekit.cli.runtime import App, pass_app


@click.group()
def case() -> None:
    """Create and show case workspaces."""


@case.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--case-number", required=True, help='Case number, e.g. "VKS-2024-06".')
@click.option("--title", required=True, help='Case title, e.g. "Vụ án trộm cắp tài sản".')
@click.option("--agency", default="", help="Investigating agency.")
@click.option("--examiner", help="Examiner's name as shown in reports (default: identity's name).")
@click.option(
    "--lang",
    "language",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="Report language.",
)
@click.option("--timezone", help="IANA time zone for displayed times (default: the system's).")
@click.option(
    "--pin",
    "pins",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="CERT.pem",
    help="Also pin this colleague's certificate in the case's first event (repeatable).",
)
@click.option(
    "--ledger",
    metavar="postgresql://…",
    help="Keep the ledger in the lab's PostgreSQL database (docs/postgresql.md) instead of "
    "custody.sqlite; no password in the URL (PGPASSFILE, service file, environment).",
)
@participant_options(session=False)
@pass_app
def init(
    app: App,
    directory: Path,
    case_number: str,
    title: str,
    agency: str,
    examiner: str | None,
    language: str,
    timezone: str | None,
    pins: tuple[Path, ...],
    ledger: str | None,
    participants: tuple[str, ...],
) -> None:
    """Create a case in DIRECTORY (new or empty) and pin your certificate in it; --participant
    names the case's standing participants (the investigator, their unit…), recorded in its
    first event."""
    from evidencekit.identity import load_cert_file
    from evidencekit.workflows.casework import CaseInitRequest, create_case

    request = CaseInitRequest(
        path=directory,
        number=case_number,
        title=title,
        agency=agency,
        examiner=examiner,
        language="en" if language == "en" else "vi",
        timezone=timezone,
        pins=tuple(load_cert_file(p) for p in pins),
        ledger=ledger,
        participants=participants,
    )
    created = create_case(app.identity(), request)
    app.emit(
        "evidencekit/case-init/1",
        {"path": str(created.path), "case": created.info.to_dict()},
        [
            _("Created case {number} in {path}").format(
                number=created.info.number, path=created.path
            ),
            *(
                _("  pinned examiner: {name} ({fingerprint})").format(
                    name=e.name, fingerprint=e.fingerprint[:16]
                )
                for e in created.info.examiners
            ),
        ],
    )


@case.command("show")
@pass_app
def show(app: App) -> None:
    """Print the case's details and pinned examiners (as the ledger pins them)."""
    from evidencekit.timeutil import local_text
    from evidencekit.workflows.commit import unfinished
    from evidencekit.workflows.trust import case_trust

    c = app.case()
    info = c.info
    trust = case_trust(c)
    lines = [
        _("Case number: {number}").format(number=info.number),
        _("Title:       {title}").format(title=info.title),
        _("Agency:      {agency}").format(agency=info.agency),
        _("Examiner:    {examiner}").format(examiner=info.examiner),
        _("Language:    {language}").format(language=info.language),
        _("Time zone:   {timezone}").format(timezone=info.timezone),
        _("Created:     {local_text}").format(local_text=local_text(info.created, info.timezone)),
        _("Folder:      {path}").format(path=c.path),
        _("Ledger:      {value}").format(value=c.info.ledger or "custody.sqlite"),
        _("Identity:    {value}").format(value=trust.identity or "(no ledger)"),
        _("Pinned examiners (ledger):"),
    ]
    gone = {r.fingerprint: r for r in trust.revoked}
    lines += [
        _("  {name}  sha256:{fingerprint}  (event {seq})").format(
            name=p.name, fingerprint=p.fingerprint, seq=p.seq
        )
        + (
            _("  REVOKED by event {seq}: {reason}").format(
                seq=gone[p.fingerprint].seq, reason=gone[p.fingerprint].reason
            )
            if p.fingerprint in gone
            else ""
        )
        for p in trust.pinned
    ]
    from evidencekit.workflows.anchors import describe_anchor, describe_chained

    if trust.anchors:
        lines.append(_("CA trust anchors (ledger; docs/trust.md):"))
        lines += [
            _("  anchor: {describe_anchor}").format(describe_anchor=describe_anchor(a))
            for a in trust.anchors
        ]
        lines += [
            _("  through a CA: {describe_chained}").format(describe_chained=describe_chained(ch))
            for ch in trust.chained
        ]
    lines += [_("  PROBLEM: {p}").format(p=p) for p in trust.problems]
    lines += [_("  note: {n}").format(n=n) for n in trust.notes]
    items = c.items()
    lines.append(_("Items: ") + (", ".join(items) if items else _("(none)")))
    attempts = unfinished(c)
    recorded = {a.item_id: _recorded(c, a.item_id) for a in attempts}
    discards = {a.item_id: _discarded(c, a.item_id) for a in attempts}
    if attempts:
        lines.append(
            _("Unfinished attempts (not published as items; see docs/commit-protocol.md):")
        )
        for a in attempts:
            said = {True: _("custody event recorded"), False: _("no custody event"), None: ""}
            event = said[recorded[a.item_id]]
            if discards[a.item_id] is not None:
                event = _(
                    "recorded as set aside (event {discards}) but not moved yet: "
                    "`evidencekit case recover {item_id} --discard REASON` moves it"
                ).format(discards=discards[a.item_id], item_id=a.item_id)
            lines.append(
                _("  {item_id}: {describe}; {value}files in {folder}").format(
                    item_id=a.item_id,
                    describe=a.describe(),
                    value=event + "; " if event else "",
                    folder=a.folder,
                )
            )
    reports = _unfinished_reports(c)
    if reports:
        lines.append(_("Reports left under a temporary name (a build killed before publishing):"))
        for r in reports:
            state = (
                _(
                    "recorded as issued (event {event}): `evidencekit case recover "
                    "--reports` publishes it as {final}"
                ).format(event=r["event"], final=r["final"])
                if r["recorded"]
                else _(
                    "not recorded: never issued (`evidencekit case recover --reports` sets it "
                    "aside)"
                )
            )
            lines.append(f"  {r['file']}: {state}")
    app.emit(
        "evidencekit/case/1",
        {
            "path": str(c.path),
            "case": info.to_dict(),
            "trust": trust.to_dict(),
            "items": items,
            "unfinished": [
                {
                    **a.to_dict(),
                    "recorded": recorded[a.item_id],
                    "discard_event": discards[a.item_id],
                }
                for a in attempts
            ],
            "unfinished_reports": reports,
        },
        lines,
    )


def _discarded(c: object, item_id: str) -> int | None:
    """The `attempt_discarded` event of the attempt at `item_id` whose move was not done."""
    from evidencekit.errors import EvidenceKitError
    from evidencekit.workflows.recover import pending_discard

    try:
        found = pending_discard(c, item_id)  # type: ignore[arg-type]
    except EvidenceKitError:
        return None
    return None if found is None else found[0]


def _unfinished_reports(c: object) -> list[dict[str, object]]:
    """Reports left under a temporary name (empty when the ledger cannot be read: the ledger's
    own problem is reported by every command that reads it)."""
    from evidencekit.errors import EvidenceKitError
    from evidencekit.workflows.report.build import unfinished_reports

    try:
        return unfinished_reports(c)  # type: ignore[arg-type]
    except EvidenceKitError:
        return []


def _recorded(c: object, item_id: str) -> bool | None:
    """Whether the ledger holds an event for `item_id` (None: the ledger cannot be read)."""
    from evidencekit.errors import EvidenceKitError
    from evidencekit.workflows.custody import list_events

    try:
        return bool(list_events(c, item_id))  # type: ignore[arg-type]
    except EvidenceKitError:
        return None


@case.command("recover")
@click.argument("item", required=False)
@click.option(
    "--discard",
    metavar="REASON",
    help="Set an attempt the ledger does not record aside (moved to evidence/.discarded/, "
    "recorded with REASON), freeing its id.",
)
@click.option(
    "--reports",
    is_flag=True,
    help="Instead of an item: publish the reports a killed `report build` left under a "
    "temporary name that the ledger records as issued; set aside those never issued.",
)
@pass_app
def recover_cmd(app: App, item: str | None, discard: str | None, reports: bool) -> None:
    """Finish or set aside the unfinished attempt at ITEM (listed by `case show`).

    Without --discard: publish an attempt whose seal the ledger recorded (a crash came between
    recording and publishing), after checking the staged seal is that one and verifies.

    With --reports (and no ITEM): every report left as NAME.pdf.partial-XXXX is published as
    NAME.pdf when a report_issued event records its bytes, moved to reports/.discarded/ when
    none does; one whose final name was recorded with other bytes is an integrity failure
    (exit 3) and is left as it is.
    """
    from evidencekit.errors import UsageError
    from evidencekit.workflows.recover import recover

    if reports:
        if item is not None or discard is not None:
            raise UsageError(
                _("--reports takes no ITEM and no --discard"), hint=_("run them apart")
            )
        _recover_reports(app)
        return
    if item is None:
        raise UsageError(_("name the ITEM to recover, or give --reports"))
    c = app.case()
    done = recover(
        c, item, identity=app.identity() if discard is not None else None, discard=discard
    )
    event = (
        _(" (ledger event {event_seq})").format(event_seq=done.event_seq)
        if done.event_seq is not None
        else ""
    )
    app.emit(
        "evidencekit/recover/1",
        done.to_dict(),
        [f"{done.item_id}: {done.action}{event}: {done.folder}"],
    )


def _recover_reports(app: App) -> None:
    from evidencekit.workflows.report.recover import recover_reports

    done = recover_reports(app.case())
    said = {
        "published": "published as",
        "second-name-removed": "was a second name of",
        "set-aside": "never issued: moved to",
    }
    lines = [
        f"{r.file.name}: {said[r.action]} {r.path}"
        + (_(" (ledger event {event})").format(event=r.event) if r.event is not None else "")
        for r in done
    ] or [_("no report is left under a temporary name")]
    app.emit("evidencekit/recover-reports/1", {"reports": [r.to_dict() for r in done]}, lines)


@case.command("add-examiner")
@click.argument("cert", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@pass_app
def add_examiner_cmd(app: App, cert: Path) -> None:
    """Pin another examiner's certificate (PEM) so the case trusts their signatures.

    Signed with your key (you must be pinned already): the ledger records an `examiner_added`
    event carrying the certificate, and case.toml gets a copy.
    """
    from evidencekit.identity import load_cert_file
    from evidencekit.workflows.casework import add_examiner

    c = app.case()
    certificate = load_cert_file(cert)
    added = add_examiner(c, app.identity(), certificate)
    how = (
        _("ledger event {event_seq}").format(event_seq=added.event_seq)
        if added.event_seq is not None
        else _("case.toml copy")
    )
    app.emit(
        "evidencekit/case-add-examiner/1",
        added.to_dict(),
        _("Pinned examiner {name} (sha256:{fingerprint}; {how})").format(
            name=added.name, fingerprint=added.fingerprint, how=how
        ),
    )


@case.command("revoke-examiner")
@click.argument("who", metavar="NAME|FINGERPRINT")
@click.option("--reason", required=True, help="Why their trust ends (recorded and shown).")
@pass_app
def revoke_examiner_cmd(app: App, who: str, reason: str) -> None:
    """End a pinned examiner's trust from now on (an `examiner_revoked` event).

    Signed with your key (pinned and not revoked). What they signed before stays valid; what
    they sign after fails `verify` and `custody verify`, and their appends are refused. Never
    the last examiner who may sign.
    """
    from evidencekit.workflows.casework import revoke_examiner

    c = app.case()
    done = revoke_examiner(c, app.identity(), who, reason)
    how = _("ledger event {event_seq}").format(event_seq=done.event_seq) + (
        "" if done.recorded else _(", case.toml copy written")
    )
    app.emit(
        "evidencekit/case-revoke-examiner/1",
        done.to_dict(),
        _("Revoked examiner {name} (sha256:{fingerprint}; {how})").format(
            name=done.name, fingerprint=done.fingerprint, how=how
        ),
    )


@case.command("trust-ca")
@click.argument("cert", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--tsa", is_flag=True, help="Trust it for timestamp authorities, not examiners.")
@click.option("--org", "orgs", multiple=True, help="Allowed subject O of a signer (repeatable).")
@click.option("--ou", "ous", multiple=True, help="Allowed subject OU of a signer (repeatable).")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="OID",
    help="Required certificate policy, one of these (repeatable).",
)
@click.option(
    "--eku",
    "ekus",
    multiple=True,
    metavar="OID",
    help="Required extended key usage (repeatable, all required).",
)
@click.option(
    "--intermediate",
    "intermediates",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A CA certificate below it that signers' chains go through (repeatable; "
    "not trusted by itself).",
)
@click.option("--reason", required=True, help="Why the case trusts it (recorded and shown).")
@pass_app
def trust_ca_cmd(
    app: App,
    cert: Path,
    tsa: bool,
    orgs: tuple[str, ...],
    ous: tuple[str, ...],
    policies: tuple[str, ...],
    ekus: tuple[str, ...],
    intermediates: tuple[Path, ...],
    reason: str,
) -> None:
    """Trust a CA certificate (PEM or DER) as an anchor, within limits (a pinned examiner only).

    An examiner who is not pinned is then trusted when their certificate chains to it, within
    the limits, was valid and not revoked when they signed (as a timestamp proves): see
    docs/trust.md. With --tsa, timestamps count only from TSAs that chain to such an anchor.
    """
    from evidencekit.identity import load_cert_file
    from evidencekit.identity.validation import EXAMINER, TSA, Limits
    from evidencekit.workflows.trust_ca import add_anchor

    done = add_anchor(
        app.case(),
        app.identity(),
        load_cert_file(cert),
        kind=TSA if tsa else EXAMINER,
        limits=Limits(orgs, ous, policies, ekus),
        intermediates=[load_cert_file(p) for p in intermediates],
        reason=reason,
    )
    app.emit(
        "evidencekit/case-trust-ca/1",
        done.to_dict(),
        _("{what} (ledger event {event_seq})").format(what=done.what, event_seq=done.event_seq),
    )


@case.command("untrust-ca")
@click.argument("fingerprint")
@click.option("--reason", required=True, help="Why the case stops trusting it.")
@pass_app
def untrust_ca_cmd(app: App, fingerprint: str, reason: str) -> None:
    """Stop trusting an anchor from now on (a pinned examiner only); FINGERPRINT: 8+ hex digits."""
    from evidencekit.workflows.trust_ca import remove_anchor

    done = remove_anchor(app.case(), app.identity(), fingerprint, reason=reason)
    app.emit(
        "evidencekit/case-untrust-ca/1",
        done.to_dict(),
        _("{what} (ledger event {event_seq})").format(what=done.what, event_seq=done.event_seq),
    )


@case.command("add-revocation")
@click.option(
    "--crl",
    "crls",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A CRL file (PEM or DER), repeatable.",
)
@click.option(
    "--ocsp-response",
    "ocsps",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A DER OCSP response, repeatable.",
)
@click.option(
    "--fetch",
    is_flag=True,
    help="Fetch the CRLs and OCSP answers the CA-trusted examiners' certificates name (online).",
)
@pass_app
def add_revocation_cmd(
    app: App, crls: tuple[Path, ...], ocsps: tuple[Path, ...], fetch: bool
) -> None:
    """Store revocation data in the case (so later verification works offline)."""
    from evidencekit.identity.validation import read_revocation
    from evidencekit.workflows.trust_ca import add_revocation

    data = [read_revocation("crl", _read(p)) for p in crls]
    data += [read_revocation("ocsp", _read(p)) for p in ocsps]
    done = add_revocation(app.case(), app.identity(), data, fetch=fetch)
    app.emit(
        "evidencekit/case-add-revocation/1",
        {"recorded": [d.to_dict() for d in done]},
        [
            _("{what} (ledger event {event_seq})").format(what=d.what, event_seq=d.event_seq)
            for d in done
        ],
    )


def _read(path: Path) -> bytes:
    from evidencekit.errors import IdentityError

    try:
        return path.read_bytes()
    except OSError as exc:
        raise IdentityError(
            _("cannot read {path!r}: {strerror}").format(path=str(path), strerror=exc.strerror)
        ) from exc
