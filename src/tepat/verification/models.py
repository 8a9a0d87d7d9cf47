"""Vouchers, handovers at the distribution point, and one-time codes.

A handover is keyed by the id the field device generated, so a device that resends a batch after a
lost answer changes nothing. At most one handover per voucher is accepted (a partial unique
constraint); a second redemption of the same voucher is kept as a flagged row for investigation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tepat.core.ids import new_public_id


class Voucher(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    payment = models.OneToOneField(
        "payments.Payment", on_delete=models.PROTECT, related_name="voucher"
    )
    village_code = models.CharField(max_length=10, db_index=True)
    token = models.TextField()  # the signed QR content: base64url(payload) "." base64url(sig)
    key_id = models.CharField(max_length=16)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Voucher {self.public_id}"


class Method(models.TextChoices):
    CARD = "card", _("Voucher + nomor kartu KKS")
    OTP = "otp", _("Kode sekali pakai ke nomor terdaftar")
    FACE = "face", _("Verifikasi wajah")


class HandoverDecision(models.TextChoices):
    """What an investigation of a flagged handover concluded."""

    NO_LOSS = "no_loss", _("Tidak ada penyerahan ganda (salah catat atau perangkat)")
    RECOVERED = "recovered", _("Penyerahan ganda; dana atau barang dikembalikan")
    ESCALATED = "escalated", _("Penyerahan ganda; diteruskan ke inspektorat")


class HandoverStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Diterima")
    DUPLICATE = "duplicate", _("Penukaran ganda (diselidiki)")
    REJECTED = "rejected", _("Ditolak")


class Handover(models.Model):
    client_id = models.UUIDField(unique=True)  # generated on the device: the idempotency key
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="handovers")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device_id = models.CharField(max_length=64)
    method = models.CharField(max_length=8, choices=Method.choices)
    by_proxy = models.BooleanField(default=False)
    device_time = models.DateTimeField()  # as the device's clock said: kept, never trusted
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=HandoverStatus.choices)
    reason = models.CharField(max_length=64, blank=True)
    flagged = models.BooleanField(default=False)
    settlement = models.ForeignKey(
        "EwarungSettlement", null=True, blank=True, on_delete=models.PROTECT,
        related_name="handovers",
    )  # fmt: skip
    # The investigation of a flagged row: decided once, by staff of the voucher's region.
    decision = models.CharField(max_length=16, choices=HandoverDecision.choices, blank=True)
    decision_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["voucher"],
                condition=Q(status="accepted"),
                name="one_accepted_handover_per_voucher",
            )
        ]

    def __str__(self) -> str:
        return f"Handover {self.client_id}"


class EwarungSettlement(models.Model):
    """What is owed to one e-Warung for the vouchers it redeemed for goods, settled once."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    ewarung = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    vouchers = models.PositiveIntegerField()
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Settlement {self.public_id}"


class OtpChallenge(models.Model):
    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="otps")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"OTP for {self.voucher_id}"


class FaceCheck(models.Model):
    """One face comparison made for a voucher; a passed one lets a `face` handover through."""

    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="face_checks")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ok = models.BooleanField()
    distance = models.FloatField(null=True, blank=True)  # None: no face found in the photo
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Face check for {self.voucher_id}"


class FaceTemplate(models.Model):
    """An enrolled face descriptor, encrypted at rest; the photo it came from is not kept."""

    person_ref = models.CharField(max_length=16, unique=True)  # the person's public id
    template_enc = models.TextField()
    enrolled_at = models.DateTimeField(auto_now=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Face template {self.person_ref}"


class ProxyReason(models.TextChoices):
    ELDERLY = "elderly", _("Lanjut usia")
    DISABLED = "disabled", _("Penyandang disabilitas")


class ProxyCollector(models.Model):
    """Someone registered in advance to collect for an elderly or disabled beneficiary."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    person_ref = models.CharField(max_length=16, db_index=True)  # the beneficiary
    village_code = models.CharField(max_length=10, blank=True, db_index=True)  # for scoping
    name = models.CharField(max_length=150)
    id_number_enc = models.TextField()  # the proxy's KTP/card number, encrypted
    reason = models.CharField(max_length=16, choices=ProxyReason.choices)
    registered_at = models.DateTimeField(auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Proxy for {self.person_ref}"


class VerificationPolicy(models.Model):
    """Which verification methods a programme accepts on one voucher channel.

    Any one of `methods` suffices for a handover; a programme/channel without a row falls back to
    TEPAT_VERIFICATION_DEFAULT_METHODS. The server enforces it at sync, the device at the counter.
    """

    programme = models.ForeignKey(
        "programs.Programme", on_delete=models.CASCADE, related_name="verification_policies"
    )
    channel = models.CharField(max_length=16)  # a voucher channel of payments.Channel
    methods = models.JSONField(default=list)  # values of Method
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["programme_id", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "channel"], name="one_verification_policy_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}/{self.channel}: {','.join(self.methods)}"
