"""Live progress per cycle, channel and province, within the user's regions."""

from __future__ import annotations

import pytest

from tepat.accounts.models import User
from tepat.monitoring.grievances import grievance_backlog
from tepat.monitoring.selectors import live_progress, metric_value
from tepat.payments.models import Difference
from tepat.programs.models import Cycle

pytestmark = pytest.mark.django_db


def test_a_nation_wide_role_sees_every_payment_of_active_cycles(
    admin_user: User, published: Cycle
) -> None:
    (item,) = live_progress(user=admin_user)  # the draft cycle is not active
    assert item.cycle == published
    assert item.overall.total == 56
    assert item.overall.paid == 42
    assert item.overall.failed == 2
    assert item.overall.failure_rate == round(100 * 2 / 44, 1)
    assert item.overall.percent_done == round(100 * 44 / 56)
    assert {code for code, _name, _p in item.by_province} == {"32", "36"}


def test_an_operator_sees_only_their_regency(bandung_operator: User, published: Cycle) -> None:
    (item,) = live_progress(user=bandung_operator)
    assert item.overall.total == 29
    assert [code for code, _name, _p in item.by_province] == ["32"]
    assert [label for label, _p in item.by_channel] == ["Transfer ke rekening KKS (Himbara)"]


def test_reconciliation_rate_counts_matched_paid_payments(
    admin_user: User, published: Cycle
) -> None:
    published.payments.filter(state="paid").order_by("id")[:21]
    ids = list(published.payments.filter(state="paid").values_list("id", flat=True)[:21])
    published.payments.filter(id__in=ids).update(reconciled=True)
    (item,) = live_progress(user=admin_user)
    assert item.overall.reconciliation_rate == 50.0
    assert metric_value(metric="unreconciled_rate", cycle=published, region_code="") == 50.0


def test_unexplained_differences_are_counted_within_the_region(
    bandung_operator: User, bogor_operator: User, published: Cycle
) -> None:
    key = published.payments.filter(village_code__startswith="3273").first().payment_key
    Difference.objects.create(cycle=published, kind="ours_not_paid", reference_id=key)
    assert live_progress(user=bandung_operator)[0].differences == 1
    assert live_progress(user=bogor_operator)[0].differences == 0
    assert metric_value(metric="differences", cycle=published, region_code="3273") == 1


def test_a_user_without_regions_sees_nothing(published: Cycle) -> None:
    from tests.conftest import make_staff

    nobody = make_staff("op_tanpa_wilayah", "operator")
    (item,) = live_progress(user=nobody)
    assert item.overall.total == 0


def test_the_grievance_backlog_is_read_from_the_grievances_app(db: None) -> None:
    backlog = grievance_backlog()
    assert (backlog.open, backlog.overdue) == (0, 0)
