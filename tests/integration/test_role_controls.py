"""Integration pages show each control only to the roles that may use it, a post from any other
role is the 403 page (or an htmx alert) with the reason, never a 500; and the data-quality page
works for every region-scoped account and every `?region=`."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tepat.integration.models import ImportRun, LinkRun, QuarantinedRow

from .test_importing import BAD_DATE, GOOD, _csv

READ_ONLY = ["auditor", "field_agent"]


@pytest.fixture
def quarantined_run(sources: None, bandung_household: Any) -> ImportRun:
    """An import with one row in quarantine in Sukarasa (Kota Bandung)."""
    from tepat.integration.importing import import_file

    return import_file(
        acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(GOOD, BAD_DATE)
    ).run


def _client(request: pytest.FixtureRequest, staff_client: Any, role: str) -> Any:
    client = staff_client(request.getfixturevalue(role))
    client.raise_request_exception = False  # a 500 must show as a status, not stop the test
    return client


@pytest.mark.parametrize("role", READ_ONLY)
def test_read_only_roles_see_no_upload_or_resubmit_control(
    request: pytest.FixtureRequest, staff_client: Any, quarantined_run: ImportRun, role: str
):
    client = _client(request, staff_client, role)
    home = client.get("/integrasi/").content.decode()
    assert 'type="file"' not in home
    assert 'id="read-only-note"' in home
    run = client.get(f"/integrasi/impor/{quarantined_run.public_id}/").content.decode()
    assert "kirim-ulang" not in run  # the resubmit form's action
    assert 'name="fix-' not in run
    assert 'id="read-only-note"' in run


def test_an_operator_sees_both_controls(
    staff_client: Any, bandung_operator: Any, quarantined_run: ImportRun
):
    client = staff_client(bandung_operator)
    home = client.get("/integrasi/").content.decode()
    assert 'type="file"' in home
    assert 'id="read-only-note"' not in home
    run = client.get(f"/integrasi/impor/{quarantined_run.public_id}/").content.decode()
    assert f"/integrasi/impor/{quarantined_run.public_id}/kirim-ulang/" in run
    assert 'name="fix-' in run


@pytest.mark.parametrize("role", READ_ONLY)
def test_an_upload_from_a_read_only_role_is_refused_with_the_reason(
    request: pytest.FixtureRequest, staff_client: Any, sources: None, role: str
):
    client = _client(request, staff_client, role)
    upload = SimpleUploadedFile("bpjs.csv", _csv(GOOD))
    response = client.post("/integrasi/", {"source": "bpjs", "file": upload})
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Akses ditolak</h1>" in page
    assert "tidak boleh mengunggah berkas / your role is read-only: you may not upload" in page
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize("role", READ_ONLY)
def test_a_resubmit_from_a_read_only_role_is_a_403_not_a_500(
    request: pytest.FixtureRequest, staff_client: Any, quarantined_run: ImportRun, role: str
):
    row = quarantined_run.quarantine.get()
    client = _client(request, staff_client, role)
    url = f"/integrasi/impor/{quarantined_run.public_id}/kirim-ulang/"
    response = client.post(url, {f"fix-{row.pk}-TGL_LAHIR": "2014-02-28"})
    assert response.status_code == 403
    assert "you may not resubmit corrections" in response.content.decode()
    row.refresh_from_db()
    assert row.status == QuarantinedRow.Status.OPEN
    assert ImportRun.objects.count() == 1


def test_the_same_refusal_on_htmx_is_an_alert_in_the_error_container(
    staff_client: Any, auditor: Any, quarantined_run: ImportRun
):
    url = f"/integrasi/impor/{quarantined_run.public_id}/kirim-ulang/"
    response = staff_client(auditor).post(url, {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#tepat-htmx-error"
    fragment = response.content.decode()
    assert 'role="alert"' in fragment
    assert "<html" not in fragment
    assert "you may not resubmit corrections" in fragment


def test_a_field_agent_asking_for_full_records_gets_the_403_page(
    staff_client: Any, field_agent: Any, quarantined_run: ImportRun
):
    response = staff_client(field_agent).post(
        f"/integrasi/impor/{quarantined_run.public_id}/karantina.csv", {"purpose": "periksa"}
    )
    assert response.status_code == 403
    assert "<h1>Akses ditolak</h1>" in response.content.decode()


# --- data quality ---------------------------------------------------------------------------------


@pytest.fixture
def conflict(sources: None, bandung_household: Any) -> LinkRun:
    """A finished link run that changed a Sukarasa (Bandung) person's name: one conflict."""
    from tepat.registry.services import person_update

    run = LinkRun.objects.create(status=LinkRun.Status.DONE)
    head = bandung_household.members.get(relationship="head")
    person_update(
        acting_user=None,
        person=head,
        changes={"full_name": "Asep Sunandar Saputra"},
        source="dukcapil",
        reason=f"golden record, link run {run.public_id}",
    )
    return run


@pytest.mark.parametrize(
    ("role", "region", "conflicts"),
    [
        ("bandung_operator", "", 1),
        ("bandung_operator", "3273", 1),
        ("bandung_operator", "32.73.01", 1),
        ("supervisor", "3201", 0),  # Bogor: inside the supervisor's Jawa Barat, no conflict
        ("bogor_operator", "", 0),
        ("field_agent", "", 1),
        ("auditor", "36", 0),
    ],
)
def test_the_quality_page_works_for_scoped_accounts_and_any_region(
    request: pytest.FixtureRequest,
    staff_client: Any,
    conflict: LinkRun,
    role: str,
    region: str,
    conflicts: int,
):
    client = _client(request, staff_client, role)
    response = client.get("/integrasi/kualitas/", {"region": region} if region else {})
    assert response.status_code == 200
    assert response.context["data"]["conflicts"] == (
        [{"field": "full_name", "n": conflicts}] if conflicts else []
    )


@pytest.mark.parametrize("region", ["3201", "36", "99", "bandung"])
def test_a_region_outside_the_users_or_unknown_or_malformed_is_said_not_a_500(
    staff_client: Any, bandung_operator: Any, conflict: LinkRun, region: str
):
    client = staff_client(bandung_operator)
    client.raise_request_exception = False
    response = client.get("/integrasi/kualitas/", {"region": region})
    assert response.status_code in (400, 404, 422)
    assert 'id="region-error"' in response.content.decode()


def test_the_quality_api_works_for_a_scoped_account(
    staff_client: Any, bandung_operator: Any, conflict: LinkRun
):
    client = staff_client(bandung_operator)
    client.raise_request_exception = False
    for params in ({}, {"region": "3273"}):
        response = client.get("/api/integration/quality", params)
        assert response.status_code == 200, response.content
