"""Tamper evidence: changing, deleting or reordering a stored row makes `verify` fail and name
the first bad entry; published checkpoints stay consistent with each other."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tepat.ledger import merkle, selectors, tiles
from tepat.ledger.models import Checkpoint, LogEntry, Tile


def _rewrite(index: int, **changes) -> None:
    entry = LogEntry.objects.get(index=index)
    body = json.loads(entry.body)
    body.update(changes)
    entry.body = json.dumps(body, sort_keys=True, separators=(",", ":"))
    entry.save()


def test_an_untouched_log_verifies(logged):
    logged(600, batch=128)
    report = selectors.log_verify()
    assert report.ok, report.problems
    assert (report.size, report.checked, report.first_bad_index) == (600, 600, None)


def test_changing_a_logged_amount_names_that_entry(logged):
    logged(300, batch=100)
    _rewrite(137, amount=7_500_000)
    report = selectors.log_verify()
    assert not report.ok
    assert report.first_bad_index == 137
    assert "entry 137" in report.problems[0]


def test_deleting_an_entry_names_the_gap(logged):
    logged(300, batch=100)
    LogEntry.objects.filter(index=42).delete()
    report = selectors.log_verify()
    assert report.first_bad_index == 42
    assert "missing" in report.problems[0]


def test_deleting_the_last_entry_is_noticed(logged):
    logged(50)
    LogEntry.objects.filter(index=49).delete()
    assert selectors.log_verify().first_bad_index == 49


def test_reordering_two_entries_names_the_earlier_one(logged):
    logged(300, batch=100)
    a, b = LogEntry.objects.get(index=10), LogEntry.objects.get(index=200)
    a.body, b.body = b.body, a.body
    a.save()
    b.save()
    assert selectors.log_verify().first_bad_index == 10


def test_rewriting_an_entry_and_its_leaf_hash_is_caught_by_the_signed_checkpoints(logged):
    logged(300, batch=100)  # checkpoints at 100, 200, 300
    _rewrite(250, amount=1)
    tile = Tile.objects.get(level=0, index=0 if 250 < 256 else 1)
    hashes = bytearray(bytes(tile.hashes))
    hashes[250 * 32 : 251 * 32] = merkle.leaf_hash(LogEntry.objects.get(index=250).body.encode())
    tile.hashes = bytes(hashes)
    tile.save()
    Tile.objects.filter(level=1).delete()  # tile 0 is full, so its root sat in level 1
    leaves = tiles.split_hashes(bytes(tile.hashes))
    Tile.objects.create(level=1, index=0, hashes=tiles.subtree_root(leaves))
    report = selectors.log_verify()
    assert not report.ok
    assert report.first_bad_index == 200  # the first entry no valid checkpoint vouches for
    assert "checkpoint" in report.problems[0]


def test_a_changed_upper_tile_is_noticed(logged):
    logged(600, batch=300)
    tile = Tile.objects.get(level=1, index=0)
    tile.hashes = b"\0" * 32 + bytes(tile.hashes)[32:]
    tile.save()
    report = selectors.log_verify()
    assert report.first_bad_index == 0
    assert "tile 1/0" in report.problems[0]


def test_a_forged_checkpoint_row_is_noticed(logged):
    logged(20, batch=10)
    cp = Checkpoint.objects.get(size=10)
    cp.note = cp.note.replace("\n10\n", "\n11\n")
    cp.save()
    report = selectors.log_verify()
    assert not report.ok
    # The log key's signature no longer verifies, so the note is refused whole.
    assert any("does not verify" in p for p in report.problems)


def test_the_verify_command_fails_and_names_the_first_bad_entry(logged, capsys):
    logged(40)
    call_command("ledger", "verify")
    assert "OK: 40 entries" in capsys.readouterr().out
    _rewrite(7, region="11.01.01.2001")
    _rewrite(30, amount=0)
    with pytest.raises(CommandError, match="first bad entry: 7"):
        call_command("ledger", "verify")


def test_every_pair_of_published_checkpoints_is_consistent(logged):
    logged(530, batch=53)
    checkpoints = list(Checkpoint.objects.order_by("size"))
    assert len(checkpoints) == 10
    for i, old in enumerate(checkpoints):
        for new in checkpoints[i + 1 :]:
            proof = selectors.consistency_proof(first=old.size, second=new.size)
            merkle.verify_consistency(old.size, new.size, bytes(old.root), bytes(new.root), proof)
