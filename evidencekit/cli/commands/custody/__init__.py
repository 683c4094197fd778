"""`evidencekit custody …`: record hand-overs, show the timeline, verify the ledger, prove events.

Every command that appends signs its event with the examiner's identity (`--identity`) and a new
checkpoint, durably, before it prints. Proofs and exports go to stdout, or to a file with --out.
"""

from __future__ import annotations

from evidencekit.cli.commands.custody import ledger, migrate, record, seizure, witness
from evidencekit.cli.commands.custody._group import custody

__all__ = ["custody", "ledger", "migrate", "record", "seizure", "witness"]
