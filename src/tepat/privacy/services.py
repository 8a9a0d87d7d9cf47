"""Writes for data-subject requests: open, assign, decide, approve (or return), close, export
the access answer, and close an objection's follow-up. Keyword-only arguments, one transaction,
an acting user, a history event and an audit event for every change of state.

Life of a request: received -> in_review -> a decision. A decision that changes or erases data
(an upheld correction, restriction or deletion) waits for a second member of staff
(awaiting_approval); approving it applies it through the registry's own services, in the same
transaction, so the request's outcome and the registry change commit together or not at all.

Who: admins, operators and supervisors of the request's region handle it; only admins and
supervisors approve, never someone who opened or decided it, nor anyone tepat.accounts.duties
keeps from approving (separation of duties). Auditors read; field agents see nothing. A request
outside the user's regions is "not found", as in the registry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tepat.accounts import duties
from tepat.accounts.models import Role
from tepat.accounts.scoping import can_see_region
from tepat.core.audit import audit_read, audit_record
from tepat.core.errors import (
    FieldProblem,
    NotFound,
    PermissionDenied,
    Problems,
    TepatError,
    ValidationFailed,
)
from tepat.privacy.models import (
    OPEN_STATUSES,
    Channel,
    DataSubjectRequest,
    ObjectionTarget,
    RequestEvent,
    RequestKind,
    RequestStatus,
    due_at_for,
)
from tepat.registry.models import Person

if TYPE_CHECKING:
    from tepat.accounts.models import User


K = RequestKind
S = RequestStatus

HANDLERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR})
APPROVERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
# What a citizen files from the portal. Access needs no request there: the signed-in citizen
# downloads their data at once ("Data saya").
PORTAL_KINDS = (K.CORRECTION, K.OBJECTION, K.RESTRICTION, K.DELETION)
# Outcomes each kind may have. A deletion blocked by a legal retention can be upheld in part:
# the data is kept, its processing restricted.
OUTCOMES_BY_KIND: dict[str, tuple[str, ...]] = {
    K.ACCESS: (S.ANSWERED, S.REJECTED),
    K.CORRECTION: (S.UPHELD, S.PARTIALLY_UPHELD, S.REJECTED),
    K.OBJECTION: (S.UPHELD, S.PARTIALLY_UPHELD, S.REJECTED),
    K.RESTRICTION: (S.UPHELD, S.REJECTED),
    K.DELETION: (S.UPHELD, S.PARTIALLY_UPHELD, S.REJECTED),
}
# Fields a correction may change, through registry.services.person_update / household_update.
# Not here: NIK and No. KK (the civil registry's; corrected on the registry page against
# Dukcapil), the phone (it receives the sign-in codes), relationship and village (a move).
CORRECTABLE_PERSON = (
    "full_name",
    "sex",
    "birth_date",
    "birth_place",
    "marital_status",
    "education",
    "school_level",
    "work_sector",
    "disability",
)
CORRECTABLE_HOUSEHOLD = (
    "address",
    "rt",
    "rw",
    "floor_material",
    "wall_material",
    "roof_material",
    "floor_area_m2",
    "drinking_water",
    "toilet",
    "electricity",
    "electricity_va",
    "cooking_fuel",
    "owns_motorcycle",
    "owns_refrigerator",
    "owns_car",
    "owns_land",
    "land_area_m2",
    "livestock_count",
)
CORRECTABLE = tuple(f"person.{f}" for f in CORRECTABLE_PERSON) + tuple(
    f"household.{f}" for f in CORRECTABLE_HOUSEHOLD
)
EXPORT_FORMATS = ("pdf", "json", "csv")
ERASED_TEXT = "[dihapus / erased]"  # as tepat.core.subjectkeys.ERASED


def _role(user: Any) -> str:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return ""
    return Role.ADMIN if user.is_superuser else str(user.role)


def can_handle(user: Any) -> bool:
    return _role(user) in HANDLERS


def can_approve(user: Any) -> bool:
    return _role(user) in APPROVERS


def can_follow_up(user: Any) -> bool:
    """Who closes an objection's follow-up: whoever runs targeting (admins, supervisors)."""
    from tepat.targeting.services import can_manage_targeting

    return user is not None and can_manage_targeting(user)


