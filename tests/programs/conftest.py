"""The programmes' fixtures (the staff and regions are tests/conftest.py's): a few households with
known PKH components, and helpers to build programmes and cycles quickly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from tepat.programs import services
from tepat.programs.models import Cycle, Programme
from tepat.registry.models import Household
from tests.conftest import BOGOR_VILLAGE, register_household

PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


@pytest.fixture
def households(regions: None) -> list[Household]:
    """Three households in Bandung, one in Bogor. Each has a pregnant wife and a child in SMP
    (born 2014) on 2026-01-01: PKH Rp3.0M + Rp1.5M a year = Rp1,125,000 a tahap."""
    return [
        register_household(1),
        register_household(2),
        register_household(3),
        register_household(4, village=BOGOR_VILLAGE),
    ]


@pytest.fixture
def desil_of(households: list[Household]) -> dict[int, int]:
    """Desil 1-3 for the first three households, 8 for the last (not poor)."""
    return {households[0].id: 1, households[1].id: 2, households[2].id: 3, households[3].id: 8}


@pytest.fixture
def make_programme(admin_user: Any) -> Callable[..., Programme]:
    def _make(
        kind: str = "pkh", code: str | None = None, rule: str = "desil <= 4", **params: Any
    ) -> Programme:
        return services.programme_create(
            acting_user=admin_user, code=code or f"{kind.upper()}-2026", name=f"{kind} 2026",
            kind=kind, eligibility_rule=rule, effective_from=dt.date(2026, 1, 1),
            effective_to=dt.date(2026, 12, 31), params=params,
        )  # fmt: skip

    return _make


@pytest.fixture
def make_cycle(bandung_operator: Any) -> Callable[..., Cycle]:
    def _make(
        programme: Programme, code: str = "2026-T1", count: int = 100, amount: int = 10**9
    ) -> Cycle:
        return services.cycle_create(
            acting_user=bandung_operator, programme=programme, code=code, instalment=1,
            period_start=PERIOD[0], period_end=PERIOD[1], control_count=count, control_amount=amount,
        )  # fmt: skip

    return _make


@pytest.fixture
def computed_cycle(
    make_programme: Any, make_cycle: Any, bandung_operator: Any, desil_of: dict[int, int]
) -> Cycle:
    cycle = make_cycle(make_programme())
    return services.cycle_compute(acting_user=bandung_operator, cycle=cycle, desil=desil_of)


@pytest.fixture
def approved_cycle(computed_cycle: Cycle, bandung_operator: Any, supervisor: Any) -> Cycle:
    services.cycle_submit(acting_user=bandung_operator, cycle=computed_cycle)
    return services.cycle_approve(acting_user=supervisor, cycle=computed_cycle)
