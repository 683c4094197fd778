"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

Leaves hash as `SHA-256(0x00 || data)` and interior nodes as `SHA-256(0x01 || left || right)`
(RFC 9162 §2.1.1), so a leaf can never be passed off as a node. Proof *generation* follows the
RFC's recursive definitions (PATH and SUBPROOF) over a `NodeSource` that returns the hash of any
complete, aligned subtree; proof *verification* is the iterative algorithm of RFC 9162 §2.1.3.2
and §2.1.4.2 in the form used by transparency-dev/merkle, whose test vectors it must agree with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from evidencekit.errors import IntegrityError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeSource = Callable[[int, int], bytes]
"""`node(level, index)`: hash of the complete subtree covering leaves
`[index * 2**level, (index + 1) * 2**level)`; level 0 are the leaf hashes."""


def leaf_hash(data: bytes) -> bytes:
    """`SHA-256(0x00 || data)`."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """`SHA-256(0x01 || left || right)`."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than `n` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(node: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) built from complete subtrees given by `node`."""
    n = end - start
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return node(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(subtree_hash(node, start, start + k), subtree_hash(node, start + k, end))


def root(node: NodeSource, size: int) -> bytes:
    """The tree head (MTH) of the first `size` leaves."""
    return subtree_hash(node, 0, size)


def inclusion_proof(node: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf to root.

    Raises:
        ValueError: `index` is not inside the tree.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    out: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            out.append(subtree_hash(node, start + k, end))
            end = start + k
        else:
            out.append(subtree_hash(node, start, start + k))
            start = start + k
    out.reverse()
    return out


def consistency_proof(node: NodeSource, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]) of RFC 9162 §2.1.4.1.

    Raises:
        ValueError: the sizes are not 0 < size1 <= size2.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    out: list[bytes] = []

    def sub(m: int, start: int, end: int, complete: bool) -> None:
        n = end - start
        if m == n:
            if not complete:
                out.append(subtree_hash(node, start, end))
            return
        k = _split(n)
        if m <= k:
            sub(m, start, start + k, complete)
            out.append(subtree_hash(node, start + k, end))
        else:
            sub(m - k, start + k, end, False)
            out.append(subtree_hash(node, start, start + k))

    if size1 < size2:
        sub(size1, 0, size2, True)
    return out


# -- verification (RFC 9162 §2.1.3.2, §2.1.4.2) -------------------------------------------------


def _decomp(index: int, size: int) -> tuple[int, int]:
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        seed = node_hash(seed, h) if (index >> i) & 1 == 0 else node_hash(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        if (index >> i) & 1 == 1:
            seed = node_hash(h, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for h in proof:
        seed = node_hash(h, seed)
    return seed


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof.

    Raises:
        IntegrityError: the proof has the wrong shape for `index` and `size`.
    """
    if not 0 <= index < size:
        raise IntegrityError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise IntegrityError(f"leaf hash has {len(leaf)} bytes, expected {HASH_SIZE}")
    inner, border = _decomp(index, size)
    if len(proof) != inner + border:
        raise IntegrityError(
            f"inclusion proof has {len(proof)} hashes, expected {inner + border} "
            f"for leaf {index} in a tree of size {size}"
        )
    res = _chain_inner(leaf, proof[:inner], index)
    return _chain_border_right(res, proof[inner:])


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Check that `leaf` is leaf `index` of the tree of `size` leaves with `expected_root`.

    Raises:
        IntegrityError: it is not.
    """
    got = root_from_inclusion_proof(index, size, leaf, proof)
    if got != expected_root:
        raise IntegrityError(
            f"inclusion proof for leaf {index} gives root {got.hex()}, "
            f"the checkpoint says {expected_root.hex()}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree (size2, root2) extends the tree (size1, root1).

    Raises:
        IntegrityError: it does not, or the proof is malformed.
    """
    if size2 < size1:
        raise IntegrityError(f"tree size went down from {size1} to {size2}")
    if size1 == 0:
        # Every tree extends the empty tree, so such a "proof" proves nothing; refusing it
        # keeps a forged empty checkpoint from passing as history (and matches the vectors).
        raise IntegrityError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise IntegrityError("equal tree sizes need an empty consistency proof")
        if root1 != root2:
            raise IntegrityError(
                f"two different roots for tree size {size1}: {root1.hex()} and {root2.hex()}"
            )
        return
    if not proof:
        raise IntegrityError("empty consistency proof")
    inner, border = _decomp(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift
    seed, start = proof[0], 1
    if size1 == 1 << shift:
        seed, start = root1, 0
    if len(proof) != start + inner + border:
        raise IntegrityError(
            f"consistency proof has {len(proof)} hashes, expected {start + inner + border}"
        )
    rest = proof[start:]
    mask = (size1 - 1) >> shift
    hash1 = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    if hash1 != root1:
        raise IntegrityError(
            f"consistency proof does not reproduce the old root of size {size1} "
            f"({hash1.hex()} != {root1.hex()})"
        )
    hash2 = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    if hash2 != root2:
        raise IntegrityError(
            f"consistency proof does not reproduce the new root of size {size2} "
            f"({hash2.hex()} != {root2.hex()})"
        )


class MemoryTree:
    """All levels of a tree in memory: built once from leaf hashes, then O(log n) proofs."""

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[j], below[j + 1]) for j in range(0, len(below) - 1, 2)]
            )

    def append(self, leaf: bytes) -> None:
        """Add one leaf, completing the subtrees it closes."""
        self.levels[0].append(leaf)
        level = 0
        while len(self.levels[level]) % 2 == 0:
            below = self.levels[level]
            if level + 1 == len(self.levels):
                self.levels.append([])
            self.levels[level + 1].append(node_hash(below[-2], below[-1]))
            level += 1

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def node(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        return root(self.node, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self.node, index, self.size if size is None else size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(self.node, size1, self.size if size2 is None else size2)
