"""Payments: the outbox of instructions to providers, their outcomes, statements and SMS.

The payments table is its own outbox: a row is written in the same transaction that decides the
payment, and `tepat worker` delivers it. `payment_key` is deterministic (programme, cycle,
beneficiary, instalment) under a unique constraint and is sent to the provider as the idempotency
key, so a retry after a crash can never pay twice.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tepat.core.ids import new_public_id


def new_ledger_salt() -> str:
    """16 random bytes (hex): the key of a payment's pseudonym in the transparency log."""
    return os.urandom(16).hex()


class Channel(models.TextChoices):
    BANK = "bank", _("Transfer ke rekening KKS (Himbara)")
    EWALLET = "ewallet", _("Dompet elektronik")
    CASH_POS = "cash_pos", _("Tunai melalui PT Pos")
    EWARUNG = "ewarung", _("Voucher e-Warung")


class PaymentState(models.TextChoices):
    ISSUED = "issued", _("Diterbitkan")  # waiting in the outbox (or for its next retry)
    SENDING = "sending", _("Sedang dikirim")  # claimed by a worker under a lease
    SENT = "sent", _("Terkirim, menunggu hasil")  # accepted by the provider, outcome pending
    PAID = "paid", _("Dibayar")
    FAILED = "failed", _("Gagal (permanen)")
    DEAD = "dead", _("Gagal berulang (perlu tindakan)")  # dead letter: an operator resolves
    CANCELLED = "cancelled", _("Dibatalkan")


class Payment(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    payment_key = models.CharField(max_length=64, unique=True)
    cycle = models.ForeignKey("programs.Cycle", on_delete=models.PROTECT, related_name="payments")
    entitlement = models.ForeignKey(
        "programs.Entitlement", on_delete=models.PROTECT, related_name="payments"
    )
    beneficiary_ref = models.CharField(max_length=16)
    village_code = models.CharField(max_length=10)
    amount = models.BigIntegerField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    provider = models.CharField(max_length=16)  # BRI, OVO, POS, EWARUNG...
    # Snapshot of where the money goes, as it was when the payment was issued (encrypted).
    payee_fa_enc = models.TextField()
    payee_fa_masked = models.CharField(max_length=64)
    payee_name = models.CharField(max_length=150, blank=True)
    collection_place = models.CharField(max_length=150, blank=True)  # PT Pos office / e-Warung
    collection_from = models.DateTimeField(null=True, blank=True)
    collection_until = models.DateTimeField(null=True, blank=True)
    voucher_code = models.CharField(max_length=32, blank=True)
    # Keys this payment's pseudonym in the public log (tepat.ledger.entries.payment_pseudonym).
    # Random per payment, kept only here: the log alone never links two payments of one person,
    # and blanking it (crypto-shredding) leaves the logged pseudonym opening to nothing.
    ledger_salt = models.CharField(max_length=32, default=new_ledger_salt, editable=False)
    state = models.CharField(
        max_length=12, choices=PaymentState.choices, default=PaymentState.ISSUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    provider_ref = models.CharField(max_length=64, blank=True)
    reason_code = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    reconciled = models.BooleanField(default=False)
    resolution = models.TextField(blank=True)  # operator's note on a dead letter
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="payment_due"),
            models.Index(fields=["cycle", "state"], name="payment_cycle_state"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.public_id}"


class Statement(models.Model):
    """A provider's daily statement file, imported for reconciliation."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    provider = models.CharField(max_length=32)
    statement_date = models.DateField()
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, unique=True)
    lines = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.provider} {self.statement_date}"


class StatementLine(models.Model):
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="items")
    reference_id = models.CharField(max_length=64, db_index=True)  # our payment_key
    amount = models.BigIntegerField()
    status = models.CharField(max_length=8)  # succ | rjct
    executed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.reference_id} {self.status}"


class Difference(models.Model):
    """One reconciliation finding for a cycle; an operator may explain it."""

    class Kind(models.TextChoices):
        NOT_OURS = "paid_not_ours", _("Dibayar tapi bukan milik kita")
        NOT_PAID = "ours_not_paid", _("Milik kita tapi tidak dibayar")
        AMOUNT = "amount_differs", _("Jumlah berbeda")
        STATUS = "status_differs", _("Status berbeda")
        # Two successful payments of one entitlement (ours or the provider's statement), and
        # money moved for a cycle that was no longer payable: never explained away (see
        # services.UNEXPLAINABLE); the first blocks distributing and closing the cycle.
        PAID_TWICE = "paid_twice", _("Dibayar dua kali")
        PAID_CANCELLED = "paid_cancelled", _("Dibayar padahal tahap tidak dapat dibayar")
        # A provider's signed report that Tepat refused (another amount or currency): kept until
        # someone explains it, whatever later statements say (reconciliation never removes it).
        CALLBACK_REFUSED = "callback_refused", _("Laporan penyedia ditolak")

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    cycle = models.ForeignKey(
        "programs.Cycle", on_delete=models.CASCADE, related_name="differences", null=True
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reference_id = models.CharField(max_length=64)
    ours_amount = models.BigIntegerField(null=True, blank=True)
    their_amount = models.BigIntegerField(null=True, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)
    explanation = models.TextField(blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference_id"], name="one_difference_per_ref")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference_id}"


class SmsMessage(models.Model):
    """The SMS outbox: one message per payment outcome, delivered through a gateway adapter."""

    class State(models.TextChoices):
        PENDING = "pending", _("Menunggu")
        SENT = "sent", _("Terkirim")
        FAILED = "failed", _("Gagal")

    event_key = models.CharField(max_length=80, unique=True)  # payment key + outcome: idempotent
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="sms")
    template = models.CharField(max_length=32)
    body = models.CharField(max_length=320)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "id"], name="sms_due")]

    def __str__(self) -> str:
        return self.event_key
