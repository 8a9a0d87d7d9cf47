"""The installable web app: manifest, service worker at the root scope, offline page, and a
page weight under 100 KB (HTML + CSS + scripts, before images) for every citizen page."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

CITIZEN_PAGES = [
    "/",
    "/tentang/",
    "/cek/",
    "/pengaduan/",
    "/pengaduan/usul-sanggah/",
    "/pengaduan/lacak/",
    "/luring/",
    "/akun/masuk/",
]
BUDGET = 100 * 1024


def test_the_manifest_makes_the_app_installable(client):
    r = client.get("/manifest.webmanifest")
    assert r["Content-Type"] == "application/manifest+json"
    data = json.loads(r.content)
    assert data["display"] == "standalone"
    assert data["scope"] == "/"
    assert data["start_url"].startswith("/cek/")
    assert data["icons"]
    assert data["lang"] == "id"


def test_the_service_worker_is_served_from_the_root_and_precaches_the_offline_page(client):
    r = client.get("/sw.js")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/javascript")
    assert r["Service-Worker-Allowed"] == "/"
    body = r.content.decode()
    assert '"/luring/"' in body
    assert "caches.match(OFFLINE)" in body
    assert "&quot;" not in body
    assert "&#x27;" not in body


@pytest.mark.parametrize("path", CITIZEN_PAGES)
def test_every_citizen_page_links_the_manifest_and_registers_the_worker(client, regions, path):
    html = client.get(path).content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    assert 'src="/static/portal/sw-register.js" data-sw="/sw.js"' in html
    assert '<html lang="id">' in html
    assert 'href="#main"' in html


def _weight(client, path: str) -> int:
    html = client.get(path).content
    total = len(html)
    for ref in re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
        found = finders.find(ref.decode().removeprefix("/static/"))
        assert found, ref
        with open(found, "rb") as fh:
            total += len(fh.read())
    return total


@pytest.mark.parametrize("path", CITIZEN_PAGES)
def test_each_citizen_page_weighs_under_100_kb_before_images(client, regions, path):
    assert _weight(client, path) < BUDGET


def test_the_offline_page_says_what_to_do_without_internet(client):
    html = client.get("/luring/").content.decode()
    assert "luring" in html
    assert "CEK spasi NIK" in html


def test_form_fields_have_labels(client, regions):
    for path in CITIZEN_PAGES:
        html = client.get(path).content.decode()
        ids = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html))
        labelled = set(re.findall(r'<label for="([^"]+)"', html))
        assert ids <= labelled, (path, ids - labelled)
