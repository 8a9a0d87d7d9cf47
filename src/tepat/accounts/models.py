from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    OPERATOR = "operator", _("Operator")
    SUPERVISOR = "supervisor", _("Supervisor")
    FIELD_AGENT = "field_agent", _("Petugas lapangan")
    AUDITOR = "auditor", _("Auditor")
    # UU 27/2022 Art. 53: reads the audit log and the incident register, manages incidents, and
    # reaches nothing else (tepat.accounts.dpo keeps every other page and API closed to it).
    DPO = "dpo", _("Pejabat Pelindungan Data Pribadi")


# Roles whose reach is limited to their regions. Admins and auditors see everything (auditors
# read-only); every other role must have at least one region scope to see any personal data.
SCOPED_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.FIELD_AGENT})


class User(AbstractUser):
    """A staff member. Citizens never get a User; they sign in with NIK + one-time code."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)
    # TOTP secret, encrypted with the field key (tepat.core.crypto); empty until enrolled. A
    # secret being enrolled lives in the enrolling session only (accounts.services), never here.
    totp_secret_enc = models.TextField(blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Replay guard: the last accepted TOTP time-step.
    totp_last_step = models.BigIntegerField(default=0)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Set when someone else chose the password (an admin created the account or reset it): the
    # user must pick their own before reaching any page (accounts.middleware).
    must_change_password = models.BooleanField(default=False)
    password_changed_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_region_scoped(self) -> bool:
        return self.role in SCOPED_ROLES and not self.is_superuser

    @property
    def region_codes(self) -> list[str]:
        """Region codes (undotted Kemendagri codes, any level) this user may see."""
        cached: list[str] | None = getattr(self, "_region_codes_cache", None)
        if cached is None:
            cached = sorted(self.region_scopes.values_list("region_code", flat=True))
            self._region_codes_cache = cached
        return cached


class RegionScope(models.Model):
    """One region (province, regency, district or village) a scoped user may see."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="region_scopes")
    region_code = models.CharField(max_length=10)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "region_code"], name="uniq_user_region_scope")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.region_code}"
