"""Restriction and erasure of a person's data (UU 27/2022 Art. 8, 11 and 43).

Restriction keeps the data but stops new decisions on it: a household with a restricted member
is left out of new scoring runs and new entitlement lists (targeting.features) and no new payment
is issued to it (payments.services.payments_issue). A list already computed and frozen stays as
it was approved (its digest is in the public ledger; changing it would break the maker-checker
record), but its payments wait until the restriction is lifted.

Erasure is honoured where no legal retention applies (`ERASURE_RETENTION`, checked by
`person_erasure_blockers`). It removes the identifying values from the person's row (NIK and
phone replaced by tombstones that keep the unique constraints, name, birth date and place,
disability and pregnancy cleared; the birth year stays, as in the registry's clear columns), the
account numbers of their financial addresses, and their data in the apps that hold some
(`ERASURE_STEPS`); then it shreds the person's subject key, which leaves every identifying value
in the append-only change history unreadable without rewriting a row. When no member of the
household is left who is not erased, the family's own values (No. KK, address) go the same way.
The transparency ledger is never rewritten: it holds no identifying value, and its proofs keep
verifying. An erased person is no longer counted in new scoring or lists (targeting.features).

The other apps are reached through dotted paths declared here as data and imported when used,
so that the registry does not import the apps above it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from tepat.accounts.models import Role
from tepat.accounts.scoping import can_edit_registry, can_see_region
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, PermissionDenied, TepatError
from tepat.core.ids import new_public_id
from tepat.core.subjectkeys import ERASED, SubjectKeyring, household_subject, subject_shred
from tepat.registry import sealed
from tepat.registry.bulk import change_record
from tepat.registry.models import ChangeRecord, FinancialAddress, Household, Person
from tepat.registry.snapshots import seal_snapshot

if TYPE_CHECKING:
    from tepat.accounts.models import User


DEFAULT_FINANCIAL_RETENTION_YEARS = 10
TOMBSTONE_PREFIX = "erased-"  # not hexadecimal: never equal to a blind index


@dataclass(frozen=True)
class RetentionRule:
    """A legal reason to keep a person's data, refusing erasure while it holds.

    `count` is the dotted path of a function (*, person_ref, household_id, since) -> int that
    counts the records the rule keeps; `years` (a number, or a function answering one) sets
    `since`, the oldest record that still counts (None: records of any age count)."""

    code: str
    reason: str  # Bahasa Indonesia / English, shown to staff and quoted to the citizen
    count: str
    years: int | Callable[[], int] | None = None


def financial_retention_years() -> int:
    """How long payment records are kept (TEPAT_FINANCIAL_RETENTION_YEARS, default 10)."""
    return int(
        getattr(settings, "TEPAT_FINANCIAL_RETENTION_YEARS", DEFAULT_FINANCIAL_RETENTION_YEARS)
    )


ERASURE_RETENTION: tuple[RetentionRule, ...] = (
    RetentionRule(
        code="financial_records",
        reason=(
            "Ada pembayaran bantuan kepada orang ini dalam {years} tahun terakhir: catatan "
            "keuangan negara wajib disimpan selama masa retensi arsip keuangan (UU 43/2009 "
            "tentang Kearsipan; UU 1/2004 tentang Perbendaharaan Negara) / payments to this "
            "person in the last {years} years: public financial records must be kept for the "
            "archive retention period"
        ),
        count="tepat.payments.selectors.payments_count_for_beneficiary",
        years=financial_retention_years,
    ),
    RetentionRule(
        code="open_grievance",
        reason=(
            "Ada pengaduan atau sanggahan tentang orang ini yang belum selesai: datanya "
            "diperlukan untuk menyelesaikannya / an open complaint or objection concerns this "
            "person: its handling needs the data"
        ),
        count="tepat.grievances.selectors.open_cases_about_person",
    ),
    RetentionRule(
        code="active_programme",
        reason=(
            "Keluarga orang ini ada dalam daftar penerima tahap bantuan yang masih berjalan "
            "(belum selesai atau dibatalkan) / the person's household is on the entitlement "
            "list of a programme cycle still running (not ended or cancelled)"
        ),
        count="tepat.programs.selectors.live_entitlements_of_household",
    ),
)

# Each: (*, person_ref, person_id, nik_index, phone_index, identifiers, **_) -> rows changed,
# where `identifiers` are the person's values in clear (name and its words, NIK, phone, birth
# date, account numbers) read before the row is cleared. Run inside the erasure's transaction,
# before the subject key is shredded.
ERASURE_STEPS: tuple[str, ...] = (
    "tepat.payments.services.payments_forget_payee",
    "tepat.verification.services.verification_forget_person",
    "tepat.portal.citizen.portal_forget_person",
    "tepat.grievances.services.grievances_forget_person",
    "tepat.integration.services.integration_forget_person",
    "tepat.privacy.services.requests_forget_person",
)


def _holding(person: Person, now: dt.datetime) -> list[tuple[RetentionRule, int | None]]:
    """The rules that keep the person's data now, with the years each looked back."""
    out = []
    for rule in ERASURE_RETENTION:
        years = rule.years() if callable(rule.years) else rule.years
        since = now - dt.timedelta(days=round(365.25 * years)) if years is not None else None
        counter: Callable[..., int] = import_string(rule.count)
        if counter(person_ref=person.public_id, household_id=person.household_id, since=since):
            out.append((rule, years))
    return out