def _label(user: Any) -> str:
    return getattr(user, "username", "") or "warga"


def _in_scope(user: Any, dsr: DataSubjectRequest) -> None:
    """Out-of-scope requests are "not found" (no probing of other regions)."""
    if not can_see_region(user, dsr.region_code):
        raise NotFound()


def _require(user: Any, allowed: bool, what: str) -> None:
    if not allowed:
        raise PermissionDenied(
            f"Peran Anda tidak boleh {what} / your role may not {_WHAT_EN.get(what, what)}"
        )


_WHAT_EN = {
    "menangani permintaan": "handle requests",
    "menyetujui permintaan": "approve requests",
    "menutup tindak lanjut penargetan": "close targeting follow-ups",
}


def _event(
    dsr: DataSubjectRequest,
    *,
    action: str,
    actor: Any,
    to_status: str = "",
    note: str = "",
    at: dt.datetime | None = None,
) -> None:
    RequestEvent.objects.create(
        request=dsr,
        at=at or timezone.now(),
        action=action,
        from_status=dsr.status if to_status else "",
        to_status=to_status,
        note=note,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=_label(actor),
    )


def _audit(dsr: DataSubjectRequest, *, actor: Any, verb: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=f"privacy.request_{verb}",
        target_type="data_subject_request",
        target_id=dsr.public_id,
        region_code=dsr.region_code,
        detail={"kind": dsr.kind, "status": dsr.status, **detail},
    )


def _locked(dsr: DataSubjectRequest) -> DataSubjectRequest:
    return DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)


def _text(raw: str | None, *, field: str, minimum: int, maximum: int, message: str) -> str:
    text = (raw or "").strip()
    if len(text) < minimum:
        raise TepatError(message, field=field, code="required")
    if len(text) > maximum:
        raise TepatError(
            f"Maksimal {maximum} huruf / at most {maximum} characters", field=field, code="too_long"
        )
    return text


# --- correction changes ------------------------------------------------------------------------


def correction_changes_clean(changes: Mapping[str, Any]) -> dict[str, Any]:
    """`{"person.full_name": "...", "household.rt": "004"}` checked with the registry's own
    cleaning rules, so a decision is refused now rather than when it is approved."""
    from tepat.registry.cleaning import clean_household, clean_person

    clean = {k: v for k, v in changes.items() if str(v if v is not None else "").strip() != ""}
    unknown = sorted(set(clean) - set(CORRECTABLE))
    if unknown:
        raise TepatError(
            f"Kolom tidak dapat dikoreksi di sini: {', '.join(unknown)} / "
            "these fields cannot be corrected here",
            field="changes",
            code="unknown_field",
        )
    p = Problems()
    person = {k.split(".", 1)[1]: v for k, v in clean.items() if k.startswith("person.")}
    household = {k.split(".", 1)[1]: v for k, v in clean.items() if k.startswith("household.")}
    today = timezone.localdate()
    if person:
        clean_person(person, p, region_exists=lambda _c: True, today=today, partial=True)
    if household:
        clean_household(
            household,
            p,
            region_exists=lambda _c: True,
            village_exists=lambda _c: True,
            today=today,
            partial=True,
        )
    p.raise_if_errors()
    return {k: str(v).strip()[:255] for k, v in clean.items()}


