"""Writes to the registry. Each service: keyword-only arguments, one transaction, an acting user,
a source, a change record with before and after, and an audit event. Writes of many rows at
once (a load, a linkage run's write-back) go through registry.bulk, which builds the same rows
and change records (`new_household`, `new_person`, `change_record` are shared from there)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tepat.accounts.scoping import can_edit_registry, can_see_region
from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import PermissionDenied, Problems, TepatError
from tepat.core.ids import new_public_id
from tepat.registry import choices as c
from tepat.registry import sealed
from tepat.registry.bulk import change_record, new_household, new_person, seal_person_secrets
from tepat.registry.cleaning import clean_household, clean_person, name_search_key
from tepat.registry.models import ChangeRecord, FinancialAddress, Household, Person
from tepat.registry.snapshots import diff, financial_snapshot, household_snapshot, person_snapshot

if TYPE_CHECKING:
    from tepat.accounts.models import User


def _region_lookups() -> tuple[Any, Any]:
    """Region checks backed by the regions table (cached per call site)."""
    from tepat.regions.models import Level, Region

    districts: set[str] | None = None
    villages: dict[str, bool] = {}

    def region_exists(prefix6: str) -> bool:
        nonlocal districts
        if districts is None:
            districts = set(
                Region.objects.filter(level=Level.DISTRICT).values_list("code", flat=True)
            )
        return prefix6 in districts

    def village_exists(code: str) -> bool:
        if code not in villages:
            villages[code] = Region.objects.filter(code=code, level=Level.VILLAGE).exists()
        return villages[code]

    return region_exists, village_exists


def _require_editor(acting_user: User, village_code: str) -> None:
    if acting_user is None:
        return  # system jobs (loads run from the command line by an administrator)
    if not can_edit_registry(acting_user) or not can_see_region(acting_user, village_code):
        raise PermissionDenied()


def _record(
    *,
    acting_user: User,
    entity_type: str,
    entity_id: str,
    household: Household,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    source: str,
    reason: str,
    audit_action: str,
    audit_target: tuple[str, str],
    detail: dict[str, Any],
    at: dt.datetime | None = None,
) -> None:
    """One change to the registry: its history record and its audit event, together."""
    change_record(
        at=at or timezone.now(),
        entity_type=entity_type,
        entity_id=entity_id,
        household=household,
        action=action,
        before=before,
        after=after,
        source=source,
        reason=reason,
        acting_user=acting_user,
    ).save()
    audit_record(
        actor=acting_user,
        action=audit_action,
        target_type=audit_target[0],
        target_id=audit_target[1],
        region_code=household.village_id,
        detail={"source": source, **detail},
    )


def _check_members(members: Sequence[Mapping[str, Any]], p: Problems) -> None:
    heads = [m for m in members if m.get("relationship") == c.Relationship.HEAD]
    if len(heads) != 1:
        p.error(
            "relationship",
            "one_head",
            f"Satu keluarga harus punya tepat satu kepala keluarga (ada {len(heads)}) / "
            "a household needs exactly one head",
        )


def household_register(
    *,
    acting_user: User,
    source: str,
    household: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    reason: str = "",
) -> Household:
    """Register a new household (No. KK) with its members. All or nothing."""
    today = timezone.localdate()
    region_exists, village_exists = _region_lookups()
    p = Problems()
    hdata = clean_household(
        household, p, region_exists=region_exists, village_exists=village_exists, today=today
    )
    pdata = [
        clean_person(m, p, row=i + 1, region_exists=region_exists, today=today)
        for i, m in enumerate(members)
    ]
    _check_members(pdata, p)
    niks = [d["nik"] for d in pdata if d.get("nik")]
    if len(set(niks)) != len(niks):
        p.error("nik", "duplicate", "NIK yang sama muncul dua kali / the same NIK appears twice")
    p.raise_if_errors()
    _require_editor(acting_user, hdata["village_code"])
    if Household.objects.filter(kk_index=crypto.blind_index(hdata["kk"], purpose="kk")).exists():
        p.error(
            "kk", "duplicate", "No. KK sudah terdaftar / this family card number already exists"
        )
    for i, d in enumerate(pdata):
        if Person.objects.filter(nik_index=crypto.blind_index(d["nik"], purpose="nik")).exists():
            p.error("nik", "duplicate", "NIK sudah terdaftar / NIK already registered", row=i + 1)
    p.raise_if_errors()

    now = timezone.now()
    with transaction.atomic():
        h = new_household(hdata)
        h.save()
        changes = [
            change_record(
                at=now,
                entity_type="household",
                entity_id=h.public_id,
                household=h,
                action="create",
                before=None,
                after=household_snapshot(h, kk=hdata["kk"]),
                source=source,
                reason=reason,
                acting_user=acting_user,
            )
        ]
        for d in pdata:
            person = new_person(d, household=h)
            person.save()
            changes.append(
                change_record(
                    at=now,
                    entity_type="person",
                    entity_id=person.public_id,
                    household=h,
                    action="create",
                    before=None,
                    after=person_snapshot(
                        person, household_public_id=h.public_id, nik=d["nik"], phone=d["phone"]
                    ),
                    source=source,
                    reason=reason,
                    acting_user=acting_user,
                )
            )
        ChangeRecord.objects.bulk_create(changes)
        audit_record(
            actor=acting_user,
            action="household.register",
            target_type="household",
            target_id=h.public_id,
            region_code=h.village_id,
            detail={"source": source, "members": len(pdata)},
        )
    return h


def household_update(
    *,
    acting_user: User,
    household: Household,
    changes: Mapping[str, Any],
    source: str,
    reason: str = "",
) -> Household:
    """Change household attributes or address (not the No. KK). Records before and after."""
    if "kk" in changes:
        raise TepatError(
            "No. KK tidak bisa diubah / the family card number cannot change", field="kk"
        )
    region_exists, village_exists = _region_lookups()
    p = Problems()
    cleaned = clean_household(
        changes,
        p,
        region_exists=region_exists,
        village_exists=village_exists,
        today=timezone.localdate(),
        partial=True,
    )
    p.raise_if_errors()
    _require_editor(acting_user, household.village_id)
    if "village_code" in cleaned:
        _require_editor(acting_user, cleaned["village_code"])
    with transaction.atomic():
        h = Household.objects.select_for_update().get(pk=household.pk)
        before = household_snapshot(h)
        for name, value in cleaned.items():
            if name == "village_code":
                h.village_id = value
            else:
                setattr(h, name, value)
        h.version += 1
        after = household_snapshot(h)
        if not diff(before, after):
            return household
        h.save()
        _record(
            acting_user=acting_user,
            entity_type="household",
            entity_id=h.public_id,
            household=h,
            action="update",
            before=before,
            after=after,
            source=source,
            reason=reason,
            audit_action="household.update",
            audit_target=("household", h.public_id),
            detail={"fields": sorted(diff(before, after))},
        )
    return h


def person_update(
    *,
    acting_user: User,
    person: Person,
    changes: Mapping[str, Any],
    source: str,
    reason: str = "",
) -> Person:
    """Correct or update a person's data (including NIK corrections from the civil registry)."""
    if "relationship" in changes and changes["relationship"] == c.Relationship.HEAD:
        raise TepatError(
            "Ganti kepala keluarga lewat pindah anggota / change the head through a move",
            field="relationship",
        )
    region_exists, _ = _region_lookups()
    p = Problems()
    cleaned = clean_person(
        changes, p, region_exists=region_exists, today=timezone.localdate(), partial=True
    )
    p.raise_if_errors()
    _require_editor(acting_user, person.household.village_id)
    with transaction.atomic():
        obj = Person.objects.select_for_update().select_related("household").get(pk=person.pk)
        hpid = obj.household.public_id
        before = person_snapshot(obj, household_public_id=hpid)
        nik = cleaned.pop("nik", None)
        phone = cleaned.pop("phone", None)
        for name, value in cleaned.items():
            setattr(obj, name, value)
        if "full_name" in cleaned:
            obj.name_search = name_search_key(obj.full_name)
        if nik is not None or phone is not None:
            current_nik = sealed.unseal(obj.nik_enc, context=sealed.NIK, row=obj.public_id)
            current_phone = (
                sealed.unseal(obj.phone_enc, context=sealed.PHONE, row=obj.public_id)
                if obj.phone_enc
                else ""
            )
            seal_person_secrets(
                obj,
                nik=nik if nik is not None else current_nik,
                phone=phone if phone is not None else current_phone,
            )
        obj.version += 1
        after = person_snapshot(obj, household_public_id=hpid)
        if not diff(before, after):
            return person
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError as exc:
            raise TepatError(
                "NIK sudah terdaftar pada orang lain / NIK belongs to another person",
                code="duplicate",
                field="nik",
            ) from exc
        _record(
            acting_user=acting_user,
            entity_type="person",
            entity_id=obj.public_id,
            household=obj.household,
            action="update",
            before=before,
            after=after,
            source=source,
            reason=reason,
            audit_action="person.update",
            audit_target=("person", obj.public_id),
            detail={"fields": sorted(diff(before, after))},
        )
    return obj


