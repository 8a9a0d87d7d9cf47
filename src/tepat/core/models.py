from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Who did or saw what, when, from where. Append-only; auditors read it."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)  # kept if the user is deleted
    action = models.CharField(
        max_length=64, db_index=True
    )  # e.g. "person.view_full", "login.failed"
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    region_code = models.CharField(max_length=13, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_id}"


class SubjectKey(models.Model):
    """One data subject's own data key, wrapped (AES-GCM) under a key derived from the master
    field key (core.subjectkeys). Values that must stay in append-only history (the registry's
    change records) are encrypted under it; erasure overwrites `key_wrapped` (crypto-shredding,
    UU 27/2022 Art. 8 and 43), which leaves those values unreadable without rewriting any row.
    `subject` is a person's public id, or "household:<public id>" for a family's values."""

    subject = models.CharField(max_length=40, unique=True)
    key_wrapped = models.BinaryField()  # nonce || AES-GCM(wrap key, data key); empty once shredded
    created_at = models.DateTimeField(auto_now_add=True)
    shredded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Subject key {self.subject}{' (shredded)' if self.shredded_at else ''}"
