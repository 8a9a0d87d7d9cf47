from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _create(client, code="PKH-API"):
    r = client.post("/api/programs", {"code": code, "name": "PKH", "kind": "pkh", "eligibility_rule": "desil <= 4",
                                      "effective_from": "2026-01-01"}, content_type="application/json")  # fmt: skip
    return r


def test_only_supervisors_and_admins_create_programmes(staff_client, bandung_operator):
    r = _create(staff_client(bandung_operator))
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_the_maker_cannot_approve_through_the_api_but_another_supervisor_can(
    staff_client, supervisor, second_supervisor, households
):
    c = staff_client(supervisor)
    prog = _create(c).json()
    assert prog["params"]["annual"]["pregnant"] == 3_000_000
    cycle = c.post(f"/api/programs/{prog['public_id']}/cycles", {
        "code": "T1", "period_start": "2026-01-01", "period_end": "2026-03-31",
        "control_count": 10, "control_amount": 100_000_000}, content_type="application/json").json()  # fmt: skip
    cid = cycle["public_id"]
    assert c.post(f"/api/programs/cycles/{cid}/compute").json()["prepared_by"] == "spv_jabar"
    assert c.post(f"/api/programs/cycles/{cid}/submit").json()["state"] == "to_approve"
    refused = c.post(f"/api/programs/cycles/{cid}/approve")
    assert refused.status_code == 403
    assert "maker-checker" in refused.json()["message"]
    other = staff_client(second_supervisor)
    ok = other.post(f"/api/programs/cycles/{cid}/approve")
    assert ok.status_code == 200
    assert ok.json()["state"] == "approved"
    events = other.get(f"/api/programs/cycles/{cid}/events").json()
    assert [e["action"] for e in events] == ["create", "compute", "submit", "approve"]


def test_an_invalid_transition_answers_409(staff_client, supervisor, make_programme, make_cycle):
    cycle = make_cycle(make_programme())
    r = staff_client(supervisor).post(f"/api/programs/cycles/{cycle.public_id}/approve")
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition"


def test_cancelling_through_the_api_needs_a_reason(
    staff_client, supervisor, make_programme, make_cycle
):
    cycle = make_cycle(make_programme())
    c = staff_client(supervisor)
    assert (
        c.post(
            f"/api/programs/cycles/{cycle.public_id}/cancel",
            {"reason": ""},
            content_type="application/json",
        ).status_code
        == 422
    )
    r = c.post(
        f"/api/programs/cycles/{cycle.public_id}/cancel",
        {"reason": "anggaran"},
        content_type="application/json",
    )
    assert r.json()["state"] == "cancelled"


def test_the_api_refuses_anonymous_callers(client):
    assert client.get("/api/programs").status_code == 401
