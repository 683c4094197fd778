"""The `custody` click group; its commands live in `record.py`, `ledger.py`, `seizure.py` and
`witness.py`."""

from __future__ import annotations

import click


@click.group()
def custody() -> None:
    """Chain-of-custody ledger: record, show, verify, prove, export."""
