"""Alert rules on operational metrics and the alerts they raise (acknowledged, then resolved);
the breach detectors' findings (`Detection`, evidence behind an alert); and the register of
personal-data breach incidents with their 3x24-hour notice clock (UU 27/2022 Art. 46)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tepat.core.ids import new_public_id


class Metric(models.TextChoices):
    FAILURE_RATE = "failure_rate", _("Persentase pembayaran gagal")
    UNRECONCILED_RATE = "unreconciled_rate", _("Persentase pembayaran belum direkonsiliasi")
    DIFFERENCES = "differences", _("Selisih rekonsiliasi belum dijelaskan")
    DEAD_LETTERS = "dead_letters", _("Pembayaran gagal berulang (perlu tindakan)")
    GRIEVANCE_OVERDUE = "grievance_overdue", _("Pengaduan melewati tenggat")
    # Raised by core.audit's bulk-read counter (TEPAT_BULK_READ_ALERT_*), not by alerts_check.
    BULK_READS = "bulk_reads", _("Pembacaan data pribadi dalam jumlah besar")
    # Raised by the ledger when its sequencer refuses to sign a rewritten history.
    LEDGER_INTEGRITY = "ledger_integrity", _("Log transparansi menolak menandatangani")
    # Raised by the breach detectors (monitoring.detectors, `tepat monitoring detect`).
    READ_SPIKE = "read_spike", _("Lonjakan pembacaan data pribadi dibanding pola pengguna")
    EXPORT_SPIKE = "export_spike", _("Lonjakan ekspor dan unduhan data")
    REVEAL_SPIKE = "reveal_spike", _("Lonjakan pembukaan data lengkap (NIK, KK)")
    FAILED_LOGINS = "failed_logins", _("Log-in gagal berulang")
    OFF_HOURS = "off_hours", _("Akses data pribadi di luar jam kerja")


class AlertRule(models.Model):
    """Raise an alert when `metric` of an active cycle, within `region_code`, exceeds `threshold`."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=150)
    metric = models.CharField(max_length=24, choices=Metric.choices)
    threshold = models.FloatField()
    region_code = models.CharField(max_length=10, blank=True)  # "" = the whole nation
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["metric", "region_code", "id"]

    def __str__(self) -> str:
        return self.name


class AlertState(models.TextChoices):
    OPEN = "open", _("Terbuka")
    ACKNOWLEDGED = "acknowledged", _("Diakui")
    RESOLVED = "resolved", _("Selesai")


