"""`<option>` lists for cascading region selects (htmx)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tepat.regions.models import Region

pytestmark = pytest.mark.django_db


def _options(client: Client, **params: str) -> tuple[int, str]:
    response = client.get(reverse("regions:options"), params)
    if response.status_code != 200:
        # Errors are plain text: never markup that htmx could swap into a select.
        assert response["Content-Type"].startswith("text/plain")
    return response.status_code, response.content.decode()


def test_without_a_parent_it_offers_the_provinces(client: Client, west_java: dict[str, Region]):
    status, html = _options(client)

    assert status == 200
    assert html.splitlines() == [
        '<option value="">— Pilih provinsi —</option>',
        '<option value="32">Jawa Barat</option>',
        '<option value="33">Jawa Tengah</option>',
    ]


def test_it_offers_the_villages_of_a_district(client: Client, west_java: dict[str, Region]):
    status, html = _options(client, parent="32.73.01")

    assert status == 200
    assert '<option value="">— Pilih desa/kelurahan —</option>' in html
    assert '<option value="3273011001">Sukarasa</option>' in html
    assert '<option value="3273011002">Gegerkalong</option>' in html


def test_the_triggering_select_name_works_as_the_parent(
    client: Client, west_java: dict[str, Region]
):
    status, html = _options(client, province="32", blank="0", selected="32.73")

    assert status == 200
    assert html.splitlines() == [
        '<option value="3201">Kabupaten Bogor</option>',
        '<option value="3273" selected>Kota Bandung</option>',
    ]


def test_a_village_has_no_options(client: Client, west_java: dict[str, Region]):
    status, html = _options(client, parent="3273011001")

    assert status == 200
    assert html.strip() == ""


def test_it_rejects_unknown_region_with_a_404_message(client: Client, west_java: dict[str, Region]):
    status, html = _options(client, parent="99")

    assert status == 404
    assert "99" in html


def test_it_rejects_a_malformed_parent_with_a_400(client: Client, west_java: dict[str, Region]):
    status, html = _options(client, parent="<script>")

    assert status == 400
    assert "angka" in html


def test_region_names_are_escaped(client: Client, west_java: dict[str, Region]):
    Region.objects.filter(code="3201").update(name="Bogor <b>")

    _status, html = _options(client, parent="32")

    assert "Bogor &lt;b&gt;" in html
