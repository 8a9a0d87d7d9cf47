"""The complaint and community-report pages show the decision forms only to roles that decide;
an auditor or a field agent reads them, and a post anyway is the 403 page with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from tepat.grievances.models import CommunityReport, Complaint
from tests.conftest import BANDUNG_VILLAGE
from tests.grievances.conftest import JPEG

pytestmark = pytest.mark.django_db

READ_ONLY = ["auditor", "field_agent"]


@pytest.fixture
def complaint(regions: None, key: Any) -> Complaint:
    from tepat.grievances.services import complaint_submit

    return complaint_submit(
        submission_key=key(),
        category="amount",
        village_code=BANDUNG_VILLAGE,
        description="Yang diterima hanya Rp400.000, bukan Rp600.000.",
    )[0]


@pytest.fixture
def report(regions: None, key: Any, evidence_root: Any) -> CommunityReport:
    from tepat.grievances.services import report_submit

    return report_submit(
        submission_key=key(), kind="sanggah", village_code=BANDUNG_VILLAGE,
        subject_name="Pak Budi", reason="Punya toko besar di pasar.",
        latitude="-6.8", longitude="107.5", photo=JPEG,
    )[0]  # fmt: skip


@pytest.mark.parametrize("role", READ_ONLY)
def test_read_only_roles_read_complaints_and_reports_without_decision_forms(
    request: pytest.FixtureRequest, staff_client: Any, complaint: Complaint,
    report: CommunityReport, role: str,
):  # fmt: skip
    client = staff_client(request.getfixturevalue(role))
    page = client.get(f"/pengaduan/operator/aduan/{complaint.public_id}/")
    assert page.status_code == 200
    assert complaint.tracking_code in page.content.decode()
    assert 'method="post"' not in page.content.decode().split("</header>", 1)[1]
    task = client.get(f"/pengaduan/operator/tugas/{report.public_id}/")
    assert task.status_code == 200
    assert 'name="decision"' not in task.content.decode()


def test_an_operator_sees_the_decision_forms(
    staff_client: Any, bandung_operator: Any, complaint: Complaint, report: CommunityReport
):
    client = staff_client(bandung_operator)
    page = client.get(f"/pengaduan/operator/aduan/{complaint.public_id}/").content.decode()
    assert 'value="assign_me"' in page
    assert 'name="decision"' in page
    task = client.get(f"/pengaduan/operator/tugas/{report.public_id}/").content.decode()
    assert 'name="decision"' in task


@pytest.mark.parametrize("role", READ_ONLY)
def test_a_decision_posted_by_a_read_only_role_is_the_403_page(
    request: pytest.FixtureRequest, staff_client: Any, complaint: Complaint,
    report: CommunityReport, role: str,
):  # fmt: skip
    client = staff_client(request.getfixturevalue(role))
    response = client.post(
        f"/pengaduan/operator/aduan/{complaint.public_id}/",
        {"action": "decide", "decision": "upheld", "note": "dibayar"},
    )
    assert response.status_code == 403
    assert "you may not decide complaints" in response.content.decode()
    response = client.post(
        f"/pengaduan/operator/tugas/{report.public_id}/", {"decision": "rejected", "note": "x"}
    )
    assert response.status_code == 403
    complaint.refresh_from_db()
    report.refresh_from_db()
    assert complaint.status == "received"
    assert report.status == "open"