def person_move(
    *,
    acting_user: User,
    person: Person,
    to_household: Household,
    relationship: str,
    source: str,
    reason: str = "",
) -> Person:
    """Move a person to another household (marriage, a new KK, a move)."""
    if relationship not in c.Relationship.values:
        raise TepatError(f"Hubungan {relationship!r} tidak dikenal / unknown", field="relationship")
    _require_editor(acting_user, person.household.village_id)
    _require_editor(acting_user, to_household.village_id)
    with transaction.atomic():
        obj = Person.objects.select_for_update().select_related("household").get(pk=person.pk)
        before = person_snapshot(obj, household_public_id=obj.household.public_id)
        obj.household = to_household
        obj.relationship = relationship
        obj.version += 1
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError as exc:
            raise TepatError(
                "Rumah tangga tujuan sudah punya kepala keluarga / the household has a head",
                code="duplicate_head",
                field="relationship",
            ) from exc
        _record(
            acting_user=acting_user,
            entity_type="person",
            entity_id=obj.public_id,
            household=to_household,
            action="move",
            before=before,
            after=person_snapshot(obj, household_public_id=to_household.public_id),
            source=source,
            reason=reason,
            audit_action="person.move",
            audit_target=("person", obj.public_id),
            detail={"from": before["household"], "to": to_household.public_id},
        )
    return obj


