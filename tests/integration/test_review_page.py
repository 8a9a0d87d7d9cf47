"""The linkage review queue as reviewers use it: what differs between the two records, a decision
confirmed with an undo, the open-pairs counter kept up to date, read-only roles refused (issue 20,
item 9)."""

from __future__ import annotations

import re

import pytest

from tepat.core.models import AuditEvent
from tepat.integration.importing import import_file
from tepat.integration.models import ReviewPair

from .test_importing import _csv

# A BPJS record of Asep Sunandar (bandung_household's head, NIK 3273011205800001) with another
# NIK serial, his name in capitals and a Gegerkalong address: the model is unsure.
BPJS_ASEP = (
    "B-9,3273011205800009,ASEP  SUNANDAR,1980-05-12,L,KEPALA,JL. MERDEKA 1,3273011002,PBI,3,AKTIF"
)


@pytest.fixture
def pair(sources, bandung_household):
    import_file(acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(BPJS_ASEP))
    head = bandung_household.members.get(relationship="head")
    return ReviewPair.objects.create(
        left_key=f"registry:{head.public_id}",
        right_key="bpjs:B-9",
        probability=0.71,
        village_code="3273011001",
    )


def _row(page: str, label: str) -> str:
    match = re.search(rf"<th scope=\"row\">{label}</th>(.*?)</tr>", page, re.S)
    assert match is not None, label
    return match.group(1)


def _count(page: str) -> str:
    match = re.search(r'<span id="review-count"[^>]*>([^<]*)</span>', page)
    assert match is not None
    return match.group(1)


def test_the_queue_shows_what_differs_with_villages_by_name_and_the_nik_tail(
    staff_client, bandung_operator, pair
):
    page = staff_client(bandung_operator).get("/integrasi/tinjau/").content.decode()
    nik = _row(page, "NIK")
    assert "************0001" in nik
    assert "************0009" in nik
    assert "Berbeda" in nik
    assert "3273011205800001" not in page
    assert "3273011205800009" not in page
    name = _row(page, "Nama")
    assert "Asep Sunandar" in name
    assert "ASEP SUNANDAR" in name
    assert "Sama" in name
    assert "Berbeda" not in name
    assert "Sama" in _row(page, "Tanggal lahir")
    assert "12-05-1980" in _row(page, "Tanggal lahir")
    sex = _row(page, "Jenis kelamin")
    assert "Laki-laki" in sex
    assert "<td>M</td>" not in sex
    village = _row(page, "Desa/kelurahan")
    assert "Sukarasa" in village
    assert "Gegerkalong" in village
    assert "Berbeda" in village
    assert "Berbeda" in _row(page, "Alamat")
    assert "3 isian berbeda" in page
    assert _count(page).startswith("1 ")
    event = AuditEvent.objects.get(actor=bandung_operator, action="integration.review_view")
    assert event.detail["records"] == 2
    assert event.detail["pairs"] == [pair.public_id]


def test_a_field_agent_sees_the_nik_masked_as_everywhere_and_no_decision_buttons(
    staff_client, field_agent, pair
):
    page = staff_client(field_agent).get("/integrasi/tinjau/").content.decode()
    nik = _row(page, "NIK")
    assert "3273**********01" in nik
    assert "3273**********09" in nik
    assert "0001" not in nik
    assert "Berbeda" in nik  # the comparison is still made, on the NIK in clear
    assert 'name="decision"' not in page


