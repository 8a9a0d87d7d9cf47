"""Region scope: a request is seen and acted on only by staff whose regions hold the subject's
village. Another region's request is "not found" everywhere (queue, case page by id, actions,
API), and roles with no business here (field agents) see nothing."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import pytest

from tepat.privacy import selectors, services
from tepat.privacy.models import DataSubjectRequest
from tests.conftest import BOGOR_VILLAGE
from tests.privacy.rights_cast import (  # noqa: F401 (fixtures)
    _clear_cache,
    open_at_office,
    request_id_from,
    subject,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bandung_request(subject, bandung_operator, login) -> str:
    return request_id_from(
        open_at_office(login(bandung_operator), subject["nik"], "deletion", details="Hapus")
    )


def test_a_district_operator_cannot_see_another_regions_request(
    bandung_request, bogor_operator, login
):
    bogor = login(bogor_operator)
    assert bandung_request not in bogor.get("/privasi/permintaan/?status=all").content.decode()
    assert bogor.get(f"/privasi/permintaan/{bandung_request}/").status_code == 404
    assert bogor.get(f"/api/privacy/requests/{bandung_request}").status_code == 404
    listed = bogor.get("/api/privacy/requests?status=all").json()
    assert bandung_request not in {r["public_id"] for r in listed}


def test_a_district_operator_cannot_act_on_another_regions_request_by_id(
    bandung_request, bogor_operator, login
):
    bogor = login(bogor_operator)
    for action in ("assign", "decide", "close", "approve", "export"):
        r = bogor.post(
            f"/privasi/permintaan/{bandung_request}/",
            {
                "action": action,
                "outcome": "rejected",
                "outcome_text": "Ditolak saja",
                "reason": "Ditutup saja",
                "format": "pdf",
            },
        )
        assert r.status_code == 404, action
    for path in ("assign", "approve"):
        assert bogor.post(f"/api/privacy/requests/{bandung_request}/{path}").status_code == 404
    r = bogor.post(
        f"/api/privacy/requests/{bandung_request}/decide",
        {"outcome": "rejected", "outcome_text": "Ditolak saja"},
        content_type="application/json",
    )
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert DataSubjectRequest.objects.get(public_id=bandung_request).status == "received"


def test_the_services_refuse_out_of_scope_users_too(bandung_request, bogor_operator):
    from tepat.core.errors import NotFound

    dsr = DataSubjectRequest.objects.get(public_id=bandung_request)
    with pytest.raises(NotFound):
        services.request_assign(acting_user=bogor_operator, dsr=dsr)
    with pytest.raises(NotFound):
        services.request_decide(
            acting_user=bogor_operator, dsr=dsr, outcome="rejected", outcome_text="Tidak ada"
        )


def test_an_office_cannot_find_or_open_for_a_citizen_of_another_region(
    bogor_household, bandung_operator, login
):
    op = login(bandung_operator)
    r = op.post("/privasi/permintaan/baru/", {"step": "find", "nik": "3201011205800002"})
    assert r.status_code == 404
    assert "NIK tidak ditemukan di wilayah Anda" in r.content.decode()
    ujang = bogor_household.members.get(relationship="head")
    r = op.post(
        "/privasi/permintaan/baru/",
        {"step": "open", "person": ujang.public_id, "kind": "access", "identity_checked": "on"},
    )
    assert r.status_code == 404
    assert not DataSubjectRequest.objects.exists()


def test_a_supervisor_of_the_province_and_an_auditor_see_it(bandung_request, supervisor, auditor):
    for user in (supervisor, auditor):
        rows = selectors.request_queue(user=user)
        assert [r.request.public_id for r in rows] == [bandung_request]


def test_field_agents_have_no_access(bandung_request, field_agent, login):
    agent = login(field_agent)
    assert agent.get("/privasi/permintaan/").status_code == 403
    assert agent.get(f"/privasi/permintaan/{bandung_request}/").status_code == 403
    assert agent.get("/api/privacy/requests").status_code == 403
    assert selectors.requests_visible(field_agent).count() == 0


def test_the_queue_of_each_region_holds_only_its_own(
    subject, bogor_household, bandung_operator, bogor_operator, login
):
    bandung = request_id_from(
        open_at_office(login(bandung_operator), subject["nik"], "deletion", details="Hapus")
    )
    bogor = request_id_from(
        open_at_office(login(bogor_operator), "3201011205800002", "access", details="Salinan")
    )
    assert DataSubjectRequest.objects.get(public_id=bogor).region_code == BOGOR_VILLAGE
    assert [r.request.public_id for r in selectors.request_queue(user=bandung_operator)] == [
        bandung
    ]
    assert [r.request.public_id for r in selectors.request_queue(user=bogor_operator)] == [bogor]
