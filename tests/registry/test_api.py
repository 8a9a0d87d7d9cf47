from __future__ import annotations

import pytest

from tepat.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_api_requires_a_signed_in_staff_member(client, bandung_household):
    assert client.get(f"/api/registry/households/{bandung_household.public_id}").status_code == 401


def test_household_read_masks_nik_and_phone(staff_client, bandung_operator, bandung_household):
    data = (
        staff_client(bandung_operator)
        .get(f"/api/registry/households/{bandung_household.public_id}")
        .json()
    )
    assert data["kk_masked"] == "3273**********01"
    head = next(m for m in data["members"] if m["relationship"] == "head")
    assert head["nik_masked"] == "3273**********01"
    assert head["phone_masked"] == "0812******90"
    assert "3273011205800001" not in str(data)
    assert data["children_by_school_level"]["smp"] == 1
    assert data["pregnant"] == 1


def test_search_by_nik_uses_the_exact_number(staff_client, bandung_operator, bandung_household):
    client = staff_client(bandung_operator)
    found = client.get("/api/registry/persons", {"nik": "3273011205800001"}).json()
    assert [p["full_name"] for p in found] == ["Asep Sunandar"]
    assert client.get("/api/registry/persons", {"nik": "3273011205800002"}).json() == []


def test_search_by_name_matches_any_word_ignoring_case(
    staff_client, bandung_operator, bandung_household
):
    client = staff_client(bandung_operator)
    names = [p["full_name"] for p in client.get("/api/registry/persons", {"name": "RIZ"}).json()]
    assert names == ["Muhammad Rizki"]


def test_a_malformed_nik_gets_a_clear_error(staff_client, bandung_operator, regions):
    response = staff_client(bandung_operator).get("/api/registry/persons", {"nik": "12345"})
    assert response.status_code == 422  # the schema says 16 digits (issue 20)
    assert response.json()["field"] == "nik"


def test_an_empty_search_finds_nothing(staff_client, bandung_operator, bandung_household):
    # The schema cannot say "one of nik, name, region_code", so an empty search (`nik=&name=`)
    # is accepted and finds nobody, rather than refused (issue 20).
    client = staff_client(bandung_operator)
    for params in ({}, {"nik": "", "name": ""}, {"name": "!!"}):
        response = client.get("/api/registry/persons", params)
        assert response.status_code == 200, params
        assert response.json() == []
    assert client.get("/api/registry/persons", {"name": "Asep"}).json()


def test_history_lists_creation_with_source(staff_client, bandung_operator, bandung_household):
    rows = (
        staff_client(bandung_operator)
        .get(f"/api/registry/households/{bandung_household.public_id}/history")
        .json()
    )
    assert len(rows) == 4
    assert {r["source"] for r in rows} == {"test"}


def test_reveal_shows_the_full_record_and_is_audited(
    staff_client, bandung_operator, bandung_household
):
    head = bandung_household.members.get(relationship="head")
    response = staff_client(bandung_operator).post(
        f"/api/registry/persons/{head.public_id}/reveal",
        {"purpose": "verifikasi sanggah"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["nik"] == "3273011205800001"
    event = AuditEvent.objects.get(action="person.view_full")
    assert (event.actor_label, event.target_id, event.detail["purpose"]) == (
        "op_bandung",
        head.public_id,
        "verifikasi sanggah",
    )


def test_reveal_requires_a_purpose(staff_client, bandung_operator, bandung_household):
    head = bandung_household.members.get(relationship="head")
    response = staff_client(bandung_operator).post(
        f"/api/registry/persons/{head.public_id}/reveal",
        {"purpose": ""},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="person.view_full").exists()


def test_a_field_agent_cannot_reveal_a_full_record(staff_client, field_agent, bandung_household):
    head = bandung_household.members.get(relationship="head")
    response = staff_client(field_agent).post(
        f"/api/registry/persons/{head.public_id}/reveal",
        {"purpose": "serah terima"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_as_of_before_registration_is_not_found(staff_client, bandung_operator, bandung_household):
    response = staff_client(bandung_operator).get(
        f"/api/registry/households/{bandung_household.public_id}/as-of",
        {"at": "2000-01-01T00:00:00Z"},
    )
    assert response.status_code == 404


def test_every_api_read_is_audited(staff_client, bandung_operator, bandung_household):
    client = staff_client(bandung_operator)
    hid = bandung_household.public_id
    client.get(f"/api/registry/households/{hid}")
    client.get(f"/api/registry/households/{hid}/history")
    client.get("/api/registry/persons", {"name": "asep"})
    actions = set(
        AuditEvent.objects.filter(actor=bandung_operator).values_list("action", flat=True)
    )
    assert {"household.view", "household.view_history", "registry.search"} <= actions
