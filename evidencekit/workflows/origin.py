"""Which ledger belongs to a case: its checkpoint origin, named from the case's number and creation
time. Both the custody use cases and the trust list (which reads the ledger before custody opens
it for writing) open the ledger under this name, so it sits below both."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from evidencekit.case import Case
from evidencekit.timeutil import compact


def ledger_origin(case: Case) -> str:
    """The ledger's checkpoint origin: `evidencekit.case/<case number>/<created UTC>`.

    Percent-encoded so it holds no spaces or '+' (C2SP checkpoint origin rules).
    """
    number = quote(unicodedata.normalize("NFC", case.info.number), safe="")
    return f"evidencekit.case/{number}/{compact(case.info.created)}"
