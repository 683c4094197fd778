"""Options several commands share, each defined once."""

from __future__ import annotations

from pathlib import Path

import click

trust_option = click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="CERT.pem",
    help="Also trust the signer with this certificate (PEM/DER); repeatable.",
)
"""`--trust CERT.pem` (repeatable): a signer trusted beside those the case's ledger pins, or
instead of them for a reader outside the case (`verify`, `report verify`, `custody verify`…)."""
