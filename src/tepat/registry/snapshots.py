"""Snapshots of registry rows for the change history: no secret in clear, only masks and indexes."""

from __future__ import annotations

from typing import Any

from tepat.core import crypto
from tepat.core.masking import mask_account, mask_nik, mask_phone
from tepat.registry.cleaning import HOUSEHOLD_EDITABLE
from tepat.registry.models import FinancialAddress, Household, Person

NIK_CONTEXT = "registry.person.nik"
KK_CONTEXT = "registry.household.kk"
PHONE_CONTEXT = "registry.person.phone"
ACCOUNT_CONTEXT = "registry.financial_address.account"


def household_snapshot(h: Household, *, kk: str | None = None) -> dict[str, Any]:
    kk_plain = kk if kk is not None else crypto.decrypt(h.kk_enc, context=KK_CONTEXT)
    snap: dict[str, Any] = {
        "public_id": h.public_id,
        "kk_masked": mask_nik(kk_plain),
        "kk_index": h.kk_index,
        "village_code": h.village_id,
        "version": h.version,
    }
    for name in HOUSEHOLD_EDITABLE:
        snap[name] = getattr(h, name)
    return snap


def person_snapshot(
    p: Person, *, household_public_id: str, nik: str | None = None, phone: str | None = None
) -> dict[str, Any]:
    nik_plain = nik if nik is not None else crypto.decrypt(p.nik_enc, context=NIK_CONTEXT)
    if phone is None:
        phone = crypto.decrypt(p.phone_enc, context=PHONE_CONTEXT) if p.phone_enc else ""
    return {
        "public_id": p.public_id,
        "household": household_public_id,
        "nik_masked": mask_nik(nik_plain),
        "nik_index": p.nik_index,
        "full_name": p.full_name,
        "sex": p.sex,
        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "birth_place": p.birth_place,
        "relationship": p.relationship,
        "marital_status": p.marital_status,
        "education": p.education,
        "school_level": p.school_level,
        "work_sector": p.work_sector,
        "disability": p.disability,
        "pregnant": p.pregnant,
        "phone_masked": mask_phone(phone),
        "deceased_on": p.deceased_on.isoformat() if p.deceased_on else None,
        "version": p.version,
    }


def financial_snapshot(
    fa: FinancialAddress, *, person_public_id: str, account: str
) -> dict[str, Any]:
    return {
        "public_id": fa.public_id,
        "person": person_public_id,
        "kind": fa.kind,
        "provider": fa.provider,
        "account_masked": mask_account(account),
        "holder_name": fa.holder_name,
        "valid_from": fa.valid_from.isoformat(),
        "valid_to": fa.valid_to.isoformat() if fa.valid_to else None,
    }


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, tuple[Any, Any]]:
    """Fields that changed between two snapshots: {field: (before, after)}."""
    before = before or {}
    after = after or {}
    keys = [k for k in after if k not in {"version"}] + [k for k in before if k not in after]
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}
