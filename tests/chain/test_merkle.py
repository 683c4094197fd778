"""RFC 9162 Merkle code against transparency-dev/merkle's vectors, and our proof generation
against our verification."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from evidencekit.chain import merkle
from evidencekit.errors import IntegrityError

# vendored from transparency-dev/merkle (tests/data/README.md)
VECTORS = Path(__file__).resolve().parent.parent / "data" / "merkle"


def _files(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _proof(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


def _need_vectors() -> None:

    if not VECTORS.is_dir():
        pytest.fail(f"Merkle vectors missing at {VECTORS}")


def test_vectors_present() -> None:
    _need_vectors()
    assert len(_files("inclusion")) > 50
    assert len(_files("consistency")) > 50


@pytest.mark.parametrize("path", _files("inclusion"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_inclusion_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), _proof(v["proof"]), _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(IntegrityError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", _files("consistency"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_consistency_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (v["size1"], v["size2"], _proof(v["proof"]), _b64(v["root1"]), _b64(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(IntegrityError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def _reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH written straight from its definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return merkle.leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(_reference_mth(leaves[:k]), _reference_mth(leaves[k:]))


def test_known_roots() -> None:
    # RFC 6962 reference tree of 8 leaves (transparency-dev testonly): root of all 8.
    leaves = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    tree = merkle.MemoryTree([merkle.leaf_hash(x) for x in leaves])
    assert tree.root().hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert tree.root(0) == hashlib.sha256(b"").digest()


def test_generation_round_trip() -> None:
    data = [f"event {i}".encode() for i in range(70)]
    tree = merkle.MemoryTree()
    for d in data:
        tree.append(merkle.leaf_hash(d))
    built = merkle.MemoryTree([merkle.leaf_hash(d) for d in data])
    assert tree.levels == built.levels
    for n in range(1, 71):
        assert tree.root(n) == _reference_mth(data[:n])
        for i in range(0, n, 7):
            proof = tree.inclusion_proof(i, n)
            merkle.verify_inclusion(i, n, merkle.leaf_hash(data[i]), proof, tree.root(n))
            with pytest.raises(IntegrityError):
                merkle.verify_inclusion(i, n, merkle.leaf_hash(data[i] + b"x"), proof, tree.root(n))
        for m in range(1, n + 1, 5):
            proof = tree.consistency_proof(m, n)
            merkle.verify_consistency(m, n, proof, tree.root(m), tree.root(n))
            if m < n:
                with pytest.raises(IntegrityError):
                    merkle.verify_consistency(m, n, proof, tree.root(m), tree.root(n - 1))


def _rfc9162_fold(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2 written as docs/custody.md tells a defence expert to do it."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = merkle.node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = merkle.node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def test_documented_by_hand_algorithm() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(37)]
    tree = merkle.MemoryTree(leaves)
    for n in range(1, 38):
        for i in range(n):
            path = tree.inclusion_proof(i, n)
            assert _rfc9162_fold(i, n, leaves[i], path) == tree.root(n)
