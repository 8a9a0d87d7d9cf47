"""Bulk synthetic beneficiaries for load tests and benchmarks (never for real data).

Writes households, heads and KKS accounts straight to the tables in bulk: going through
`household_register` one by one would measure the registry, not payments.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from tepat.registry import sealed

CHUNK = 5000


def seed_households(
    *, n: int, village_code: str, tag: str = "lt", accounts: bool = True
) -> list[int]:
    """`n` households, each with a head (with a BRI account when `accounts`); returns their ids."""
    from tepat.registry.models import FinancialAddress, Household, Person

    ids: list[int] = []
    now = timezone.now()
    seal_account = sealed.sealer(context=sealed.ACCOUNT)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        with transaction.atomic():
            hh = Household.objects.bulk_create([
                Household(kk_enc="synthetic", kk_index=f"{tag}-kk-{i}", village_id=village_code)
                for i in range(start, stop)
            ])  # fmt: skip
            if not all(h.pk for h in hh):  # SQLite before 3.35 does not return ids
                hh = list(
                    Household.objects.filter(kk_index__startswith=f"{tag}-kk-").order_by("id")[
                        start:stop
                    ]
                )
            heads = [
                Person(nik_enc="synthetic", nik_index=f"{tag}-nik-{i}", household=h, relationship="head",
                       full_name=f"Penerima {tag} {i}", name_search=f"penerima {tag} {i}", sex="F")
                for i, h in zip(range(start, stop), hh, strict=True)
            ]  # fmt: skip
            for i, p in zip(range(start, stop), heads, strict=True):
                p.birth_date = dt.date(1970 + i % 30, 1 + i % 12, 1 + i % 28)  # year + sealed date
            people = Person.objects.bulk_create(heads)
            if accounts:
                if not all(p.pk for p in people):
                    people = list(Person.objects.filter(household__in=hh).order_by("household_id"))
                fas = [
                    FinancialAddress(person=p, kind="bank", provider="BRI",
                                     account_index=f"{tag}-acc-{i}", valid_from=now, source="loadtest")
                    for i, p in zip(range(start, stop), people, strict=True)
                ]  # fmt: skip
                for i, fa in zip(range(start, stop), fas, strict=True):
                    # Bound to the address's row, like every registry account number.
                    fa.account_enc = seal_account(f"{7_000_000_001 + i}", fa.public_id)
                FinancialAddress.objects.bulk_create(fas)
            ids.extend(h.pk for h in hh)
    return ids
