"""The JSON API under /api/privacy/: the staff queue and the case actions, scoped and audited
like the pages, with errors in the project's one shape."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import datetime as dt

import pytest

from tepat.privacy.models import DataSubjectRequest
from tests.privacy.rights_cast import _clear_cache, subject  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def _post(client, path: str, body: dict | None = None):
    return client.post(f"/api/privacy{path}", body or {}, content_type="application/json")


def test_an_office_opens_decides_and_a_checker_approves_through_the_api(
    subject, bandung_operator, supervisor, login
):
    op, spv = login(bandung_operator), login(supervisor)
    body = {
        "nik": subject["nik"],
        "kind": "correction",
        "requested_changes": {"person.birth_place": "Cimahi"},
        "identity_checked": True,
    }
    r = _post(op, "/requests", body)
    assert r.status_code == 201, r.content
    out = r.json()
    pid = out["public_id"]
    assert out["status"] == "received"
    assert out["channel"] == "office"
    assert out["article"] == "UU 27/2022 Pasal 6, 30 ayat (1)"
    assert 71 * 3600 < out["seconds_left"] <= 72 * 3600
    assert out["overdue"] is False
    assert out["subject_masked"] == "As** Su******"
    assert set(out["actions"]) == {"assign", "decide", "close"}
    assert _post(op, "/requests", body).status_code == 200  # the open one, not a second
    r = _post(
        op,
        f"/requests/{pid}/decide",
        {
            "outcome": "upheld",
            "outcome_text": "Sesuai akta",
            "changes": {"person.birth_place": "Cimahi"},
        },
    )
    assert r.status_code == 200
    assert r.json()["status"] == "awaiting_approval"
    r = _post(op, f"/requests/{pid}/approve")
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    r = _post(spv, f"/requests/{pid}/approve")
    assert r.status_code == 200
    assert r.json()["status"] == "upheld"
    assert r.json()["approved_by"] == "spv_jabar"
    assert [e["action"] for e in r.json()["history"]] == ["received", "decide", "approve"]
    subject["head"].refresh_from_db()
    assert subject["head"].birth_place == "Cimahi"


def test_the_queue_lists_open_requests_by_time_left(subject, bandung_operator, login):
    op = login(bandung_operator)
    for kind in ("access", "deletion"):
        _post(op, "/requests", {"nik": subject["nik"], "kind": kind, "identity_checked": True})
    late = DataSubjectRequest.objects.get(kind="deletion")
    DataSubjectRequest.objects.filter(pk=late.pk).update(
        due_at=late.received_at - dt.timedelta(hours=1)
    )
    rows = op.get("/api/privacy/requests").json()
    assert [r["kind"] for r in rows] == ["deletion", "access"]
    assert rows[0]["overdue"] is True
    assert rows[0]["seconds_left"] < 0
    assert [r["kind"] for r in op.get("/api/privacy/requests?kind=access").json()] == ["access"]


def test_errors_share_the_projects_shape(subject, bandung_operator, auditor, login):
    op = login(bandung_operator)
    r = _post(op, "/requests", {"nik": subject["nik"], "kind": "objection"})
    assert r.status_code == 422
    problems = {p["field"] for p in r.json()["problems"]}
    assert problems == {"identity_checked", "objection_target"}
    assert set(r.json()) == {"code", "message", "field", "row", "problems"}
    r = _post(
        op, "/requests", {"nik": "3273019999990001", "kind": "access", "identity_checked": True}
    )
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    pid = _post(
        op, "/requests", {"nik": subject["nik"], "kind": "access", "identity_checked": True}
    ).json()["public_id"]
    r = _post(op, f"/requests/{pid}/decide", {"outcome": "upheld", "outcome_text": "Ya sudah"})
    assert r.status_code == 400
    assert r.json()["field"] == "outcome"
    r = _post(login(auditor), f"/requests/{pid}/close", {"reason": "Ditutup saja"})
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_the_api_needs_a_signed_in_member_of_staff(client, subject):
    assert client.get("/api/privacy/requests").status_code == 401


def test_the_access_answer_downloads_through_the_api(subject, bandung_operator, login):
    op = login(bandung_operator)
    pid = _post(
        op, "/requests", {"nik": subject["nik"], "kind": "access", "identity_checked": True}
    ).json()["public_id"]
    r = _post(op, f"/requests/{pid}/export/csv")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/zip"
    assert r.content[:2] == b"PK"
    r = _post(
        op,
        f"/requests/{pid}/decide",
        {"outcome": "answered", "outcome_text": "CSV diserahkan di kantor"},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "answered"