def _split_changes(changes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    person = {k.split(".", 1)[1]: v for k, v in changes.items() if k.startswith("person.")}
    household = {k.split(".", 1)[1]: v for k, v in changes.items() if k.startswith("household.")}
    return person, household


# --- open ----------------------------------------------------------------------------------------


def _decision_snapshot(person: Person) -> dict[str, Any]:
    """The automated decision objected to, as it stood: the latest scoring run's desil."""
    from tepat.targeting import selectors as targeting

    try:
        run = targeting.run_get()
    except NotFound:
        return {"scored": False}
    desil = targeting.household_desil(household_ids=[person.household_id]).get(person.household_id)
    return {
        "scored": desil is not None,
        "run": run.public_id,
        "model_version": run.model.version,
        "desil_national": desil,
    }


def request_open(
    *,
    kind: str,
    person: Person,
    channel: str,
    details: str = "",
    requested_changes: Mapping[str, Any] | None = None,
    objection_target: str = "",
    identity_checked: bool = False,
    submission_key: str = "",
    acting_user: User | None = None,
) -> tuple[DataSubjectRequest, bool]:
    """Open a request about `person` (the data subject). Returns (request, created).

    Portal: the signed-in citizen about themselves (`acting_user` None). Office: a member of
    staff for a walk-in citizen whose identity they checked. One open request per person and
    kind: asking again returns the open one (and so does a repeated `submission_key`)."""
    problems: list[FieldProblem] = []
    if kind not in K.values:
        problems.append(FieldProblem("kind", "required", "Pilih jenis permintaan / choose a kind"))
    if channel == Channel.PORTAL:
        if acting_user is not None:
            raise TepatError("Portal hanya untuk warga / the portal is for citizens")
        if kind == K.ACCESS:
            problems.append(
                FieldProblem(
                    "kind",
                    "use_my_data",
                    "Unduh data Anda langsung di halaman Data saya / download your data on "
                    "the My data page",
                )
            )
        elif kind and kind not in PORTAL_KINDS:
            problems.append(FieldProblem("kind", "invalid", "Jenis tidak dikenal / unknown kind"))
    elif channel == Channel.OFFICE:
        _require(acting_user, can_handle(acting_user), "menangani permintaan")
        if not can_see_region(acting_user, person.household.village_id):
            raise NotFound()
        if not identity_checked:
            problems.append(
                FieldProblem(
                    "identity_checked",
                    "required",
                    "Periksa KTP asli warga dan centang kotak ini / check the citizen's "
                    "identity card and tick this box",
                )
            )
    else:
        problems.append(FieldProblem("channel", "invalid", "Saluran tidak dikenal / channel"))
    text = (details or "").strip()
    if len(text) > 4000:
        problems.append(FieldProblem("details", "too_long", "Maksimal 4.000 huruf / at most 4,000"))
    changes: dict[str, Any] = {}
    if kind == K.CORRECTION:
        try:
            changes = correction_changes_clean(requested_changes or {})
        except TepatError as exc:
            problems.extend(exc.problems or [FieldProblem("changes", exc.code, exc.message)])
        if not changes and len(text) < 10:
            problems.append(
                FieldProblem(
                    "details",
                    "required",
                    "Tuliskan data mana yang salah dan yang benar (minimal 10 huruf) / say "
                    "what is wrong and what is right",
                )
            )
    target = ""
    if kind == K.OBJECTION:
        target = objection_target
        if target not in ObjectionTarget.values:
            problems.append(
                FieldProblem(
                    "objection_target",
                    "required",
                    "Pilih keputusan yang Anda keberatan / choose the decision you object to",
                )
            )
    if person.erased_at is not None:
        problems.append(
            FieldProblem("subject", "erased", "Data orang ini sudah dihapus / already erased")
        )
    key = (submission_key or "").strip()[:64]
    if key:
        existing = DataSubjectRequest.objects.filter(submission_key=key).first()
        if existing is not None and existing.subject_id == person.pk:
            return existing, False
        if existing is not None:
            problems.append(
                FieldProblem(
                    "submission_key",
                    "invalid",
                    "Formulir kedaluwarsa, muat ulang halaman / form expired, reload the page",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    now = timezone.now()
    try:
        with transaction.atomic(durable=True):
            # One open request per person and kind; the lock on the person orders two racing
            # submissions.
            Person.objects.select_for_update().filter(pk=person.pk).first()
            open_one = DataSubjectRequest.objects.filter(
                subject=person, kind=kind, status__in=OPEN_STATUSES
            ).first()
            if open_one is not None:
                return open_one, False
            dsr = DataSubjectRequest.objects.create(
                kind=kind,
                subject=person,
                household_public_id=person.household.public_id,
                region_code=person.household.village_id,
                channel=channel,
                submission_key=key or None,
                details=text,
                requested_changes=changes,
                objection_target=target,
                decision_snapshot=_decision_snapshot(person) if kind == K.OBJECTION else {},
                opened_by=acting_user if channel == Channel.OFFICE else None,
                received_at=now,
                due_at=due_at_for(kind, now),
            )
            _event(dsr, action="received", actor=acting_user, note=str(channel), at=now)
            _audit(
                dsr,
                actor=acting_user,
                verb="open",
                channel=channel,
                subject=person.public_id,
                due_at=dsr.due_at.isoformat(),
                identity_checked=bool(identity_checked) if channel == Channel.OFFICE else None,
            )
    except IntegrityError:
        # The same submission key raced in twice: the other one won.
        return DataSubjectRequest.objects.get(submission_key=key, subject=person), False
    return dsr, True


# --- handle --------------------------------------------------------------------------------------


def request_assign(
    *, acting_user: User, dsr: DataSubjectRequest, assignee: Any = None
) -> DataSubjectRequest:
    """Take a request into review (the acting user, or `assignee` of the same region)."""
    _in_scope(acting_user, dsr)
    _require(acting_user, can_handle(acting_user), "menangani permintaan")
    assignee = assignee or acting_user
    if not (can_handle(assignee) and can_see_region(assignee, dsr.region_code)):
        raise TepatError(
            "Petugas itu tidak menangani wilayah ini / that officer does not cover this region",
            field="assignee",
        )
    with transaction.atomic(durable=True):
        d = _locked(dsr)
        if d.status not in (S.RECEIVED, S.IN_REVIEW):
            raise TepatError(
                "Permintaan ini tidak sedang terbuka untuk ditinjau / not open for review",
                code="conflict",
            )
        to = S.IN_REVIEW if d.status == S.RECEIVED else ""
        _event(d, action="assigned", actor=acting_user, to_status=to, note=_label(assignee))
        d.assigned_to = assignee
        if to:
            d.status = to
        d.save(update_fields=["assigned_to", "status", "updated_at"])
        _audit(d, actor=acting_user, verb="assign", assignee=_label(assignee))
    return d


def erasure_blockers(person: Person) -> list[str]:
    """Why `person` may not be erased now (legal retentions), from the registry's rights module."""
    from tepat.registry.rights import person_erasure_blockers

    return list(person_erasure_blockers(person))


def request_decide(
    *,
    acting_user: User,
    dsr: DataSubjectRequest,
    outcome: str,
    outcome_text: str,
    changes: Mapping[str, Any] | None = None,
) -> DataSubjectRequest:
    """Record the decision (the maker). One that changes or erases data waits for approval;
    any other takes effect now and stops the clock."""
    _in_scope(acting_user, dsr)
    _require(acting_user, can_handle(acting_user), "menangani permintaan")
    allowed = OUTCOMES_BY_KIND[dsr.kind]
    if outcome not in allowed:
        raise TepatError(
            "Putusan ini tidak berlaku untuk jenis permintaan ini / this outcome does not apply "
            "to this kind of request",
            field="outcome",
        )
    text = _text(
        outcome_text,
        field="outcome_text",
        minimum=5,
        maximum=4000,
        message="Tuliskan alasan putusan untuk warga / give the reason for the citizen",
    )
    effective = outcome in (S.UPHELD, S.PARTIALLY_UPHELD)
    approved: dict[str, Any] = {}
    if dsr.kind == K.CORRECTION and effective:
        approved = correction_changes_clean(changes or {})
        if not approved:
            raise TepatError(
                "Isi data yang dibetulkan / give the corrected values",
                field="changes",
                code="required",
            )
    if dsr.kind == K.DELETION and outcome == S.UPHELD:
        blockers = erasure_blockers(dsr.subject)
        if blockers:
            raise TepatError(
                "Data tidak dapat dihapus karena masa retensi menurut hukum: "
                + "; ".join(blockers)
                + ". Pilih 'dikabulkan sebagian' untuk membatasi pemrosesannya / a legal "
                "retention applies: uphold in part to restrict processing instead",
                field="outcome",
                code="retention",
            )
    needs_checker = effective and dsr.rule.needs_checker
    now = timezone.now()
    with transaction.atomic(durable=True):
        d = _locked(dsr)
        if d.status not in (S.RECEIVED, S.IN_REVIEW):
            raise TepatError(
                "Permintaan ini sudah diputus / this request is already decided", code="conflict"
            )
        if d.kind == K.ACCESS and outcome == S.ANSWERED and d.exported_at is None:
            raise TepatError(
                "Unduh dan serahkan salinan data dulu / download and hand over the export first",
                field="outcome",
                code="not_exported",
            )
        to = S.AWAITING_APPROVAL if needs_checker else outcome
        _event(d, action="decide", actor=acting_user, to_status=to, note=text, at=now)
        d.status = to
        d.outcome = outcome
        d.outcome_text = text
        d.approved_changes = approved
        d.decided_by = acting_user
        d.decided_at = now
        if d.assigned_to_id is None:
            d.assigned_to = acting_user
        if not needs_checker:
            d.outcome_recorded_at = now
        if d.kind == K.OBJECTION and effective:
            # Targeting has no manual override of a desil or an exclusion: the reviewer's
            # outcome is recorded here and handed to the targeting operator.
            d.followup_needed = True
        d.save()
        _audit(
            d,
            actor=acting_user,
            verb="decide",
            outcome=outcome,
            awaiting_approval=needs_checker,
            fields=sorted(approved),
        )
        if d.followup_needed and not needs_checker:
            _audit(d, actor=acting_user, verb="followup_flag", objection_target=d.objection_target)
    return d


def request_makers(dsr: DataSubjectRequest) -> set[int]:
    """Everyone who made what an approval approves: who opened the request for a walk-in and
    whoever ever recorded a decision on it (a return and a new decision launder nobody)."""
    makers = {dsr.opened_by_id, dsr.decided_by_id}
    makers.update(
        dsr.events.filter(action="decide", actor__isnull=False).values_list("actor_id", flat=True)
    )
    return {m for m in makers if m is not None}


def _maker_checker(dsr: DataSubjectRequest, approver: Any) -> None:
    makers = request_makers(dsr)
    if approver.pk in makers:
        raise PermissionDenied(
            "Yang membuka atau memutus permintaan ini tidak boleh menyetujuinya sendiri / "
            "whoever opened or decided this request cannot approve it (maker-checker)"
        )
    if duties.managed_staff_since(approver):
        raise PermissionDenied(
            f"Anda mengelola akun staf dalam {duties.sod_days()} hari terakhir dan tidak boleh "
            f"menyetujui perubahan data / you managed staff accounts in the last "
            f"{duties.sod_days()} days and may not approve changes to personal data "
            "(separation of duties)"
        )
    if duties.account_changed_by(approver, makers):
        raise PermissionDenied(
            "Akun Anda dibuat atau diubah oleh pembuat putusan ini / your account was created "
            "or changed by this decision's maker: you may not approve it (maker-checker)"
        )


def requests_forget_person(*, person_ref: str, identifiers: tuple[str, ...] = (), **_: Any) -> int:
    """Erasure (UU 27/2022 Art. 8): the person's own words in their requests go (what they
    wrote, the values they asked to correct), and `identifiers` (their name, known before the
    registry row was cleared) are struck from the outcomes and the history notes. The cases
    stay (kind, dates, outcome): the record that each request was honoured. Fits
    registry.rights.ERASURE_STEPS; returns the requests changed."""

    def scrub(text: str) -> str:
        for value in sorted({v for v in identifiers if len(v) >= 3}, key=len, reverse=True):
            text = re.sub(re.escape(value), ERASED_TEXT, text, flags=re.IGNORECASE)
        return text

    changed = 0
    with transaction.atomic():  # not durable: erasure runs it inside its own transaction
        for d in DataSubjectRequest.objects.select_for_update().filter(
            subject__public_id=person_ref
        ):
            d.details = ERASED_TEXT if d.details else ""
            d.requested_changes = {k: ERASED_TEXT for k in d.requested_changes}
            d.approved_changes = {k: ERASED_TEXT for k in d.approved_changes}
            d.outcome_text = scrub(d.outcome_text)
            d.followup_note = scrub(d.followup_note)
            d.save()
            for e in d.events.exclude(note=""):
                note = scrub(e.note)
                if note != e.note:
                    e.note = note
                    e.save(update_fields=["note"])
            changed += 1
    return changed


def _apply(d: DataSubjectRequest, acting_user: User) -> None:
    """The approved decision's effect, through the registry's services (with history)."""
    from tepat.registry import rights
    from tepat.registry.services import household_update, person_update

    person = Person.objects.select_related("household").get(pk=d.subject_id)
    source = f"privacy:{d.public_id}"
    reason = f"{source}: {d.outcome_text}"[:255]
    if d.kind == K.CORRECTION:
        person_changes, household_changes = _split_changes(d.approved_changes)
        if person_changes:
            person_update(
                acting_user=acting_user,
                person=person,
                changes=person_changes,
                source=source,
                reason=reason,
            )
        if household_changes:
            household_update(
                acting_user=acting_user,
                household=person.household,
                changes=household_changes,
                source=source,
                reason=reason,
            )
    elif d.kind == K.RESTRICTION or (d.kind == K.DELETION and d.outcome == S.PARTIALLY_UPHELD):
        rights.person_restrict(
            person=person, restricted=True, reason=reason, acting_user=acting_user
        )
    elif d.kind == K.DELETION and d.outcome == S.UPHELD:
        name = person.full_name
        rights.person_erase(person=person, reason=reason, acting_user=acting_user)
        requests_forget_person(person_ref=person.public_id, identifiers=(name, *name.split()))


def request_approve(*, acting_user: User, dsr: DataSubjectRequest) -> DataSubjectRequest:
    """The checker approves a decision that changes or erases data; it takes effect now."""
    _in_scope(acting_user, dsr)
    _require(acting_user, can_approve(acting_user), "menyetujui permintaan")
    now = timezone.now()
    with transaction.atomic(durable=True):
        d = _locked(dsr)
        if d.status != S.AWAITING_APPROVAL:
            raise TepatError(
                "Permintaan ini tidak menunggu persetujuan / not awaiting approval",
                code="conflict",
            )
        _maker_checker(d, acting_user)
        _apply(d, acting_user)
        d.refresh_from_db(
            fields=["details", "requested_changes", "approved_changes", "outcome_text"]
        )
        _event(d, action="approve", actor=acting_user, to_status=d.outcome, at=now)
        d.status = d.outcome
        d.approved_by = acting_user
        d.approved_at = now
        d.outcome_recorded_at = now
        d.save()
        _audit(d, actor=acting_user, verb="approve", outcome=d.outcome)
    return d


def request_return(
    *, acting_user: User, dsr: DataSubjectRequest, reason: str
) -> DataSubjectRequest:
    """The checker sends a decision back for review, with a reason; nothing was applied."""
    _in_scope(acting_user, dsr)
    _require(acting_user, can_approve(acting_user), "menyetujui permintaan")
    text = _text(
        reason,
        field="reason",
        minimum=5,
        maximum=2000,
        message="Tuliskan alasan pengembalian / give the reason",
    )
    with transaction.atomic(durable=True):
        d = _locked(dsr)
        if d.status != S.AWAITING_APPROVAL:
            raise TepatError(
                "Permintaan ini tidak menunggu persetujuan / not awaiting approval",
                code="conflict",
            )
        _event(d, action="return", actor=acting_user, to_status=S.IN_REVIEW, note=text)
        d.status = S.IN_REVIEW
        d.outcome = ""
        d.approved_changes = {}
        d.save()
        _audit(d, actor=acting_user, verb="return")
    return d


def request_close(*, acting_user: User, dsr: DataSubjectRequest, reason: str) -> DataSubjectRequest:
    """Close without a decision: the citizen withdrew it, or it repeats another request."""
    _in_scope(acting_user, dsr)
    _require(acting_user, can_handle(acting_user), "menangani permintaan")
    text = _text(
        reason,
        field="reason",
        minimum=5,
        maximum=2000,
        message="Tuliskan alasan penutupan / give the reason",
    )
    now = timezone.now()
    with transaction.atomic(durable=True):
        d = _locked(dsr)
        if d.status not in (S.RECEIVED, S.IN_REVIEW):
            raise TepatError(
                "Hanya permintaan yang belum diputus dapat ditutup / only an undecided request "
                "can be closed",
                code="conflict",
            )
        _event(d, action="close", actor=acting_user, to_status=S.CLOSED, note=text, at=now)
        d.status = S.CLOSED
        d.outcome_text = text
        d.outcome_recorded_at = now
        d.save()
        _audit(d, actor=acting_user, verb="close")
    return d


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    content_type: str
    filename: str


def request_export(*, acting_user: User, dsr: DataSubjectRequest, fmt: str) -> ExportFile:
    """The answer to an access request: everything Tepat holds about the subject and their
    household (tepat.privacy.export), in `fmt` (pdf, json, csv), for staff to hand over."""
    from tepat.privacy import export

    _in_scope(acting_user, dsr)
    _require(acting_user, can_handle(acting_user), "menangani permintaan")
    if dsr.kind != K.ACCESS:
        raise TepatError(
            "Salinan data hanya untuk permintaan akses / exports answer access requests",
            code="conflict",
        )
    if fmt not in EXPORT_FORMATS:
        raise TepatError("Format tidak dikenal / unknown format", field="format")
    if dsr.status not in (S.RECEIVED, S.IN_REVIEW, S.ANSWERED):
        raise TepatError("Permintaan ini sudah ditutup / this request is closed", code="conflict")
    person = Person.objects.select_related("household").get(pk=dsr.subject_id)
    data = export.subject_export(person=person, requested_by=_label(acting_user))
    if fmt == "pdf":
        out = ExportFile(export.render_pdf(data), "application/pdf", "pdf")
    elif fmt == "json":
        out = ExportFile(export.render_json(data), "application/json", "json")
    else:
        out = ExportFile(export.render_csv_zip(data), "application/zip", "zip")
    now = timezone.now()
    with transaction.atomic(durable=True):
        d = _locked(dsr)
        _event(d, action="export", actor=acting_user, note=fmt, at=now)
        d.exported_at = now
        d.export_format = fmt
        d.save(update_fields=["exported_at", "export_format", "updated_at"])
        # One audited read: a household's full record left the system on paper or a file.
        audit_read(
            actor=acting_user,
            what="privacy.request_export",
            count=1,
            region_code=d.region_code,
            target_type="data_subject_request",
            target_id=d.public_id,
            detail={"format": fmt, "subject": person.public_id},
        )
    return ExportFile(out.content, out.content_type, f"data-pribadi-{d.public_id}.{out.filename}")


def request_followup_done(
    *, acting_user: User, dsr: DataSubjectRequest, note: str
) -> DataSubjectRequest:
    """The targeting operator records what they did about an upheld objection (a rescoring,
    a rule change, a referral), which closes the follow-up."""
    _in_scope(acting_user, dsr)
    _require(acting_user, can_follow_up(acting_user), "menutup tindak lanjut penargetan")
    text = _text(
        note,
        field="note",
        minimum=5,
        maximum=2000,
        message="Tuliskan tindak lanjutnya / say what was done",
    )
    now = timezone.now()
    with transaction.atomic(durable=True):
        d = _locked(dsr)
        if not d.followup_needed or d.followup_done_at is not None:
            raise TepatError(
                "Tidak ada tindak lanjut yang terbuka / no open follow-up", code="conflict"
            )
        _event(d, action="followup_done", actor=acting_user, note=text, at=now)
        d.followup_note = text
        d.followup_done_at = now
        d.followup_done_by = acting_user
        d.save()
        _audit(d, actor=acting_user, verb="followup_done")
    return d
