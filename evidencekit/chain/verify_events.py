"""`custody verify`'s per-event and per-checkpoint work: the signature and the stored bytes of
each, on its own, spread over processes for large ledgers.

Per event: the signer is trusted, the signature covers the stored bytes, the bytes are the
canonical encoding of a well-formed event of this ledger, the event names its own position and
its actor is the signer; its leaf hash is recomputed. Per checkpoint: its signed note verifies
against a trusted key. What needs the events in order (sequence, chains, custody rules, the
tree) is left to the caller.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from cryptography import x509

from evidencekit.chain import merkle, signature_cache
from evidencekit.chain.checkpoint import verify_checkpoint
from evidencekit.chain.encoding import Light, check_event
from evidencekit.chain.store import EventRow
from evidencekit.errors import IntegrityError
from evidencekit.identity import algorithms, cert_pem, load_cert_pem

PARALLEL_THRESHOLD = 4000
CHUNK = 2000

_Row = tuple[int, str, bytes, bytes]
"""(seq, signer fingerprint, stored bytes, signature): what a worker needs of an event."""

EventResult = tuple[int, bytes, list[tuple[str, str]], Light | None]
"""(seq, recomputed leaf hash, (kind, message) of each problem, the event's fields when it
parsed)."""

CpResult = tuple[str, int, bytes] | str
"""(origin, size, root) of a checkpoint whose signature verified, or the error message."""

_WORKER_TRUST: dict[str, x509.Certificate] = {}


def _init_worker(pems: dict[str, str]) -> None:
    _WORKER_TRUST.clear()
    _WORKER_TRUST.update({fp: load_cert_pem(p) for fp, p in pems.items()})


def _check_one(row: _Row, origin: str, trusted: dict[str, x509.Certificate]) -> EventResult:
    seq, signer, data, sig = row
    problems: list[tuple[str, str]] = []
    leaf = merkle.leaf_hash(data)
    cert = trusted.get(signer)
    if cert is None:
        problems.append(
            ("unknown-signer", f"signed by {signer[:16]}…, which is not pinned or trusted")
        )
    light: Light | None
    malformed: str | None = None
    try:
        light, algorithm = check_event(data)
    except IntegrityError as exc:
        # the algorithm is named in the signed bytes: unreadable bytes are checked as the
        # default's when the key can make it, so a damaged event still says whether its
        # signature holds (it is refused as malformed either way)
        light, algorithm, malformed = None, algorithms.DEFAULT, exc.message
    if cert is not None:
        if algorithm not in signature_cache.allowed(signer, cert):
            if malformed is None:
                key = signature_cache.public_key(signer, cert)
                problems.append(
                    (
                        "bad-signature",
                        f"the event names {algorithm}, which the signer's "
                        f"{algorithms.describe_key(key)} key cannot make",
                    )
                )
        elif not signature_cache.verify(signer, cert, data, sig, algorithm):
            problems.append(("bad-signature", "signature does not match the event's bytes"))
    if light is None:
        problems.append(("malformed-event", malformed or "malformed custody event"))
        return seq, leaf, problems, None
    if light[1] != origin:
        problems.append(("wrong-ledger", f"event belongs to ledger {light[1]!r}"))
    if light[0] != seq:
        problems.append(
            (
                "moved",
                f"stored at position {seq} but signed as event {light[0]} "
                "(reordered, duplicated or inserted)",
            )
        )
    if light[6] != signer:
        problems.append(("signer-mismatch", "the actor's fingerprint is not the signer's"))
    return seq, leaf, problems, light


def check_row(
    row: EventRow, origin: str, trusted: dict[str, x509.Certificate]
) -> list[tuple[str, str]]:
    """The problems of one stored event on its own (signature, form, position, ledger, signer,
    and that its item and kind columns are its bytes'): what an append checks of the events the
    custody rules read."""
    _, _, problems, light = _check_one(
        (row.seq, row.signer, row.data, row.signature), origin, trusted
    )
    if light is not None and (light[3] != row.item or light[2] != row.kind):
        problems.append(("index-mismatch", "the row's item/kind columns differ from the event"))
    return problems


_FORKED_ROWS: list[_Row] = []
"""Rows a forked worker inherits from its parent (no pickling of 100 MB of events)."""


def _check_chunk(rows: list[_Row] | tuple[int, int], origin: str) -> list[EventResult]:
    if isinstance(rows, tuple):
        rows = _FORKED_ROWS[rows[0] : rows[1]]
    return [_check_one(r, origin, _WORKER_TRUST) for r in rows]


def _check_cp(note: str, trusted: dict[str, x509.Certificate]) -> CpResult:
    try:
        c = verify_checkpoint(note, trusted).checkpoint
    except IntegrityError as exc:
        return exc.message
    return c.origin, c.size, c.root


def _check_cp_chunk(notes: list[str]) -> list[CpResult]:
    return [_check_cp(n, _WORKER_TRUST) for n in notes]


def worker_count(n: int, requested: int | None) -> int:
    """Processes for `n` events and checkpoints: `requested`, else one below
    `PARALLEL_THRESHOLD` (a pool costs more than it saves), else one per usable CPU."""
    if requested is not None:
        return max(1, requested)
    if n < PARALLEL_THRESHOLD:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus)


def check_all(
    rows: Sequence[EventRow],
    notes: Sequence[str],
    origin: str,
    trusted: dict[str, x509.Certificate],
    workers: int,
) -> tuple[list[EventResult], list[CpResult]]:
    """Per-event and per-checkpoint signature work, on `workers` processes, in the order given."""
    packed = [(r.seq, r.signer, r.data, r.signature) for r in rows]
    if workers <= 1:
        return (
            [_check_one(r, origin, trusted) for r in packed],
            [_check_cp(n, trusted) for n in notes],
        )
    pems = {fp: cert_pem(c) for fp, c in trusted.items()}
    forked = hasattr(os, "fork")
    ctx = get_context("fork") if forked else get_context("spawn")
    chunks: list[Any]
    if forked:
        _FORKED_ROWS[:] = packed
        chunks = [(i, min(i + CHUNK, len(packed))) for i in range(0, len(packed), CHUNK)]
    else:
        chunks = [packed[i : i + CHUNK] for i in range(0, len(packed), CHUNK)]
    cp_chunks = [list(notes[i : i + CHUNK]) for i in range(0, len(notes), CHUNK)]
    events: list[EventResult] = []
    cps: list[CpResult] = []
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(pems,)
    ) as pool:
        cp_future = pool.map(_check_cp_chunk, cp_chunks)
        for part in pool.map(_check_chunk, chunks, [origin] * len(chunks)):
            events.extend(part)
        for cp_part in cp_future:
            cps.extend(cp_part)
    _FORKED_ROWS.clear()
    return events, cps
