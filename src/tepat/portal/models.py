"""Citizen sign-in (NIK + one-time code to the registered phone) and notification preferences.

Citizens never get a staff User: a signed-in citizen is a session holding a person's public id.
A code is stored only as a keyed hash, expires in minutes, and allows a few attempts.
"""

from __future__ import annotations

from django.db import models


class CitizenOtp(models.Model):
    """A sign-in code, and its own outbox: the sign-in request only queues it (the same write for
    every NIK, registered or not); `tepat worker --sms` looks up the phone and sends it, or
    drops it when the NIK has no phone. Only a sent code signs in; checking a code against any
    other costs the same (one attempt counted), so step two is no oracle either."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        SENT = "sent", "sent"
        DROPPED = "dropped", "dropped"  # no phone for the NIK, or expired before it went out

    nik_index = models.CharField(max_length=32, db_index=True)
    person_ref = models.CharField(max_length=16, blank=True, default="")  # known once sent
    code_hash = models.CharField(max_length=100)  # salt$hmac-sha256
    # The code itself, encrypted, only until it is handed to the gateway.
    code_enc = models.TextField(blank=True, default="")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "id"], name="citizenotp_due")]

    def __str__(self) -> str:
        return f"OTP for {self.person_ref}"


class NotificationPreference(models.Model):
    person_ref = models.CharField(max_length=16, unique=True)
    sms_payment = models.BooleanField(default=True)  # "bantuan sudah bisa diambil / sudah masuk"
    sms_schedule = models.BooleanField(default=True)  # pick-up schedule and place
    sms_grievance = models.BooleanField(default=True)  # complaint status changes
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Preferences of {self.person_ref}"
