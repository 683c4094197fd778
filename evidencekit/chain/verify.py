"""`custody verify`: recompute everything the ledger claims.

Per event: the signer is trusted (pinned in the case or given with --trust), the signature covers
the stored bytes, the bytes are the canonical encoding of a well-formed event of this ledger, the
event names its own position (`seq`) and its actor's fingerprint matches the signer, the stored
leaf hash is `H(0x00 || bytes)`. Across events: no seq is missing, each item's `prev` is the leaf
hash of its previous event, the custody rules hold. Tree and checkpoints: every stored Merkle
node matches the recomputed tree, every checkpoint is signed by a trusted key and its root is the
recomputed root at its size, sizes never go down, and the latest covers every event.

The per-event work (ECDSA verification and canonical re-encoding) is spread over processes for
large ledgers; the rest is sequential and cheap. The result is a status object, never an
exception, so the CLI can print every problem and exit 3.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from cryptography import x509

from evidencekit.chain import keys, merkle
from evidencekit.chain.checkpoint import Checkpoint, verify_checkpoint
from evidencekit.chain.events import ItemState, Light, Party, check_bytes
from evidencekit.chain.ledger import EventRow, LedgerStore
from evidencekit.chain.rules import check_event
from evidencekit.errors import CustodyError, IntegrityError
from evidencekit.identity import cert_pem, load_cert_pem

PARALLEL_THRESHOLD = 4000
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that does not verify. `seq` names the event when there is one."""

    kind: str
    message: str
    seq: int | None = None
    item: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "seq": self.seq, "item": self.item, "message": self.message}

    def __str__(self) -> str:
        where = f"event {self.seq}" if self.seq is not None else "ledger"
        if self.item:
            where += f" (item {self.item})"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    """What `verify_ledger` found."""

    problems: tuple[Problem, ...]
    events: int
    tree_size: int
    root: bytes
    checkpoints: int
    latest_checkpoint: str | None
    signers: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_event(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "events": self.events,
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "checkpoints": self.checkpoints,
            "first_bad_event": self.first_bad_event,
            "problems": [p.to_dict() for p in self.problems],
            "signers": list(self.signers),
            "latest_checkpoint": self.latest_checkpoint,
        }


# -- per-event checks (run in worker processes for big ledgers) ----------------------------------

_Light = Light

_WORKER_TRUST: dict[str, x509.Certificate] = {}


def _init_worker(pems: dict[str, str]) -> None:
    _WORKER_TRUST.clear()
    _WORKER_TRUST.update({fp: load_cert_pem(p) for fp, p in pems.items()})


def _check_one(
    row: tuple[int, str, bytes, bytes], origin: str, trusted: dict[str, x509.Certificate]
) -> tuple[int, bytes, list[tuple[str, str]], _Light | None]:
    seq, signer, data, sig = row
    problems: list[tuple[str, str]] = []
    leaf = hashlib.sha256(b"\x00" + data).digest()
    cert = trusted.get(signer)
    if cert is None:
        problems.append(
            ("unknown-signer", f"signed by {signer[:16]}…, which is not pinned or trusted")
        )
    elif not keys.verify(signer, cert, data, sig):
        problems.append(("bad-signature", "signature does not match the event's bytes"))
    try:
        light = check_bytes(data)
    except IntegrityError as exc:
        problems.append(("malformed-event", exc.message))
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


_FORKED_ROWS: list[tuple[int, str, bytes, bytes]] = []
"""Rows a forked worker inherits from its parent (no pickling of 100 MB of events)."""


def _check_chunk(
    rows: list[tuple[int, str, bytes, bytes]] | tuple[int, int], origin: str
) -> list[tuple[int, bytes, list[tuple[str, str]], _Light | None]]:
    if isinstance(rows, tuple):
        rows = _FORKED_ROWS[rows[0] : rows[1]]
    return [_check_one(r, origin, _WORKER_TRUST) for r in rows]


def _workers(n: int, requested: int | None) -> int:
    if requested is not None:
        return max(1, requested)
    if n < PARALLEL_THRESHOLD:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus)


_CpResult = tuple[str, int, bytes] | str
"""(origin, size, root) of a checkpoint whose signature verified, or the error message."""


def _check_cp(note: str, trusted: dict[str, x509.Certificate]) -> _CpResult:
    try:
        c = verify_checkpoint(note, trusted).checkpoint
    except IntegrityError as exc:
        return exc.message
    return c.origin, c.size, c.root


def _check_cp_chunk(notes: list[str]) -> list[_CpResult]:
    return [_check_cp(n, _WORKER_TRUST) for n in notes]


def _check_all(
    rows: Sequence[EventRow],
    notes: Sequence[str],
    origin: str,
    trusted: dict[str, x509.Certificate],
    workers: int,
) -> tuple[list[tuple[int, bytes, list[tuple[str, str]], _Light | None]], list[_CpResult]]:
    """Per-event and per-checkpoint signature work, on `workers` processes."""
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
    events: list[tuple[int, bytes, list[tuple[str, str]], _Light | None]] = []
    cps: list[_CpResult] = []
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


# -- the whole ledger ---------------------------------------------------------------------------


