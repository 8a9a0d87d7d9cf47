"""Writes for complaints and community reports (usul, sanggah).

Citizen submissions carry a one-time submission key from the form, so a double tap or a retry
on a slow line returns the first row instead of a duplicate. Staff actions check region scope,
run in one transaction, and write an audit event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tepat.accounts.scoping import can_edit_registry, can_see_region
from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, PermissionDenied, TepatError, ValidationFailed
from tepat.grievances import photos
from tepat.grievances.models import (
    DECISIONS,
    OPEN_STATUSES,
    Category,
    CommunityReport,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    ReportKind,
    TaskStatus,
    tracking_code_new,
)
from tepat.registry.cleaning import name_search_key
from tepat.registry.validators import normalize_number, validate_nik

if TYPE_CHECKING:
    from tepat.accounts.models import User


PHONE_CONTEXT = "grievance-contact"

DEFAULT_DEADLINE_DAYS = {
    Category.FRAUD: 3,
    Category.NOT_RECEIVED: 7,
    Category.AMOUNT: 7,
    Category.SERVICE: 7,
    Category.DATA: 14,
    Category.EXCLUSION: 14,
    Category.OTHER: 14,
    Category.NOT_FAMILY: 14,
}


def deadline_days(category: str) -> int:
    """Days to decide a complaint of `category` (TEPAT_GRIEVANCE_DEADLINE_DAYS overrides)."""
    table: dict[str, int] = {str(k): v for k, v in DEFAULT_DEADLINE_DAYS.items()}
    table.update(getattr(settings, "TEPAT_GRIEVANCE_DEADLINE_DAYS", {}) or {})
    return int(table.get(category, 14))


def sanggah_lapse_days() -> int:
    return int(getattr(settings, "TEPAT_SANGGAH_LAPSE_DAYS", 14))


def usul_verify_days() -> int:
    return int(getattr(settings, "TEPAT_USUL_VERIFY_DAYS", 30))


def evidence_max_bytes() -> int:
    return int(getattr(settings, "TEPAT_EVIDENCE_MAX_BYTES", 5 * 1024 * 1024))


def evidence_dir() -> Path:
    media = getattr(settings, "MEDIA_ROOT", "") or Path(settings.VAR_DIR) / "media"
    return Path(media) / "evidence"


def _village_exists(code: str) -> bool:
    from tepat.regions.selectors import region_exists

    return len(code) == 10 and code.isdigit() and region_exists(code)


def _check_village(code: str, problems: list[FieldProblem]) -> str:
    code = (code or "").replace(".", "").strip()
    if not code:
        problems.append(
            FieldProblem("village_code", "required", "Pilih desa/kelurahan / choose a village")
        )
    elif not _village_exists(code):
        problems.append(
            FieldProblem(
                "village_code", "unknown", "Desa/kelurahan tidak dikenal / unknown village"
            )
        )
    return code


def _check_key(key: str, problems: list[FieldProblem]) -> str:
    key = (key or "").strip()
    if not (8 <= len(key) <= 64) or not key.isalnum():
        problems.append(
            FieldProblem(
                "submission_key",
                "invalid",
                "Formulir kedaluwarsa, muat ulang halaman / form expired, reload the page",
            )
        )
    return key


def _event(
    complaint: Complaint, *, action: str, to_status: str = "", note: str = "", actor: Any = None
) -> None:
    ComplaintEvent.objects.create(
        complaint=complaint,
        at=timezone.now(),
        action=action,
        from_status=complaint.status if to_status else "",
        to_status=to_status,
        note=note,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )


# --- complaints ---------------------------------------------------------------------------------


def complaint_submit(
    *,
    submission_key: str,
    category: str,
    village_code: str,
    description: str,
    contact_phone: str = "",
    filed_by_ref: str = "",
    subject_person_ref: str = "",
) -> tuple[Complaint, bool]:
    """File a complaint. Returns (complaint, created); a repeated key returns the first one."""
    problems: list[FieldProblem] = []
    key = _check_key(submission_key, problems)
    if key:
        existing = Complaint.objects.filter(submission_key=key).first()
        if existing is not None:
            return existing, False
    if category not in Category.values:
        problems.append(FieldProblem("category", "required", "Pilih kategori / choose a category"))
    village = _check_village(village_code, problems)
    text = (description or "").strip()
    if len(text) < 10:
        problems.append(
            FieldProblem(
                "description",
                "too_short",
                "Uraikan pengaduan minimal 10 huruf / describe it in at least 10 characters",
            )
        )
    elif len(text) > 4000:
        problems.append(
            FieldProblem("description", "too_long", "Maksimal 4.000 huruf / at most 4,000")
        )
    phone = normalize_number(contact_phone) if contact_phone else ""
    if phone and not (phone.startswith(("08", "628")) and 10 <= len(phone) <= 14):
        problems.append(
            FieldProblem("contact_phone", "invalid", "Nomor HP tidak valid / invalid mobile number")
        )
    if problems:
        raise ValidationFailed(problems)
    now = timezone.now()
    try:
        with transaction.atomic():
            complaint = Complaint.objects.create(
                submission_key=key,
                category=category,
                village_code=village,
                description=text,
                contact_phone_enc=crypto.encrypt(phone, context=PHONE_CONTEXT) if phone else "",
                due_at=now + dt.timedelta(days=deadline_days(category)),
                filed_by_ref=filed_by_ref,
                subject_person_ref=subject_person_ref,
            )
            _event(complaint, action="received", note="")
            audit_record(
                actor=None,
                action="grievance.complaint_submit",
                target_type="complaint",
                target_id=complaint.public_id,
                region_code=village,
                detail={"category": category},
            )
    except IntegrityError:
        # Two identical submissions raced: the other one won; show it.
        return Complaint.objects.get(submission_key=key), False
    return complaint, True


def _require_scope(acting_user: User, village_code: str) -> None:
    """Assigning and deciding need a role that may change data (not an auditor or a field
    agent: the pages hide the forms, and this refuses any other caller too) and the region."""
    if not can_edit_registry(acting_user):
        raise PermissionDenied(
            "Peran Anda hanya dapat membaca: tidak boleh memutus aduan atau laporan / "
            "your role is read-only: you may not decide complaints or reports"
        )
    if not can_see_region(acting_user, village_code):
        raise PermissionDenied()


def complaint_assign(*, acting_user: User, complaint: Complaint, assignee: Any) -> Complaint:
    _require_scope(acting_user, complaint.village_code)
    if assignee is not None and not can_see_region(assignee, complaint.village_code):
        raise TepatError(
            "Petugas itu tidak memegang wilayah ini / that officer does not cover this region",
            field="assignee",
        )
    if not complaint.is_open:
        raise TepatError("Pengaduan sudah diputus / already decided", code="conflict")
    with transaction.atomic(durable=True):
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        complaint.assigned_to = assignee
        to = ComplaintStatus.IN_REVIEW if complaint.status == ComplaintStatus.RECEIVED else ""
        _event(complaint, action="assigned", to_status=to, actor=acting_user)
        if to:
            complaint.status = to
        complaint.save(update_fields=["assigned_to", "status", "updated_at"])
        audit_record(
            actor=acting_user,
            action="grievance.complaint_assign",
            target_type="complaint",
            target_id=complaint.public_id,
            region_code=complaint.village_code,
            detail={"assignee": getattr(assignee, "username", "")},
        )
    return complaint


def complaint_decide(
    *, acting_user: User, complaint: Complaint, decision: str, note: str
) -> Complaint:
    _require_scope(acting_user, complaint.village_code)
    if decision not in {str(d) for d in DECISIONS}:
        raise TepatError("Putusan tidak dikenal / unknown decision", field="decision")
    if not (note or "").strip():
        raise TepatError("Tuliskan alasan putusan / give the reason", field="note")
    with transaction.atomic(durable=True):
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if complaint.status not in OPEN_STATUSES:
            raise TepatError("Pengaduan sudah diputus / already decided", code="conflict")
        _event(
            complaint, action="decided", to_status=decision, note=note.strip(), actor=acting_user
        )
        complaint.status = decision
        complaint.decision_note = note.strip()
        complaint.decided_at = timezone.now()
        complaint.save(update_fields=["status", "decision_note", "decided_at", "updated_at"])
        audit_record(
            actor=acting_user,
            action="grievance.complaint_decide",
            target_type="complaint",
            target_id=complaint.public_id,
            region_code=complaint.village_code,
            detail={"decision": decision},
        )
    return complaint


def complaint_appeal(*, complaint: Complaint, reason: str) -> Complaint:
    """The citizen (holding the tracking code) appeals a rejection or referral once."""
    if complaint.status not in (ComplaintStatus.REJECTED, ComplaintStatus.REFERRED):
        raise TepatError(
            "Banding hanya untuk pengaduan yang ditolak atau dirujuk / "
            "only a rejected or referred complaint can be appealed",
            code="conflict",
        )
    if complaint.appeal_reason:
        raise TepatError("Banding sudah pernah diajukan / already appealed", code="conflict")
    text = (reason or "").strip()
    if len(text) < 10:
        raise TepatError(
            "Uraikan alasan banding minimal 10 huruf / at least 10 characters", field="reason"
        )
    with transaction.atomic(durable=True):
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _event(complaint, action="appealed", to_status=ComplaintStatus.APPEALED, note=text)
        complaint.status = ComplaintStatus.APPEALED
        complaint.appeal_reason = text
        complaint.escalation_level += 1  # an appeal goes one level up
        complaint.due_at = timezone.now() + dt.timedelta(days=deadline_days(complaint.category))
        complaint.save()
        audit_record(
            actor=None,
            action="grievance.complaint_appeal",
            target_type="complaint",
            target_id=complaint.public_id,
            region_code=complaint.village_code,
        )
    return complaint


def complaints_escalate(*, now: dt.datetime | None = None) -> int:
    """Every open complaint past its deadline goes one level up and gets a fresh deadline."""
    now = now or timezone.now()
    count = 0
    for pk in Complaint.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            c = Complaint.objects.select_for_update().get(pk=pk)
            if c.status not in OPEN_STATUSES or c.due_at >= now:
                continue  # decided or escalated meanwhile by another run
            c.escalation_level += 1
            c.due_at = now + dt.timedelta(days=deadline_days(c.category))
            _event(c, action="escalated", note=f"level {c.escalation_level}")
            c.save(update_fields=["escalation_level", "due_at", "updated_at"])
            count += 1
    return count


# --- usul and sanggah ---------------------------------------------------------------------------

_PHOTO_PROBLEMS = {
    "not_image": "Berkas bukan foto JPEG, PNG atau WebP / not a JPEG, PNG or WebP photo",
    "too_many_pixels": "Foto terlalu besar ukurannya (piksel); kecilkan dulu / too many pixels",
}


def _coordinate(raw: Any, field: str, low: int, high: int, problems: list[FieldProblem]) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
        if not value.is_finite() or not (low <= value <= high):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        problems.append(
            FieldProblem(
                field,
                "required" if not str(raw or "").strip() else "invalid",
                "Lokasi wajib diisi: tekan 'Ambil lokasi saya' atau isi koordinat / "
                "location is required",
            )
        )
        return Decimal(0)
    return value.quantize(Decimal("0.000001"))


def report_submit(
    *,
    submission_key: str,
    kind: str,
    village_code: str,
    subject_name: str,
    subject_nik: str = "",
    address: str = "",
    reason: str,
    latitude: Any,
    longitude: Any,
    photo: bytes | None,
) -> tuple[CommunityReport, bool]:
    """File an usul or a sanggah with a photo and a location; it becomes a verification task."""
    problems: list[FieldProblem] = []
    key = _check_key(submission_key, problems)
    if key:
        existing = CommunityReport.objects.filter(submission_key=key).first()
        if existing is not None:
            return existing, False
    if kind not in ReportKind.values:
        problems.append(FieldProblem("kind", "required", "Pilih usul atau sanggah"))
    village = _check_village(village_code, problems)
    name = " ".join((subject_name or "").split())
    if len(name) < 2:
        problems.append(
            FieldProblem("subject_name", "required", "Nama wajib diisi / name is required")
        )
    subject_ref = ""
    if subject_nik:
        nik, nik_problems = validate_nik(subject_nik, field="subject_nik")
        errors = [p for p in nik_problems if p.severity == "error"]
        problems.extend(errors)
        if not errors and kind == ReportKind.SANGGAH:
            subject_ref = _sanggah_subject(nik=nik, name=name, village=village)
    text = (reason or "").strip()
    if len(text) < 10:
        problems.append(
            FieldProblem(
                "reason", "too_short", "Uraikan alasan minimal 10 huruf / at least 10 characters"
            )
        )
    lat = _coordinate(latitude, "latitude", -90, 90, problems)
    lon = _coordinate(longitude, "longitude", -180, 180, problems)
    clean: photos.CleanPhoto | None = None
    if not photo:
        problems.append(FieldProblem("photo", "required", "Foto wajib dilampirkan / add a photo"))
    elif len(photo) > evidence_max_bytes():
        mb = evidence_max_bytes() // (1024 * 1024)
        problems.append(
            FieldProblem(
                "photo", "too_large", f"Foto terlalu besar (maks. {mb} MB) / photo too large"
            )
        )
    else:
        try:
            # Metadata (EXIF GPS above all) is gone before anything touches the disk.
            clean = photos.photo_clean(photo)
        except photos.PhotoRejected as exc:
            problems.append(FieldProblem("photo", exc.code, _PHOTO_PROBLEMS[exc.code]))
    if problems:
        raise ValidationFailed(problems)
    assert clean is not None
    digest = hashlib.sha256(clean.data).hexdigest()
    relative = f"{digest[:2]}/{digest}{clean.ext}"
    target = evidence_dir() / relative
    # Content-addressed, written before the row: a retry rewrites the same file, never a second.
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp = target.with_suffix(".part")
        tmp.write_bytes(clean.data)
        tmp.replace(target)
    now = timezone.now()
    days = sanggah_lapse_days() if kind == ReportKind.SANGGAH else usul_verify_days()
    prefix = "SGH" if kind == ReportKind.SANGGAH else "USL"
    try:
        with transaction.atomic():
            report = CommunityReport.objects.create(
                tracking_code=tracking_code_new(prefix),
                submission_key=key,
                kind=kind,
                village_code=village,
                subject_name=name,
                subject_person_ref=subject_ref,
                address=(address or "").strip()[:255],
                reason=text,
                latitude=lat,
                longitude=lon,
                photo_path=relative,
                photo_sha256=digest,
                photo_type=clean.kind,
                due_at=now + dt.timedelta(days=days),
            )
            audit_record(
                actor=None,
                action=f"grievance.{kind}_submit",
                target_type="community_report",
                target_id=report.public_id,
                region_code=village,
            )
    except IntegrityError:
        return CommunityReport.objects.get(submission_key=key), False
    return report, True


def _sanggah_subject(*, nik: str, name: str, village: str) -> str:
    """The registry person a sanggah is about, if NIK, name and village agree; else ''."""
    from tepat.registry.models import Person

    person = (
        Person.objects.filter(nik_index=crypto.blind_index(nik, purpose="nik"))
        .select_related("household")
        .first()
    )
    if (
        person is None
        or person.name_search != name_search_key(name)
        or person.household.village_id != village
    ):
        return ""
    return person.public_id


CORRECTABLE = (
    "owns_car",
    "owns_motorcycle",
    "owns_refrigerator",
    "owns_land",
    "electricity_va",
    "floor_material",
    "wall_material",
    "roof_material",
)


def report_decide(
    *,
    acting_user: User,
    report: CommunityReport,
    decision: str,
    note: str,
    corrections: dict[str, Any] | None = None,
) -> CommunityReport:
    """The operator's verification result. Upheld or rejected; lapsed reports are closed.

    An upheld sanggah about a person found in the registry may carry `corrections` to the
    household's attributes (what the visit found: a car, a tiled floor...). They go through the
    registry's own service in the same transaction, with the sanggah as the source, so the
    change has its before/after history and the next scoring run ranks the household on it.
    """
    corrections = {k: v for k, v in (corrections or {}).items() if v not in ("", None)}
    unknown = set(corrections) - set(CORRECTABLE)
    if unknown:
        raise TepatError(f"Kolom tidak dapat dikoreksi: {sorted(unknown)}", field="corrections")
    if corrections and (
        decision != TaskStatus.UPHELD
        or report.kind != ReportKind.SANGGAH
        or not report.subject_person_ref
    ):
        raise TepatError(
            "Koreksi data hanya untuk sanggah yang terbukti dan cocok dengan registri / "
            "corrections only for an upheld sanggah matched to the registry",
            field="corrections",
        )
    _require_scope(acting_user, report.village_code)
    if decision not in (TaskStatus.UPHELD, TaskStatus.REJECTED):
        raise TepatError("Putusan tidak dikenal / unknown decision", field="decision")
    if not (note or "").strip():
        raise TepatError("Tuliskan hasil verifikasi / give the finding", field="note")
    with transaction.atomic(durable=True):
        report = CommunityReport.objects.select_for_update().get(pk=report.pk)
        if report.status != TaskStatus.OPEN:
            raise TepatError(
                "Tugas ini sudah ditutup / this task is already closed", code="conflict"
            )
        report.status = decision
        report.decision_note = note.strip()
        report.decided_at = timezone.now()
        report.decided_by = acting_user
        report.save(update_fields=["status", "decision_note", "decided_at", "decided_by"])
        if corrections:
            _registry_correct(acting_user=acting_user, report=report, corrections=corrections)
        audit_record(
            actor=acting_user,
            action=f"grievance.{report.kind}_decide",
            target_type="community_report",
            target_id=report.public_id,
            region_code=report.village_code,
            detail={"decision": decision, "subject_person_ref": report.subject_person_ref},
        )
    return report


def _registry_correct(
    *, acting_user: User, report: CommunityReport, corrections: dict[str, Any]
) -> None:
    from tepat.registry.models import Person
    from tepat.registry.services import household_update

    person = Person.objects.select_related("household").get(public_id=report.subject_person_ref)
    household_update(
        acting_user=acting_user,
        household=person.household,
        changes=corrections,
        source=f"sanggah:{report.tracking_code}",
        reason=report.decision_note[:255],
    )


def reports_lapse(*, now: dt.datetime | None = None) -> int:
    """Sanggah not verified in time lapse (gugur), as the Cek Bansos rules say."""
    now = now or timezone.now()
    return CommunityReport.objects.filter(
        kind=ReportKind.SANGGAH, status=TaskStatus.OPEN, due_at__lt=now
    ).update(status=TaskStatus.LAPSED, decided_at=now)


def grievances_forget_person(*, person_ref: str, **_: Any) -> int:
    """Erasure (UU 27/2022 Art. 8, through registry.rights; closed cases only, open ones block
    it): the texts of complaints filed by or about the person, their contact phone and their
    history notes go, and the name and address a sanggah gave for them. Category, village,
    status and dates stay for the backlog figures; none identifies anyone."""
    from django.db.models import Q

    from tepat.core.subjectkeys import ERASED

    complaints = Complaint.objects.filter(
        Q(filed_by_ref=person_ref) | Q(subject_person_ref=person_ref)
    )
    ComplaintEvent.objects.filter(complaint__in=complaints).exclude(note="").update(note="")
    n = complaints.update(
        description=ERASED, contact_phone_enc="", decision_note="", appeal_reason=""
    )
    n += CommunityReport.objects.filter(subject_person_ref=person_ref).update(
        subject_name=ERASED, address="", reason=ERASED, decision_note=""
    )
    return n
