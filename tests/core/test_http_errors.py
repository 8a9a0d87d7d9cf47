"""Errors as people meet them (core/http_errors.py): a refusal from a page's view is the 403 page
with its reason, not a 500; a missing (or out-of-region) record is the same 404 page whatever the
reason; htmx gets an alert swapped into #tepat-htmx-error; /api/ gets the API's error shape; an
expired form says so; a crash is a 500 page without a stack trace. The views below are mounted
by this module's own URLconf, beside the real one, so the real handlers and middleware run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from tepat.config import urls as real_urls
from tepat.core import http_errors
from tepat.core.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed

REASON = "Peran Anda tidak boleh menyetujui tahap / your role may not approve cycles"


def _refused(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied(REASON)


def _missing(request: HttpRequest) -> HttpResponse:
    raise NotFound("Rumah tangga 3273011001 ada di Kota Bandung / lives in Kota Bandung")


def _django_missing(request: HttpRequest) -> HttpResponse:
    raise Http404("No Household matches the given query.")


def _django_refused(request: HttpRequest) -> HttpResponse:
    raise DjangoPermissionDenied(REASON)


def _invalid(request: HttpRequest) -> HttpResponse:
    raise ValidationFailed([FieldProblem("period_end", "invalid", "sebelum awal / before start")])


def _crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals: /srv/tepat/settings.py line 12")


def _api_refused(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied(REASON)


urlpatterns = [
    path("_uji/ditolak/", _refused),
    path("_uji/hilang/", _missing),
    path("_uji/hilang-django/", _django_missing),
    path("_uji/ditolak-django/", _django_refused),
    path("_uji/tidak-sah/", _invalid),
    path("_uji/rusak/", _crash),
    path("api/_uji/ditolak/", _api_refused),
    path("", include(real_urls.urlpatterns)),
]
handler400 = real_urls.handler400
handler403 = real_urls.handler403
handler404 = real_urls.handler404
handler500 = real_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

HTMX = {"HTTP_HX_REQUEST": "true"}


def _text(response: Any) -> str:
    return response.content.decode()


def test_a_refusal_from_a_service_is_the_403_page_with_its_reason(client: Any, regions: None):
    response = client.get("/_uji/ditolak/")
    assert response.status_code == 403
    assert next(t.name for t in response.templates) == "403.html"
    page = _text(response)
    assert "<h1>Akses ditolak</h1>" in page
    assert REASON in page
    assert 'id="main-content"' in page  # the site's own frame, not a bare page
    assert "Traceback" not in page


def test_djangos_permission_denied_is_the_same_page(client: Any, regions: None):
    response = client.get("/_uji/ditolak-django/")
    assert response.status_code == 403
    assert "<h1>Akses ditolak</h1>" in _text(response)
    assert REASON in _text(response)


def test_the_403_page_follows_the_chosen_language(client: Any, regions: None):
    response = client.get("/_uji/ditolak/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert '<html lang="en">' in _text(response)
    assert REASON in _text(response)


def test_a_record_outside_the_region_is_a_404_that_says_nothing_of_it(client: Any, regions: None):
    response = client.get("/_uji/hilang/")
    assert response.status_code == 404
    page = _text(response)
    assert "<h1>Halaman tidak ditemukan</h1>" in page
    assert "Kota Bandung" not in page  # NotFound's message would tell where it is


def test_djangos_own_404_message_is_not_shown(client: Any, regions: None):
    response = client.get("/_uji/hilang-django/")
    assert response.status_code == 404
    assert "No Household" not in _text(response)
    assert "<h1>Halaman tidak ditemukan</h1>" in _text(response)


def test_an_unknown_address_is_the_404_page_not_djangos_english_one(client: Any, regions: None):
    response = client.get("/tidak-ada-di-sini/")
    assert response.status_code == 404
    page = _text(response)
    assert "<h1>Halaman tidak ditemukan</h1>" in page
    assert "The requested resource was not found on this server" not in page
    assert 'href="/cek/"' in page  # a citizen is pointed to the status check


def test_a_name_typed_where_an_id_belongs_points_staff_to_the_search(
    staff_client: Any, bandung_operator: Any, bandung_household: Any
):
    response = staff_client(bandung_operator).get("/registry/rumah-tangga/Asep Sunandar/")
    assert response.status_code == 404
    page = _text(response)
    assert "<h1>Halaman tidak ditemukan</h1>" in page
    assert "Asep Sunandar" not in page
    assert 'href="/registry/"' in page  # the registry search, for a name


def test_a_refused_validation_is_a_page_with_its_status_and_reason(client: Any, regions: None):
    response = client.get("/_uji/tidak-sah/")
    assert response.status_code == 422
    page = _text(response)
    assert "<h1>Permintaan tidak dapat diproses</h1>" in page
    assert "sebelum awal / before start" in page


def test_a_crash_is_the_500_page_without_a_stack_trace(regions: None):
    client = Client(raise_request_exception=False)
    response = client.get("/_uji/rusak/")
    assert response.status_code == 500
    page = _text(response)
    assert "<h1>Terjadi kesalahan pada server</h1>" in page
    assert "secret internals" not in page
    assert "Traceback" not in page


def test_the_500_page_stands_when_the_page_itself_cannot_render(
    regions: None, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args: Any, **kwargs: Any) -> HttpResponse:
        raise RuntimeError("the database is down")

    monkeypatch.setattr(http_errors, "render", broken)
    response = Client(raise_request_exception=False).get("/_uji/rusak/")
    assert response.status_code == 500
    page = _text(response)
    assert "Terjadi kesalahan pada server" in page
    assert "Something went wrong on the server" in page


@pytest.mark.parametrize(
    ("url", "status"),
    [("/_uji/ditolak/", 403), ("/_uji/ditolak-django/", 403), ("/_uji/hilang/", 404)],
)
def test_htmx_gets_an_alert_swapped_into_the_error_container(
    client: Any, regions: None, url: str, status: int
):
    response = client.post(url, **HTMX)
    assert response.status_code == status
    assert response["HX-Retarget"] == "#tepat-htmx-error"
    assert response["HX-Reswap"] == "innerHTML"
    fragment = _text(response)
    assert "<html" not in fragment
    assert 'role="alert"' in fragment
    if status == 403:
        assert "Akses ditolak" in fragment
        assert REASON in fragment
    else:
        assert "Halaman tidak ditemukan" in fragment


def test_every_page_has_the_container_and_htmx_shows_error_statuses(client: Any, regions: None):
    page = _text(client.get("/accounts/masuk/"))
    assert '<div id="tepat-htmx-error" aria-live="assertive"></div>' in page
    config = page.split('name="htmx-config" content=\'', 1)[1].split("'", 1)[0]
    errors = [r for r in json.loads(config)["responseHandling"] if r["code"] == "[45].."]
    assert errors == [
        {
            "code": "[45]..",
            "swap": True,
            "error": True,
            "target": "#tepat-htmx-error",
            "swapOverride": "innerHTML",
        }
    ]


def test_an_unknown_api_address_answers_the_api_error_shape(client: Any, regions: None):
    response = client.get("/api/tidak-ada/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "code": "not_found",
        "message": "Tidak ditemukan / not found",
        "field": None,
        "row": None,
        "problems": [],
    }


def test_the_middleware_leaves_api_errors_to_the_api(regions: None):
    # The API answers its own TepatErrors (config/api.py); a plain view under /api/ is not
    # turned into an HTML page by the middleware.
    response = Client(raise_request_exception=False).get("/api/_uji/ditolak/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_an_expired_form_says_so_with_a_way_back(regions: None, bandung_operator: Any):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bandung_operator)
    response = client.post(
        "/accounts/keluar/", {}, HTTP_REFERER="http://testserver/registry/?q=asep"
    )
    assert response.status_code == 403
    page = _text(response)
    assert "<h1>Formulir kedaluwarsa</h1>" in page
    assert 'href="/registry/?q=asep"' in page
    assert "CSRF cookie not set" not in page  # Django's internal reason is logged, not shown


def test_an_expired_form_never_links_back_to_another_site(regions: None):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/pengaduan/", {"x": "1"}, HTTP_REFERER="https://phish.example/pengaduan/"
    )
    assert response.status_code == 403
    page = _text(response)
    assert "phish.example" not in page
    assert 'href="/pengaduan/"' in page


def test_an_expired_form_on_htmx_is_an_alert(regions: None):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/pengaduan/", {"x": "1"}, **HTMX)
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#tepat-htmx-error"
    assert "Formulir kedaluwarsa" in _text(response)


def test_a_csrf_failure_under_api_answers_the_api_error_shape(rf: Any):
    response = http_errors.csrf_failure(rf.post("/api/registry/households"), reason="x")
    assert response.status_code == 403
    body = json.loads(response.content)
    assert body["code"] == "csrf_failed"
    assert set(body) == {"code", "message", "field", "row", "problems"}
    assert " / " in body["message"]  # both languages


def test_a_views_own_refusal_page_reaches_htmx_as_an_alert_with_its_reason(
    staff_client: Any, dpo: Any
):
    # The DPO middleware answers with its own 403 page; htmx gets the alert, not a page
    # inside the page.
    response = staff_client(dpo).get("/integrasi/", **HTMX)
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#tepat-htmx-error"
    fragment = _text(response)
    assert "<html" not in fragment
    assert "Pejabat Pelindungan Data Pribadi hanya dapat membuka" in fragment


def test_a_page_request_still_gets_the_views_own_refusal_page(staff_client: Any, dpo: Any):
    response = staff_client(dpo).get("/integrasi/")
    assert response.status_code == 403
    assert "<html" in _text(response)
    assert not response.has_header("HX-Retarget")


def test_a_bare_refusal_in_a_view_now_says_why(staff_client: Any, bandung_operator: Any):
    response = staff_client(bandung_operator).get("/privasi/catatan/")
    assert response.status_code == 403
    page = _text(response)
    assert "<h1>Akses ditolak</h1>" in page
    assert "the records of processing are for admins, auditors and the data protection" in page


def test_a_bad_request_is_the_400_page(regions: None):
    response = Client(raise_request_exception=False).get("/cek/", HTTP_HOST="jahat.example")
    assert response.status_code == 400
    assert "<h1>Permintaan tidak dapat diproses</h1>" in _text(response)
