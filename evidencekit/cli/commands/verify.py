"""`evidencekit verify ITEM|SEAL_FILE… [--trust CERT.pem] [--record] [--sizes-only]`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from evidencekit.cli.runtime import EXIT_INTEGRITY, App, pass_app


@click.command("verify")
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="CERT.pem",
    help="Also accept seals signed by this certificate (repeatable).",
)
@click.option("--record", is_flag=True, help="Append a `verified` custody event per item.")
@click.option("--sizes-only", is_flag=True, help="Check signatures and sizes without re-hashing.")
@pass_app
def verify(
    app: App, targets: tuple[str, ...], trust: tuple[Path, ...], record: bool, sizes_only: bool
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

    statuses = verify_items(
        case, targets, trust=list(trust), rehash=not sizes_only, on_progress=progress
    )
    if progress is not None:
        click.echo("\r\033[K", nl=False, err=True)
    if record:
        identity = app.identity()
        for st in statuses:
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
        else:
            lines.append(f"{name}: FAILED: {len(st.problems)} problem(s) in {st.seal_path}")
            lines += [f"  {p.text()}" for p in st.problems]
        lines += [f"  note: {n}" for n in st.notes]
    ok = all(st.ok for st in statuses)
    app.emit(
        "evidencekit/verify/1",
        {"ok": ok, "items": [st.to_dict() for st in statuses], "recorded": record},
        lines,
    )
    if not ok:
        app.exit(EXIT_INTEGRITY)
