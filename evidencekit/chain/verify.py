"""`custody verify`: recompute everything the ledger claims.

Per event: the signer is trusted (pinned in the case or given with --trust), the signature covers
the stored bytes, the bytes are the canonical encoding of a well-formed event of this ledger, the
event names its own position (`seq`) and its actor's fingerprint matches the signer, the stored
leaf hash is `H(0x00 || bytes)`. Across events: no seq is missing, each item's `prev` is the leaf
hash of its previous event, the custody rules hold. Tree and checkpoints: every stored Merkle
node matches the recomputed tree, every checkpoint is signed by a trusted key and its root is the
recomputed root at its size, sizes never go down, and the latest covers every event.

The per-event work (ECDSA verification and canonical re-encoding, `verify_events`) is spread over
processes for large ledgers; the replay across events (here) and the tree and checkpoint checks
(`verify_tree`) are sequential and cheap. The result is a status object (`verify_status`), never
an exception, so the CLI can print every problem and exit 3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509

from evidencekit.chain import merkle
from evidencekit.chain.parties import Party
from evidencekit.chain.rules import ItemState, check_event
from evidencekit.chain.store import EventRow, LedgerStore
from evidencekit.chain.verify_events import (
    CHUNK,
    PARALLEL_THRESHOLD,
    EventResult,
    check_all,
    worker_count,
)
from evidencekit.chain.verify_status import LedgerStatus, in_order
from evidencekit.chain.verify_timestamps import check_timestamps
from evidencekit.chain.verify_tree import check_checkpoints, check_nodes
from evidencekit.errors import CustodyError
from evidencekit.problems import Problem
from evidencekit.timeutil import parse_iso

__all__ = ["CHUNK", "PARALLEL_THRESHOLD", "LedgerStatus", "verify_ledger"]


def verify_ledger(
    store: LedgerStore,
    origin: str,
    trusted: dict[str, x509.Certificate],
    *,
    workers: int | None = None,
    tsa_certs: Sequence[x509.Certificate] = (),
) -> LedgerStatus:
    """Recompute and check everything in the ledger (see the module docstring); timestamps
    against `tsa_certs` when given (else they are reported with their TSA, unpinned)."""
    problems: list[Problem] = []
    rows = list(store.rows())
    cps = store.checkpoints()
    checked, cp_checked = check_all(
        rows, [c.note for c in cps], origin, trusted, worker_count(len(rows) + len(cps), workers)
    )
    notes: list[str] = []
    leaves, signers = _replay(rows, checked, problems, notes)
    tree = merkle.MemoryTree(leaves)
    check_nodes(store, tree, problems)
    latest_text = check_checkpoints(cps, cp_checked, origin, tree, problems)
    stamps = check_timestamps(rows, tree, origin, trusted, tsa_certs, problems)
    return LedgerStatus(
        problems=in_order(problems),
        events=len(rows),
        tree_size=tree.size,
        root=tree.root(),
        checkpoints=len(cps),
        latest_checkpoint=latest_text,
        signers=tuple(sorted(signers)),
        timestamps=stamps,
        notes=tuple(notes),
    )


def _replay(
    rows: Sequence[EventRow],
    checked: Sequence[EventResult],
    problems: list[Problem],
    notes: list[str],
) -> tuple[list[bytes], set[str]]:
    """Walk the events in order with each one's own findings: report those, then what only the
        order shows (a missing seq, an index column that lies, a broken `prev` chain, a custody rule
        broken), and the notes the replay leaves (an original examined without a working copy).
    Returns the recomputed leaf hashes and the signers seen."""
    states: dict[str | None, ItemState] = {}
    opened: dt.datetime | None = None
    leaves: list[bytes] = []
    signers: set[str] = set()
    expected_seq = 0
    for row, (seq, leaf, event_problems, light) in zip(rows, checked, strict=True):
        item = row.item
        if seq != expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}–{seq - 1}"
            problems.append(
                Problem.of_event("missing", f"event {missing} is missing (deleted)", expected_seq)
            )
        expected_seq = seq + 1
        for kind, msg in event_problems:
            problems.append(Problem.of_event(kind, msg, seq, item))
        if leaf != row.leaf_hash:
            problems.append(
                Problem.of_event("leaf-mismatch", "stored leaf hash is wrong", seq, item)
            )
        leaves.append(leaf)
        signers.add(row.signer)
        if light is None:
            continue
        (_, _, kind, ev_item, prev, actor_name, actor_fp, cp_name, cp_fp, override, when, rd) = (
            light
        )
        time = parse_iso(when)
        if opened is None and seq == 0:
            opened = time
        if ev_item != item or kind != row.kind:
            problems.append(
                Problem.of_event(
                    "index-mismatch", "the row's item/kind columns differ from the event", seq
                )
            )
        state = states.get(ev_item)
        if state is None:
            state = states[ev_item] = ItemState(ev_item or "")
        want_prev = None if state.last_leaf is None else state.last_leaf.hex()
        if prev != want_prev:
            problems.append(
                Problem.of_event(
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
            check_event(
                state,
                ev_item,
                kind,
                seq,
                actor,
                counterpart,
                override,
                time,
                opened,
                rd,
                case=states.get(None) if ev_item is not None else None,
            )
        except CustodyError as exc:
            problems.append(Problem.of_event("rule-violation", exc.message, seq, ev_item))
        note = state.examination_note(kind, rd) if ev_item is not None else None
        if note is not None:
            notes.append(f"event {seq}: {note}")
        state.apply(kind, actor, counterpart, leaf, time, rd)
        if ev_item is not None:
            case_state = states.get(None)
            if case_state is None:
                case_state = states[None] = ItemState("")
            case_state.note_session_event(rd, time)
    return leaves, signers
