"""The citizen portal's fixtures (the regions and staff are tests/conftest.py's): a registered
household with a paid PKH instalment and a desil (the head's NIK and the family's KK number at
hand), and a helper that answers the built-in challenge as a person would (by reading the
question)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache

from tests.conftest import BANDUNG_VILLAGE, make_household, make_members

WORDS = {
    w: i
    for i, w in enumerate(
        ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]
    )
}
WORDS.update(
    {
        w: i
        for i, w in enumerate(
            ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        )
    }
)


def solve(html: str) -> dict[str, str]:
    """The challenge token and the answer, read from a rendered form."""
    token = re.search(r'name="challenge" value="([^"]+)"', html)
    q = re.search(r"(?:Berapa|What is) (\w+) (?:ditambah|plus) (\w+)\?", html)
    assert token, "no challenge token on the page"
    assert q, "no challenge question on the page"
    return {"challenge": token.group(1), "answer": str(WORDS[q.group(1)] + WORDS[q.group(2)])}


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


@pytest.fixture
def citizen(regions: None, bandung_operator: Any) -> dict[str, Any]:
    """Asep Sunandar's household in Sukarasa: PKH tahap 4 paid at a PT Pos office, desil 2."""
    import datetime as dt

    from django.utils import timezone

    from tepat.payments.models import Payment
    from tepat.programs.models import Cycle, Entitlement, Programme
    from tepat.registry.services import household_register
    from tepat.targeting.models import HouseholdScore, PmtModel, ScoringRun

    members = make_members()
    household = make_household()
    hh = household_register(
        acting_user=bandung_operator, source="test", household=household, members=members
    )
    head = hh.members.get(relationship="head")
    programme = Programme.objects.create(
        code="PKH-2026",
        name="Program Keluarga Harapan",
        kind="pkh",
        eligibility_rule="desil <= 4",
        effective_from=dt.date(2026, 1, 1),
    )
    cycle = Cycle.objects.create(
        programme=programme,
        code="2026-T4",
        instalment=4,
        state="distributed",
        period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 12, 31),
        control_count=10,
        control_amount=10**9,
    )
    ent = Entitlement.objects.create(
        cycle=cycle,
        household=hh,
        household_ref=hh.public_id,
        beneficiary_ref=head.public_id,
        village_code=BANDUNG_VILLAGE,
        amount=750_000,
        state="approved",
    )
    now = timezone.now()
    Payment.objects.create(
        payment_key="pay-citizen-1",
        cycle=cycle,
        entitlement=ent,
        beneficiary_ref=head.public_id,
        village_code=BANDUNG_VILLAGE,
        amount=750_000,
        channel="cash_pos",
        provider="POS",
        payee_fa_enc="x",
        payee_fa_masked="****",
        payee_name="Asep Sunandar",
        collection_place="Kantor Pos Sukasari",
        collection_from=now,
        collection_until=now + dt.timedelta(days=7),
        state="paid",
        next_attempt_at=now,
    )
    model = PmtModel.objects.create(**_pmt_model_fields(PmtModel))
    run = ScoringRun.objects.create(model=model, status="done")
    HouseholdScore.objects.create(
        run=run, household=hh, score=12.3, desil_national=2, desil_regional=3
    )
    return {
        "nik": members[0]["nik"],
        "kk": household["kk"],
        "name": "Asep Sunandar",
        "phone": "081234567890",
        "head": head,
    }


def _pmt_model_fields(model: Any) -> dict[str, Any]:
    """Required fields of PmtModel filled with harmless values (its schema is targeting's)."""
    from django.db import models

    out: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.has_default() or f.null or getattr(f, "auto_now_add", False):
            continue
        if isinstance(f, models.ForeignKey):
            continue
        if isinstance(f, models.JSONField):
            out[f.name] = {}
        elif isinstance(f, (models.IntegerField, models.FloatField)):
            out[f.name] = 1
        elif isinstance(f, models.DateField):
            import datetime as dt

            out[f.name] = dt.date(2026, 1, 1)
        else:
            out[f.name] = "test"
    return out


def post_signed_sms(client: Any, data: dict[str, str], *, secret: str, **extra: Any) -> Any:
    """POST /sms/masuk/ as the gateway does: form body, timestamp and HMAC signature headers."""
    import time
    from urllib.parse import urlencode

    from tepat.messaging.gateway import webhook_signature

    body = urlencode(data).encode()
    ts = str(int(time.time()))
    return client.post(
        "/sms/masuk/",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TEPAT_TIMESTAMP=ts,
        HTTP_X_TEPAT_SIGNATURE=webhook_signature(secret=secret, timestamp=ts, body=body),
        **extra,
    )
