"""Storage of the transparency log: entries, hash tiles, the head, checkpoints and cosignatures.

Leaf hashes live only in level-0 tiles (C2SP tlog-tiles, 256 hashes of 32 bytes per tile) and each
higher level stores the roots of the tiles below, so a proof at any size reads a few dozen tiles
and never rehashes the log. A partial tile is one row rewritten in place until it is full.
"""

from __future__ import annotations

from django.db import models


class PendingEntry(models.Model):
    """An entry waiting for the sequencer: producers only insert here, so the payment path never
    waits for hashing, tiles or signing, and the row commits (or not) with the caller's work."""

    kind = models.CharField(max_length=40)
    ref = models.CharField(max_length=80, blank=True)
    body = models.TextField()  # canonical JSON, exactly the bytes that will be hashed
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"pending {self.kind} #{self.pk}"


class LogEntry(models.Model):
    """One sequenced entry. `index` is the leaf position; `body` is the canonical JSON."""

    index = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=40)
    ref = models.CharField(max_length=80, blank=True, db_index=True)
    body = models.TextField()
    sequenced_at = models.DateTimeField()

    class Meta:
        ordering = ["index"]

    def __str__(self) -> str:
        return f"{self.index} {self.kind}"


class Tile(models.Model):
    """C2SP tile `level`/`index`: up to 256 hashes of tree level 8*level, concatenated."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="ledger_tile_key")]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index} ({len(self.hashes) // 32})"


class LogHead(models.Model):
    """The single row the sequencer locks: one writer extends the tree at a time."""

    size = models.BigIntegerField(default=0)
    root = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"head {self.size}"


class Checkpoint(models.Model):
    """A signed C2SP checkpoint as published; `note` gains witness cosignatures over time."""

    size = models.BigIntegerField(db_index=True)
    root = models.BinaryField()
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size", "-id"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class WitnessCosignature(models.Model):
    """A second party's (auditor, NGO) cosignature on one checkpoint."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosigs")
    witness = models.CharField(max_length=120)
    key_id = models.CharField(max_length=8)
    line = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="ledger_cosig_once")
        ]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint_id}"
