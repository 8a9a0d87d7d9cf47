"""The public pages (home and about) on the light citizen layout, the staff shell (its own light
stylesheet) around the staff pages, and the English switch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

LANG_COOKIE = settings.LANGUAGE_COOKIE_NAME


@pytest.mark.parametrize("path", ["/", "/tentang/"])
def test_the_public_pages_render_in_bahasa_indonesia_by_default(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Lewati ke konten utama" in html


@pytest.mark.parametrize(
    ("path", "skip_class", "target"),
    [
        ("/", "skip", "main"),
        ("/tentang/", "skip", "main"),
        ("/accounts/masuk/", "usa-skipnav", "main-content"),
    ],
)
def test_the_skip_link_comes_first_and_points_at_main(client, db, path, skip_class, target):
    html = client.get(path).content.decode()
    body = html.split("<body", 1)[1]
    first_link = re.search(r"<a [^>]*>", body)
    assert first_link is not None
    assert f'class="{skip_class}"' in first_link.group(0)
    assert f'href="#{target}"' in first_link.group(0)
    assert f'<main id="{target}"' in html


@pytest.mark.parametrize("path", ["/", "/cek/", "/accounts/masuk/"])
def test_the_footer_credits_idn_area_data_under_odbl_and_links_to_about(client, db, path):
    html = client.get(path).content.decode()
    footer = html.split("<footer", 1)[1]
    assert "Data wilayah" in footer
    assert "idn-area-data (ODbL)" in footer
    assert 'href="/tentang/#sumber-data"' in footer


def test_the_about_page_lists_the_data_sources_and_licences(client, db):
    html = client.get("/tentang/").content.decode()
    assert "Open Database License (ODbL) v1.0" in html
    assert "https://github.com/fityannugroho/idn-area-data" in html
    assert "USWDS 3" in html
    assert "domain publik" in html
    assert "htmx" in html
    assert "BSD" in html
    assert "barcode-detector" in html  # the field app's vendored QR decoder
    assert "MIT" in html


@pytest.mark.parametrize("path", ["/", "/accounts/masuk/"])
def test_there_is_no_government_banner_or_us_reference(client, db, path):
    html = client.get(path).content.decode()
    assert "usa-banner" not in html
    assert ".gov" not in html
    assert "United States" not in html


def test_the_staff_shell_loads_its_light_stylesheet_and_script_and_htmx_not_uswds(client, db):
    html = client.get("/accounts/masuk/").content.decode()
    for asset in ("tepat/tepat.css", "tepat/tepat.js", "vendor/htmx/htmx.min.js"):
        assert f"/static/{asset}" in html
        assert finders.find(asset), asset
    assert "uswds" not in html


def test_the_vendored_files_carry_their_licences(db):
    for asset in ("vendor/uswds/LICENSE.md", "vendor/htmx/LICENSE", "vendor/VERSIONS.md"):
        assert finders.find(asset), asset


def test_every_font_and_image_the_uswds_stylesheet_references_is_vendored():
    css_path = finders.find("vendor/uswds/css/uswds.min.css")
    css = Path(css_path).read_text(encoding="utf-8")
    refs = {r.strip("'\"") for r in re.findall(r"url\(([^)]+)\)", css)}
    refs = {r for r in refs if r.startswith("../") and r != "../img/hero.jpg"}
    assert refs
    for ref in refs:
        assert finders.find("vendor/uswds/" + ref[3:]), ref


def test_anonymous_visitors_see_a_sign_in_link_and_no_registry_link(client, db):
    html = client.get("/").content.decode()
    assert 'href="/accounts/masuk/"' in html
    assert ">Masuk staf<" in html
    assert 'href="/registry/"' not in html


@pytest.mark.parametrize("path", ["/", "/tentang/"])
def test_the_public_pages_use_the_light_citizen_layout_and_not_uswds(client, db, path):
    html = client.get(path).content.decode()
    assert "/static/portal/citizen.css" in html
    assert "/static/vendor/" not in html
    assert 'rel="manifest" href="/manifest.webmanifest"' in html


def test_the_home_page_keeps_its_content_and_links(client, db):
    html = client.get("/").content.decode()
    assert "Tepat: bantuan sosial tepat sasaran" in html
    for text in ("Registri terpadu", "Penargetan terukur", "Penyaluran transparan"):
        assert text in html
    for href in ("/cek/", "/pengaduan/", "/tentang/", "/transparansi/"):
        assert f'href="{href}"' in html, href


def test_a_signed_in_staff_member_gets_a_link_to_their_work_from_home(
    staff_client, bandung_operator
):
    html = staff_client(bandung_operator).get("/").content.decode()
    assert 'href="/registry/"' in html
    assert ">Masuk staf<" not in html


def test_the_language_switch_posts_to_set_language_with_both_languages(client, db):
    html = client.get("/accounts/masuk/").content.decode()
    assert 'action="/i18n/setlang/" method="post"' in html
    assert html.index('value="id"') < html.index('value="en"')
    assert 'name="csrfmiddlewaretoken"' in html


def test_switching_to_english_shows_english(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/tentang/"})
    assert response.status_code == 302
    assert response["Location"] == "/tentang/"
    assert client.cookies[LANG_COOKIE].value == "en"
    html = client.get("/tentang/").content.decode()
    assert '<html lang="en">' in html
    assert "About Tepat" in html
    assert "Skip to main content" in html
    assert "Region data" in html
    assert "Data sources and licences" in html
    assert "Lewati ke konten utama" not in html


def test_switching_back_to_bahasa_indonesia(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    assert "Lewati ke konten utama" in client.get("/").content.decode()


def test_the_login_page_is_translated_too(client, db):
    client.cookies[LANG_COOKIE] = "en"
    html = client.get("/accounts/masuk/").content.decode()
    assert "Staff sign-in" in html
    assert ">Username<" in html
    assert ">Password<" in html
