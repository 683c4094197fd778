"""`evidencekit report build|verify|extract`: the signed PDF report."""

from __future__ import annotations

from pathlib import Path

import click

from evidencekit.cli.options import trust_option
from evidencekit.cli.runtime import EXIT_INTEGRITY, App, pass_app


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
@click.option("--tsa", metavar="URL", help="RFC 3161 timestamp authority (PAdES B-T).")
@click.option("--no-sign", is_flag=True, help="Write an unsigned preview (no custody event).")
@click.option(
    "--rehash",
    is_flag=True,
    help="Also re-hash every sealed file first (default: signatures, signers and sizes).",
)
@pass_app
def build(
    app: App,
    items: tuple[str, ...],
    lang: str | None,
    out: Path | None,
    tsa: str | None,
    no_sign: bool,
    rehash: bool,
) -> None:
    """Verify the ledger and the seals, render the case's report, sign it, record it in the
    custody ledger, then publish it under its name (exit 3 when anything does not verify)."""
    from evidencekit.workflows.report import build_report

    case = app.case()
    identity = app.identity() if not no_sign else None
    app.info(f"building the report of case {case.info.number}…")
    result = build_report(
        case,
        identity,
        items=items or None,
        lang=lang,
        out=out,
        tsa_url=tsa,
        sign=not no_sign,
        rehash=rehash,
    )
    kind = (
        "unsigned preview"
        if not result.signed
        else ("signed, PAdES B-T" if result.timestamped else "signed, PAdES B-B")
    )
    app.emit(
        "evidencekit/report-build/1",
        result.to_dict(),
        [str(result.path), f"  {kind}; sha256:{result.sha256}; report id {result.report_id}"],
    )


@report.command("verify")
@click.argument("pdf", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--case",
    "case_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also check the attachments against this case (or give the global --case).",
)
@trust_option
@pass_app
def verify(app: App, pdf: Path, case_dir: Path | None, trust: tuple[Path, ...]) -> None:
    """Check a report: every signature valid and its signer known, nothing but co-signatures,
    document timestamps and validation data after the first, no byte after the last revision,
    plain attachment names, and (with a case) attached seals and checkpoint consistent with the
    case. Exit 3 on any problem."""
    from evidencekit.case import find_case_if_any
    from evidencekit.identity import load_cert_file
    from evidencekit.report.attachments import shown
    from evidencekit.workflows.report import verify_report

    def safe(text: str) -> str:  # names from the PDF and its certificates reach the terminal
        return shown(text, quote=False)

    case = app.pin(find_case_if_any(case_dir or app.case_dir))
    certs = [load_cert_file(p) for p in trust]
    result = verify_report(pdf, case=case, trust=certs)
    sig = result.signature
    lines = [f"{pdf}: {'OK' if result.ok else 'FAILED'}"]
    if sig.signed:
        lines.append(f"  signer: {safe(sig.signer_name or '?')} (sha256:{sig.signer_fingerprint})")
        if sig.signing_time:
            lines.append(f"  signing time (claimed): {sig.signing_time.isoformat()}")
        if len(sig.signers) > 1:
            for s in sig.signers:
                when = f", {s.signing_time.isoformat()}" if s.signing_time else ""
                lines.append(
                    f"  signature {s.number} ({s.kind}, revision {s.revision}{when}): "
                    f"{safe(s.name)} (sha256:{s.fingerprint})"
                )
        if sig.covers_whole_file:
            covers = "yes"
        elif sig.ok:  # the only way: revisions of validation data after the last signature
            covers = "no, only validation data follows the last signature"
        else:
            covers = "NO"
        lines.append(f"  covers the whole file: {covers}")
    if result.report_id:
        lines.append(f"  report id: {result.report_id}")
    if result.attachments:
        lines.append(f"  attachments: {', '.join(safe(a) for a in result.attachments)}")
    lines += [f"  note: {n}" for n in result.notes]
    lines += [f"  PROBLEM: {p}" for p in result.problems]
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
    from evidencekit.workflows.report.extract import extract_attachments

    result = extract_attachments(pdf, out)
    lines = [f"{f.sha256}  {f.name}" for f in result.files]
    app.emit("evidencekit/report-extract/1", result.to_dict(), lines)
    app.info(f"{len(result.files)} file(s) written to {out}")
