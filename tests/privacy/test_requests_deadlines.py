"""The legal clock: 3 x 24 hours from receipt, per kind from one table that cites the article;
the queue shows the time left, puts the least time (overdue first) on top, and shows overdue
requests in red; a decision stops the clock."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tepat.privacy import selectors
from tepat.privacy.models import KIND_RULES, DataSubjectRequest, RequestKind, due_at_for
from tests.privacy.rights_cast import (  # noqa: F401 (fixtures)
    _clear_cache,
    act,
    open_at_office,
    request_id_from,
    subject,
)

RECEIVED = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("kind", RequestKind.values)
def test_every_kind_is_due_three_times_24_hours_after_receipt_with_its_article(kind):
    rule = KIND_RULES[kind]
    assert rule.hours == 72
    assert rule.article.startswith("UU 27/2022 Pasal ")
    assert due_at_for(kind, RECEIVED) == dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)


def test_the_articles_that_set_the_period_themselves_are_marked_statutory():
    statutory = {k for k, r in KIND_RULES.items() if r.statutory}
    assert statutory == {RequestKind.ACCESS, RequestKind.CORRECTION, RequestKind.RESTRICTION}
    assert "32 ayat (2)" in KIND_RULES[RequestKind.ACCESS].article
    assert "30 ayat (1)" in KIND_RULES[RequestKind.CORRECTION].article
    assert "41 ayat (1)" in KIND_RULES[RequestKind.RESTRICTION].article


def test_decisions_that_change_or_erase_data_need_a_checker():
    assert {k for k, r in KIND_RULES.items() if r.needs_checker} == {
        RequestKind.CORRECTION,
        RequestKind.RESTRICTION,
        RequestKind.DELETION,
    }


def test_time_left_reads_in_hours_and_minutes():
    assert selectors.time_left_text(71 * 3600 + 59 * 60 + 5) == "71 jam 59 menit lagi"
    assert selectors.time_left_text(-(5 * 3600 + 7 * 60)) == "lewat 5 jam 07 menit"


@pytest.mark.django_db
def test_an_office_request_is_due_72_hours_after_it_was_recorded(subject, bandung_operator, login):
    before = timezone.now()
    pid = request_id_from(open_at_office(login(bandung_operator), subject["nik"], "access"))
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert before <= dsr.received_at <= timezone.now()
    assert dsr.due_at - dsr.received_at == dt.timedelta(hours=72)


def _aged(pid: str, hours: float) -> None:
    """The request came in `hours` ago (its deadline moves with it)."""
    received = timezone.now() - dt.timedelta(hours=hours)
    DataSubjectRequest.objects.filter(public_id=pid).update(
        received_at=received, due_at=received + dt.timedelta(hours=72)
    )


@pytest.mark.django_db
def test_the_queue_puts_the_least_time_left_on_top_and_overdue_in_red(
    subject, bandung_operator, login
):
    op = login(bandung_operator)
    fresh = request_id_from(open_at_office(op, subject["nik"], "access"))
    late = request_id_from(open_at_office(op, subject["nik"], "deletion"))
    middle = request_id_from(
        open_at_office(op, subject["child_nik"], "objection", objection_target="exclusion")
    )
    _aged(late, 80)  # 8 hours overdue
    _aged(middle, 48)  # 24 hours left
    rows = selectors.request_queue(user=bandung_operator)
    assert [r.request.public_id for r in rows] == [late, middle, fresh]
    assert rows[0].time_left.overdue
    assert rows[0].time_left.seconds < -7 * 3600
    assert not rows[1].time_left.overdue
    html = op.get("/privasi/permintaan/").content.decode()
    assert html.index(late) < html.index(middle) < html.index(fresh)
    late_row = html[html.index(f'data-request="{late}"') :].split("</tr>")[0]
    assert "text-error-dark" in late_row
    assert "lewat 8 jam" in late_row
    fresh_row = html[html.index(f'data-request="{fresh}"') :].split("</tr>")[0]
    assert "text-error-dark" not in fresh_row
    assert "lagi" in fresh_row
    overdue_only = op.get("/privasi/permintaan/?status=overdue").content.decode()
    assert late in overdue_only
    assert fresh not in overdue_only
    kind_only = op.get("/privasi/permintaan/?jenis=objection").content.decode()
    assert middle in kind_only
    assert late not in kind_only


@pytest.mark.django_db
def test_a_decision_stops_the_clock_and_says_whether_it_was_in_time(
    subject, bandung_operator, login
):
    op = login(bandung_operator)
    pid = request_id_from(open_at_office(op, subject["nik"], "objection", objection_target="desil"))
    _aged(pid, 75)
    act(op, pid, "decide", outcome="rejected", outcome_text="Data rumah sesuai hasil kunjungan")
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert selectors.time_left(dsr) is None
    assert selectors.met_deadline(dsr) is False
    assert "selesai melewati batas waktu" in op.get(f"/privasi/permintaan/{pid}/").content.decode()
