"""Ledger fixtures: a fixed log key, a witness key, and a helper that logs payments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tepat.ledger import merkle, tiles
from tepat.ledger.entries import pseudonymise
from tepat.ledger.models import LogEntry, LogHead, Tile
from tepat.ledger.note import ALG_COSIGNATURE_V1, Signer
from tepat.ledger.services import ledger_enqueue_many, ledger_sequence
from tepat.payments.ledger_kinds import PaymentSent

ORIGIN = "test.tepat/ledger"


@pytest.fixture
def log_signer(settings) -> Signer:
    signer = Signer.generate(ORIGIN)
    settings.LEDGER_ORIGIN = ORIGIN
    settings.LEDGER_SIGNING_KEY = signer.skey()
    return signer


@pytest.fixture
def witness_signer(settings) -> Signer:
    signer = Signer.generate("ngo.example/witness", alg=ALG_COSIGNATURE_V1)
    settings.LEDGER_WITNESS_KEYS = [signer.verifier.vkey()]
    return signer


def payment(i: int) -> PaymentSent:
    return PaymentSent(
        programme="PKH",
        cycle="2026-T4",
        time=datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
        payment=f"pay-{i:06d}",
        beneficiary=pseudonymise(f"3273010101900{i:03d}"),
        amount=750_000,
        region="32.73.01.1001",
        channel="bank",
    )


@pytest.fixture
def make_payment():
    return payment


@pytest.fixture
def logged(db, log_signer):
    """Log `n` payments in batches of `batch` and return the final size."""

    def _log(n: int, batch: int = 5000) -> int:
        ledger_enqueue_many(items=[("payment.sent", payment(i), f"pay-{i:06d}") for i in range(n)])
        size = 0
        while True:
            result = ledger_sequence(max_batch=batch)
            if result.count == 0:
                return size
            size = result.size

    return _log


def recompute_tiles_and_head() -> None:
    """What an insider with write access to the database does after changing entries: rebuild
    every tile and the head from the entries, so that the stored tree agrees with itself."""
    bodies = list(LogEntry.objects.order_by("index").values_list("body", flat=True))
    leaves = [merkle.leaf_hash(b.encode("utf-8")) for b in bodies]
    Tile.objects.all().delete()
    updates = tiles.extend(0, leaves, lambda key: b"")
    Tile.objects.bulk_create(
        [Tile(level=level, index=index, hashes=blob) for (level, index), blob in updates.items()]
    )
    LogHead.objects.filter(pk=1).update(size=len(leaves), root=merkle.MemoryTree(leaves).root())