def financial_address_set(
    *,
    acting_user: User,
    person: Person,
    kind: str,
    provider: str,
    account: str,
    holder_name: str = "",
    source: str,
    reason: str = "",
) -> FinancialAddress:
    """Record a new bank or e-wallet account: the previous one is closed, never overwritten."""
    p = Problems()
    provider = provider.strip().upper()
    account = "".join(account.split())
    if kind not in c.FinancialKind.values:
        p.error("kind", "unknown_code", f"Jenis {kind!r} tidak dikenal / unknown kind")
    allowed = c.BANKS if kind == c.FinancialKind.BANK else c.EWALLETS
    if provider not in allowed:
        p.error(
            "provider",
            "unknown_code",
            f"Penyedia {provider!r} tidak dikenal; pilihan: {', '.join(allowed)}",
        )
    if not account.isdigit() or not 6 <= len(account) <= 20:
        p.error(
            "account",
            "bad_account",
            "Nomor rekening harus 6-20 digit / account must be 6-20 digits",
        )
    p.raise_if_errors()
    _require_editor(acting_user, person.household.village_id)
    now = timezone.now()
    with transaction.atomic():
        current = (
            FinancialAddress.objects.select_for_update()
            .filter(person=person, kind=kind, valid_to__isnull=True)
            .first()
        )
        before = None
        if current is not None:
            old_account = sealed.unseal(
                current.account_enc, context=sealed.ACCOUNT, row=current.public_id
            )
            before = financial_snapshot(
                current, person_public_id=person.public_id, account=old_account
            )
            current.valid_to = now
            current.save(update_fields=["valid_to"])
        fa_public_id = new_public_id()
        fa = FinancialAddress.objects.create(
            public_id=fa_public_id,
            person=person,
            kind=kind,
            provider=provider,
            account_enc=sealed.seal(account, context=sealed.ACCOUNT, row=fa_public_id),
            account_index=crypto.blind_index(account, purpose="account"),
            holder_name=holder_name.strip()[:150],
            valid_from=now,
            source=source,
            recorded_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        )
        _record(
            acting_user=acting_user,
            entity_type="financial_address",
            entity_id=fa.public_id,
            household=person.household,
            action="create" if before is None else "update",
            before=before,
            after=financial_snapshot(fa, person_public_id=person.public_id, account=account),
            source=source,
            reason=reason,
            audit_action="financial_address.set",
            audit_target=("person", person.public_id),
            detail={"kind": kind, "provider": provider, "replaced": before is not None},
            at=now,
        )
    return fa
