"""Complaints (pengaduan) and community reports (usul, sanggah), each with its own history.

A complaint is tracked by a random code the citizen keeps (12 characters); a community report becomes a
verification task for the operator of its village. Neither stores a citizen's NIK in clear: a
sanggah names its subject by blind index and masked name only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tepat.core.ids import new_public_id

TRACKING_CODE_LENGTH = 12


def tracking_code_new(prefix: str = "ADU") -> str:
    """`ADU-XXXX-XXXX-XXXX`: 12 characters of the unambiguous 31-letter alphabet (about 59 random
    bits; lookups that miss are limited too, tepat.grievances.limits). Codes handed out before
    were 8 characters (`ADU-XXXX-XXXX`) and stay valid."""
    raw = new_public_id(TRACKING_CODE_LENGTH).upper()
    return f"{prefix}-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def new_tracking_code() -> str:
    return tracking_code_new("ADU")


class Category(models.TextChoices):
    NOT_RECEIVED = "not_received", _("Bantuan belum diterima")
    AMOUNT = "amount", _("Jumlah bantuan tidak sesuai")
    DATA = "data", _("Data diri atau keluarga salah")
    EXCLUSION = "exclusion", _("Layak tetapi tidak terdaftar")
    SERVICE = "service", _("Pelayanan petugas atau penyalur")
    FRAUD = "fraud", _("Pungutan liar atau penyalahgunaan")
    NOT_FAMILY = "not_family", _("Bukan anggota keluarga saya")
    OTHER = "other", _("Lainnya")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Diterima")
    IN_REVIEW = "in_review", _("Sedang ditangani")
    UPHELD = "upheld", _("Dikabulkan")
    REJECTED = "rejected", _("Ditolak")
    REFERRED = "referred", _("Dirujuk ke instansi lain")
    APPEALED = "appealed", _("Banding diajukan")


OPEN_STATUSES = (ComplaintStatus.RECEIVED, ComplaintStatus.IN_REVIEW, ComplaintStatus.APPEALED)
DECISIONS = (ComplaintStatus.UPHELD, ComplaintStatus.REJECTED, ComplaintStatus.REFERRED)


class Complaint(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    tracking_code = models.CharField(max_length=24, unique=True, default=new_tracking_code)
    # The form's one-time key: a double submit (two taps on a slow line) finds the first row.
    submission_key = models.CharField(max_length=64, unique=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    village_code = models.CharField(max_length=10, db_index=True)
    description = models.TextField()
    contact_phone_enc = models.TextField(blank=True)
    # Whom it is about, when a signed-in citizen files it (e.g. "bukan keluarga"): public ids.
    filed_by_ref = models.CharField(max_length=16, blank=True)
    subject_person_ref = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=12, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    due_at = models.DateTimeField()
    escalation_level = models.PositiveSmallIntegerField(default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    appeal_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return self.tracking_code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ComplaintEvent(models.Model):
    """The complaint's status history, shown to the citizen (without staff names)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.to_status}".strip()

    def get_to_status_display(self) -> str:
        """The status the event moved to, in words (`to_status` has no choices of its own: an
        event may leave it empty)."""
        if self.to_status in ComplaintStatus.values:
            return str(ComplaintStatus(self.to_status).label)
        return self.to_status


class ReportKind(models.TextChoices):
    USUL = "usul", _("Usul (usulkan keluarga yang membutuhkan)")
    SANGGAH = "sanggah", _("Sanggah (keberatan atas penerima)")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Menunggu verifikasi")
    UPHELD = "upheld", _("Terbukti / diterima")
    REJECTED = "rejected", _("Tidak terbukti / ditolak")
    LAPSED = "lapsed", _("Gugur (tidak diverifikasi tepat waktu)")


class CommunityReport(models.Model):
    """An usul or a sanggah, with its evidence; it is also the operator's verification task."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    tracking_code = models.CharField(max_length=24, unique=True)
    submission_key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=ReportKind.choices)
    village_code = models.CharField(max_length=10, db_index=True)
    subject_name = models.CharField(max_length=150)  # as the reporter wrote it
    # A sanggah's subject, when found in the registry: the person's public id (never the NIK).
    subject_person_ref = models.CharField(max_length=16, blank=True)
    address = models.CharField(max_length=255, blank=True)
    reason = models.TextField()
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    photo_path = models.CharField(max_length=255)  # relative to the evidence folder
    photo_sha256 = models.CharField(max_length=64)
    photo_type = models.CharField(max_length=16)
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    due_at = models.DateTimeField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return self.tracking_code
