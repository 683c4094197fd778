"""`evidencekit verify ITEM|SEAL_FILE… [--trust CERT.pem] [--record] [--sizes-only]`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from evidencekit.cli.i18n import _, status_text
from evidencekit.cli.options import reader_trust_options
from evidencekit.cli.runtime import App, pass_app

if TYPE_CHECKING:
    from evidencekit.workflows.reader_trust import ReaderTrust


@click.command("verify")
@click.argument("targets", nargs=-1, required=True)
@reader_trust_options
@click.option("--record", is_flag=True, help="Append a `verified` custody event per item.")
@click.option("--sizes-only", is_flag=True, help="Check signatures and sizes without re-hashing.")
@pass_app
def verify(
    app: App,
    targets: tuple[str, ...],
    reader: ReaderTrust,
    record: bool,
    sizes_only: bool,
) -> None:
    """Re-hash evidence items and check their seals and signers.

    TARGETS are item ids of the case, item folders, or ITEM.seal.json files. A --trust
    file that is a CA certificate trusts the examiners whose chain goes to it (within the
    --trust-* limits, against --crl / --ocsp-response data: docs/trust.md). Every problem is
    printed (file, byte range, expected vs found); exit 3 if any, 0 when everything holds.
    """
    from evidencekit.cli.progress import TickBar
    from evidencekit.errors import CaseError
    from evidencekit.sizes import human
    from evidencekit.workflows.verify import VerifyRequest, not_sealed, verify_evidence

    bar = TickBar(enabled=app.verbosity >= 0, transient=True)
    request = VerifyRequest(
        targets=targets,
        trust=reader.trust,
        rehash=not sizes_only,
        record=record,
        progress=bar if bar.enabled else None,
        limits=reader.limits,
        crls=reader.crls,
        ocsps=reader.ocsps,
    )
    try:
        case = app.case()
    except CaseError:
        if record:
            raise
        case = None
    try:
        # the examiner's key is unlocked (a passphrase asked for) only after the re-hashing
        result = verify_evidence(case, request, app.identity if record else None)
    finally:
        bar.finish()
    lines: list[str] = []
    for st in result.statuses:
        name = st.item_id or str(st.seal_path)
        signer = (
            _("signed by {signer} ({value})").format(
                signer=st.signer, value=(st.signer_fingerprint or "")[:16]
            )
            if st.signer
            else ""
        )
        if st.ok:
            lines.append(
                _(
                    "{name}: OK: {count} file(s), {bytes_hashed} re-hashed; {signer}; "
                    "status {status}"
                ).format(
                    name=name,
                    count=len(st.checked_files),
                    bytes_hashed=human(st.bytes_hashed),
                    signer=signer,
                    status=status_text(st.status),
                )
            )
        elif not_sealed(st):
            lines += [
                _("{name}: NOT SEALED: {message}").format(name=name, message=p.message)
                for p in st.problems
            ]
        else:
            lines.append(
                _("{name}: FAILED: {count} problem(s) in {seal_path}").format(
                    name=name, count=len(st.problems), seal_path=st.seal_path
                )
            )
            lines += [f"  {p.text()}" for p in st.problems]
        lines += [_("  note: {n}").format(n=n) for n in st.notes]
    app.emit("evidencekit/verify/1", result.to_dict(), lines)
    if result.exit_code:
        app.exit(result.exit_code)
