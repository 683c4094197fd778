"""Checking the RFC 3161 timestamps a ledger keeps (`checkpoint_timestamped` events).

Each such event carries a signed checkpoint and a TSA's token over that checkpoint's exact text.
Verification checks the token (chain.timestamp), that the checkpoint is signed by a trusted
examiner and describes *this* ledger's tree at its size, and that no event the checkpoint
covers claims a time later than the token proves (beyond the rules' clock skew): a timestamp
bounds every event under it from above, whoever set the clocks.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence

from cryptography import x509

from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import verify_checkpoint
from evidencekit.chain.rules import CLOCK_SKEW
from evidencekit.chain.store import EventRow
from evidencekit.chain.verify_status import TimestampSeen
from evidencekit.errors import IntegrityError
from evidencekit.problems import Problem
from evidencekit.timeutil import isoformat, parse_iso

KIND = "checkpoint_timestamped"


def check_timestamps(
    rows: Sequence[EventRow],
    tree: merkle.MemoryTree,
    origin: str,
    trusted: dict[str, x509.Certificate],
    tsa_certs: Sequence[x509.Certificate],
    problems: list[Problem],
) -> tuple[TimestampSeen, ...]:
    """Check every timestamp event in `rows`; append what is wrong to `problems`."""
    seen: list[TimestampSeen] = []
    latest: list[dt.datetime | None] = []  # latest event time among rows[: i + 1], lazily
    for row in rows:
        if row.kind != KIND:
            continue
        try:
            seen.append(_check_one(row, rows, latest, tree, origin, trusted, tsa_certs))
        except IntegrityError as exc:
            problems.append(Problem.of_event("timestamp-invalid", exc.message, row.seq, None))
    return tuple(seen)


def _check_one(
    row: EventRow,
    rows: Sequence[EventRow],
    latest: list[dt.datetime | None],
    tree: merkle.MemoryTree,
    origin: str,
    trusted: dict[str, x509.Certificate],
    tsa_certs: Sequence[x509.Certificate],
) -> TimestampSeen:
    try:
        details = json.loads(row.data)["details"]
        note = details["checkpoint"]
        token = base64.b64decode(details["token"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise IntegrityError(
            f"a {KIND} event without a readable checkpoint and token: {exc}"
        ) from exc
    if not isinstance(note, str):
        raise IntegrityError(f"the {KIND} event's checkpoint is not text")
    cp = verify_checkpoint(note, trusted).checkpoint
    if cp.origin != origin:
        raise IntegrityError(f"the timestamped checkpoint is of ledger {cp.origin!r}")
    if not 0 < cp.size <= row.seq:
        raise IntegrityError(
            f"the timestamped checkpoint covers {cp.size} events, not an earlier part of the "
            f"ledger than the event itself ({row.seq})"
        )
    if cp.size > tree.size or tree.root(cp.size) != cp.root:
        raise IntegrityError(
            f"the timestamped checkpoint (tree size {cp.size}) does not describe this ledger's "
            "events: they were changed after the timestamp"
        )
    from evidencekit.chain.timestamp import verify_token  # asn1crypto: only for ledgers with one

    info = verify_token(token, note.encode("utf-8"), tsa_certs)
    while len(latest) < min(cp.size, len(rows)):
        t = _time_of(rows[len(latest)])
        prev = latest[-1] if latest else None
        latest.append(t if prev is None or (t is not None and t > prev) else prev)
    last = latest[min(cp.size, len(latest)) - 1] if latest else None
    if last is not None and last > info.time + CLOCK_SKEW:
        raise IntegrityError(
            f"events under the checkpoint timestamped at {isoformat(info.time)} claim times up "
            f"to {isoformat(last)}: their dates are false"
        )
    return TimestampSeen(
        row.seq, cp.size, info.time, info.tsa_name, info.tsa_fingerprint, bool(tsa_certs)
    )


def _time_of(row: EventRow) -> dt.datetime | None:
    try:
        return parse_iso(json.loads(row.data)["time"])
    except (ValueError, KeyError, TypeError):
        return None  # a malformed event is reported by the event checks
