"""Proxies registered in advance to collect for an elderly or disabled beneficiary; their ID
numbers are kept encrypted and read only for the day's list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from tepat.accounts.scoping import can_see_region
from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, NotFound, ValidationFailed
from tepat.verification.models import ProxyCollector, ProxyReason
from tepat.verification.services.common import ISSUERS, _require

if TYPE_CHECKING:
    from tepat.accounts.models import User


PROXY_CONTEXT = "verification.proxy.id_number"


def proxy_register(
    *, acting_user: User, person_ref: str, name: str, id_number: str, reason: str
) -> ProxyCollector:
    """Register, in advance, who may collect for an elderly or disabled beneficiary."""
    from tepat.registry.models import Person

    _require(acting_user, ISSUERS, "mendaftarkan kuasa / register proxies")
    problems = []
    if reason not in ProxyReason.values:
        problems.append(FieldProblem("reason", "unknown_code", "elderly | disabled"))
    if not name.strip():
        problems.append(FieldProblem("name", "required", "Nama kuasa wajib diisi"))
    digits = "".join(ch for ch in id_number if ch.isdigit())
    if len(digits) < 6:
        problems.append(FieldProblem("id_number", "invalid", "Nomor identitas kuasa tidak sah"))
    person = Person.objects.select_related("household").filter(public_id=person_ref).first()
    if person is None or not can_see_region(acting_user, person.household.village_id):
        raise NotFound()
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic(durable=True):
        proxy = ProxyCollector.objects.create(
            person_ref=person_ref, name=name.strip()[:150], reason=reason,
            village_code=person.household.village_id,
            id_number_enc=crypto.encrypt(digits, context=PROXY_CONTEXT), registered_by=acting_user,
        )  # fmt: skip
        audit_record(actor=acting_user, action="proxy.register", target_type="person",
                     target_id=person_ref, region_code=person.household.village_id,
                     detail={"reason": reason})  # fmt: skip
    return proxy


def proxy_revoke(*, acting_user: User, proxy_id: str, reason: str) -> ProxyCollector:
    """End a proxy registration (the proxy moved away, the family asked): devices stop accepting
    the proxy's number at their next download, the server at the next sync."""
    from tepat.registry.models import Person

    _require(acting_user, ISSUERS, "mencabut kuasa / revoke proxies")
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", "required", "Alasan wajib diisi")])
    with transaction.atomic(durable=True):
        proxy = ProxyCollector.objects.select_for_update().filter(public_id=proxy_id).first()
        if proxy is None:
            raise NotFound()
        village = proxy.village_code or (
            Person.objects.filter(public_id=proxy.person_ref)
            .values_list("household__village_id", flat=True)
            .first()
            or ""
        )
        if not can_see_region(acting_user, village):
            raise NotFound()
        if proxy.revoked_at is None:
            proxy.revoked_at = timezone.now()
            proxy.revoked_by = acting_user
            proxy.revoke_reason = reason.strip()[:255]
            proxy.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
            audit_record(actor=acting_user, action="proxy.revoke", target_type="person",
                         target_id=proxy.person_ref, region_code=village,
                         detail={"proxy": proxy.public_id, "reason": proxy.revoke_reason})  # fmt: skip
    return proxy


def proxy_numbers(person_refs: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """person ref -> [(proxy name, proxy id number)] for live registrations."""
    out: dict[str, list[tuple[str, str]]] = {}
    rows = ProxyCollector.objects.filter(person_ref__in=list(person_refs), revoked_at__isnull=True)
    for p in rows:
        number = crypto.decrypt(p.id_number_enc, context=PROXY_CONTEXT)
        out.setdefault(p.person_ref, []).append((p.name, number))
    return out
