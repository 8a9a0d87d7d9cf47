"""Verification's fixtures: the programmes' fixtures, plus an approved sembako cycle paid through
e-Warung vouchers (three households in Sukarasa, Kota Bandung); the staff, the field agent of
Sukarasa among them, are tests/conftest.py's."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from tepat.payments import services as payments
from tepat.payments.models import Payment
from tepat.programs import services as programs
from tepat.programs.models import Cycle
from tepat.verification import services as vs  # aliased: the star import brings programs.services
from tepat.verification.models import Voucher
from tests.conftest import register_household
from tests.programs.conftest import *  # noqa: F403 - the same cast and helpers


@pytest.fixture
def voucher_cycle(
    regions: None, make_programme: Any, make_cycle: Any, bandung_operator: Any, supervisor: Any
) -> Cycle:
    households = [register_household(i) for i in (1, 2, 3)]
    cycle = make_cycle(make_programme("sembako", channels=["ewarung"]))
    programs.cycle_compute(
        acting_user=bandung_operator, cycle=cycle, desil={h.id: 1 for h in households}
    )
    programs.cycle_submit(acting_user=bandung_operator, cycle=cycle)
    programs.cycle_approve(acting_user=supervisor, cycle=cycle)
    payments.payments_issue(acting_user=bandung_operator, cycle=cycle)
    # The cast's cycle covers January-March; open the collection window around today instead.
    now = dt.datetime.now(dt.UTC)
    Payment.objects.update(
        collection_from=now - dt.timedelta(days=1), collection_until=now + dt.timedelta(days=13)
    )
    vs.vouchers_issue(acting_user=bandung_operator, cycle=cycle)
    return cycle


@pytest.fixture
def vouchers(voucher_cycle: Cycle) -> list[Voucher]:
    return list(Voucher.objects.select_related("payment").order_by("id"))


def handover(v: Voucher, *, client_id: str | None = None, when: dt.datetime | None = None,
             method: str = "card") -> vs.HandoverIn:  # fmt: skip
    return vs.HandoverIn(
        client_id=client_id or str(uuid.uuid4()),
        token=v.token,
        method=method,
        device_time=when or dt.datetime.now(dt.UTC),
    )


@pytest.fixture
def allow(supervisor: Any) -> Any:
    """Set the methods the cast's sembako programme accepts on e-Warung vouchers."""

    def _allow(*methods: str, channel: str = "ewarung") -> Any:
        return vs.verification_policy_set(
            acting_user=supervisor, programme_code="SEMBAKO-2026", channel=channel,
            methods=list(methods),
        )  # fmt: skip

    return _allow
