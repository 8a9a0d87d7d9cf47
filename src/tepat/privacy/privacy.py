"""What the privacy app itself holds: the data subjects' requests and their history."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tepat.core.declarations import (
    Action,
    Activity,
    AppDeclaration,
    DataCategory,
    LegalBasis,
    Retention,
    Subject,
    days,
    years,
)

_CLOSED = ("answered", "upheld", "partially_upheld", "rejected", "closed")

CATEGORIES = (
    DataCategory(
        key="privacy.requests",
        label=_(
            "Permintaan subjek data: jenis hak, uraian warga, perubahan yang diminta, keputusan "
            "yang dikeberatani, hasil dan alasannya"
        ),
        fields=(
            "privacy.DataSubjectRequest.subject",
            "privacy.DataSubjectRequest.details",
            "privacy.DataSubjectRequest.requested_changes",
            "privacy.DataSubjectRequest.decision_snapshot",
            "privacy.DataSubjectRequest.approved_changes",
            "privacy.DataSubjectRequest.outcome_text",
            "privacy.DataSubjectRequest.followup_note",
            "privacy.RequestEvent.note",
        ),
    ),
)

ACTIVITIES = (
    Activity(
        key="privacy.rights",
        name=_("Pelayanan hak subjek data"),
        purpose=_(
            "Menerima dan menjawab permintaan akses, salinan, pembetulan, keberatan atas "
            "keputusan otomatis, pembatasan dan penghapusan, dalam tenggat yang ditetapkan."
        ),
        basis=LegalBasis.LEGAL_OBLIGATION,
        basis_detail=_("UU 27/2022 Pasal 5 sampai 13 dan Pasal 30 sampai 43"),
        subjects=(Subject.HOUSEHOLD_MEMBER, Subject.BENEFICIARY),
        categories=("privacy.requests",),
        models=("privacy.DataSubjectRequest", "privacy.RequestEvent"),
    ),
)

_AFTER = _(
    "Tiga tahun setelah permintaan dijawab, uraian, perubahan yang diminta dan catatan dihapus; "
    "jenis, tanggal, tenggat dan hasil tetap sebagai bukti pemenuhan hak (UU 27/2022 Pasal 47)."
)

RETENTION = (
    Retention(
        key="privacy.requests_closed",
        model="privacy.DataSubjectRequest",
        label=_("Permintaan subjek data yang sudah dijawab"),
        timestamp="outcome_recorded_at",
        keep=years(3),
        action=Action.ANONYMISE,
        reason=_AFTER,
        where={"status__in": _CLOSED},
        anonymise={
            "details": "",
            "requested_changes": {},
            "decision_snapshot": {},
            "approved_changes": {},
            "outcome_text": "",
            "followup_note": "",
        },
    ),
    Retention(
        key="privacy.request_history",
        model="privacy.RequestEvent",
        label=_("Catatan riwayat permintaan yang sudah dijawab"),
        timestamp="request__outcome_recorded_at",
        keep=years(3),
        action=Action.ANONYMISE,
        reason=_AFTER,
        where={"request__status__in": _CLOSED},
        anonymise={"note": ""},
    ),
    Retention(
        key="privacy.requests_open",
        model="privacy.DataSubjectRequest",
        label=_("Permintaan subjek data yang masih berjalan"),
        timestamp="received_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Disimpan sampai dijawab."),
        exclude={"status__in": _CLOSED},
    ),
)

DECLARATION = AppDeclaration(
    app="privacy",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    retention=RETENTION,
)