class Alert(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    cycle = models.ForeignKey(
        "programs.Cycle", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    region_code = models.CharField(max_length=10, blank=True)
    value = models.FloatField()
    state = models.CharField(
        max_length=12, choices=AlertState.choices, default=AlertState.OPEN, db_index=True
    )
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    # Whom the alert is about, when it is about a person rather than a cycle: "user:<pk>" for a
    # bulk read. That person can neither acknowledge nor resolve it.
    subject = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule.name} ({self.state})"


class Detection(models.Model):
    """One finding of a breach detector: who (`subject`), which window, the value measured, the
    threshold it crossed and how that threshold was reached (`detail`: the baseline). Unique per
    detector, subject and window, so re-running the detectors adds nothing; an alert gathers a
    subject's findings until a person resolves it."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="detections")
    metric = models.CharField(max_length=24, choices=Metric.choices)
    subject = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    value = models.FloatField()
    threshold = models.FloatField()
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-window_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "subject", "window_start"], name="uniq_detection_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.subject} {self.window_start:%Y-%m-%d %H:%M}"


# --- incidents (UU 27/2022 Art. 46) ---------------------------------------------------------

NOTICE_HOURS = 72  # Art. 46(1): "paling lambat 3 x 24 (tiga kali dua puluh empat) jam"


class Severity(models.TextChoices):
    LOW = "low", _("Rendah")
    MEDIUM = "medium", _("Sedang")
    HIGH = "high", _("Tinggi")
    CRITICAL = "critical", _("Kritis")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Terbuka")
    ASSESSING = "assessing", _("Dinilai")
    CONTAINED = "contained", _("Terkendali")
    NOTIFIED = "notified", _("Sudah diberitahukan")
    CLOSED = "closed", _("Ditutup")


class DataCategory(models.TextChoices):
    """What Tepat holds, in the law's words; the specific ("spesifik", Art. 4(2)) ones are marked."""

    IDENTITY = "identity", _("Identitas (NIK, No. KK, nama, tanggal lahir)")
    CONTACT = "contact", _("Kontak dan alamat")
    SOCIOECONOMIC = "socioeconomic", _("Kondisi sosial ekonomi (aset, desil, skor)")
    FINANCIAL = "financial", _("Data keuangan pribadi (rekening, pembayaran) — spesifik")
    HEALTH = "health", _("Kesehatan (disabilitas, kehamilan) — spesifik")
    CHILDREN = "children", _("Data anak — spesifik")
    BIOMETRIC = "biometric", _("Biometrik (wajah) — spesifik")
    ACCOUNTS = "accounts", _("Akun staf dan log-in")
    OTHER = "other", _("Lainnya")


# The English names, for the English notices (written whatever the reader's language is).
DATA_CATEGORY_EN: dict[str, str] = {
    DataCategory.IDENTITY: "identity (NIK, family card number, name, date of birth)",
    DataCategory.CONTACT: "contact details and address",
    DataCategory.SOCIOECONOMIC: "socio-economic condition (assets, decile, score)",
    DataCategory.FINANCIAL: "personal financial data (accounts, payments), specific data",
    DataCategory.HEALTH: "health (disability, pregnancy), specific data",
    DataCategory.CHILDREN: "children's data, specific data",
    DataCategory.BIOMETRIC: "biometric data (face), specific data",
    DataCategory.ACCOUNTS: "staff accounts and log-ins",
    DataCategory.OTHER: "other",
}
DATA_CATEGORY_ID: dict[str, str] = {
    DataCategory.IDENTITY: "identitas (NIK, No. KK, nama, tanggal lahir)",
    DataCategory.CONTACT: "kontak dan alamat",
    DataCategory.SOCIOECONOMIC: "kondisi sosial ekonomi (aset, desil, skor)",
    DataCategory.FINANCIAL: "data keuangan pribadi (rekening, pembayaran), data spesifik",
    DataCategory.HEALTH: "kesehatan (disabilitas, kehamilan), data spesifik",
    DataCategory.CHILDREN: "data anak, data spesifik",
    DataCategory.BIOMETRIC: "data biometrik (wajah), data spesifik",
    DataCategory.ACCOUNTS: "akun staf dan log-in",
    DataCategory.OTHER: "lainnya",
}


class Incident(models.Model):
    """A suspected or confirmed failure of personal data protection. The notice clock runs from
    `detected_at` (when it was detected, not when someone typed it in) to `notice_due_at`, and
    stops when both the data subjects and the authority have been told (`notices_done_at`)."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(
        max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN, db_index=True
    )
    region_code = models.CharField(max_length=10, blank=True)  # "" = national
    detected_at = models.DateTimeField()
    notice_due_at = models.DateTimeField(db_index=True)  # detected_at + NOTICE_HOURS
    notices_done_at = models.DateTimeField(null=True, blank=True)
    affected_estimate = models.PositiveIntegerField(null=True, blank=True)  # None = not known yet
    data_categories = models.JSONField(default=list, blank=True)  # DataCategory values
    consequences = models.TextField(blank=True)  # for the notices: what it may mean for people
    measures = models.TextField(blank=True)  # what was and will be done
    contact = models.CharField(max_length=255, blank=True)  # whom people may ask
    alerts = models.ManyToManyField(Alert, blank=True, related_name="incidents")
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["notice_due_at", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"


class IncidentEvent(models.Model):
    """The incident's timeline: opened, changed, status moved, alert linked, notice sent, note."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Dibuka")
        UPDATED = "updated", _("Diubah")
        STATUS = "status", _("Status berubah")
        ALERT = "alert", _("Peringatan ditautkan")
        NOTICE = "notice", _("Pemberitahuan dicatat")
        NOTE = "note", _("Catatan")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    note = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class NoticeAudience(models.TextChoices):
    SUBJECTS = "subjects", _("Subjek data pribadi")
    AUTHORITY = "authority", _("Lembaga pelindungan data pribadi")


class NoticeChannel(models.TextChoices):
    LETTER = "letter", _("Surat")
    EMAIL = "email", _("Surel")
    SMS = "sms", _("SMS")
    PORTAL = "portal", _("Pengumuman di portal")
    OTHER = "other", _("Lainnya")


class IncidentNotice(models.Model):
    """A notice that was sent (Art. 46(1)): to whom, in which language, how, when, by whom, and
    the text as sent. Tepat records notices; it does not send them."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notices")
    audience = models.CharField(max_length=10, choices=NoticeAudience.choices)
    language = models.CharField(
        max_length=2, choices=[("id", "Bahasa Indonesia"), ("en", "English")]
    )
    channel = models.CharField(max_length=8, choices=NoticeChannel.choices)
    recipients = models.PositiveIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=120, blank=True)  # letter number, message id
    body = models.TextField()
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.audience} {self.sent_at:%Y-%m-%d %H:%M}"
