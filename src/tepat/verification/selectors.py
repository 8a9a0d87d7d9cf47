"""Reads for verification: the day's list for a field agent, the revocation list, the key, and
what staff review: flagged handovers, proxies and face enrolment of a person, the policies."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from tepat.accounts.scoping import payment_q, region_q
from tepat.verification import signing
from tepat.verification.models import (
    FaceTemplate,
    Handover,
    HandoverStatus,
    ProxyCollector,
    VerificationPolicy,
    Voucher,
)
from tepat.verification.services import (
    VOUCHER_CHANNELS,
    DayListKdf,
    PolicyBook,
    card_checks,
    day_list_kdf,
    default_methods,
    proxy_numbers,
)

DISTRICT, VILLAGE = 6, 10  # lengths of undotted Kemendagri codes


def _scoped(user: Any) -> QuerySet[Voucher]:
    """Vouchers of payments the user may see (their village in scope, their cycle readable)."""
    return Voucher.objects.filter(region_q(user, field="village_code"), payment_q(user, "payment"))


def voucher_get(*, user: Any, public_id: str) -> Voucher | None:
    return _scoped(user).select_related("payment").filter(public_id=public_id).first()


def _cards(refs: list[str]) -> dict[str, str]:
    """person public id -> current KKS (Himbara bank) account number."""
    from tepat.registry import sealed
    from tepat.registry.models import FinancialAddress

    out: dict[str, str] = {}
    open_account = sealed.unsealer(context=sealed.ACCOUNT)  # bound to the address's row
    rows = FinancialAddress.objects.filter(
        person__public_id__in=refs, kind="bank", valid_to__isnull=True
    ).values_list("person__public_id", "account_enc", "public_id")
    for ref, enc, fa_ref in rows:
        out[ref] = open_account(enc, fa_ref)
    return out


def day_list_places(*, user: Any, village: str = "") -> list[str]:
    """The places whose day's list `user` may take offline: a field agent's own assignments at
    district or village level (a wider scope is no place to stand in), or the one `village`
    asked for, which must lie inside them. Anyone else, and an agent asking for another place,
    is refused (403): the list carries names, amounts and card checks of a place's
    beneficiaries and belongs on the phones of those who hand over there only."""
    from tepat.accounts.models import Role
    from tepat.core.errors import PermissionDenied

    if (
        not getattr(user, "is_authenticated", False)
        or getattr(user, "role", "") != Role.FIELD_AGENT
    ):
        raise PermissionDenied(
            "Daftar harian hanya untuk petugas lapangan / the day's list is for field agents"
        )
    places = [c for c in user.region_codes if len(c) >= DISTRICT]
    if village:
        code = village.replace(".", "")
        if len(code) != VILLAGE or not any(code.startswith(p) for p in places):
            raise PermissionDenied(
                "Anda tidak ditugaskan di desa ini / you are not assigned to this village"
            )
        return [code]
    if not places:
        raise PermissionDenied(
            "Anda belum ditugaskan di desa atau kecamatan / you are assigned to no village or "
            "district"
        )
    return places


def day_list(
    *, user: Any, kdf: DayListKdf | None = None, village: str = ""
) -> list[dict[str, Any]]:
    """Vouchers the agent may hand over now at its places (`day_list_places`): valid, not
    revoked, not redeemed. Card and proxy numbers travel only as slow salted digests under `kdf`
    (a fresh salt per download unless given)."""
    kdf = kdf or day_list_kdf()
    places = day_list_places(user=user, village=village)
    where = Q()
    for code in places:
        where |= Q(village_code__startswith=code)
    now = timezone.now()
    qs = (
        _scoped(user)
        .filter(where, revoked_at__isnull=True, valid_until__gte=now)
        .exclude(handovers__status=HandoverStatus.ACCEPTED)
        .select_related("payment__cycle")
        .order_by("village_code", "id")
    )
    vouchers = list(qs)
    policy = PolicyBook()
    refs = [v.payment.beneficiary_ref for v in vouchers]
    cards = _cards(refs)
    proxies = proxy_numbers(refs)
    pairs: list[tuple[str, str]] = []
    for v in vouchers:
        ref = v.payment.beneficiary_ref
        if ref in cards:
            pairs.append((v.public_id, cards[ref]))
        pairs.extend((v.public_id, number) for _name, number in proxies.get(ref, []))
    checks = iter(card_checks(pairs, kdf=kdf))
    items = []
    for v in vouchers:
        ref = v.payment.beneficiary_ref
        card = next(checks) if ref in cards else ""
        items.append({
            "id": v.public_id, "token": v.token, "name": v.payment.payee_name,
            "amount": v.payment.amount, "village": v.village_code,
            "place": v.payment.collection_place, "card_check": card,
            "proxies": [{"name": name, "check": next(checks)} for name, _n in proxies.get(ref, [])],
            "methods": policy.methods(v.payment.cycle.programme_id, v.payment.channel),
        })  # fmt: skip
    return items


def revocation_list(*, user: Any) -> list[str]:
    now = timezone.now()
    return list(
        _scoped(user)
        .filter(revoked_at__isnull=False, valid_until__gte=now)
        .values_list("public_id", flat=True)
    )


def public_key() -> dict[str, str]:
    raw = signing.public_key_raw()
    return {"alg": "Ed25519", "key_id": signing.key_id(raw), "public_key": signing.b64e(raw)}


def flagged_handovers(*, user: Any, include_resolved: bool = False) -> QuerySet[Handover]:
    """Flagged handovers in the user's regions (double redemptions, revoked vouchers), open ones
    first by default, newest first."""
    qs = Handover.objects.filter(Q(flagged=True), region_q(user, field="voucher__village_code"))
    if not include_resolved:
        qs = qs.filter(decided_at__isnull=True)
    return qs.select_related("voucher__payment__cycle__programme", "agent", "decided_by").order_by(
        "-received_at", "-id"
    )


def accepted_handover_of(*, voucher: Voucher) -> Handover | None:
    """The handover that was accepted for a voucher: what a flagged one is compared with."""
    return (
        Handover.objects.filter(voucher=voucher, status=HandoverStatus.ACCEPTED)
        .select_related("agent")
        .first()
    )


def proxies_of(*, user: Any, person_ref: str, include_revoked: bool = True) -> list[ProxyCollector]:
    qs = ProxyCollector.objects.filter(
        region_q(user, field="village_code"), person_ref=person_ref
    ).order_by("-registered_at", "-id")
    if not include_revoked:
        qs = qs.filter(revoked_at__isnull=True)
    return list(qs)


def proxies_in_scope(*, user: Any, limit: int = 200) -> list[ProxyCollector]:
    """Live proxy registrations in the user's regions, newest first."""
    return list(
        ProxyCollector.objects.filter(
            region_q(user, field="village_code"), revoked_at__isnull=True
        ).order_by("-registered_at", "-id")[:limit]
    )


