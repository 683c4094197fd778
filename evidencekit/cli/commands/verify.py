"""`evidencekit verify ITEM|SEAL_FILE… [--trust CERT.pem] [--record] [--sizes-only]`."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.runtime import (
    EXIT_ERROR,
    EXIT_INTEGRITY,
    EXIT_OK,
    EXIT_PARTIAL,
    App,
    pass_app,
)

if TYPE_CHECKING:
    from evidencekit.hash.seal.status import VerifyStatus


@click.command("verify")
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="CERT.pem",
    help="Also accept seals signed by this certificate, or by any examiner whose chain goes to "
    "it when it is a CA certificate (within the --trust-* limits; repeatable).",
)
@click.option("--trust-org", "orgs", multiple=True, help="CA trust: allowed signer O.")
@click.option("--trust-ou", "ous", multiple=True, help="CA trust: allowed signer OU.")
@click.option("--trust-policy", "policies", multiple=True, metavar="OID", help="CA trust: policy.")
@click.option("--trust-eku", "ekus", multiple=True, metavar="OID", help="CA trust: required EKU.")
@click.option(
    "--crl",
    "crls",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Revocation data for CA trust: a CRL file (repeatable).",
)
@click.option(
    "--ocsp-response",
    "ocsps",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Revocation data for CA trust: a DER OCSP response (repeatable).",
)
@click.option("--record", is_flag=True, help="Append a `verified` custody event per item.")
@click.option("--sizes-only", is_flag=True, help="Check signatures and sizes without re-hashing.")
@pass_app
def verify(
    app: App,
    targets: tuple[str, ...],
    trust: tuple[Path, ...],
    orgs: tuple[str, ...],
    ous: tuple[str, ...],
    policies: tuple[str, ...],
    ekus: tuple[str, ...],
    crls: tuple[Path, ...],
    ocsps: tuple[Path, ...],
    record: bool,
    sizes_only: bool,
) -> None:
    """Re-hash evidence items and check their seals and signers.

    TARGETS are item ids of the case, item folders, or ITEM.seal.json files. Every problem is
    printed (file, byte range, expected vs found); exit 3 if any, 0 when everything holds.
    """
    from evidencekit.errors import CaseError
    from evidencekit.sizes import human
    from evidencekit.workflows.verify import record_verification, verify_items

    try:
        case = app.case()
    except CaseError:
        if record:
            raise
        case = None
    progress = None
    if sys.stderr.isatty() and app.verbosity >= 0:
        last = [0.0]

        def progress(target: str, done: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5:
                last[0] = now
                click.echo(f"\r{target}: {human(done)} re-hashed ", nl=False, err=True)

    from evidencekit.identity.validation import Limits
    from evidencekit.workflows.verify import reader_anchors

    leaves, anchors = reader_anchors(
        trust,
        Limits(orgs, ous, policies, ekus),
        [p.read_bytes() for p in crls],
        [p.read_bytes() for p in ocsps],
    )
    statuses = verify_items(
        case, targets, trust=leaves, rehash=not sizes_only, on_progress=progress, anchors=anchors
    )
    if progress is not None:
        click.echo("\r\033[K", nl=False, err=True)
    if record and case is not None:  # without a case, `record` raised above
        identity = app.identity()
        for st in statuses:
            if not _not_sealed(st):  # nothing was verified, nothing to record
                record_verification(case, identity, st)
    lines: list[str] = []
    for st in statuses:
        name = st.item_id or str(st.seal_path)
        signer = (
            f"signed by {st.signer} ({(st.signer_fingerprint or '')[:16]})" if st.signer else ""
        )
        if st.ok:
            lines.append(
                f"{name}: OK: {len(st.checked_files)} file(s), {human(st.bytes_hashed)} re-hashed; "
                f"{signer}; status {st.status}"
            )
        elif _not_sealed(st):
            lines += [f"{name}: NOT SEALED: {p.message}" for p in st.problems]
        else:
            lines.append(f"{name}: FAILED: {len(st.problems)} problem(s) in {st.seal_path}")
            lines += [f"  {p.text()}" for p in st.problems]
        lines += [f"  note: {n}" for n in st.notes]
    ok = all(st.ok for st in statuses)
    code = worst_code(statuses)
    app.emit(
        "evidencekit/verify/1",
        {
            "ok": ok,
            "exit_code": code,
            "items": [st.to_dict() for st in statuses],
            "recorded": record,
        },
        lines,
    )
    if code:
        app.exit(code)


def _not_sealed(st: VerifyStatus) -> bool:
    from evidencekit.workflows.verify import NOT_SEALED

    return bool(st.problems) and all(p.kind == NOT_SEALED for p in st.problems)


def worst_code(statuses: Sequence[VerifyStatus]) -> int:
    """Every item is reported; the exit code is the worst of theirs (docs/design.md: 3 over 4
    over 1): 3 when a seal does not verify, 4 when it verifies but is not `complete`, 1 when a
    target has no seal to verify, else 0."""
    codes = []
    for st in statuses:
        if not st.problems:
            codes.append(EXIT_OK if st.status == "complete" else EXIT_PARTIAL)
        else:
            codes.append(EXIT_ERROR if _not_sealed(st) else EXIT_INTEGRITY)
    rank = {EXIT_OK: 0, EXIT_ERROR: 1, EXIT_PARTIAL: 2, EXIT_INTEGRITY: 3}
    return max(codes, key=rank.__getitem__, default=EXIT_OK)
