"""Snapshots of registry rows for the change history: no secret in clear, and identifying values
sealed under the data subject's own key.

A snapshot's identifying fields (`IDENTIFYING`: masks, blind indexes, names, birth date and place,
address) are moved into one `sealed` member, encrypted under the subject key of the person (or,
for a family's No. KK and address, of the household): `{"sealed": {"subject", "fields",
"token"}}`. Erasure shreds that key (core.subjectkeys), so the history keeps its rows, its
structure and its non-identifying attributes while the identifying values become unreadable;
readers `open_snapshot` and see `ERASED` in their place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from tepat.core.masking import mask_account, mask_nik, mask_phone
from tepat.core.subjectkeys import ERASED, SubjectKeyring, household_subject, subject_keyring
from tepat.registry import sealed
from tepat.registry.cleaning import HOUSEHOLD_EDITABLE
from tepat.registry.models import FinancialAddress, Household, Person

if TYPE_CHECKING:
    from tepat.registry.models import ChangeRecord

# Column contexts of the registry's ciphertexts, each bound to its row (registry.sealed).
NIK_CONTEXT = sealed.NIK
KK_CONTEXT = sealed.KK
PHONE_CONTEXT = sealed.PHONE
ACCOUNT_CONTEXT = sealed.ACCOUNT


def household_snapshot(h: Household, *, kk: str | None = None) -> dict[str, Any]:
    kk_plain = (
        kk if kk is not None else sealed.unseal(h.kk_enc, context=KK_CONTEXT, row=h.public_id)
    )
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
    nik_plain = (
        nik if nik is not None else sealed.unseal(p.nik_enc, context=NIK_CONTEXT, row=p.public_id)
    )
    if phone is None:
        phone = (
            sealed.unseal(p.phone_enc, context=PHONE_CONTEXT, row=p.public_id)
            if p.phone_enc
            else ""
        )
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


# Values in a snapshot that identify someone (and a person's health data, specific data under
# UU 27/2022 Art. 4), sealed under their subject key. Household values (No. KK, address) are the
# whole family's: they are sealed under the household's own subject key, shredded when no member
# who is not erased is left (registry.rights). Structure stays in clear: public ids, village,
# version, and the non-identifying attributes the history's readers compare.
IDENTIFYING: dict[str, tuple[str, ...]] = {
    "household": ("kk_masked", "kk_index", "address", "rt", "rw"),
    "person": (
        "nik_masked",
        "nik_index",
        "full_name",
        "birth_date",
        "birth_place",
        "phone_masked",
        "disability",
        "pregnant",
    ),
    "financial_address": ("account_masked", "holder_name"),
}
SEALED = "sealed"
# json.dumps with options builds an encoder per call; a load seals a million snapshots.
_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def snapshot_subject(entity_type: str, snap: dict[str, Any]) -> str:
    """Whose key seals this snapshot: the household, the person, or the account's holder."""
    if entity_type == "household":
        return household_subject(str(snap["public_id"]))
    if entity_type == "financial_address":
        return str(snap["person"])
    return str(snap["public_id"])


def _context(entity_type: str, snap: dict[str, Any]) -> str:
    return f"registry.history.{entity_type}:{snap['public_id']}"


def seal_snapshot(
    entity_type: str, snap: dict[str, Any] | None, ring: SubjectKeyring
) -> dict[str, Any] | None:
    """The snapshot with its identifying values encrypted under the subject's key."""
    if snap is None or SEALED in snap:
        return snap
    fields = [f for f in IDENTIFYING.get(entity_type, ()) if f in snap]
    if not fields:
        return snap
    subject = snapshot_subject(entity_type, snap)
    secret = _JSON.encode({f: snap[f] for f in fields})
    out = {k: v for k, v in snap.items() if k not in fields}
    out[SEALED] = {
        "subject": subject,
        "fields": fields,
        "token": ring.encrypt(subject, secret, context=_context(entity_type, snap)),
    }
    return out


def open_snapshot(
    entity_type: str, snap: dict[str, Any] | None, ring: SubjectKeyring | None = None
) -> dict[str, Any] | None:
    """The snapshot with its sealed values back in clear, or `ERASED` where the subject's key
    was shredded. Snapshots written before sealing existed come back unchanged."""
    if not snap or SEALED not in snap:
        return snap
    box = snap[SEALED]
    ring = ring or subject_keyring([box["subject"]])
    plain = ring.decrypt(box["subject"], box["token"], context=_context(entity_type, snap))
    values = json.loads(plain) if plain is not None else dict.fromkeys(box["fields"], ERASED)
    out = {k: v for k, v in snap.items() if k != SEALED}
    out.update(values)
    return out


def history_keyring(records: Iterable[ChangeRecord]) -> SubjectKeyring:
    """One keyring holding the keys of every subject in `records` (one query per 900)."""
    subjects = [
        snap[SEALED]["subject"]
        for r in records
        for snap in (r.before, r.after)
        if snap and SEALED in snap
    ]
    return subject_keyring(subjects)


def open_records(
    records: Sequence[ChangeRecord],
) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """(before, after) of each change record, opened; keys loaded in bulk."""
    ring = history_keyring(records)
    return [
        (open_snapshot(r.entity_type, r.before, ring), open_snapshot(r.entity_type, r.after, ring))
        for r in records
    ]


Snapshot = dict[str, Any] | None


def open_pairs(
    entity_type: str, pairs: Sequence[tuple[Snapshot, Snapshot]]
) -> list[tuple[Snapshot, Snapshot]]:
    """(before, after) pairs of one entity type (e.g. from `values_list`), opened in bulk."""
    ring = subject_keyring(
        snap[SEALED]["subject"] for pair in pairs for snap in pair if snap and SEALED in snap
    )
    return [
        (open_snapshot(entity_type, b, ring), open_snapshot(entity_type, a, ring)) for b, a in pairs
    ]