def face_enrolled(*, person_ref: str) -> FaceTemplate | None:
    return FaceTemplate.objects.filter(person_ref=person_ref).first()


def policies() -> list[dict[str, Any]]:
    """Every programme x voucher channel with the methods in force and whether they are set or
    the default."""
    from tepat.programs.models import Programme

    rows = {(r.programme_id, r.channel): r for r in VerificationPolicy.objects.all()}
    default = default_methods()
    out = []
    for prog in Programme.objects.order_by("code"):
        for channel in VOUCHER_CHANNELS:
            row = rows.get((prog.pk, channel))
            out.append({
                "programme": prog.code, "programme_name": prog.name, "channel": str(channel),
                "methods": list(row.methods) if row else default, "configured": row is not None,
                "updated_at": row.updated_at if row else None,
            })  # fmt: skip
    return out


def ewarung_record(*, user: Any) -> list[dict[str, Any]]:
    """The e-Warung's own record: every voucher it redeemed, with value and settlement."""
    rows = (
        Handover.objects.filter(agent=user, status=HandoverStatus.ACCEPTED)
        .select_related("voucher__payment", "settlement")
        .order_by("id")
    )
    return [
        {
            "voucher": h.voucher.public_id,
            "amount": h.voucher.payment.amount,
            "at": h.received_at,
            "settlement": h.settlement.public_id if h.settlement else None,
        }
        for h in rows
    ]


def vouchers_of_payments(*, payment_ids: list[int]) -> QuerySet[Voucher]:
    """Vouchers issued for these payments, with their handovers (never the signed token's use:
    the caller shows dates and states), unscoped: for the household's own access export."""
    return (
        Voucher.objects.filter(payment_id__in=payment_ids)
        .select_related("payment")
        .prefetch_related("handovers")
        .order_by("issued_at", "id")
    )


def proxies_of_persons(*, person_refs: list[str]) -> QuerySet[ProxyCollector]:
    """Proxy collectors registered for these people, live and revoked, oldest first."""
    return ProxyCollector.objects.filter(person_ref__in=person_refs).order_by("registered_at", "id")
