"""Citizen sign-in (NIK + one-time code to the registered phone) and notification preferences.

Citizens never get a staff User: a signed-in citizen is a session holding a person's public id.
A code is stored only as a keyed hash, expires in minutes, and allows a few attempts.
"""

from __future__ import annotations

from django.db import models


class CitizenOtp(models.Model):
    nik_index = models.CharField(max_length=32, db_index=True)
    person_ref = models.CharField(max_length=16)
    code_hash = models.CharField(max_length=100)  # salt$hmac-sha256
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

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
