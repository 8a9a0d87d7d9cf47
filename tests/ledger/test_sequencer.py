"""The background sequencer drains the queue in batches and keeps tiles equal to the tree."""

from __future__ import annotations

import pytest

from tepat.core.errors import ValidationFailed
from tepat.ledger import merkle, selectors
from tepat.ledger.models import Checkpoint, LogEntry, PendingEntry, Tile
from tepat.ledger.services import ledger_enqueue, ledger_sequence


def _memory_tree() -> merkle.MemoryTree:
    bodies = LogEntry.objects.order_by("index").values_list("body", flat=True)
    return merkle.MemoryTree([merkle.leaf_hash(b.encode()) for b in bodies])


def test_enqueue_only_queues_and_sequencing_assigns_indexes_in_order(db, log_signer, make_payment):
    for i in range(3):
        ledger_enqueue(kind="payment.sent", body=make_payment(i), ref=f"pay-{i}")
    assert LogEntry.objects.count() == 0
    result = ledger_sequence(max_batch=10)
    assert (result.count, result.size) == (3, 3)
    assert list(LogEntry.objects.values_list("index", "ref")) == [
        (0, "pay-0"),
        (1, "pay-1"),
        (2, "pay-2"),
    ]
    assert PendingEntry.objects.count() == 0


def test_sequencing_an_empty_queue_does_nothing(db, log_signer):
    result = ledger_sequence(max_batch=10)
    assert (result.count, result.size, result.checkpoint) == (0, 0, None)
    assert Checkpoint.objects.count() == 0


@pytest.mark.parametrize("batch", [1, 7, 256, 1000])
def test_batches_of_any_size_give_the_same_root_as_a_naive_tree(logged, batch):
    size = logged(700, batch=batch)
    assert size == 700
    tree = _memory_tree()
    assert selectors.root_at(700) == tree.root()
    for cp in Checkpoint.objects.all():
        assert bytes(cp.root) == tree.root(cp.size)


def test_each_batch_publishes_one_checkpoint(logged):
    logged(25, batch=10)
    assert list(Checkpoint.objects.order_by("size").values_list("size", flat=True)) == [10, 20, 25]


def test_tiles_hold_every_leaf_and_the_roots_of_full_tiles(logged):
    logged(600, batch=100)
    tree = _memory_tree()
    level0 = {t.index: bytes(t.hashes) for t in Tile.objects.filter(level=0)}
    assert sorted(level0) == [0, 1, 2]
    assert [len(level0[i]) // 32 for i in range(3)] == [256, 256, 88]
    assert b"".join(level0[i] for i in range(3)) == b"".join(tree.levels[0])
    level1 = Tile.objects.get(level=1, index=0)
    assert bytes(level1.hashes) == tree.node(8, 0) + tree.node(8, 1)


def test_a_bad_entry_is_refused_before_it_is_queued(db, log_signer):
    with pytest.raises(ValidationFailed) as err:
        ledger_enqueue(kind="payment.sent", body={"programme": "PKH", "amount": -1})
    assert err.value.code == "validation_failed"
    with pytest.raises(ValidationFailed):
        ledger_enqueue(kind="payment.teleported", body={})
    assert PendingEntry.objects.count() == 0


def test_an_entry_time_without_a_timezone_is_refused(db, log_signer, make_payment):
    body = make_payment(1).model_dump()
    body["time"] = "2026-11-28T08:00:00"
    with pytest.raises(ValidationFailed) as err:
        ledger_enqueue(kind="payment.sent", body=body)
    assert err.value.field == "time"


def test_every_kind_of_event_has_a_versioned_schema():
    from tepat.ledger.entries import SCHEMAS

    assert set(SCHEMAS) == {
        "cycle.approved",
        "entitlements.published",
        "payment.sent",
        "payment.settled",
        "payment.failed",
        "handover.recorded",
        "cycle.closed",
        "cycle.cancelled",
        "payments.issued",
    }
    for versions in SCHEMAS.values():
        assert 1 in versions  # old entries keep parsing
        for v, schema in versions.items():
            assert schema.model_fields["v"].default == v
