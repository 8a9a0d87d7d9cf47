from __future__ import annotations

import pytest

from tests.conftest import BANDUNG_VILLAGE

pytestmark = pytest.mark.django_db

BODY = {
    "category": "service",
    "village_code": BANDUNG_VILLAGE,
    "description": "Petugas e-Warung meminta uang tambahan Rp20.000.",
}


def test_a_complaint_is_filed_and_tracked_through_the_api(client, regions, key):
    k = key()
    r = client.post(
        "/api/grievances/complaints", {**BODY, "submission_key": k}, content_type="application/json"
    )
    assert r.status_code == 201
    code = r.json()["tracking_code"]
    again = client.post(
        "/api/grievances/complaints", {**BODY, "submission_key": k}, content_type="application/json"
    )
    assert again.status_code == 200
    assert again.json()["tracking_code"] == code
    tracked = client.get(f"/api/grievances/complaints/{code.lower()}").json()
    assert tracked["status"] == "received"
    assert [h["action"] for h in tracked["history"]] == ["received"]


def test_bad_input_gets_the_shared_error_shape(client, regions, key):
    r = client.post(
        "/api/grievances/complaints",
        {**BODY, "category": "x", "submission_key": key()},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "category"


def test_filing_is_rate_limited_per_address(client, regions, key, settings):
    settings.TEPAT_COMPLAINT_LIMIT_PER_IP_HOUR = 1
    first = client.post(
        "/api/grievances/complaints",
        {**BODY, "submission_key": key()},
        content_type="application/json",
    )
    second = client.post(
        "/api/grievances/complaints",
        {**BODY, "submission_key": key()},
        content_type="application/json",
    )
    assert first.status_code == 201
    assert second.status_code == 429


def test_the_backlog_needs_staff_and_is_region_scoped(
    client, regions, key, bandung_operator, bogor_operator, staff_client
):
    assert client.get("/api/grievances/backlog").status_code == 401
    client.post(
        "/api/grievances/complaints",
        {**BODY, "submission_key": key()},
        content_type="application/json",
    )
    assert staff_client(bandung_operator).get("/api/grievances/backlog").json()["open"] == 1
    assert staff_client(bogor_operator).get("/api/grievances/backlog").json()["open"] == 0
