"""Alert rules on operational metrics and the alerts they raise (acknowledged, then resolved)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tepat.core.ids import new_public_id


class Metric(models.TextChoices):
    FAILURE_RATE = "failure_rate", _("Persentase pembayaran gagal")
    UNRECONCILED_RATE = "unreconciled_rate", _("Persentase pembayaran belum direkonsiliasi")
    DIFFERENCES = "differences", _("Selisih rekonsiliasi belum dijelaskan")
    DEAD_LETTERS = "dead_letters", _("Pembayaran gagal berulang (perlu tindakan)")
    GRIEVANCE_OVERDUE = "grievance_overdue", _("Pengaduan melewati tenggat")
    # Raised by core.audit's bulk-read counter (TEPAT_BULK_READ_ALERT_*), not by alerts_check.
    BULK_READS = "bulk_reads", _("Pembacaan data pribadi dalam jumlah besar")
    # Raised by the ledger when its sequencer refuses to sign a rewritten history.
    LEDGER_INTEGRITY = "ledger_integrity", _("Log transparansi menolak menandatangani")


class AlertRule(models.Model):
    """Raise an alert when `metric` of an active cycle, within `region_code`, exceeds `threshold`."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=150)
    metric = models.CharField(max_length=24, choices=Metric.choices)
    threshold = models.FloatField()
    region_code = models.CharField(max_length=10, blank=True)  # "" = the whole nation
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["metric", "region_code", "id"]

    def __str__(self) -> str:
        return self.name


class AlertState(models.TextChoices):
    OPEN = "open", _("Terbuka")
    ACKNOWLEDGED = "acknowledged", _("Diakui")
    RESOLVED = "resolved", _("Selesai")


class Alert(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    cycle = models.ForeignKey(
        "programs.Cycle", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    region_code = models.CharField(max_length=10, blank=True)
    value = models.FloatField()
    state = models.CharField(
        max_length=12, choices=AlertState.choices, default=AlertState.OPEN, db_index=True
    )
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    # Whom the alert is about, when it is about a person rather than a cycle: "user:<pk>" for a
    # bulk read. That person can neither acknowledge nor resolve it.
    subject = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule.name} ({self.state})"
