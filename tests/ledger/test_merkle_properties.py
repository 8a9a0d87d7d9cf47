"""Inclusion and consistency proofs against a naive recomputation of RFC 9162 MTH/PATH/PROOF."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.ledger import merkle


def _mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return merkle.node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [_mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=sizes)
def test_inclusion_proofs_match_the_rfc_definition_and_verify(data, n):
    leaves = _leaves(n)
    tree = merkle.MemoryTree(leaves)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = merkle.inclusion_proof(m, n, tree.node)
    assert tree.root() == _mth(leaves)
    assert proof == _path(m, leaves)
    merkle.verify_inclusion(m, n, leaves[m], proof, _mth(leaves))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=sizes)
def test_consistency_proofs_match_the_rfc_definition_and_verify(data, n):
    leaves = _leaves(n)
    tree = merkle.MemoryTree(leaves)
    m = data.draw(st.integers(min_value=1, max_value=n))
    proof = merkle.consistency_proof(m, n, tree.node)
    assert proof == _subproof(m, leaves, True)
    merkle.verify_consistency(m, n, _mth(leaves[:m]), _mth(leaves), proof)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n=st.integers(min_value=2, max_value=200))
def test_a_proof_for_another_leaf_or_root_never_verifies(data, n):
    leaves = _leaves(n)
    tree = merkle.MemoryTree(leaves)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    other = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda x: x != m))
    proof = merkle.inclusion_proof(m, n, tree.node)
    for args in [(m, n, leaves[other], proof, tree.root()), (m, n, leaves[m], proof, leaves[0])]:
        try:
            merkle.verify_inclusion(*args)
        except merkle.ProofError:
            continue
        raise AssertionError("a wrong proof verified")


@settings(max_examples=100, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=500), length=st.integers(min_value=1, max_value=500)
)
def test_subtree_decomposition_covers_the_range_with_aligned_complete_subtrees(start, length):
    k = 1 << (length.bit_length() - 1)
    start = (start // k) * k  # ranges from the RFC recursion start on such a boundary
    parts = merkle.complete_subtrees(start, start + length)
    at = start
    for level, index in parts:
        assert index << level == at
        at += 1 << level
    assert at == start + length
