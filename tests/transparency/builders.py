"""Builders shared by the transparency, monitoring and privacy tests (the regions and staff are
tests/conftest.py's): a programme with cycles, and recipients written straight into the tables in
numbers no service-built cast reaches cheaply (the services that normally write them have their
own tests, and tests/conftest.py's `pay` builds a paid household through them; here only the
counts matter)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from tepat.payments.models import Payment
from tepat.programs.models import Cycle, Entitlement, Programme
from tepat.registry.models import Household, Person
from tests.conftest import GEGERKALONG, PONDOK_RAJEG, SUKAASIH, SUKARASA

_serial = itertools.count(1)


def make_cycle(
    *, code: str = "2026-T4", state: str = "distributed", programme_code: str = "PKH-2026"
) -> Cycle:
    programme, _ = Programme.objects.get_or_create(
        code=programme_code,
        defaults={
            "name": "Program Keluarga Harapan",
            "kind": "pkh",
            "eligibility_rule": "desil <= 4",
            "effective_from": dt.date(2026, 1, 1),
        },
    )
    return Cycle.objects.create(
        programme=programme,
        code=code,
        state=state,
        period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 12, 31),
        control_count=100_000,
        control_amount=10**12,
    )


def make_recipients(
    cycle: Cycle,
    village: str,
    count: int,
    *,
    paid: int = 0,
    failed: int = 0,
    channel: str = "bank",
    amount: int = 750_000,
    names: list[str] | None = None,
) -> list[Entitlement]:
    """`count` households in `village` entitled in `cycle`; the first `paid` paid, the next
    `failed` failed."""
    out = []
    now = timezone.now()
    for i in range(count):
        n = next(_serial)
        household = Household.objects.create(
            kk_enc="test", kk_index=f"kk{n:08d}", village_id=village
        )
        name = names[i] if names else f"Warga Contoh {n}"
        person = Person.objects.create(
            nik_enc="test",
            nik_index=f"nik{n:08d}",
            household=household,
            relationship="head",
            full_name=name,
            name_search=name.lower(),
            sex="F",
            birth_date=dt.date(1980, 1, 1),
        )
        entitlement = Entitlement.objects.create(
            cycle=cycle,
            household=household,
            household_ref=household.public_id,
            beneficiary_ref=person.public_id,
            village_code=village,
            amount=amount,
            state="approved",
        )
        state = "paid" if i < paid else "failed" if i < paid + failed else "sent"
        Payment.objects.create(
            payment_key=f"pay-{n:08d}",
            cycle=cycle,
            entitlement=entitlement,
            beneficiary_ref=person.public_id,
            village_code=village,
            amount=amount,
            channel=channel,
            provider="BRI",
            payee_fa_enc="test",
            payee_fa_masked="********7890",
            state=state,
            next_attempt_at=now,
        )
        out.append(entitlement)
    return out


@pytest.fixture
def published(regions: None) -> Cycle:
    """One distributed PKH cycle: Sukarasa 25 (20 paid), Gegerkalong 4 (small), Pondok Rajeg
    12 (3 paid), Sukaasih 15 (15 paid); and a draft cycle that must never be published."""
    cycle = make_cycle()
    make_recipients(cycle, SUKARASA, 25, paid=20, failed=2)
    make_recipients(cycle, GEGERKALONG, 4, paid=4)
    make_recipients(cycle, PONDOK_RAJEG, 12, paid=3, channel="cash_pos")
    make_recipients(cycle, SUKAASIH, 15, paid=15, channel="ewallet")
    draft = make_cycle(code="2027-T1", state="draft")
    make_recipients(draft, SUKARASA, 30)
    return cycle
