"""A complaint's history reads as words on the citizen's status page and the operator's page:
`in_review`, `assigned`, `decided` never show."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tepat.grievances.models import Complaint, ComplaintEvent
from tepat.grievances.services import (
    complaint_assign,
    complaint_decide,
    complaint_submit,
    complaints_escalate,
)
from tests.conftest import BANDUNG_VILLAGE

pytestmark = pytest.mark.django_db

CODES = ("received", "assigned", "in_review", "decided", "rejected", "escalated", "appealed")


@pytest.fixture
def handled(regions, bandung_operator, key):
    """Filed, escalated past its deadline, taken up by the Bandung operator, rejected."""
    complaint, _ = complaint_submit(
        submission_key=key(), category="amount", village_code=BANDUNG_VILLAGE,
        description="Yang diterima hanya Rp400.000, bukan Rp600.000.",
    )  # fmt: skip
    complaints_escalate(now=complaint.due_at + dt.timedelta(minutes=1))
    complaint_assign(acting_user=bandung_operator, complaint=complaint, assignee=bandung_operator)
    complaint_decide(
        acting_user=bandung_operator, complaint=Complaint.objects.get(pk=complaint.pk),
        decision="rejected", note="Nominal sesuai ketentuan.",
    )  # fmt: skip
    return Complaint.objects.get(pk=complaint.pk)


def _history(html: str) -> str:
    return html[html.index("<h2>Riwayat</h2>") if "<h2>Riwayat</h2>" in html else 0 :]


def test_the_operator_page_names_each_event_and_status(staff_client, bandung_operator, handled):
    html = (
        staff_client(bandung_operator)
        .get(f"/pengaduan/operator/aduan/{handled.public_id}/")
        .content.decode()
    )
    history = _history(html)
    for words in (
        "Pengaduan diterima",
        "Dieskalasi karena lewat batas waktu",
        "Ditangani petugas: Sedang ditangani",
        "Diputuskan: Ditolak",
        "Nominal sesuai ketentuan.",
    ):
        assert words in history, words
    text = re.sub(r"<[^>]+>", " ", history)
    for code in CODES:
        assert not re.search(rf"\b{code}\b", text), code


def test_the_citizen_status_page_names_each_status(client, handled):
    html = client.get(f"/pengaduan/lacak/?kode={handled.tracking_code}", follow=True)
    history = _history(html.content.decode())
    assert "Sedang ditangani" in history
    assert "Ditolak" in history
    assert "Pengaduan diterima" in history
    text = re.sub(r"<[^>]+>", " ", history)
    for code in CODES:
        assert not re.search(rf"\b{code}\b", text), code


def test_an_event_without_a_status_has_none_to_show(handled):
    event = ComplaintEvent(complaint=handled, at=timezone.now(), action="received")
    assert event.get_to_status_display() == ""
    event.to_status = "in_review"
    assert event.get_to_status_display() == "Sedang ditangani"
    event.to_status = "no_such_status"  # kept as stored rather than hidden
    assert event.get_to_status_display() == "no_such_status"


def test_a_reports_location_keeps_decimal_points_in_indonesian(
    regions, key, bandung_operator, staff_client, evidence_root
):
    """`-6,874512, 107,581234` would read as four numbers; coordinates keep their points."""
    from tepat.grievances.services import report_submit
    from tests.grievances.conftest import JPEG

    r, _ = report_submit(
        submission_key=key(), kind="usul", village_code=BANDUNG_VILLAGE,
        subject_name="Ibu Sumiati", reason="Janda lansia.", latitude="-6.874512",
        longitude="107.581234", photo=JPEG,
    )  # fmt: skip
    html = staff_client(bandung_operator).get(f"/pengaduan/operator/tugas/{r.public_id}/")
    assert "<dd>-6.874512, 107.581234</dd>" in html.content.decode()
