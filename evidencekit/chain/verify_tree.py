"""`custody verify`'s checks of the tree and the checkpoints, against the tree recomputed from
the events: every stored Merkle node matches it, every checkpoint (its signature already checked)
is for this ledger, matches its own columns and the recomputed root at its size, sizes never go
down, and the latest covers every event."""

from __future__ import annotations

from collections.abc import Sequence

from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import Checkpoint
from evidencekit.chain.store import CheckpointRow, LedgerStore
from evidencekit.chain.verify_events import CpResult
from evidencekit.chain.verify_status import first_bad_event
from evidencekit.problems import Problem


def check_nodes(store: LedgerStore, tree: merkle.MemoryTree, problems: list[Problem]) -> None:
    """The stored subtree hashes (used to build proofs) must be exactly the recomputed tree's."""
    stored = 0
    for level, index, value in store.all_nodes():
        stored += 1
        ok = level < len(tree.levels) and index < len(tree.levels[level])
        if not ok or tree.levels[level][index] != value:
            first = index << level
            problems.append(
                Problem.of_event(
                    "node-mismatch",
                    f"stored Merkle node ({level}, {index}) is not the recomputed one",
                    first if first < tree.size else None,
                )
            )
            return
    expected = sum(len(level) for level in tree.levels)
    if stored != expected:
        problems.append(
            Problem.of_event(
                "node-mismatch", f"{expected - stored} stored Merkle node(s) are missing"
            )
        )


def check_checkpoints(
    cps: Sequence[CheckpointRow],
    results: Sequence[CpResult],
    origin: str,
    tree: merkle.MemoryTree,
    problems: list[Problem],
) -> str | None:
    """Check the stored checkpoints, in order, given what verifying each one's signature gave
    (`results`); the problems found so far name where a root stops matching.

    Returns:
        The note of the latest checkpoint whose signature verified, if any.
    """
    n = tree.size
    latest_text: str | None = None
    last_size = 0
    for cp, result in zip(cps, results, strict=True):
        if isinstance(result, str):
            problems.append(Problem.of_event("bad-checkpoint", f"checkpoint {cp.id}: {result}"))
            continue
        c = Checkpoint(*result)
        if c.origin != origin:
            problems.append(
                Problem.of_event("bad-checkpoint", f"checkpoint {cp.id} is for ledger {c.origin!r}")
            )
        if c.size != cp.tree_size or c.root != cp.root:
            problems.append(
                Problem.of_event(
                    "bad-checkpoint", f"checkpoint {cp.id}: columns differ from signed note"
                )
            )
        if c.size < last_size:
            problems.append(
                Problem.of_event(
                    "bad-checkpoint",
                    f"checkpoint {cp.id} shrinks the tree from {last_size} to {c.size}",
                )
            )
        last_size = max(last_size, c.size)
        if c.size > n:
            problems.append(
                Problem.of_event(
                    "truncated",
                    f"signed checkpoint {cp.id} covers {c.size} events but the ledger holds "
                    f"{n}: event {n} onwards is missing",
                    n,
                )
            )
        elif tree.root(c.size) != c.root:
            problems.append(
                Problem.of_event(
                    "root-mismatch",
                    f"signed checkpoint {cp.id} (size {c.size}) does not match the events' tree",
                    first_bad_event(problems, below=c.size),
                )
            )
        latest_text = cp.note
    if n and last_size < n:
        problems.append(
            Problem.of_event(
                "uncovered",
                f"events {last_size}–{n - 1} are not covered by any signed checkpoint "
                "(appended outside evidencekit?)",
                last_size,
            )
        )
    return latest_text
