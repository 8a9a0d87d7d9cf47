from __future__ import annotations

import pytest

from tepat.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_search_page_needs_sign_in(client):
    response = client.get("/registry/")
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_search_by_name_lists_masked_niks(staff_client, bandung_operator, bandung_household):
    page = staff_client(bandung_operator).get("/registry/", {"name": "asep"}).content.decode()
    assert "Asep Sunandar" in page
    assert "3273**********01" in page
    assert "3273011205800001" not in page
    assert "Sukarasa" in page


def test_search_with_htmx_returns_only_the_results(
    staff_client, bandung_operator, bandung_household
):
    page = staff_client(bandung_operator).get(
        "/registry/", {"name": "asep"}, HTTP_HX_REQUEST="true"
    )
    assert b"<form" not in page.content
    assert b"Asep Sunandar" in page.content


def test_a_bad_nik_in_the_form_shows_a_clear_message(staff_client, bandung_operator, regions):
    page = staff_client(bandung_operator).get("/registry/", {"nik": "abc"}).content.decode()
    assert "16 digit" in page


def test_household_page_shows_members_attributes_and_history(
    staff_client, bandung_operator, bandung_household
):
    page = (
        staff_client(bandung_operator)
        .get(f"/registry/rumah-tangga/{bandung_household.public_id}/")
        .content.decode()
    )
    for text in (
        "Asep Sunandar",
        "Siti Nurhaliza",
        "Muhammad Rizki",
        "Kota Bandung",
        "900 VA",
        "Riwayat perubahan",
    ):
        assert text in page
    assert "3273011205800001" not in page


def test_household_page_answers_as_of_a_date(staff_client, bandung_operator, bandung_household):
    page = staff_client(bandung_operator).get(
        f"/registry/rumah-tangga/{bandung_household.public_id}/", {"as_of": "2001-01-01"}
    )
    assert "belum terdaftar" in page.content.decode()


def test_revealing_on_the_person_page_is_audited(staff_client, bandung_operator, bandung_household):
    head = bandung_household.members.get(relationship="head")
    client = staff_client(bandung_operator)
    assert (
        "3273011205800001" not in client.get(f"/registry/orang/{head.public_id}/").content.decode()
    )
    page = client.post(f"/registry/orang/{head.public_id}/", {"purpose": "menjawab pengaduan"})
    assert "3273011205800001" in page.content.decode()
    assert (
        AuditEvent.objects.filter(action="person.view_full", target_id=head.public_id).count() == 1
    )


def test_every_page_read_of_personal_data_is_audited(
    staff_client, bandung_operator, bandung_household
):
    head = bandung_household.members.get(relationship="head")
    client = staff_client(bandung_operator)
    client.get("/registry/", {"nik": "3273011205800001"})
    client.get(f"/registry/rumah-tangga/{bandung_household.public_id}/")
    client.get(f"/registry/orang/{head.public_id}/")
    events = {e.action: e for e in AuditEvent.objects.filter(actor=bandung_operator)}
    assert {"registry.search", "household.view", "person.view"} <= set(events)
    assert events["registry.search"].detail["nik"] == "3273**********01"
    assert "3273011205800001" not in str([e.detail for e in events.values()])


def test_region_selects_cascade_and_the_deepest_choice_filters(
    staff_client, supervisor, bandung_household, bogor_household
):
    client = staff_client(supervisor)
    page = client.get("/registry/", {"province": "32", "regency": "3201"}).content.decode()
    assert '<option value="3201" selected>Kabupaten Bogor</option>' in page
    assert "Cibinong" in page  # the districts of the chosen regency are offered
    assert "Ujang Suryana" in page
    assert "Asep Sunandar" not in page


def test_household_page_speaks_english_when_chosen(
    staff_client, bandung_operator, bandung_household
):
    client = staff_client(bandung_operator)
    client.post("/i18n/setlang/", {"language": "en"})
    page = client.get(f"/registry/rumah-tangga/{bandung_household.public_id}/").content.decode()
    assert "Family members" in page
    assert "Change history" in page
    assert "Riwayat perubahan" not in page
