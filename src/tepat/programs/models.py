"""Programmes (PKH, Sembako/BPNT, BLT) as data, their cycles (tahap) and frozen entitlements."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tepat.core.ids import new_public_id


class ProgrammeKind(models.TextChoices):
    PKH = "pkh", _("PKH (Program Keluarga Harapan)")
    SEMBAKO = "sembako", _("Sembako/BPNT")
    BLT = "blt", _("BLT (Bantuan Langsung Tunai)")


class Programme(models.Model):
    """A programme version: amounts and caps live in `params`, valid between two dates.

    A new year's amounts are a new row (same `kind`, later `effective_from`), never an edit of a
    row that cycles were computed with.
    """

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    code = models.CharField(max_length=32, unique=True)  # e.g. PKH-2026
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=16, choices=ProgrammeKind.choices)
    # An eligibility rule in tepat.targeting.rules syntax, e.g. "desil <= 4".
    eligibility_rule = models.TextField()
    params = models.JSONField(default=dict)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The last change of rule or amounts (every change is also an audit event): a maker.
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind", "-effective_from"]

    def __str__(self) -> str:
        return self.code


class CycleState(models.TextChoices):
    DRAFT = "draft", _("Draf")
    TO_APPROVE = "to_approve", _("Menunggu persetujuan")
    APPROVED = "approved", _("Disetujui")
    DISTRIBUTED = "distributed", _("Tersalurkan")
    ENDED = "ended", _("Selesai")
    CANCELLED = "cancelled", _("Dibatalkan")


class Cycle(models.Model):
    """One tahap of a programme: an envelope with control totals and a frozen entitlement list."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="cycles")
    code = models.CharField(max_length=32)  # e.g. 2026-T1
    # The region the cycle pays: an undotted Kemendagri code prefix (province, regency, district
    # or village); empty = national. Entitlements are computed only for households inside it,
    # and only staff whose scopes contain it may act on the cycle (tepat.accounts.scoping).
    region_code = models.CharField(max_length=10, blank=True, default="", db_index=True)
    instalment = models.PositiveSmallIntegerField(default=1)  # tahap number within the period
    state = models.CharField(
        max_length=16, choices=CycleState.choices, default=CycleState.DRAFT, db_index=True
    )
    period_start = models.DateField()
    period_end = models.DateField()
    # Control totals: the envelope. A computed batch above either is refused whole.
    control_count = models.PositiveIntegerField()
    control_amount = models.BigIntegerField()
    # What was computed and frozen.
    entitled_count = models.PositiveIntegerField(default=0)
    entitled_amount = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    snapshot_on = models.DateField(null=True, blank=True)  # the "as of" date of ages
    frozen_params = models.JSONField(default=dict, blank=True)
    frozen_rule = models.TextField(blank=True)
    list_digest = models.CharField(max_length=64, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # who set the control totals: a maker
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["programme_id", "period_start", "instalment"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"], name="one_cycle_code_per_programme"
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme.code}/{self.code}"


class CycleEvent(models.Model):
    """Every transition, cancellation and amendment of a cycle, with who and why."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_state}->{self.to_state}"


class EntitlementState(models.TextChoices):
    DRAFT = "draft", _("Draf")
    PENDING_VALIDATION = "pending_validation", _("Menunggu validasi")
    APPROVED = "approved", _("Disetujui")
    SENT = "sent", _("Dikirim ke penyalur")
    PAID = "paid", _("Dibayar")
    REJECTED = "rejected", _("Ditolak")
    CANCELLED = "cancelled", _("Dibatalkan")
    EXPIRED = "expired", _("Kedaluwarsa")


class Entitlement(models.Model):
    """What one household is owed in one cycle, with the inputs it was computed from.

    `inputs` is the data snapshot (component counts, desil) frozen at computation: recomputing
    from it with the cycle's frozen params reproduces `amount` and the cycle's `list_digest`.
    """

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="entitlements")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="entitlements"
    )
    household_ref = models.CharField(max_length=16)  # household public id, frozen
    beneficiary_ref = models.CharField(max_length=16)  # the recipient's person public id
    village_code = models.CharField(max_length=10, db_index=True)
    amount = models.BigIntegerField()
    inputs = models.JSONField(default=dict)
    state = models.CharField(
        max_length=20, choices=EntitlementState.choices, default=EntitlementState.DRAFT
    )
    reason = models.TextField(blank=True)  # why cancelled / amended

    class Meta:
        ordering = ["cycle_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "household"], name="one_entitlement_per_cycle")
        ]
        indexes = [models.Index(fields=["cycle", "state"])]

    def __str__(self) -> str:
        return f"Entitlement {self.public_id}"
