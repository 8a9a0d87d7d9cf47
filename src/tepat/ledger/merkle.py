"""RFC 9162 section 2.1 Merkle tree hashing, inclusion and consistency proofs (pure functions).

This is the one cryptographic structure Tepat writes itself, so it stays small and is tested
against the transparency-dev vectors (tests/ledger/test_vectors.py).

Proofs are generated from a `NodeSource`: a function giving the hash of a *complete, aligned*
subtree (`level`, `index`) covering leaves ``[index << level, (index + 1) << level)``. Every range
the RFC's recursion touches is a run of such subtrees, so the same code serves an in-memory leaf
list (tests) and the stored tiles (a 10M-entry log needs a few dozen tile reads per proof).
Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2; the subtree variants follow
draft-ietf-plants-merkle-tree-certs (appendix "subtree consistency").
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeSource = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof that does not verify, or arguments that can never verify."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def complete_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose [start, end) into aligned complete subtrees (level, index), left to right.

    Valid for every range reached by the RFC recursion: `start` is a multiple of the largest power
    of two not above ``end - start``.
    """
    out: list[tuple[int, int]] = []
    while start < end:
        size = end - start
        level = size.bit_length() - 1
        # The chunk must also be aligned on its own size.
        while start & ((1 << level) - 1):
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def range_hash(start: int, end: int, node: NodeSource) -> bytes:
    """MTH(D[start:end]) for a range produced by the RFC recursion."""
    if start >= end:
        return EMPTY_ROOT
    parts = complete_subtrees(start, end)
    acc = node(*parts[-1])
    for level, index in reversed(parts[:-1]):
        acc = node_hash(node(level, index), acc)
    return acc


def root_hash(size: int, node: NodeSource) -> bytes:
    return range_hash(0, size, node)


def path_ranges(m: int, start: int, end: int) -> list[tuple[int, int]]:
    """RFC 9162 PATH(m, D[start:end]) as ranges whose hashes form the audit path."""
    n = end - start
    if n <= 1:
        return []
    k = _split(n)
    if m < k:
        return [*path_ranges(m, start, start + k), (start + k, end)]
    return [*path_ranges(m - k, start + k, end), (start, start + k)]


def subproof_ranges(m: int, start: int, end: int, whole: bool) -> list[tuple[int, int]]:
    """RFC 9162 SUBPROOF(m, D[start:end], b)."""
    n = end - start
    if m == n:
        return [] if whole else [(start, end)]
    k = _split(n)
    if m <= k:
        return [*subproof_ranges(m, start, start + k, whole), (start + k, end)]
    return [*subproof_ranges(m - k, start + k, end, False), (start, start + k)]


def inclusion_proof(index: int, size: int, node: NodeSource) -> list[bytes]:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    return [range_hash(a, b, node) for a, b in path_ranges(index, 0, size)]


def consistency_proof(size1: int, size2: int, node: NodeSource) -> list[bytes]:
    if not 0 <= size1 <= size2:
        raise ProofError(f"cannot prove size {size1} consistent with size {size2}")
    if size1 == 0 or size1 == size2:
        return []
    return [range_hash(a, b, node) for a, b in subproof_ranges(size1, 0, size2, True)]


def _check_hashes(proof: Sequence[bytes]) -> None:
    for h in proof:
        if len(h) != HASH_SIZE:
            raise ProofError("proof holds a hash of the wrong length")


def _equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: the root a proof implies, or ProofError."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError("leaf hash has the wrong length")
    _check_hashes(proof)
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if not _equal(root_from_inclusion_proof(index, size, leaf, proof), root):
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2; raises ProofError unless the proof holds."""
    _check_hashes(proof)
    if size1 < 0 or size2 < size1:
        raise ProofError(f"size {size1} cannot precede size {size2}")
    if size1 == size2 and size1 > 0:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if not _equal(root1, root2):
            raise ProofError("equal sizes with different roots")
        return
    if size1 == 0:
        # Everything extends the empty tree, so such a "proof" proves nothing; the reference
        # verifier refuses it and so do we (a witness starts from its first signed checkpoint).
        raise ProofError("a consistency proof needs a non-empty first tree")
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: root1 is itself a node of the new tree
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if not _equal(fr, root1):
        raise ProofError("consistency proof does not lead to the first root")
    if not _equal(sr, root2):
        raise ProofError("consistency proof does not lead to the second root")


def is_valid_subtree(start: int, end: int) -> bool:
    if not 0 <= start < end:
        return False
    width = 1 << (end - start - 1).bit_length()  # BIT_CEIL(end - start)
    return start % width == 0


def root_from_subtree_consistency(
    start: int, end: int, size: int, subtree: bytes, proof: Sequence[bytes]
) -> bytes:
    """The tree root a subtree consistency proof implies (Merkle Tree Certificates draft)."""
    if not is_valid_subtree(start, end) or size < end:
        raise ProofError(f"[{start}, {end}) is not a valid subtree of a tree of size {size}")
    _check_hashes(proof)
    rest = list(proof)
    fn, sn, tn = start, end - 1, size - 1
    if sn == tn:
        while fn != sn:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    else:
        while fn != sn and sn & 1:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    if fn == sn:
        fr = sr = subtree
    else:
        if not rest:
            raise ProofError("subtree consistency proof is empty")
        fr = sr = rest.pop(0)
    for p in rest:
        if tn == 0:
            raise ProofError("subtree consistency proof is too long")
        if sn & 1 or sn == tn:
            if fn < sn:
                fr = node_hash(p, fr)
            sr = node_hash(p, sr)
            while not sn & 1:
                fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
        else:
            sr = node_hash(sr, p)
        fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    if tn != 0:
        raise ProofError("subtree consistency proof is too short")
    if not _equal(fr, subtree):
        raise ProofError("subtree consistency proof does not lead to the subtree hash")
    return sr


def verify_subtree_consistency(
    start: int, end: int, size: int, subtree: bytes, root: bytes, proof: Sequence[bytes]
) -> None:
    if start == end and 0 <= end <= size:
        # The empty subtree is part of every tree; its hash is the empty hash and needs no proof.
        if proof or not _equal(subtree, EMPTY_ROOT):
            raise ProofError("the empty subtree has the empty hash and an empty proof")
        return
    if not _equal(root_from_subtree_consistency(start, end, size, subtree, proof), root):
        raise ProofError("subtree consistency proof does not lead to the root")


def verify_subtree_inclusion(
    index: int, start: int, end: int, leaf: bytes, subtree: bytes, proof: Sequence[bytes]
) -> None:
    """An entry's inclusion in the subtree [start, end) whose hash is `subtree`."""
    if not is_valid_subtree(start, end) or not start <= index < end:
        raise ProofError(f"index {index} is not inside a valid subtree [{start}, {end})")
    if len(leaf) != HASH_SIZE:
        raise ProofError("leaf hash has the wrong length")
    local = index - start
    got = root_from_subtree_consistency(local, local + 1, end - start, leaf, proof)
    if not _equal(got, subtree):
        raise ProofError("subtree inclusion proof does not lead to the subtree hash")


class MemoryTree:
    """A leaf-hash list with every complete subtree hash cached: tests and small trees."""

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in leaves:
            self.append(h)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        level = 0
        while len(self.levels[level]) % 2 == 0:
            row = self.levels[level]
            if level + 1 == len(self.levels):
                self.levels.append([])
            self.levels[level + 1].append(node_hash(row[-2], row[-1]))
            level += 1

    def node(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        return root_hash(self.size if size is None else size, self.node)