def person_erasure_blockers(person: Person, *, now: dt.datetime | None = None) -> list[str]:
    """Why the person's data cannot be erased now (empty: it can), one reason per rule."""
    return [rule.reason.format(years=y) for rule, y in _holding(person, now or timezone.now())]


def restricted_households() -> QuerySet[Person, Any]:
    """Ids of the households with a member whose processing is restricted (a subquery)."""
    return Person.objects.filter(processing_restricted_at__isnull=False).values("household_id")


def _require_editor(acting_user: User, person: Person) -> None:
    if not can_edit_registry(acting_user) or not can_see_region(
        acting_user, person.household.village_id
    ):
        raise PermissionDenied()


def _require_supervisor(acting_user: User, person: Person) -> None:
    """Erasure cannot be undone: supervisors and administrators only, in their regions."""
    _require_editor(acting_user, person)
    if not (acting_user.is_superuser or acting_user.role in {Role.SUPERVISOR, Role.ADMIN}):
        raise PermissionDenied(
            "Hanya supervisor atau admin yang boleh menghapus data / only a supervisor or an "
            "administrator may erase a person's data"
        )


def _reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise TepatError(
            "Tuliskan alasan dan dasar permintaan / state the reason and the request it answers",
            field="reason",
            code="reason_required",
        )
    return reason[:255]


def person_restrict(*, person: Person, restricted: bool, reason: str, acting_user: User) -> Person:
    """Restrict (or lift the restriction of) the processing of a person's data (Art. 11):
    their household is left out of new scoring runs, entitlement lists and payments."""
    reason = _reason(reason)
    person = Person.objects.select_related("household").get(pk=person.pk)
    _require_editor(acting_user, person)
    with transaction.atomic():
        p = Person.objects.select_for_update().select_related("household").get(pk=person.pk)
        if p.erased_at is not None:
            raise TepatError("Data orang ini sudah dihapus / this person was erased", code="erased")
        if restricted == (p.processing_restricted_at is not None):
            return p
        p.processing_restricted_at = timezone.now() if restricted else None
        p.save(update_fields=["processing_restricted_at", "updated_at"])
        audit_record(
            actor=acting_user,
            action="person.restrict" if restricted else "person.unrestrict",
            target_type="person",
            target_id=p.public_id,
            region_code=p.household.village_id,
            detail={"reason": _scrub(reason, _family_identifiers(p))},
        )
    return p


# --- erasure ------------------------------------------------------------------------------------


def _identifiers(p: Person) -> list[str]:
    """The person's identifying values in clear (to keep them out of the erasure's own record)."""
    values = [p.full_name, *p.full_name.split()]
    if p.nik_enc:
        values.append(sealed.unseal(p.nik_enc, context=sealed.NIK, row=p.public_id))
    if p.phone_enc:
        values.append(sealed.unseal(p.phone_enc, context=sealed.PHONE, row=p.public_id))
    born = p.birth_date
    if born is not None:
        values += [born.isoformat(), born.strftime("%d-%m-%Y"), born.strftime("%d/%m/%Y")]
    for fa in p.financial_addresses.all():
        if fa.account_enc:
            values.append(sealed.unseal(fa.account_enc, context=sealed.ACCOUNT, row=fa.public_id))
    return [v for v in values if len(v) >= 3]


def _family_identifiers(p: Person) -> list[str]:
    """The identifiers of the person, of every member of their household and of the family."""
    h = p.household
    values = [h.address, *_identifiers(p)]
    if h.kk_enc:
        values.append(sealed.unseal(h.kk_enc, context=sealed.KK, row=h.public_id))
    for member in h.members.exclude(pk=p.pk):
        values += _identifiers(member)
    return [v for v in values if len(v) >= 3]


# A number of six digits or more (NIK, No. KK, phone, account, a date written as digits),
# spaces, dots and dashes allowed between them.
_LONG_NUMBER = re.compile(r"\d(?:[\s.\-/]?\d){5,}")


def _scrub(text: str, identifiers: list[str]) -> str:
    """`text` with every identifier (case-insensitive) and every long number replaced by
    ERASED: a reason typed at the counter may name the person or a relative erased before."""
    for value in sorted(set(identifiers), key=len, reverse=True):
        text = re.sub(re.escape(value), ERASED, text, flags=re.IGNORECASE)
    return _LONG_NUMBER.sub(ERASED, text)


def _tombstone() -> str:
    """A unique placeholder for a unique blind-index column (32 characters, never hex)."""
    return TOMBSTONE_PREFIX + new_public_id(32 - len(TOMBSTONE_PREFIX))


