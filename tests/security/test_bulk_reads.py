"""Bulk reads of personal data (issue 16, item 11).

Attacks tried:
- a full-record role reads the quarantine page or downloads its CSV and walks away with every
  NIK and No. KK in clear, unaudited, while the API masks them;
- a role that may not see full records posts the reveal form anyway;
- a reveal without a stated purpose;
- a masked NIK offered as its own correction, overwriting the real number when re-submitted;
- a field agent downloads the day's list of beneficiaries, an operator pages through
  complaints, and nothing records it;
- an insider reads thousands of records (or reads hundreds of times) in an hour and no one is
  told; the insider silences the alert about themselves.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from tepat.accounts.models import Role, User
from tepat.core.errors import PermissionDenied
from tepat.core.models import AuditEvent
from tepat.grievances.services import complaint_submit
from tepat.integration.importing import import_file
from tepat.integration.models import ImportRun, ReviewPair
from tepat.monitoring import selectors as monitoring_selectors
from tepat.monitoring import services as monitoring
from tepat.monitoring.models import Alert, AlertState
from tests.integration.conftest import *  # noqa: F403 (fixture: sources, the built-in sources)
from tests.integration.test_importing import BAD_DATE, BAD_NIK, _csv
from tests.verification.conftest import *  # noqa: F403 (the cast, vouchers of three households)

FULL_NIK = "3273012007140001"  # the NIK of the BAD_DATE row
MASKED_NIK = "3273**********01"
SHORT_NIK = "32730112058"  # the BAD_NIK row: quarantined for its NIK
SHORT_NIK_MASKED = "3273*****58"


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    cache.clear()  # the hourly read counters live in the cache


@pytest.fixture
def run(sources: None) -> ImportRun:
    return import_file(
        acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(BAD_DATE, BAD_NIK)
    ).run


def _page(run: ImportRun) -> str:
    return f"/integrasi/impor/{run.public_id}/"


def _csv_url(run: ImportRun) -> str:
    return f"/integrasi/impor/{run.public_id}/karantina.csv"


# --- the quarantine: masked by default, revealed for a stated purpose, audited --------------


def test_the_quarantine_page_masks_nik_even_for_roles_that_may_reveal(
    run: ImportRun, bandung_operator: User, staff_client: Any
) -> None:
    page = staff_client(bandung_operator).get(_page(run)).content.decode()
    assert SHORT_NIK not in page  # the NIK row's correction field showed it in clear
    assert SHORT_NIK_MASKED in page


def test_the_quarantine_page_read_is_audited_with_its_count_and_region(
    run: ImportRun, bandung_operator: User, staff_client: Any
) -> None:
    assert staff_client(bandung_operator).get(_page(run)).status_code == 200
    event = AuditEvent.objects.get(action="integration.quarantine_view")
    assert event.actor == bandung_operator
    assert (event.target_id, event.region_code) == (run.public_id, "3273011001")
    assert (event.detail["records"], event.detail["revealed"]) == (2, False)


def test_revealing_the_quarantine_needs_a_stated_purpose_and_is_audited(
    run: ImportRun, bandung_operator: User, staff_client: Any
) -> None:
    c = staff_client(bandung_operator)
    refused = c.post(_page(run), {"purpose": " "})
    assert refused.status_code == 400
    assert SHORT_NIK not in refused.content.decode()
    shown = c.post(_page(run), {"purpose": "Cek NIK ganda dari BPJS"})
    assert f'value="{SHORT_NIK}"' in shown.content.decode()
    event = AuditEvent.objects.filter(action="integration.quarantine_view").latest("id")
    assert event.detail["revealed"] is True
    assert event.detail["purpose"] == "Cek NIK ganda dari BPJS"


def test_a_field_agent_cannot_reveal_the_quarantine(
    run: ImportRun, field_agent: User, staff_client: Any
) -> None:
    response = staff_client(field_agent).post(_page(run), {"purpose": "ingin tahu saja"})
    assert response.status_code == 403
    assert SHORT_NIK not in response.content.decode()


def test_the_quarantine_csv_is_masked_and_its_download_audited(
    run: ImportRun, auditor: User, staff_client: Any
) -> None:
    response = staff_client(auditor).get(_csv_url(run))
    body = response.content.decode()
    assert response.status_code == 200
    assert FULL_NIK not in body
    assert SHORT_NIK not in body
    assert MASKED_NIK in body
    assert SHORT_NIK_MASKED in body
    event = AuditEvent.objects.get(action="integration.quarantine_download")
    assert (event.actor, event.detail["records"], event.detail["revealed"]) == (auditor, 2, False)


def test_the_full_quarantine_csv_needs_a_stated_purpose_and_is_audited(
    run: ImportRun, auditor: User, staff_client: Any
) -> None:
    c = staff_client(auditor)
    assert c.post(_csv_url(run), {"purpose": ""}).status_code == 400
    response = c.post(_csv_url(run), {"purpose": "Koreksi data BPJS bulan ini"})
    assert FULL_NIK in response.content.decode()
    event = AuditEvent.objects.get(action="integration.quarantine_download")
    assert event.detail["revealed"] is True
    assert event.detail["purpose"] == "Koreksi data BPJS bulan ini"


def test_a_masked_nik_is_never_offered_as_its_own_correction(
    run: ImportRun, bandung_operator: User, staff_client: Any
) -> None:
    c = staff_client(bandung_operator)
    page = c.get(_page(run)).content.decode()
    row = run.quarantine.get(field="NIK")
    assert f'name="fix-{row.pk}-NIK" value=""' in page
    assert f'value="{SHORT_NIK_MASKED}"' not in page
    # Submitted untouched (empty), the field keeps the delivered number: nothing is re-sent.
    response = c.post(f"/integrasi/impor/{run.public_id}/kirim-ulang/", {f"fix-{row.pk}-NIK": ""})
    assert response.status_code == 422
    row.refresh_from_db()
    assert row.status == "open"


def test_the_review_queue_read_is_audited(
    sources: None, bandung_operator: User, staff_client: Any
) -> None:
    ReviewPair.objects.create(
        left_key="bpjs:B-1", right_key="dukcapil:D-1", probability=0.7, village_code="3273011001"
    )
    assert staff_client(bandung_operator).get("/integrasi/tinjau/").status_code == 200
    event = AuditEvent.objects.get(action="integration.review_view")
    assert (event.actor, event.region_code) == (bandung_operator, "3273011001")


# --- the field day list and the complaint pages are audited ----------------------------------


def test_the_field_day_list_download_is_audited_with_its_size_and_region(
    vouchers: list[Any], field_agent: User, staff_client: Any
) -> None:
    data = staff_client(field_agent).get("/api/verification/day").json()
    assert len(data["items"]) == 3
    event = AuditEvent.objects.get(action="verification.day_list")
    assert event.actor == field_agent
    assert (event.detail["records"], event.region_code) == (3, "3273011001")


def test_printing_a_voucher_with_the_beneficiarys_name_is_audited(
    vouchers: list[Any], bandung_operator: User, staff_client: Any
) -> None:
    v = vouchers[0]
    assert (
        staff_client(bandung_operator).get(f"/lapangan/voucher/{v.public_id}/").status_code == 200
    )
    event = AuditEvent.objects.get(action="voucher.print")
    assert (event.target_id, event.region_code, event.detail["records"]) == (
        v.public_id,
        v.village_code,
        1,
    )


def test_complaint_pages_read_by_staff_are_audited(
    regions: None, bandung_operator: User, staff_client: Any
) -> None:
    complaint, _ = complaint_submit(
        submission_key="k" * 24,
        category="amount",
        village_code="3273011001",
        description="Yang diterima hanya Rp400.000, bukan Rp600.000.",
        contact_phone="081234567890",
    )
    c = staff_client(bandung_operator)
    assert c.get("/pengaduan/operator/").status_code == 200
    assert c.get(f"/pengaduan/operator/aduan/{complaint.public_id}/").status_code == 200
    inbox = AuditEvent.objects.get(action="grievances.inbox_view")
    assert (inbox.detail["records"], inbox.region_code) == (1, "3273011001")
    one = AuditEvent.objects.get(action="grievances.complaint_view")
    assert (one.actor, one.target_id) == (bandung_operator, complaint.public_id)


# --- unusual volume opens an alert ------------------------------------------------------------


def test_reading_more_records_than_the_hourly_limit_opens_one_national_alert(
    run: ImportRun, auditor: User, staff_client: Any, settings: Any
) -> None:
    settings.TEPAT_BULK_READ_ALERT_ROWS = 3
    c = staff_client(auditor)
    c.get(_csv_url(run))  # 2 records: under the line
    assert not Alert.objects.exists()
    c.get(_csv_url(run))  # 4 records: over it
    c.get(_csv_url(run))  # still over: the same alert, not a second one
    alert = Alert.objects.get()
    assert (alert.subject, alert.region_code, alert.state) == (
        f"user:{auditor.pk}",
        "",
        AlertState.OPEN,
    )
    assert alert.rule.metric == "bulk_reads"
    assert "auditor" in alert.note
    assert AuditEvent.objects.filter(
        action="monitoring.alert_open", target_id=alert.public_id
    ).exists()


def test_reading_too_often_in_an_hour_opens_an_alert_too(
    regions: None, bandung_operator: User, staff_client: Any, settings: Any
) -> None:
    settings.TEPAT_BULK_READ_ALERT_EVENTS = 3
    c = staff_client(bandung_operator)
    for _ in range(3):
        c.get("/pengaduan/operator/")
    assert not Alert.objects.exists()
    c.get("/pengaduan/operator/")
    assert Alert.objects.get().subject == f"user:{bandung_operator.pk}"


def test_revealing_full_records_one_by_one_counts_towards_the_alert(
    bandung_household: Any, bandung_operator: User, staff_client: Any, settings: Any
) -> None:
    settings.TEPAT_BULK_READ_ALERT_ROWS = 2
    head = bandung_household.members.get(relationship="head")
    c = staff_client(bandung_operator)
    for _ in range(3):
        r = c.post(
            f"/api/registry/persons/{head.public_id}/reveal",
            {"purpose": "verifikasi sanggah"},
            content_type="application/json",
        )
        assert r.status_code == 200
    assert Alert.objects.get().subject == f"user:{bandung_operator.pk}"


def test_the_reader_cannot_silence_the_alert_about_them_and_a_scoped_one_cannot_see_it(
    run: ImportRun, staff_client: Any, bandung_operator: User, settings: Any
) -> None:
    settings.TEPAT_BULK_READ_ALERT_ROWS = 1
    reader = User.objects.create_user(
        username="admin_pembaca", password="kata-sandi-panjang-1", role=Role.ADMIN
    )
    other = User.objects.create_user(
        username="admin_lain", password="kata-sandi-panjang-1", role=Role.ADMIN
    )
    staff_client(reader).get(_csv_url(run))
    alert = Alert.objects.get()
    with pytest.raises(PermissionDenied):
        monitoring.alert_resolve(acting_user=reader, public_id=alert.public_id, note="salah")
    assert alert not in monitoring_selectors.alerts_visible(user=bandung_operator)
    resolved = monitoring.alert_resolve(acting_user=other, public_id=alert.public_id, note="ok")
    assert resolved.state == AlertState.RESOLVED