def verify_ledger(
    store: LedgerStore,
    origin: str,
    trusted: dict[str, x509.Certificate],
    *,
    workers: int | None = None,
) -> LedgerStatus:
    """Recompute and check everything in the ledger (see the module docstring)."""
    problems: list[Problem] = []
    rows = list(store.rows())
    cps = store.checkpoints()
    checked, cp_checked = _check_all(
        rows, [c.note for c in cps], origin, trusted, _workers(len(rows) + len(cps), workers)
    )

    states: dict[str | None, ItemState] = {}
    leaves: list[bytes] = []
    signers: set[str] = set()
    expected_seq = 0
    for row, (seq, leaf, event_problems, light) in zip(rows, checked, strict=True):
        item = row.item
        if seq != expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}–{seq - 1}"
            problems.append(
                Problem("missing", f"event {missing} is missing (deleted)", expected_seq)
            )
        expected_seq = seq + 1
        for kind, msg in event_problems:
            problems.append(Problem(kind, msg, seq, item))
        if leaf != row.leaf_hash:
            problems.append(Problem("leaf-mismatch", "stored leaf hash is wrong", seq, item))
        leaves.append(leaf)
        signers.add(row.signer)
        if light is None:
            continue
        _, _, kind, ev_item, prev, actor_name, actor_fp, cp_name, cp_fp, override = light
        if ev_item != item or kind != row.kind:
            problems.append(
                Problem("index-mismatch", "the row's item/kind columns differ from the event", seq)
            )
        state = states.get(ev_item)
        if state is None:
            state = states[ev_item] = ItemState(ev_item or "")
        want_prev = None if state.last_leaf is None else state.last_leaf.hex()
        if prev != want_prev:
            problems.append(
                Problem(
                    "chain-broken",
                    f"prev is {prev or 'empty'} but the item's previous event hashes to "
                    f"{want_prev or 'nothing'}",
                    seq,
                    ev_item,
                )
            )
        actor = Party(actor_name, actor_fp)
        counterpart = None if cp_name is None else Party(cp_name, cp_fp)
        try:
            check_event(state, ev_item, kind, seq, actor, counterpart, override)
        except CustodyError as exc:
            problems.append(Problem("rule-violation", exc.message, seq, ev_item))
        state.apply(kind, actor, counterpart, leaf)

    tree = merkle.MemoryTree(leaves)
    n = tree.size
    _check_nodes(store, tree, problems)
    latest_text: str | None = None
    last_size = 0
    for cp, result in zip(cps, cp_checked, strict=True):
        if isinstance(result, str):
            problems.append(Problem("bad-checkpoint", f"checkpoint {cp.id}: {result}"))
            continue
        c = Checkpoint(*result)
        if c.origin != origin:
            problems.append(
                Problem("bad-checkpoint", f"checkpoint {cp.id} is for ledger {c.origin!r}")
            )
        if c.size != cp.tree_size or c.root != cp.root:
            problems.append(
                Problem("bad-checkpoint", f"checkpoint {cp.id}: columns differ from signed note")
            )
        if c.size < last_size:
            problems.append(
                Problem(
                    "bad-checkpoint",
                    f"checkpoint {cp.id} shrinks the tree from {last_size} to {c.size}",
                )
            )
        last_size = max(last_size, c.size)
        if c.size > n:
            problems.append(
                Problem(
                    "truncated",
                    f"signed checkpoint {cp.id} covers {c.size} events but the ledger holds "
                    f"{n}: event {n} onwards is missing",
                    n,
                )
            )
        elif tree.root(c.size) != c.root:
            problems.append(
                Problem(
                    "root-mismatch",
                    f"signed checkpoint {cp.id} (size {c.size}) does not match the events' tree",
                    _first_diverging(problems, c.size),
                )
            )
        latest_text = cp.note
    if n and last_size < n:
        problems.append(
            Problem(
                "uncovered",
                f"events {last_size}–{n - 1} are not covered by any signed checkpoint "
                "(appended outside evidencekit?)",
                last_size,
            )
        )
    problems.sort(key=lambda p: p.seq if p.seq is not None else 1 << 62)
    return LedgerStatus(
        problems=tuple(_dedupe(problems)),
        events=len(rows),
        tree_size=n,
        root=tree.root(),
        checkpoints=len(cps),
        latest_checkpoint=latest_text,
        signers=tuple(sorted(signers)),
    )


def _first_diverging(problems: Sequence[Problem], size: int) -> int | None:
    seqs = [p.seq for p in problems if p.seq is not None and p.seq < size]
    return min(seqs) if seqs else None


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for p in problems:
        key = (p.kind, p.seq, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _check_nodes(store: LedgerStore, tree: merkle.MemoryTree, problems: list[Problem]) -> None:
    """The stored subtree hashes (used to build proofs) must be exactly the recomputed tree's."""
    stored = 0
    for level, index, value in store.all_nodes():
        stored += 1
        ok = level < len(tree.levels) and index < len(tree.levels[level])
        if not ok or tree.levels[level][index] != value:
            first = index << level
            problems.append(
                Problem(
                    "node-mismatch",
                    f"stored Merkle node ({level}, {index}) is not the recomputed one",
                    first if first < tree.size else None,
                )
            )
            return
    expected = sum(len(level) for level in tree.levels)
    if stored != expected:
        problems.append(
            Problem("node-mismatch", f"{expected - stored} stored Merkle node(s) are missing")
        )