def _seal_legacy_history(records: Q) -> int:
    """History written before snapshots were sealed holds identifying values in clear: seal
    them now under the subject's key, so that shredding it reaches them too. `records` names
    them by entity type and id (the history's index)."""
    ring = SubjectKeyring(create_now=True)
    n = 0
    for rec in ChangeRecord.objects.filter(records):
        before = seal_snapshot(rec.entity_type, rec.before, ring)
        after = seal_snapshot(rec.entity_type, rec.after, ring)
        if before != rec.before or after != rec.after:
            rec.before, rec.after = before, after
            rec.save(update_fields=["before", "after"])
            n += 1
    return n


def _erase_household(h: Household) -> None:
    h.kk_enc = sealed.seal("", context=sealed.KK, row=h.public_id)
    h.kk_index = _tombstone()
    h.address = h.rt = h.rw = ""
    h.version += 1
    h.save()
    _seal_legacy_history(Q(entity_type="household", entity_id=h.public_id))
    subject_shred(household_subject(h.public_id))


def _refuse_while_kept(p: Person, now: dt.datetime) -> None:
    holding = _holding(p, now)
    if holding:
        reasons = [rule.reason.format(years=y) for rule, y in holding]
        raise TepatError(
            "Data tidak bisa dihapus sekarang / the data cannot be erased now: "
            + "; ".join(reasons),
            code="erasure_blocked",
            problems=[
                FieldProblem("person", rule.code, text)
                for (rule, _), text in zip(holding, reasons, strict=True)
            ],
        )


@dataclass
class ErasureReport:
    person: Person
    household_erased: bool
    history_resealed: int
    steps: dict[str, int]


def person_erase(*, person: Person, reason: str, acting_user: User) -> ErasureReport:
    """Erase a person's data (Art. 8, 43), or raise TepatError listing the legal reasons to
    keep it. Irreversible; idempotent on an already erased person."""
    reason = _reason(reason)
    person = Person.objects.select_related("household").get(pk=person.pk)
    _require_supervisor(acting_user, person)
    now = timezone.now()
    with transaction.atomic():
        p = Person.objects.select_for_update().select_related("household").get(pk=person.pk)
        if p.erased_at is not None:
            return ErasureReport(p, False, 0, {})
        _refuse_while_kept(p, now)
        scrubbed = _scrub(reason, _family_identifiers(p))
        identifiers = tuple(_identifiers(p))
        old_nik_index, old_phone_index = p.nik_index, p.phone_index
        accounts = list(p.financial_addresses.all())
        resealed = _seal_legacy_history(
            Q(entity_type="person", entity_id=p.public_id)
            | Q(entity_type="financial_address", entity_id__in=[a.public_id for a in accounts])
        )

        p.nik_enc = sealed.seal("", context=sealed.NIK, row=p.public_id)
        p.nik_index = _tombstone()
        p.phone_enc = ""
        p.phone_index = ""
        p.full_name = ""
        p.name_search = ""
        p.birth_date = None  # the encrypted full date goes; the year stays
        p.birth_place = ""
        p.disability = ""
        p.pregnant = False
        p.erased_at = now
        p.version += 1
        p.save()
        for fa in accounts:
            fa.account_enc = sealed.seal("", context=sealed.ACCOUNT, row=fa.public_id)
            fa.account_index = _tombstone()
            fa.holder_name = ""
            fa.valid_to = fa.valid_to or now
        FinancialAddress.objects.bulk_update(
            accounts, ["account_enc", "account_index", "holder_name", "valid_to"]
        )
        steps: dict[str, int] = {}
        for path in ERASURE_STEPS:
            step: Callable[..., int] = import_string(path)
            steps[path.rsplit(".", 1)[1]] = int(
                step(
                    person_ref=p.public_id,
                    person_id=p.pk,
                    nik_index=old_nik_index,
                    phone_index=old_phone_index,
                    identifiers=identifiers,
                )
            )
        subject_shred(p.public_id)

        household = Household.objects.select_for_update().get(pk=p.household_id)
        household_erased = not household.members.filter(erased_at__isnull=True).exists()
        if household_erased:
            _erase_household(household)
        # The history says that the person was erased, and nothing else about them.
        change_record(
            at=now,
            entity_type="person",
            entity_id=p.public_id,
            household=household,
            action=ChangeRecord.Action.UPDATE,
            before=None,
            after={"public_id": p.public_id, "household": household.public_id, "erased": True},
            source="uu-27-2022",
            reason="dihapus atas permintaan subjek data / erased at the data subject's request",
            acting_user=acting_user,
        ).save()
        audit_record(
            actor=acting_user,
            action="person.erase",
            target_type="person",
            target_id=p.public_id,
            region_code=household.village_id,
            detail={
                "reason": scrubbed,
                "household_erased": household_erased,
                "history_resealed": resealed,
                "steps": steps,
            },
        )
    return ErasureReport(p, household_erased, resealed, steps)
