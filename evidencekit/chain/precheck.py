"""What an append checks before it builds on the ledger: no event is ever added to a ledger that
has been edited, truncated or extended outside evidencekit.

Run inside the append's write transaction, so what is checked is exactly what the new events
will build on:

1. the latest checkpoint is signed by a trusted examiner, names this ledger, and covers every
   event (its tree size is the number of events, with no seq missing);
2. the stored Merkle tree (the complete subtrees the new leaves are hashed with) gives the signed
   root at that size;
3. every event's stored bytes, hashed again, give the signed root too: no event has been edited,
   moved, dropped or inserted since a trusted examiner signed the checkpoint;
4. each event's `item` and `kind` columns, by which the custody rules find an item's history,
   say what its signed bytes say.

The ledger then checks the signature and form of each event the custody rules read for the items
it appends to (`Ledger._state`). What is left to `custody verify` and `report build`, which
recompute everything: each older event's own signature and the replay of the custody rules over
the whole history. The bytes of every event are covered by a trusted signature all the same —
the latest checkpoint's.

Cost: one SHA-256 of each event plus one per tree node, about 2 µs per event (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from cryptography import x509

from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import verify_checkpoint
from evidencekit.chain.store import WriteTxn
from evidencekit.errors import IntegrityError
from evidencekit.problems import shown


class LedgerDoesNotVerify(IntegrityError):
    """The ledger an append would build on fails the check of this module."""


def _fail(message: str) -> LedgerDoesNotVerify:
    return LedgerDoesNotVerify(
        shown(message),
        hint="nothing was recorded; `evidencekit custody verify` lists every problem; restore "
        "custody.sqlite from a backup copy",
    )


def _json_value(value: object) -> bytes | None:
    """The canonical JSON of an item or kind column (a string or null), else None."""
    if value is None:
        return b"null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return None


def _tags(
    cache: dict[object, tuple[bytes, bytes] | None], key: bytes, value: object
) -> tuple[bytes, bytes] | None:
    """(`"key":`, `"key":<value>`) for a column value, computed once per distinct value."""
    try:
        return cache[value]
    except KeyError:
        pass
    except TypeError:  # an unhashable column value cannot be a real one
        return None
    encoded = _json_value(value)
    tags = None if encoded is None else (b'"' + key + b'":', b'"' + key + b'":' + encoded)
    cache[value] = tags
    return tags


def _names(data: bytes, tags: tuple[bytes, bytes] | None) -> bool:
    """Whether the event's top-level key holds the value `tags` were made for.

    The bytes are RFC 8785 canonical JSON (keys sorted) and were signed by evidencekit (step 3
    proves them unchanged), so after "item" and "kind" come only keys holding strings, numbers
    and null, whose text cannot hold `"key":` unescaped: the last occurrence is the top-level one.
    """
    if tags is None:
        return False
    at = data.rfind(tags[0])
    end = at + len(tags[1])
    return at >= 0 and data.startswith(tags[1], at) and data[end : end + 1] in (b",", b"}")


def _as_bytes(value: object) -> bytes:
    """A stored BLOB, or what an edit of the file put there instead (text, a number, NULL)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return b"" if value is None else str(value).encode("ascii")


def check_base(
    tx: WriteTxn, origin: str, trusted: Mapping[str, x509.Certificate], verified: int = 0
) -> int:
    """Check the ledger as the module docstring says, and return its size.

    `verified`: the events before this position were checked so by this examiner before (the
    checkpoint its home remembers, whose root the stored tree was just shown to give:
    `chain.checkpoint_memory`); only the events after it are re-hashed, and the tree below it is
    taken from the stored nodes, so an append costs O(new events + log n). An older event edited or
    deleted in place since is found by the next full check (`custody verify`, `report build`),
    after which this examiner's appends check every event again. 0 checks every event.

    An empty ledger (no event, no checkpoint) passes: that is the one `case init` starts.

    Raises:
        LedgerDoesNotVerify: anything does not hold (the message names the first problem).
    """
    cp = tx.latest_checkpoint()
    sha = hashlib.sha256
    leaves: list[bytes] = []
    first_changed: int | None = None
    items: dict[object, tuple[bytes, bytes] | None] = {}
    kinds: dict[object, tuple[bytes, bytes] | None] = {}
    for seq, item, kind, data, stored_leaf in tx.scan(verified):
        if seq != verified + len(leaves):
            raise _fail(f"event {verified + len(leaves)} is missing (deleted)")
        if type(data) is not bytes:
            data = _as_bytes(data)
        h = sha(b"\x00")
        h.update(data)
        leaf = h.digest()
        leaves.append(leaf)
        if leaf != stored_leaf and first_changed is None:
            first_changed = seq
        if not (
            _names(data, _tags(items, b"item", item)) and _names(data, _tags(kinds, b"kind", kind))
        ):
            raise _fail(f"event {seq}: its item or kind column differs from its signed bytes")
    size = verified + len(leaves)
    if cp is None:
        if size:
            raise _fail(f"the ledger holds {size} events but no signed checkpoint")
        return 0
    try:
        signed = verify_checkpoint(cp.note, dict(trusted)).checkpoint
    except IntegrityError as exc:
        raise _fail(f"its latest checkpoint does not verify: {exc.message}") from exc
    if signed.origin != origin:
        raise _fail(f"its latest checkpoint is for ledger {signed.origin!r}, not {origin!r}")
    if signed.size != size:
        raise _fail(
            f"its latest signed checkpoint covers {signed.size} events but the ledger holds "
            f"{size}"
            + (": events were removed" if size < signed.size else ": events were added outside")
        )
    if first_changed is not None:
        raise _fail(f"event {first_changed}: its bytes no longer hash to its stored leaf (edited)")
    fresh = _root(leaves) if not verified else merkle.root(_over(tx, verified, leaves), size)
    if fresh != signed.root:
        raise _fail("the events do not hash to the root of the latest signed checkpoint (edited)")
    try:
        stored_root = merkle.root(tx.node, size)
    except IntegrityError as exc:
        raise _fail(exc.message) from exc
    if stored_root != signed.root:
        raise _fail("its stored Merkle tree does not give the root of the latest checkpoint")
    return size


def _over(tx: WriteTxn, verified: int, leaves: list[bytes]) -> merkle.NodeSource:
    """Nodes of the tree whose first `verified` leaves are the stored tree's and whose others
    are `leaves` (hashed again from the events' bytes)."""
    cache: dict[tuple[int, int], bytes] = {}

    def node(level: int, index: int) -> bytes:
        if (index + 1) << level <= verified:
            return tx.node(level, index)
        if level == 0:
            return leaves[index - verified]
        key = (level, index)
        found = cache.get(key)
        if found is None:
            found = merkle.node_hash(node(level - 1, 2 * index), node(level - 1, 2 * index + 1))
            cache[key] = found
        return found

    return node


def _root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH of `leaves`, with a stack of complete subtrees (no tree kept in memory)."""
    sha = hashlib.sha256
    stack: list[bytes] = []
    for i, leaf in enumerate(leaves):
        h, n = leaf, i
        while n & 1:
            h = sha(b"\x01" + stack.pop() + h).digest()
            n >>= 1
        stack.append(h)
    if not stack:
        return sha(b"").digest()
    out = stack.pop()
    while stack:
        out = sha(b"\x01" + stack.pop() + out).digest()
    return out
