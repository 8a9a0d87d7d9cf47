"""Public JSON API of the transparency log: checkpoint, proofs, receipts, witness cosignatures.

Everything here is public by design (auth=None): the log holds no personal data in clear.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.params import functions as param

from tepat.core.errors import NotFound, TepatError
from tepat.core.paging import MAX_INT64
from tepat.ledger import selectors, services

router = Router(tags=["ledger"])


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in items]


class NoSuchProof(TepatError):
    http_status = 404


@contextmanager
def _no_such_proof() -> Iterator[None]:
    """A size the log never had, or an entry outside the tree: no such proof exists, as a record
    that does not exist (404), with the reason's code (`bad_size`, `bad_index`). The schema
    cannot say "below tree_size" or "a size the log has reached", so these are not 400s."""
    try:
        yield
    except TepatError as exc:
        if exc.code not in {"bad_size", "bad_index"}:
            raise
        raise NoSuchProof(
            f"Bukti tidak ada / no such proof: {exc.message}", code=exc.code
        ) from None


class CheckpointOut(Schema):
    size: int
    root: str
    note: str


class InclusionQuery(Schema):
    """An entry and a tree that holds it: `index` below `tree_size`, and `tree_size` a size the
    log has reached (otherwise there is no such proof: 404)."""

    index: int = Field(ge=0, le=MAX_INT64)
    tree_size: int = Field(ge=1, le=MAX_INT64)


class InclusionOut(Schema):
    index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyQuery(Schema):
    """Two sizes of the log, `first` not above `second` (otherwise no such proof: 404)."""

    first: int = Field(ge=1, le=MAX_INT64)
    second: int = Field(ge=1, le=MAX_INT64)


class ConsistencyOut(Schema):
    first: int
    second: int
    proof: list[str]


class ReceiptOut(Schema):
    format: str
    index: int
    kind: str
    entry: str
    tree_size: int
    proof: list[str]
    checkpoint: str
    log_keys: list[str]


class CosignIn(Schema):
    note: str


@router.get("/checkpoint", response=CheckpointOut, auth=None)
def checkpoint(request: HttpRequest) -> dict[str, Any]:
    latest = selectors.latest_checkpoint()
    if latest is None:
        raise NotFound("Belum ada checkpoint / no checkpoint yet")
    return {
        "size": latest.size,
        "root": base64.b64encode(bytes(latest.root)).decode(),
        "note": latest.note,
    }


@router.get("/proofs/inclusion", response=InclusionOut, auth=None)
def inclusion(request: HttpRequest, q: Query[InclusionQuery]) -> dict[str, Any]:
    with _no_such_proof():
        proof = selectors.inclusion_proof(index=q.index, size=q.tree_size)
    leaf = selectors.StoredTree().node(0, q.index)
    return {
        "index": q.index,
        "tree_size": q.tree_size,
        "leaf_hash": base64.b64encode(leaf).decode(),
        "proof": _b64(proof),
    }


@router.get("/proofs/consistency", response=ConsistencyOut, auth=None)
def consistency(request: HttpRequest, q: Query[ConsistencyQuery]) -> dict[str, Any]:
    with _no_such_proof():
        proof = selectors.consistency_proof(first=q.first, second=q.second)
    return {"first": q.first, "second": q.second, "proof": _b64(proof)}


class ReceiptQuery(Schema):
    ref: str


@router.get("/receipts", response=list[ReceiptOut], auth=None)
def receipts_by_ref(request: HttpRequest, q: Query[ReceiptQuery]) -> list[dict[str, Any]]:
    """Receipts for every logged event of one payment (its random public id)."""
    found = selectors.receipts_for_ref(ref=q.ref)
    if not found:
        raise NotFound("Tidak ada tanda terima / no receipt for that reference")
    return found


@router.get("/receipts/{index}", response=ReceiptOut, auth=None)
def receipt(
    request: HttpRequest, index: int = param.Path(..., ge=0, le=MAX_INT64)
) -> dict[str, Any]:
    return selectors.receipt(index=index)


@router.post("/witness", response=CheckpointOut, auth=None)
def witness(request: HttpRequest, payload: CosignIn) -> dict[str, Any]:
    """A registered witness posts a checkpoint it cosigned; unknown keys are ignored."""
    cp = services.witness_cosignature_add(note=payload.note)
    return {"size": cp.size, "root": base64.b64encode(bytes(cp.root)).decode(), "note": cp.note}
