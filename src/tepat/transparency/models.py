"""Public aggregate snapshots (refreshed by `tepat transparency refresh`) and open-data releases.

The dashboard never aggregates live tables: a refresh computes every cell once, with its
suppression flags, so that a page, the API and an export all publish exactly the same numbers.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tepat.core.ids import new_public_id


class AggregateCell(models.Model):
    """One region (or the nation, code "") in one cycle. Hidden values are stored, never shown."""

    cycle = models.ForeignKey("programs.Cycle", on_delete=models.CASCADE, related_name="+")
    programme_code = models.CharField(max_length=32)
    cycle_code = models.CharField(max_length=32)
    region_code = models.CharField(max_length=10, blank=True)  # "" is the nation
    level = models.CharField(max_length=10)  # national | province | regency | district | village
    recipients = models.PositiveIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    paid = models.PositiveIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    recipients_hidden = models.BooleanField(default=False)
    paid_hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["cycle_id", "region_code"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "region_code"], name="one_cell_per_region")
        ]
        indexes = [models.Index(fields=["region_code"], name="aggregate_region")]

    def __str__(self) -> str:
        return f"{self.programme_code}/{self.cycle_code} {self.region_code or 'nasional'}"


class RefreshRun(models.Model):
    """One refresh of the aggregate cells: when, how long, how many, under which threshold."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    cells = models.PositiveIntegerField()
    hidden = models.PositiveIntegerField()
    threshold = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-finished_at", "-id"]

    def __str__(self) -> str:
        return f"refresh {self.finished_at:%Y-%m-%d %H:%M}"


class OpenDataRelease(models.Model):
    """One daily export: Frictionless data packages written to `directory`."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    release_date = models.DateField(_("tanggal rilis"))
    created_at = models.DateTimeField(auto_now_add=True)
    directory = models.CharField(max_length=500)
    threshold = models.PositiveSmallIntegerField()
    # [{"name": ..., "title": ..., "files": [{"path", "bytes", "sha256", "rows"}]}]
    packages = models.JSONField(default=list)

    class Meta:
        ordering = ["-release_date", "-id"]

    def __str__(self) -> str:
        return f"open data {self.release_date}"