def test_a_decision_is_confirmed_with_an_undo_and_the_counter_updates(
    staff_client, bandung_operator, pair
):
    client = staff_client(bandung_operator)
    response = client.post(
        f"/integrasi/tinjau/{pair.public_id}/", {"decision": "accept"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="pair-{pair.public_id}"' in body
    assert 'role="status"' in body
    assert "Keputusan disimpan" in body
    assert "Orang yang sama" in body
    assert f"/integrasi/tinjau/{pair.public_id}/batalkan/" in body
    assert 'hx-swap-oob="true"' in body
    assert _count(body).startswith("0 ")
    pair.refresh_from_db()
    assert (pair.status, pair.decided_by) == ("accepted", bandung_operator)

    undo = client.post(f"/integrasi/tinjau/{pair.public_id}/batalkan/", HTTP_HX_REQUEST="true")
    assert undo.status_code == 200
    body = undo.content.decode()
    assert 'name="decision"' in body  # the pair is back, to decide again
    assert _count(body).startswith("1 ")
    pair.refresh_from_db()
    assert (pair.status, pair.decided_by, pair.decided_at) == ("open", None, None)
    actions = list(
        AuditEvent.objects.filter(target_id=pair.public_id)
        .order_by("id")
        .values_list("action", "detail__decision")
    )
    assert actions == [("integration.review", "accepted"), ("integration.review_undo", "accepted")]


def test_without_javascript_the_queue_confirms_the_decision_after_the_redirect(
    staff_client, bandung_operator, pair
):
    client = staff_client(bandung_operator)
    response = client.post(f"/integrasi/tinjau/{pair.public_id}/", {"decision": "reject"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Keputusan disimpan" in page
    assert "Orang berbeda" in page
    assert f"/integrasi/tinjau/{pair.public_id}/batalkan/" in page
    assert _count(page).startswith("0 ")
    response = client.post(f"/integrasi/tinjau/{pair.public_id}/batalkan/")
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.status == "open"


def test_only_the_reviewer_who_decided_may_undo(
    staff_client, bandung_operator, second_bandung_operator, pair
):
    staff_client(bandung_operator).post(
        f"/integrasi/tinjau/{pair.public_id}/", {"decision": "accept"}
    )
    client = staff_client(second_bandung_operator)
    page = client.get(f"/integrasi/tinjau/?diputuskan={pair.public_id}").content.decode()
    assert "batalkan/" not in page  # no undo offered to someone else
    response = client.post(f"/integrasi/tinjau/{pair.public_id}/batalkan/")
    assert response.status_code == 403
    pair.refresh_from_db()
    assert pair.status == "accepted"


def test_a_pair_decided_meanwhile_is_reported_not_decided_twice(
    staff_client, bandung_operator, second_bandung_operator, pair
):
    staff_client(bandung_operator).post(
        f"/integrasi/tinjau/{pair.public_id}/", {"decision": "accept"}
    )
    response = staff_client(second_bandung_operator).post(
        f"/integrasi/tinjau/{pair.public_id}/", {"decision": "reject"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "sudah diputuskan" in response.content.decode()
    pair.refresh_from_db()
    assert (pair.status, pair.decided_by) == ("accepted", bandung_operator)


@pytest.mark.parametrize("role", ["auditor", "field_agent"])
def test_read_only_roles_get_a_403_not_a_500_and_the_pair_stays_open(
    staff_client, request, pair, role
):
    client = staff_client(request.getfixturevalue(role))
    page = client.get("/integrasi/tinjau/").content.decode()
    assert 'name="decision"' not in page
    for url in (
        f"/integrasi/tinjau/{pair.public_id}/",
        f"/integrasi/tinjau/{pair.public_id}/batalkan/",
    ):
        assert client.post(url, {"decision": "accept"}).status_code == 403
        assert client.post(url, {"decision": "accept"}, HTTP_HX_REQUEST="true").status_code == 403
    pair.refresh_from_db()
    assert pair.status == "open"


def test_pairs_outside_the_users_regions_do_not_exist_for_them(staff_client, bogor_operator, pair):
    client = staff_client(bogor_operator)
    assert "Asep" not in client.get("/integrasi/tinjau/").content.decode()
    assert (
        client.post(f"/integrasi/tinjau/{pair.public_id}/", {"decision": "accept"}).status_code
        == 404
    )
    assert client.post(f"/integrasi/tinjau/{pair.public_id}/batalkan/").status_code == 404
    assert client.get(f"/integrasi/tinjau/?diputuskan={pair.public_id}").status_code == 200


def test_a_bad_decision_is_refused_in_both_languages(staff_client, bandung_operator, pair):
    response = staff_client(bandung_operator).post(
        f"/integrasi/tinjau/{pair.public_id}/", {"decision": "maybe"}
    )
    assert response.status_code == 400
    assert " / " in response.content.decode()
    pair.refresh_from_db()
    assert pair.status == "open"
