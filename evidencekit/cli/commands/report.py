"""`evidencekit report build|verify|extract|cosign|extend`: the signed PDF report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evidencekit.cli.i18n import _
from evidencekit.cli.options import reader_trust_options
from evidencekit.cli.runtime import EXIT_INTEGRITY, App, pass_app

if TYPE_CHECKING:
    from evidencekit.report.ltv import ValidationInputs
    from evidencekit.workflows.reader_trust import ReaderTrust
    from evidencekit.workflows.report.request import (
        CosignLevel,
        CosignRole,
        PadesLevel,
        ReportForm,
        ReportLanguage,
    )

LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]
FileArg = click.Path(path_type=Path, dir_okay=False, exists=True)


def validation_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """What goes into the DSS besides the signatures: CA certificates and revocation data."""
    for opt in reversed(
        [
            click.option(
                "--cert",
                "certs",
                multiple=True,
                type=FileArg,
                help="Issuing CA or root certificate (PEM/DER) of the signer or the TSA, for the "
                "validation data (repeatable).",
            ),
            click.option(
                "--crl",
                "crls",
                multiple=True,
                type=FileArg,
                help="A CRL file (PEM/DER) to embed when it covers a certificate (repeatable).",
            ),
            click.option(
                "--ocsp",
                "ocsps",
                multiple=True,
                type=FileArg,
                help="An OCSP response file (DER) to embed (repeatable).",
            ),
            click.option(
                "--fetch-revocation",
                is_flag=True,
                help="Fetch CRLs/OCSP from the URLs in the certificates (needs the network).",
            ),
        ]
    ):
        f = opt(f)
    return f


def _inputs(
    certs: tuple[Path, ...], crls: tuple[Path, ...], ocsps: tuple[Path, ...], fetch: bool
) -> ValidationInputs:
    from evidencekit.errors import ReportError
    from evidencekit.identity import load_cert_file
    from evidencekit.report.ltv import ValidationInputs, revocation_file

    def read(path: Path, kind: str) -> bytes:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReportError(
                _("cannot read {path!r}: {strerror}").format(path=str(path), strerror=exc.strerror)
            ) from exc
        return revocation_file(data, repr(str(path)), kind)

    return ValidationInputs(
        certificates=tuple(load_cert_file(p) for p in certs),
        crls=tuple(read(p, "crl") for p in crls),
        ocsps=tuple(read(p, "ocsp") for p in ocsps),
        fetch=fetch,
    )


@click.group()
def report() -> None:
    """Build and verify signed PDF reports."""


@report.command("build")
@click.option("--item", "items", multiple=True, metavar="ID", help="Only this item (repeatable).")
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    help="Report language (default: the case's).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PDF to write (default: CASE/reports/<case>-<UTC time>-<lang>.pdf).",
)
@click.option(
    "--tsa",
    metavar="URL",
    envvar="EVIDENCEKIT_TSA",
    help="RFC 3161 timestamp authority (else EVIDENCEKIT_TSA); needed from B-T up.",
)
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    help="PAdES level (default: B-LT with a TSA, else B-B).",
)
@validation_options
@click.option("--no-sign", is_flag=True, help="Write an unsigned preview (no custody event).")
@click.option(
    "--rehash",
    is_flag=True,
    help="Also re-hash every sealed file first (default: signatures, signers and sizes).",
)
@click.option(
    "--form",
    type=click.Choice(["report", "bien-ban"]),
    default="report",
    show_default=True,
    help="report: the full report; bien-ban: the seizure record (Biên bản) of one --item or "
    "one --session, to print and sign by hand (the PDF is signed digitally too).",
)
@click.option("--session", metavar="ID", help="With --form bien-ban: the seizure session's record.")
@click.option(
    "--copies",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="With --form bien-ban: how many copies the record says it is made in.",
)
@pass_app
def build(
    app: App,
    items: tuple[str, ...],
    lang: ReportLanguage | None,
    out: Path | None,
    tsa: str | None,
    level: PadesLevel | None,
    certs: tuple[Path, ...],
    crls: tuple[Path, ...],
    ocsps: tuple[Path, ...],
    fetch_revocation: bool,
    no_sign: bool,
    rehash: bool,
    form: ReportForm,
    session: str | None,
    copies: int,
) -> None:
    """Verify the ledger and the seals, render the case's report, sign it, record it in the
    custody ledger, then publish it under its name (exit 3 when anything does not verify)."""
    from evidencekit.workflows.report.request import BuildReportRequest, issue_report

    case = app.case()
    identity = app.identity() if not no_sign else None
    app.info(_("building the report of case {number}…").format(number=case.info.number))
    request = BuildReportRequest(
        items=items,
        lang=lang,
        out=out,
        tsa_url=tsa,
        level=level,
        validation=_inputs(certs, crls, ocsps, fetch_revocation),
        sign=not no_sign,
        rehash=rehash,
        form=form,
        session=session,
        copies=copies,
    )
    result = issue_report(case, identity, request)
    kind = (
        _("unsigned preview")
        if not result.signed
        else _("signed, PAdES {level}").format(level=result.level)
    )
    app.emit(
        "evidencekit/report-build/1",
        result.to_dict(),
        [
            str(result.path),
            _("  {kind}; sha256:{sha256}; report id {report_id}").format(
                kind=kind, sha256=result.sha256, report_id=result.report_id
            ),
        ],
    )


@report.command("verify")
@click.argument("pdf", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--case",
    "case_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also check the attachments against this case (or give the global --case).",
)
@reader_trust_options
@click.option(
    "--tsa-cert",
    "tsa_certs",
    multiple=True,
    type=FileArg,
    help="Accept the report's timestamps only from this timestamp authority (its certificate "
    "or a CA above it, PEM/DER); repeatable. In a case, its `tsa` anchors count too.",
)
@pass_app
def verify(
    app: App, pdf: Path, case_dir: Path | None, reader: ReaderTrust, tsa_certs: tuple[Path, ...]
) -> None:
    """Check a report: every signature valid and its signer known, nothing but co-signatures,
    document timestamps and validation data after the first, no byte after the last revision,
    plain attachment names, and (with a case) attached seals and checkpoint consistent with the
    case. A --trust file that is a CA certificate trusts the signers whose chain goes to it,
    checked at the time the signature's timestamps prove (docs/trust.md). Exit 3 on any
    problem."""
    from evidencekit.case import find_case_if_any
    from evidencekit.report.attachments import shown
    from evidencekit.workflows.report.request import VerifyReportRequest, check_report

    def safe(text: str) -> str:  # names from the PDF and its certificates reach the terminal
        return shown(text, quote=False)

    case = app.pin(find_case_if_any(case_dir or app.case_dir))
    from evidencekit.identity import load_cert_file

    certs, anchors = reader.split()
    tsas = tuple(load_cert_file(p) for p in tsa_certs)
    request = VerifyReportRequest(pdf, tuple(certs), anchors, tsas)
    result = check_report(request, case)
    sig = result.signature
    lines = [f"{pdf}: {_('OK') if result.ok else _('FAILED')}"]
    if sig.signed:
        lines.append(
            _("  signer: {safe} (sha256:{signer_fingerprint})").format(
                safe=safe(sig.signer_name or "?"), signer_fingerprint=sig.signer_fingerprint
            )
        )
        if sig.signing_time:
            lines.append(
                _("  signing time (claimed): {isoformat}").format(
                    isoformat=sig.signing_time.isoformat()
                )
            )
        if sig.level:
            lines.append(_("  level: PAdES {level}").format(level=sig.level))
        first = next((s for s in sig.signers if s.role == "examiner"), None)
        if first is not None:
            lines.append(
                _("  validated at: {isoformat} (proved by {proven_by})").format(
                    isoformat=first.proven_time.isoformat(), proven_by=first.proven_by
                )
                if first.proven_time and first.proven_by
                else _("  validated at: now (no timestamp proves an earlier time)")
            )
        for s in sig.signers:
            lines.append(_signer_line(s, safe))
        if sig.covers_whole_file:
            covers = "yes"
        elif sig.ok:  # the only way: revisions of validation data after the last signature
            covers = _("no, only validation data follows the last signature")
        else:
            covers = "NO"
        lines.append(_("  covers the whole file: {covers}").format(covers=covers))
    if result.report_id:
        lines.append(_("  report id: {report_id}").format(report_id=result.report_id))
    if result.attachments:
        lines.append(
            _("  attachments: {join}").format(join=", ".join(safe(a) for a in result.attachments))
        )
    lines += [_("  note: {n}").format(n=n) for n in result.notes]
    lines += [_("  PROBLEM: {p}").format(p=p) for p in result.problems]
    app.emit("evidencekit/report-verify/1", result.to_dict(), lines)
    if not result.ok:
        app.exit(EXIT_INTEGRITY)


@report.command("extract")
@click.argument("pdf", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=True, file_okay=False),
    help="Folder to write the attachments into (created if missing).",
)
@pass_app
def extract(app: App, pdf: Path, out: Path) -> None:
    """Save the report's attachments (seals, custody exports, checkpoint, report.json) into a
    folder: plain file names only, nothing overwritten, no symlink followed. Does not check the
    signature: run `report verify` for that."""
    from evidencekit.workflows.report.request import ExtractRequest, extract

    result = extract(ExtractRequest(pdf, out))
    lines = [f"{f.sha256}  {f.name}" for f in result.files]
    app.emit("evidencekit/report-extract/1", result.to_dict(), lines)
    app.info(_("{count} file(s) written to {out}").format(count=len(result.files), out=out))


def _signer_line(s: Any, safe: Callable[[str], str]) -> str:
    """One signature: number, kind and role, revision, result, level and proven time."""
    result = _("valid") if s.ok else _("problem (see below)")
    if s.kind == "document timestamp":
        when = s.signing_time.isoformat() if s.signing_time else "?"
        return _(
            "  signature {number} (document timestamp, revision {revision}): "
            "{safe} at {when}: {result}"
        ).format(number=s.number, revision=s.revision, safe=safe(s.name), when=when, result=result)
    when = f", {s.signing_time.isoformat()}" if s.signing_time else ""
    trusted = "" if s.trusted else _(", signer not trusted")
    proven = (
        _(", proven by {isoformat}").format(isoformat=s.proven_time.isoformat())
        if s.proven_time
        else ""
    )
    return _(
        "  signature {number} ({kind}, revision {revision}{when}): {safe} "
        "(sha256:{fingerprint}) as {role}: {result}{trusted}; PAdES "
        "{level}{proven}"
    ).format(
        number=s.number,
        kind=s.kind,
        revision=s.revision,
        when=when,
        safe=safe(s.name),
        fingerprint=s.fingerprint,
        role=s.role,
        result=result,
        trusted=trusted,
        level=s.level,
        proven=proven,
    )


def _amend_lines(result: Any) -> list[str]:
    recorded = (
        _("recorded in the case's ledger") if result.event_recorded else _("NOT recorded (no case)")
    )
    return [
        str(result.path),
        _("  {action}; sha256:{sha256}; {size} bytes (was {previous_size}); {recorded}").format(
            action=result.action,
            sha256=result.sha256,
            size=result.size,
            previous_size=result.previous_size,
            recorded=recorded,
        ),
    ]


@report.command("cosign")
@click.argument("pdf", type=FileArg)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["receiver", "supervisor", "witness"]),
    help="The co-signer's role.",
)
@click.option(
    "--identity", "identity_name", metavar="NAME", help="Who co-signs (else the global --identity)."
)
@click.option(
    "--tsa",
    metavar="URL",
    envvar="EVIDENCEKIT_TSA",
    help="RFC 3161 timestamp authority (else EVIDENCEKIT_TSA).",
)
@click.option(
    "--level",
    type=click.Choice(LEVELS[:3]),
    help="PAdES level of the co-signature (default: B-LT with a TSA, else B-B).",
)
@validation_options
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the co-signed report here (default: update PDF in place).",
)
@pass_app
def cosign(
    app: App,
    pdf: Path,
    role: CosignRole,
    identity_name: str | None,
    tsa: str | None,
    level: CosignLevel | None,
    certs: tuple[Path, ...],
    crls: tuple[Path, ...],
    ocsps: tuple[Path, ...],
    fetch_revocation: bool,
    out: Path | None,
) -> None:
    """Add a co-signature (receiver, supervisor or witness) to a report as an incremental
    update, and record it in the case's ledger (`report_cosigned`, signed by the co-signer,
    who must be pinned in the case). Without a case it is signed but not recorded, and
    `report verify --case` then reports it."""
    from evidencekit.case import find_case_if_any
    from evidencekit.workflows.report.request import CosignRequest, cosign

    if identity_name:
        app.identity_selector = identity_name
    case = app.pin(find_case_if_any(app.case_dir))
    identity = app.identity()  # unlocked before the validation files are read, as always
    request = CosignRequest(
        pdf,
        role,
        tsa_url=tsa,
        level=level,
        validation=_inputs(certs, crls, ocsps, fetch_revocation),
        out=out,
    )
    result = cosign(request, identity, case)
    if case is None:
        app.warn(_("no case: the co-signature is not recorded in a custody ledger"))
    app.emit("evidencekit/report-cosign/1", result.to_dict(), _amend_lines(result))


@report.command("extend")
@click.argument("pdf", type=FileArg)
@click.option(
    "--tsa",
    metavar="URL",
    envvar="EVIDENCEKIT_TSA",
    required=True,
    help="RFC 3161 timestamp authority (else EVIDENCEKIT_TSA).",
)
@validation_options
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the extended report here (default: update PDF in place).",
)
@pass_app
def extend(
    app: App,
    pdf: Path,
    tsa: str,
    certs: tuple[Path, ...],
    crls: tuple[Path, ...],
    ocsps: tuple[Path, ...],
    fetch_revocation: bool,
    out: Path | None,
) -> None:
    """Add a fresh DSS (the validation data of every signature, with the revocation data
    available now) and an archive document timestamp (PAdES B-LTA) as an incremental update;
    with a case, record it (`report_extended`). Run it again before the last timestamp's TSA
    certificate expires or its algorithms weaken."""
    from evidencekit.case import find_case_if_any
    from evidencekit.workflows.report.request import ExtendRequest, extend

    case = app.pin(find_case_if_any(app.case_dir))
    identity = app.identity() if case is not None else None
    request = ExtendRequest(
        pdf, tsa, validation=_inputs(certs, crls, ocsps, fetch_revocation), out=out
    )
    result = extend(request, case, identity)
    if case is None:
        app.warn(_("no case: the extension is not recorded in a custody ledger"))
    app.emit("evidencekit/report-extend/1", result.to_dict(), _amend_lines(result))
