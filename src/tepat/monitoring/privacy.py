"""What monitoring holds about people: alerts about one staff member's bulk reads."""

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
)

CATEGORIES = (
    DataCategory(
        key="monitoring.alerts",
        label=_(
            "Peringatan dan temuan detektor tentang seorang staf: pembacaan, ekspor dan "
            "pembukaan data yang tidak biasa, gagal masuk, akses di luar jam kerja"
        ),
        fields=(
            "monitoring.Alert.subject",
            "monitoring.Alert.note",
            "monitoring.Alert.value",
            "monitoring.Detection.subject",
            "monitoring.Detection.value",
            "monitoring.Detection.detail",
        ),
    ),
    DataCategory(
        key="monitoring.incidents",
        label=_(
            "Register insiden kegagalan pelindungan data: uraian, perkiraan orang terdampak, "
            "jenis data, akibat, langkah, pemberitahuan yang dikirim"
        ),
        fields=(
            "monitoring.Incident.description",
            "monitoring.Incident.affected_estimate",
            "monitoring.Incident.data_categories",
            "monitoring.Incident.consequences",
            "monitoring.Incident.measures",
            "monitoring.IncidentEvent.note",
            "monitoring.IncidentNotice.body",
        ),
    ),
)

ACTIVITIES = (
    Activity(
        key="monitoring.alerts",
        name=_("Pemantauan dan peringatan"),
        purpose=_(
            "Memperingatkan petugas pemantau tentang penyaluran yang gagal, pengaduan yang "
            "terlambat, dan pembacaan data pribadi yang tidak biasa oleh seorang staf."
        ),
        basis=LegalBasis.LEGAL_OBLIGATION,
        basis_detail=_("UU 27/2022 Pasal 35, 39 dan 46 (keamanan, deteksi kegagalan pelindungan)"),
        subjects=(Subject.STAFF,),
        categories=("monitoring.alerts", "core.audit"),
        models=("monitoring.Alert", "monitoring.Detection"),
    ),
    Activity(
        key="monitoring.breach_response",
        name=_("Penanganan kegagalan pelindungan data pribadi"),
        purpose=_(
            "Mencatat insiden dengan tingkat keparahan dan statusnya, dan memberi tahu subjek "
            "data dan lembaga pengawas paling lambat 3 x 24 jam sejak insiden terdeteksi."
        ),
        basis=LegalBasis.LEGAL_OBLIGATION,
        basis_detail=_("UU 27/2022 Pasal 46 (pemberitahuan kegagalan pelindungan data pribadi)"),
        subjects=(Subject.HOUSEHOLD_MEMBER, Subject.STAFF),
        categories=("monitoring.incidents", "monitoring.alerts"),
        models=("monitoring.Incident", "monitoring.IncidentEvent", "monitoring.IncidentNotice"),
    ),
)

_incident_reason = _(
    "Bukti pemenuhan kewajiban pemberitahuan (UU 27/2022 Pasal 46, 47): disimpan sesuai "
    "jadwal retensi arsip instansi; tidak dihapus otomatis."
)

RETENTION = (
    Retention(
        key="monitoring.alerts",
        model="monitoring.Alert",
        label=_("Peringatan pemantauan"),
        timestamp="opened_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Disimpan sebagai bukti penanganan; dapat menjadi dasar laporan insiden."),
    ),
    Retention(
        key="monitoring.detections",
        model="monitoring.Detection",
        label=_("Temuan detektor kebocoran"),
        timestamp="window_start",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Bersama peringatannya: bukti yang dinilai untuk insiden."),
    ),
    Retention(
        key="monitoring.incidents",
        model="monitoring.Incident",
        label=_("Register insiden"),
        timestamp="detected_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_incident_reason,
    ),
    Retention(
        key="monitoring.incident_events",
        model="monitoring.IncidentEvent",
        label=_("Riwayat insiden"),
        timestamp="at",
        keep=days(0),
        action=Action.KEEP,
        reason=_incident_reason,
    ),
    Retention(
        key="monitoring.incident_notices",
        model="monitoring.IncidentNotice",
        label=_("Pemberitahuan insiden yang dikirim"),
        timestamp="sent_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_incident_reason,
    ),
)

DECLARATION = AppDeclaration(
    app="monitoring",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    retention=RETENTION,
    no_personal_data=("monitoring.AlertRule",),
)
