"""The shared cast (tests/conftest.py) is what its comments say: every test in the suite leans on
who can see which household, so a change to a cast member shows here first, not as a puzzling
failure in some app's tests."""

from __future__ import annotations

from typing import Any

import pytest

from tepat.payments.models import Payment, PaymentState
from tepat.registry.selectors import households_visible
from tests.conftest import register_household

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(bandung_household: Any, bogor_household: Any) -> dict[str, Any]:
    return {"bandung": bandung_household, "bogor": bogor_household}


@pytest.mark.parametrize(
    ("member", "sees"),
    [
        ("admin_user", {"bandung", "bogor"}),
        ("bandung_operator", {"bandung"}),
        ("second_bandung_operator", {"bandung"}),
        ("operator", {"bandung"}),
        ("bogor_operator", {"bogor"}),
        ("banten_operator", set()),
        ("unscoped_operator", set()),
        ("supervisor", {"bandung", "bogor"}),
        ("second_supervisor", {"bandung", "bogor"}),
        ("new_supervisor", {"bandung", "bogor"}),
        ("auditor", {"bandung", "bogor"}),
        ("field_agent", {"bandung"}),
    ],
)
def test_each_member_of_staff_sees_the_households_of_their_regions(
    request: pytest.FixtureRequest, both: dict[str, Any], member: str, sees: set[str]
) -> None:
    user = request.getfixturevalue(member)
    visible = set(households_visible(user).values_list("pk", flat=True))
    assert {name for name, h in both.items() if h.pk in visible} == sees


def test_staff_client_signs_in_past_the_totp_step(staff_client: Any, bandung_operator: Any) -> None:
    assert staff_client(bandung_operator).get("/registry/").status_code == 200


def test_pay_builds_a_paid_household_through_the_services(
    admin_user: Any, bandung_operator: Any, supervisor: Any
) -> None:
    from tests.conftest import pay

    household = register_household(1)
    cycle = pay(
        operator=bandung_operator, supervisor=supervisor, admin=admin_user, households=[household]
    )
    payment = Payment.objects.get(entitlement__household=household)
    assert cycle.state == "approved"
    assert payment.state == PaymentState.PAID
    assert payment.cycle_id == cycle.pk
