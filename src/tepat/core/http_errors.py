"""Errors as a person meets them: a page in the active language (Indonesian first) saying what
happened and what to do next; never Django's bare English page, never a stack trace.

- `TepatErrorMiddleware`: a `TepatError` escaping a page's view (a service's PermissionDenied,
  NotFound, a refusal) becomes the page for its status instead of a 500. The API answers its
  own errors (`config/api.py`).
- `bad_request`, `permission_denied`, `page_not_found`, `server_error`: Django's handler400,
  handler403, handler404 and handler500 (`config/urls.py`).
- `csrf_failure`: `CSRF_FAILURE_VIEW`, a form sent after its page expired.

Each answers an htmx request with a small alert that `base.html`'s `#tepat-htmx-error` shows
(the HX-Retarget header, and the htmx-config there swaps error statuses), and a path under
/api/ with the API's error shape. A 404 says nothing about why: out of the user's regions and
absent read alike (accounts/scoping.py), so a region cannot be probed through an error page.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from tepat.core.apischema import error_body
from tepat.core.errors import NotFound, TepatError

logger = logging.getLogger("tepat.http")

HTMX_ERROR_TARGET = "#tepat-htmx-error"

# The API's error codes and messages for the statuses Django itself answers.
_API: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Permintaan tidak dapat diproses / bad request"),
    403: ("forbidden", "Akses ditolak / access denied"),
    404: ("not_found", "Tidak ditemukan / not found"),
    500: ("server_error", "Kesalahan pada server / server error"),
}


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _is_htmx(request: HttpRequest) -> bool:
    # Read from the header: a handler may run before HtmxMiddleware has set `request.htmx`.
    return request.headers.get("HX-Request") == "true"


def _titles() -> dict[int, str]:
    return {
        400: _("Permintaan tidak dapat diproses"),
        403: _("Akses ditolak"),
        404: _("Halaman tidak ditemukan"),
        500: _("Terjadi kesalahan pada server"),
    }


def api_error(status: int, *, code: str | None = None, message: str | None = None) -> JsonResponse:
    """The API's one error shape (`TepatError.as_dict`) for an error Django answers itself."""
    default_code, default_message = _API.get(status, _API[400])
    return JsonResponse(error_body(code or default_code, message or default_message), status=status)


def htmx_alert(title: str, message: str, status: int) -> HttpResponse:
    """A fragment for htmx: an alert swapped into `#tepat-htmx-error`, whatever the request's
    own target was (the target keeps what it showed)."""
    body = format_html(
        '<div class="usa-alert usa-alert--error usa-alert--slim" role="alert" '
        'data-tepat-error="{}"><div class="usa-alert__body"><p class="usa-alert__text">'
        "<strong>{}</strong>{}</p></div></div>",
        status,
        title,
        format_html(" {}", message) if message else "",
    )
    response = HttpResponse(body, status=status)
    response["HX-Retarget"] = HTMX_ERROR_TARGET
    response["HX-Reswap"] = "innerHTML"
    return response


def _template_for(status: int) -> str:
    if status in (403, 404, 500):
        return f"{status}.html"
    return "400.html"  # 400, 409, 422: the request was understood and refused


def error_page(request: HttpRequest, status: int, *, reason: str = "") -> HttpResponse:
    """The answer to an error of `status` in the form the request needs (page, htmx, API)."""
    if _is_api(request):
        return api_error(status, message=reason or None)
    title = _titles().get(status, _titles()[400])
    if _is_htmx(request):
        return htmx_alert(title, reason, status)
    return render(
        request,
        _template_for(status),
        {"title": title, "reason": reason, "status": status},
        status=status,
    )


def _reason(exception: BaseException | None) -> str:
    """The reason a view gave for refusing (a PermissionDenied's message), if any."""
    if exception is None or not exception.args:
        return ""
    return str(exception.args[0]).strip()


# The reason a refusal page states (403.html, 400.html; the DPO's and monitoring's own pages).
_REASON_IN_PAGE = re.compile(r'id="(?:error|forbidden)-reason">([^<]*)<')


def _as_htmx_alert(response: HttpResponse) -> HttpResponse:
    """An error answered with a whole page (a view's own 403 page) would land in the alert
    region as a page inside the page: htmx gets the alert with the page's stated reason."""
    if (
        response.has_header("HX-Retarget")
        or response.streaming
        or not response.get("Content-Type", "").startswith("text/html")
        or b"<html" not in response.content[:512]
    ):
        return response
    found = _REASON_IN_PAGE.search(response.content.decode("utf-8", "replace"))
    status = response.status_code
    reason = html.unescape(found.group(1)).strip() if found and status != 404 else ""
    return htmx_alert(_titles().get(status, _titles()[400]), reason, status)


class TepatErrorMiddleware:
    """A TepatError escaping a page's view is answered with the page for its status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 400 and _is_htmx(request) and not _is_api(request):
            return _as_htmx_alert(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, TepatError) or _is_api(request):
            return None
        status = exception.http_status
        if isinstance(exception, NotFound) or status == 404:
            return error_page(request, 404)
        if status >= 500:
            return None  # handler500: logged by Django as the failure it is
        logger.info("%s %s refused: %s (%s)", request.method, request.path, exception.code, status)
        return error_page(request, status, reason=exception.message)


def bad_request(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return error_page(request, 403, reason=_reason(exception))


def page_not_found(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page. It must not fail in turn: with the database down, rendering the staff
    navigation (the signed-in user) would, so a plain page stands behind it."""
    try:
        return error_page(request, 500)
    except Exception:
        logger.exception("the 500 page could not be rendered")
        return HttpResponse(_PLAIN_500, status=500, content_type="text/html; charset=utf-8")


_PLAIN_500 = (
    '<!doctype html><html lang="id"><head><meta charset="utf-8"><title>500 · Tepat</title></head>'
    "<body><main><h1>Terjadi kesalahan pada server</h1><p>Coba lagi sebentar lagi.</p>"
    '<p lang="en">Something went wrong on the server. Please try again shortly.</p>'
    '<p><a href="/">Beranda / home</a></p></main></body></html>'
)


def _back_url(request: HttpRequest) -> str:
    """Where "back to the form" leads: the page that sent it when it is ours, else the page
    itself (a GET reloads the form with a fresh token)."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.path if request.path.startswith("/") else "/"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the form's token was missing or stale (a page left open past the
    session, cookies blocked). Django's `reason` is internal English: Django logs it
    (django.security.csrf), the page does not show it."""
    if _is_api(request):
        return api_error(
            403,
            code="csrf_failed",
            message=(
                "Token CSRF tidak ada atau tidak sah: kirim header X-CSRFToken dari cookie "
                "csrftoken / CSRF token missing or invalid: send the X-CSRFToken header "
                "from the csrftoken cookie"
            ),
        )
    title = _("Formulir kedaluwarsa")
    message = _(
        "Halaman ini terlalu lama terbuka atau cookie diblokir, jadi formulirnya tidak dapat "
        "diterima. Muat ulang halaman, lalu kirim lagi."
    )
    if _is_htmx(request):
        return htmx_alert(title, message, 403)
    context: dict[str, Any] = {
        "title": title,
        "reason": message,
        "status": 403,
        "csrf_failed": True,
        "back_url": _back_url(request),
    }
    return render(request, "403.html", context, status=403)
