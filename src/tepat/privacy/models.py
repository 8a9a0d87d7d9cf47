"""Requests from data subjects (UU 27/2022): tracked cases with the legal deadline.

A request is about one registry person (the data subject) and is scoped, like the registry, by
the village of their household. Its clock starts when Tepat receives it; the period per kind is
`KIND_RULES`, the one place that says how long each right may take and which article says so.
Decisions that change or erase data need a second member of staff (maker-checker).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tepat.core.ids import new_public_id


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Akses dan salinan data")
    CORRECTION = "correction", _("Pembetulan data")
    OBJECTION = "objection", _("Keberatan atas keputusan otomatis")
    RESTRICTION = "restriction", _("Pembatasan pemrosesan")
    DELETION = "deletion", _("Penghapusan data")


@dataclass(frozen=True)
class KindRule:
    """How long a right may take, the article that gives it, and whether a decision upholding
    it changes the registry (and so needs a second member of staff to approve it)."""

    hours: int
    article: str
    # True: the law itself sets the period ("paling lambat 3 x 24 jam"); False: the law names
    # no period and Tepat holds the request to the same 3 x 24 hours as the others.
    statutory: bool
    needs_checker: bool


# The one table of deadlines. Every request's `due_at` is `received_at + hours`.
KIND_RULES: dict[str, KindRule] = {
    # Art. 7 (right of access), Art. 13 (portability); Art. 32(2): access "paling lambat
    # 3 x 24 jam" after the controller receives the request.
    RequestKind.ACCESS: KindRule(72, "UU 27/2022 Pasal 7, 13, 32 ayat (2)", True, False),
    # Art. 6 (right to correct); Art. 30(1): correct within 3 x 24 hours of the request.
    RequestKind.CORRECTION: KindRule(72, "UU 27/2022 Pasal 6, 30 ayat (1)", True, True),
    # Art. 10 (object to a decision made solely by automated processing): no period in the
    # law; Tepat applies 3 x 24 hours to the human review.
    RequestKind.OBJECTION: KindRule(72, "UU 27/2022 Pasal 10", False, False),
    # Art. 11 (restrict processing); Art. 41(1): restrict within 3 x 24 hours.
    RequestKind.RESTRICTION: KindRule(72, "UU 27/2022 Pasal 11, 41 ayat (1)", True, True),
    # Art. 8 (end processing, delete), Art. 43 (duty to delete): no period in the law ("sesuai
    # peraturan perundang-undangan"); Tepat applies 3 x 24 hours to the decision.
    RequestKind.DELETION: KindRule(72, "UU 27/2022 Pasal 8, 43", False, True),
}


def due_at_for(kind: str, received_at: dt.datetime) -> dt.datetime:
    """When a request of `kind` received at `received_at` must be answered."""
    return received_at + dt.timedelta(hours=KIND_RULES[kind].hours)


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal warga (masuk dengan kode SMS)")
    OFFICE = "office", _("Kantor (warga datang langsung)")


class ObjectionTarget(models.TextChoices):
    DESIL = "desil", _("Peringkat desil kesejahteraan")
    EXCLUSION = "exclusion", _("Tidak terpilih sebagai penerima bantuan")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Diterima")
    IN_REVIEW = "in_review", _("Sedang ditinjau")
    AWAITING_APPROVAL = "awaiting_approval", _("Menunggu persetujuan")
    ANSWERED = "answered", _("Dijawab")
    UPHELD = "upheld", _("Dikabulkan")
    PARTIALLY_UPHELD = "partially_upheld", _("Dikabulkan sebagian")
    REJECTED = "rejected", _("Ditolak")
    CLOSED = "closed", _("Ditutup tanpa putusan")


OPEN_STATUSES = (
    RequestStatus.RECEIVED,
    RequestStatus.IN_REVIEW,
    RequestStatus.AWAITING_APPROVAL,
)
OUTCOMES = (
    RequestStatus.ANSWERED,
    RequestStatus.UPHELD,
    RequestStatus.PARTIALLY_UPHELD,
    RequestStatus.REJECTED,
)


class DataSubjectRequest(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    kind = models.CharField(max_length=12, choices=RequestKind.choices)
    subject = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    household_public_id = models.CharField(max_length=16)
    # The household's village when the request came in: what region scoping filters on.
    region_code = models.CharField(max_length=10, db_index=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # The portal form's one-time key: a double tap on a slow line finds the first request.
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    details = models.TextField(blank=True)  # the request in the citizen's words
    # Correction: what the citizen asks for, {"person.full_name": "...", "household.rt": ...}.
    requested_changes = models.JSONField(default=dict, blank=True)
    objection_target = models.CharField(max_length=12, choices=ObjectionTarget.choices, blank=True)
    # Objection: the automated decision as it stood when the request came in (desil, run).
    decision_snapshot = models.JSONField(default=dict, blank=True)
    # Office requests: who took it and checked the citizen's identity (KTP in hand).
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The maker: who recorded the decision.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=RequestStatus.choices, blank=True)
    outcome_text = models.TextField(blank=True)
    # When the outcome took effect (the clock stops here): the decision, or its approval.
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)
    # Correction: what the maker decided to change (the checker approves exactly this).
    approved_changes = models.JSONField(default=dict, blank=True)
    # The checker, for decisions that change or erase data.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # Access: the export handed over (the latest format and when).
    exported_at = models.DateTimeField(null=True, blank=True)
    export_format = models.CharField(max_length=8, blank=True)
    # Objection upheld with no manual override in targeting: the targeting operator's to-do.
    followup_needed = models.BooleanField(default=False)
    followup_note = models.TextField(blank=True)
    followup_done_at = models.DateTimeField(null=True, blank=True)
    followup_done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["subject", "kind", "status"]),
        ]
        constraints = [
            # The database refuses a checker who is the maker, whatever a service forgets.
            models.CheckConstraint(
                condition=~models.Q(approved_by=models.F("decided_by")),
                name="dsr_checker_is_not_maker",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def rule(self) -> KindRule:
        return KIND_RULES[self.kind]


# RequestEvent.action in words, for staff and citizen alike.
EVENT_ACTION_LABELS: dict[str, Any] = {
    "received": _("Permintaan diterima"),
    "assigned": _("Mulai ditinjau petugas"),
    "decide": _("Putusan dicatat"),
    "approve": _("Putusan disetujui dan dijalankan"),
    "return": _("Dikembalikan untuk ditinjau ulang"),
    "close": _("Ditutup"),
    "export": _("Salinan data dibuat"),
    "followup_done": _("Tindak lanjut penargetan selesai"),
}


class RequestEvent(models.Model):
    """A request's history: every change of state, shown to staff in full and to the citizen
    without staff names."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=24)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.to_status}".strip()

    def get_action_display(self) -> str:
        return str(EVENT_ACTION_LABELS.get(self.action, self.action))

    def get_to_status_display(self) -> str:
        """`to_status` has no choices of its own (an event may leave it empty)."""
        if self.to_status in RequestStatus.values:
            return str(RequestStatus(self.to_status).label)
        return self.to_status
